#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The real mdevctl against the loaded stack, as management tools use it:
#  - types: "mdevctl types" names every parent of /sys/class/mdev_bus and
#    each of its types, and "types --dumpjson" gives each type's
#    available_instances, device_api, name and description as sysfs has
#    them;
#  - start_list_stop: on every parent, "start -p -t -u" makes an instance,
#    "list" and "list --dumpjson" show it with its parent and type, and
#    "stop" removes it;
#  - define_start_undefine: on every parent, "define" writes a config that
#    "list -d" shows, "start -u" makes the instance from it, "stop" removes
#    it and "undefine" drops the config;
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
# Environment: MDEVCTL (default: mdevctl on PATH), MDEV_MTTY_MODULE (the
# stack's mtty, a path to its .ko). Needs unshare, busybox, python3.
set -u

if [ -z "${MDEVCTL_TEST_NS:-}" ]; then
	MDEVCTL_TEST_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

mdevctl=${MDEVCTL:-mdevctl}
sys=/sys/class/mdev_bus
tests="types start_list_stop define_start_undefine start_past_available
       parent_uevents"
work=$(mktemp -d)
listener=
cleanup() {
	[ -n "$listener" ] && kill "$listener" 2>/dev/null
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

# listed PATTERN yes|no STEP: whether $out (a listing) has a line starting
# with PATTERN, as STEP should have left it
listed() {
	local there=no

	grep -q "^$1" <<< "$out" && there=yes
	[ "$there" = "$2" ] && return 0
	if [ "$2" = yes ]; then
		say "$3: no \"$1\" in: $out"
	else
		say "$3: \"$1\" still listed"
	fi
	return 1
}

# the first type of a parent
first_type() {
	local t

	for t in "$sys/$1"/mdev_supported_types/*; do
		basename "$t"
		return
	done
}

# wait_avail PARENT TYPE N: up to 10 s for the type's budget to be N again
# (an instance's slot comes back with its release, which the test kernel
# may delay)
wait_avail() {
	local f=$sys/$1/mdev_supported_types/$2/available_instances i

	for i in $(seq 100); do
		[ "$(cat "$f")" = "$3" ] && return 0
		sleep 0.1
	done
	say "$1/$2: available_instances $(cat "$f"), expected $3"
	return 1
}

# json_find JSON UUID PARENT TYPE: whether a "list --dumpjson" output
# holds the instance UUID under PARENT with mdev_type TYPE
json_find() {
	python3 - "$@" <<'EOF'
import json
import sys

listing, uuid, parent, mdev_type = sys.argv[1:]


def pairs(node):
    """The (key, value) pairs of a dict or of a list of dicts."""
    if isinstance(node, dict):
        yield from node.items()
    elif isinstance(node, list):
        for item in node:
            yield from pairs(item)


for p, devices in pairs(json.loads(listing)):
    for u, attrs in pairs(devices):
        if (p, u) == (parent, uuid):
            sys.exit(0 if attrs.get('mdev_type') == mdev_type else 1)
sys.exit(1)
EOF
}

t_types() {
	local p t

	run types || return 1
	for p in $(ls "$sys"); do
		grep -qx "$p" <<< "$out" || { say "types: no parent $p"; return 1; }
		for t in "$sys/$p"/mdev_supported_types/*; do
			grep -qx "[[:space:]]*$(basename "$t")" <<< "$out" ||
				{ say "types: no type $(basename "$t")"; return 1; }
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
	local p t u

	for p in $(ls "$sys"); do
		t=$(first_type "$p")
		u=$(cat /proc/sys/kernel/random/uuid)
		run start -p "$p" -t "$t" -u "$u" || return 1
		on_bus "$u" yes start || return 1
		[ "$(basename "$(readlink "/sys/bus/mdev/devices/$u/mdev_type")")" = "$t" ] ||
			{ say "start: $u is not of type $t"; return 1; }
		run list && listed "$u $p $t" yes list || return 1
		run list --dumpjson || return 1
		json_find "$out" "$u" "$p" "$t" ||
			{ say "list --dumpjson: no $u of $p/$t in: $out"; return 1; }
		run stop -u "$u" && on_bus "$u" no stop || return 1
		run list && listed "$u" no "list after stop" || return 1
	done
	return 0
}

t_define_start_undefine() {
	local p t u

	for p in $(ls "$sys"); do
		t=$(first_type "$p")
		u=$(cat /proc/sys/kernel/random/uuid)
		run define -p "$p" -t "$t" -u "$u" || return 1
		[ -f "/etc/mdevctl.d/$p/$u" ] ||
			{ say "define: no /etc/mdevctl.d/$p/$u"; return 1; }
		on_bus "$u" no define || return 1
		run list -d && listed "$u $p $t" yes "list -d" || return 1
		run start -u "$u" && on_bus "$u" yes "start -u" || return 1
		run stop -u "$u" && on_bus "$u" no stop || return 1
		run undefine -u "$u" || return 1
		[ -e "/etc/mdevctl.d/$p/$u" ] &&
			{ say "undefine: the config is still there"; return 1; }
		run list -d && listed "$u" no "list -d after undefine" || return 1
	done
	return 0
}

t_start_past_available() {
	local d p t n=-1 a i u uuids= ret=0

	# the type with the smallest non-zero budget
	for d in "$sys"/*/mdev_supported_types/*; do
		a=$(cat "$d/available_instances")
		if [ "$a" -gt 0 ] && { [ $n -lt 0 ] || [ "$a" -lt $n ]; }; then
			n=$a
			t=$(basename "$d")
			p=$(basename "$(dirname "$(dirname "$d")")")
		fi
	done
	[ $n -gt 0 ] && [ $n -le 16 ] ||
		{ say "no type with 1 to 16 instances available"; return 1; }
	say "$p/$t: $n instances available"
	for i in $(seq "$n"); do
		u=$(cat /proc/sys/kernel/random/uuid)
		uuids="$uuids $u"
		run start -p "$p" -t "$t" -u "$u" || { ret=1; break; }
	done
	if [ $ret = 0 ]; then
		u=$(cat /proc/sys/kernel/random/uuid)
		if "$mdevctl" start -p "$p" -t "$t" -u "$u" > "$work/past" 2>&1; then
			say "start past the budget succeeded"
			uuids="$uuids $u"
			ret=1
		elif ! grep -q "No available instances of" "$work/past"; then
			say "start past the budget: $(cat "$work/past")"
			ret=1
		elif ! on_bus "$u" no "start past the budget"; then
			ret=1
		fi
	fi
	for u in $uuids; do
		run stop -u "$u" || ret=1
	done
	wait_avail "$p" "$t" "$n" || ret=1
	return $ret
}

# uevent_seen PATTERN: up to 10 s for a line of the listener's log
uevent_seen() {
	local i

	for i in $(seq 100); do
		grep -qx "$1" "$work/uevents" && return 0
		sleep 0.1
	done
	say "no uevent \"$1\"; seen: $(tr '\n' ';' < "$work/uevents")"
	return 1
}

t_parent_uevents() {
	local ko=${MDEV_MTTY_MODULE:-} mod before after i

	[ -n "$ko" ] || { say "MDEV_MTTY_MODULE is not set"; return 1; }
	mod=$(basename "$ko" .ko)
	before=$(cd "$sys/mtty" 2>/dev/null && pwd -P) ||
		{ say "no mtty parent"; return 1; }
	: > "$work/uevents"
	# shellcheck disable=SC2016
	busybox uevent sh -c 'echo "$ACTION $DEVPATH $MDEV_STATE" >> "$0"' \
		"$work/uevents" &
	listener=$!
	# the listener is up once it hears a uevent of its own making
	echo change > /sys/class/mem/null/uevent
	uevent_seen "change /devices/virtual/mem/null " || return 1
	# a delayed release of an earlier test's instance may hold it a moment
	for i in $(seq 50); do
		rmmod "$mod" 2> "$work/rmmod" && break
		sleep 0.2
	done
	[ -e "/sys/module/$mod" ] &&
		{ say "rmmod $mod: $(cat "$work/rmmod")"; return 1; }
	uevent_seen "change ${before#/sys} unregistered" || return 1
	insmod "$ko" || { say "insmod $ko failed"; return 1; }
	after=$(cd "$sys/mtty" 2>/dev/null && pwd -P) ||
		{ say "no mtty parent after the load"; return 1; }
	uevent_seen "change ${after#/sys} registered" || return 1
	kill "$listener"
	wait "$listener" 2>/dev/null
	listener=
	# each once
	[ "$(grep -cx "change ${before#/sys} unregistered" "$work/uevents")" = 1 ] &&
	[ "$(grep -cx "change ${after#/sys} registered" "$work/uevents")" = 1 ] ||
		{ say "uevents: $(tr '\n' ';' < "$work/uevents")"; return 1; }
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
elif [ -z "$(ls "$sys" 2>/dev/null)" ]; then
	setup="no mdev parent in $sys"
fi
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
