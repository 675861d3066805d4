#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The real mdevctl against the loaded stack, as management tools use it:
#  - types: "mdevctl types" names every parent of /sys/class/mdev_bus and
#    each of its types, and "types --dumpjson" gives each type's
#    available_instances, device_api, name and description as sysfs has
#    them;
#  - start_list_stop: "start -p -t -u" makes an instance on every parent,
#    "list" and "list --dumpjson" show each with its parent and type, and
#    "stop" removes them;
#  - define_start_undefine: "define" writes a config for every parent that
#    "list -d" shows, "start -u" makes the instances from them, "stop"
#    removes them and "undefine" drops the configs;
#  - start_past_available: once the type with the smallest budget is full,
#    one more "start" is refused with mdevctl's own message and makes
#    nothing;
#  - parent_uevents: unloading and loading the stack's mtty sends its
#    parent's change uevents with MDEV_STATE=unregistered, then
#    MDEV_STATE=registered, which mdevctl's udev rule keys on (busybox's
#    uevent applet listens).
# mdevctl keeps its configs in /etc/mdevctl.d: the script runs in a mount
# namespace of its own, with a throw-away overlay on /etc.
#
# Every program started from the test VM's root file system (9p, no page
# cache) is read from the host again: under TCG, mdevctl took 7.5 to 8.4 s
# a run from there and 2.2 to 2.9 s from a tmpfs, python3 7 to 36 s, a
# dynamically linked /bin/true 2.4 s and the static busybox 0.4 s. So the
# script runs mdevctl from a copy on its tmpfs, works with shell builtins
# and busybox, starts python3 once per JSON check, and asks mdevctl about
# every parent's instance at once rather than one parent at a time.
#
# Environment: MDEVCTL (default: mdevctl on PATH), MDEV_MTTY_MODULE (the
# stack's mtty, a path to its .ko). Needs unshare, busybox, python3.
set -u

if [ -z "${MDEVCTL_TEST_NS:-}" ]; then
	if ! command -v unshare > /dev/null; then
		printf 'TAP version 13\n1..0 # SKIP no unshare\n'
		exit 4
	fi
	MDEVCTL_TEST_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

mdevctl=${MDEVCTL:-mdevctl}
sys=/sys/class/mdev_bus
tests="types start_list_stop define_start_undefine start_past_available
       parent_uevents"
work=$(mktemp -d)
listener=
# the stack's mtty while parent_uevents has it unloaded: loaded again at exit
unloaded=
cleanup() {
	[ -n "$listener" ] && kill "$listener" 2>/dev/null
	[ -n "$unloaded" ] && insmod "$unloaded"
	umount /etc 2>/dev/null
	umount "$work" 2>/dev/null
	rmdir "$work"
}
trap cleanup EXIT

say() { echo "# $*"; }

# mdevctl ARGS...: its output in $out, its exit code as the answer; the
# command and what it printed go to the log when it fails
run() {
	out=$("$mdevctl" "$@" 2>&1)
	local rc=$?
	[ $rc = 0 ] || say "mdevctl $*: exit $rc: $out"
	return $rc
}

# new_uuid: a random UUID in $uuid
new_uuid() {
	read -r uuid < /proc/sys/kernel/random/uuid
}

# on_bus UUID yes|no STEP: whether instance UUID is on the mdev bus, as
# STEP should have left it
on_bus() {
	local there=no

	[ -e "/sys/bus/mdev/devices/$1" ] && there=yes
	[ "$there" = "$2" ] && return 0
	if [ "$2" = yes ]; then
		say "$3: $1 was not made"
	else
		say "$3: $1 is there"
	fi
	return 1
}

# listed TEXT yes|no STEP: whether $out (a listing) has a line starting
# with TEXT, as STEP should have left it
listed() {
	local there=no

	[[ $'\n'$out == *$'\n'"$1"* ]] && there=yes
	[ "$there" = "$2" ] && return 0
	if [ "$2" = yes ]; then
		say "$3: no \"$1\" in: $out"
	else
		say "$3: \"$1\" still listed"
	fi
	return 1
}

# The parents, the first type of each (the instances made on them), and
# every type's budget before the tests.
parents=()
declare -A first_type budget
for d in "$sys"/*; do
	p=${d##*/}
	parents+=("$p")
	for t in "$d"/mdev_supported_types/*; do
		[ -n "${first_type[$p]:-}" ] || first_type[$p]=${t##*/}
		read -r "budget[$p/${t##*/}]" < "$t/available_instances"
	done
done

# wait_avail PARENT TYPE N: up to 10 s for the type's budget to be N again
# (an instance's slot comes back with its release, which the test kernel
# may delay)
wait_avail() {
	local f=$sys/$1/mdev_supported_types/$2/available_instances a i

	for ((i = 0; i < 100; i++)); do
		read -r a < "$f"
		[ "$a" = "$3" ] && return 0
		busybox sleep 0.1
	done
	say "$1/$2: available_instances $a, expected $3"
	return 1
}

# json_find JSON UUID PARENT TYPE...: whether a "list --dumpjson" output
# holds each instance UUID under its PARENT with mdev_type TYPE
json_find() {
	python3 - "$@" <<'EOF'
import json
import sys


def pairs(node):
    """The (key, value) pairs of a dict or of a list of dicts."""
    if isinstance(node, dict):
        yield from node.items()
    elif isinstance(node, list):
        for item in node:
            yield from pairs(item)


listing = sys.argv[1]
got = {(p, u): attrs.get('mdev_type')
       for p, devices in pairs(json.loads(listing))
       for u, attrs in pairs(devices)}
bad = 0
for i in range(2, len(sys.argv), 3):
    uuid, parent, mdev_type = sys.argv[i:i + 3]
    if got.get((parent, uuid)) != mdev_type:
        print(f'# list --dumpjson: no {uuid} of {parent}/{mdev_type} in: '
              f'{listing}')
        bad = 1
sys.exit(bad)
EOF
}

t_types() {
	local p t line
	local -A shown=()

	run types || return 1
	while read -r line; do
		[ -n "$line" ] && shown[$line]=1
	done <<< "$out"
	for p in "${parents[@]}"; do
		[ -n "${shown[$p]:-}" ] || { say "types: no parent $p"; return 1; }
		for t in "$sys/$p"/mdev_supported_types/*; do
			[ -n "${shown[${t##*/}]:-}" ] ||
				{ say "types: no type ${t##*/}"; return 1; }
		done
	done
	run types --dumpjson || return 1
	python3 - "$sys" "$out" <<'EOF'
import json
import os
import sys

sysdir, dump = sys.argv[1:]


def pairs(node):
    """The (key, value) pairs of a dict or of a list of dicts."""
    if isinstance(node, dict):
        yield from node.items()
    elif isinstance(node, list):
        for item in node:
            yield from pairs(item)


def attr(path):
    """A type attribute as mdevctl shows it, or None if there is none."""
    try:
        with open(path) as f:
            return f.read().strip().replace('\n', ', ')
    except FileNotFoundError:
        return None


got = {(p, t): a for p, types in pairs(json.loads(dump))
       for t, a in pairs(types)}
bad = 0
for parent in sorted(os.listdir(sysdir)):
    tdir = os.path.join(sysdir, parent, 'mdev_supported_types')
    for t in sorted(os.listdir(tdir)):
        want = {k: attr(os.path.join(tdir, t, k))
                for k in ('available_instances', 'device_api', 'name',
                          'description')}
        want['available_instances'] = int(want['available_instances'])
        want = {k: v for k, v in want.items() if v is not None}
        have = got.pop((parent, t), None)
        if have != want:
            print(f'# types --dumpjson: {parent}/{t} is {have}, sysfs {want}')
            bad = 1
for p, t in got:
    print(f'# types --dumpjson: {p}/{t} is not in sysfs')
    bad = 1
sys.exit(bad)
EOF
}

t_start_list_stop() {
	local p t u made ret=0
	local -A uuids=()
	local triples=()

	for p in "${parents[@]}"; do
		t=${first_type[$p]}
		new_uuid
		u=$uuid
		run start -p "$p" -t "$t" -u "$u" || { ret=1; break; }
		uuids[$p]=$u
		triples+=("$u" "$p" "$t")
		on_bus "$u" yes start || { ret=1; break; }
		made=$(cd -P "/sys/bus/mdev/devices/$u/mdev_type" && pwd)
		[ "${made##*/}" = "$t" ] ||
			{ say "start: $u is of type ${made##*/}, not $t"; ret=1; break; }
	done
	if [ $ret = 0 ]; then
		run list || ret=1
		for p in "${parents[@]}"; do
			[ $ret = 0 ] || break
			listed "${uuids[$p]} $p ${first_type[$p]}" yes list || ret=1
		done
	fi
	if [ $ret = 0 ]; then
		run list --dumpjson && json_find "$out" "${triples[@]}" || ret=1
	fi
	for p in "${!uuids[@]}"; do
		run stop -u "${uuids[$p]}" && on_bus "${uuids[$p]}" no stop || ret=1
	done
	[ $ret = 0 ] || return 1
	run list || return 1
	for p in "${parents[@]}"; do
		listed "${uuids[$p]}" no "list after stop" || return 1
	done
}

t_define_start_undefine() {
	local p t u ret=0
	local -A uuids=() started=()

	for p in "${parents[@]}"; do
		t=${first_type[$p]}
		new_uuid
		u=$uuid
		run define -p "$p" -t "$t" -u "$u" || { ret=1; break; }
		uuids[$p]=$u
		[ -f "/etc/mdevctl.d/$p/$u" ] ||
			{ say "define: no /etc/mdevctl.d/$p/$u"; ret=1; break; }
		on_bus "$u" no define || { ret=1; break; }
	done
	if [ $ret = 0 ]; then
		run list -d || ret=1
		for p in "${parents[@]}"; do
			[ $ret = 0 ] || break
			listed "${uuids[$p]} $p ${first_type[$p]}" yes "list -d" ||
				ret=1
		done
	fi
	for p in "${parents[@]}"; do
		[ $ret = 0 ] || break
		u=${uuids[$p]}
		run start -u "$u" || { ret=1; break; }
		started[$p]=$u
		on_bus "$u" yes "start -u" || ret=1
	done
	for p in "${!started[@]}"; do
		u=${started[$p]}
		run stop -u "$u" && on_bus "$u" no stop || ret=1
	done
	for p in "${!uuids[@]}"; do
		u=${uuids[$p]}
		run undefine -u "$u" || { ret=1; continue; }
		[ -e "/etc/mdevctl.d/$p/$u" ] &&
			{ say "undefine: /etc/mdevctl.d/$p/$u is still there"; ret=1; }
	done
	[ $ret = 0 ] || return 1
	run list -d || return 1
	for p in "${parents[@]}"; do
		listed "${uuids[$p]}" no "list -d after undefine" || return 1
	done
}

t_start_past_available() {
	local d p t n=-1 a i u uuids=() ret=0

	# the instances of the earlier tests are all released
	for d in "${!budget[@]}"; do
		wait_avail "${d%/*}" "${d#*/}" "${budget[$d]}" || return 1
	done
	# the type with the smallest non-zero budget
	for d in "$sys"/*/mdev_supported_types/*; do
		read -r a < "$d/available_instances"
		if [ "$a" -gt 0 ] && { [ $n -lt 0 ] || [ "$a" -lt $n ]; }; then
			n=$a
			t=${d##*/}
			p=${d%/mdev_supported_types/*}
			p=${p##*/}
		fi
	done
	[ $n -gt 0 ] && [ $n -le 16 ] ||
		{ say "no type with 1 to 16 instances available"; return 1; }
	say "$p/$t: $n instances available"
	for ((i = 0; i < n; i++)); do
		new_uuid
		uuids+=("$uuid")
		run start -p "$p" -t "$t" -u "$uuid" || { ret=1; break; }
	done
	if [ $ret = 0 ]; then
		new_uuid
		u=$uuid
		if "$mdevctl" start -p "$p" -t "$t" -u "$u" > "$work/past" 2>&1; then
			say "start past the budget succeeded"
			uuids+=("$u")
			ret=1
		elif ! [[ $(< "$work/past") == *"No available instances of"* ]]; then
			say "start past the budget: $(< "$work/past")"
			ret=1
		elif ! on_bus "$u" no "start past the budget"; then
			ret=1
		fi
	fi
	for u in "${uuids[@]}"; do
		run stop -u "$u" || ret=1
	done
	wait_avail "$p" "$t" "$n" || ret=1
	return $ret
}

# count_uevents LINE: how many lines of the listener's log are LINE, in $seen
count_uevents() {
	local line

	seen=0
	# IFS=: the line keeps its trailing space (an empty MDEV_STATE)
	while IFS= read -r line; do
		[ "$line" = "$1" ] && seen=$((seen + 1))
	done < "$work/uevents"
}

# uevent_seen LINE [FILE]: up to 10 s for LINE in the listener's log; with
# FILE, the uevent of that sysfs uevent file is sent again each time
uevent_seen() {
	local i seen

	for ((i = 0; i < 100; i++)); do
		[ -n "${2:-}" ] && echo change > "$2"
		count_uevents "$1"
		[ "$seen" -gt 0 ] && return 0
		busybox sleep 0.1
	done
	say "no uevent \"$1\"; seen: $(< "$work/uevents")"
	return 1
}

t_parent_uevents() {
	local ko=${MDEV_MTTY_MODULE:-} mod before after i seen

	[ -n "$ko" ] || { say "MDEV_MTTY_MODULE is not set"; return 1; }
	mod=${ko##*/}
	mod=${mod%.ko}
	before=$(cd -P "$sys/mtty" 2>/dev/null && pwd) ||
		{ say "no mtty parent"; return 1; }
	: > "$work/uevents"
	# shellcheck disable=SC2016
	busybox uevent sh -c 'echo "$ACTION $DEVPATH $MDEV_STATE" >> "$0"' \
		"$work/uevents" &
	listener=$!
	# the listener is up once it hears a uevent of its own making (sent
	# until it does: it may not be listening yet)
	uevent_seen "change /devices/virtual/mem/null " \
		/sys/class/mem/null/uevent || return 1
	# a delayed release of an earlier test's instance may hold it a moment
	for ((i = 0; i < 50; i++)); do
		rmmod "$mod" 2> "$work/rmmod" && break
		busybox sleep 0.2
	done
	[ -e "/sys/module/$mod" ] &&
		{ say "rmmod $mod: $(< "$work/rmmod")"; return 1; }
	unloaded=$ko
	uevent_seen "change ${before#/sys} unregistered" || return 1
	insmod "$ko" || { say "insmod $ko failed"; return 1; }
	unloaded=
	after=$(cd -P "$sys/mtty" 2>/dev/null && pwd) ||
		{ say "no mtty parent after the load"; return 1; }
	uevent_seen "change ${after#/sys} registered" || return 1
	kill "$listener"
	wait "$listener" 2>/dev/null
	listener=
	# each once
	count_uevents "change ${before#/sys} unregistered"
	[ "$seen" = 1 ] || { say "uevents: $(< "$work/uevents")"; return 1; }
	count_uevents "change ${after#/sys} registered"
	[ "$seen" = 1 ] || { say "uevents: $(< "$work/uevents")"; return 1; }
}

echo "TAP version 13"
set -- $tests
echo "1..$#"
setup=ok
if ! mount -t tmpfs tmpfs "$work" || ! mkdir "$work/up" "$work/wk" ||
   ! mount -t overlay overlay \
	-o "lowerdir=/etc,upperdir=$work/up,workdir=$work/wk" /etc ||
   ! mkdir -p /etc/mdevctl.d/scripts.d/callouts \
	/etc/mdevctl.d/scripts.d/notifiers; then
	setup="no writable /etc for mdevctl"
elif ! command -v "$mdevctl" > /dev/null; then
	setup="no mdevctl ($mdevctl)"
elif ! command -v busybox > /dev/null || ! command -v python3 > /dev/null; then
	setup="no busybox or no python3"
elif ! cp "$(command -v "$mdevctl")" "$work/mdevctl"; then
	setup="cannot copy $mdevctl to $work"
elif [ ${#parents[@]} = 0 ] || ! [ -d "${sys}/${parents[0]}" ]; then
	setup="no mdev parent in $sys"
fi
mdevctl=$work/mdevctl
status=0
n=0
for t; do
	n=$((n + 1))
	if [ "$setup" != ok ]; then
		say "$setup"
		echo "not ok $n $t"
		status=1
	elif "t_$t"; then
		echo "ok $n $t"
	else
		echo "not ok $n $t"
		status=1
	fi
done
exit $status
