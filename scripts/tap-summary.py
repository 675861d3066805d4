#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a test run from the files the guest left behind.

For each stack directory under RESULTS: parse the TAP of every test binary,
apply the oracle's expected deviations, scan the guest kernel log for splats,
and print one line per stack and an overall line. Exit 1 when anything
failed, when no test ran, or when a guest did not finish.
"""
import fnmatch
import os
import re
import sys

SPLAT = re.compile(r'(Oops|BUG:|kernel BUG|WARNING:|KASAN:|UBSAN:|ODEBUG:|'
                   r'unreferenced object|'
                   r'possible recursive locking|possible circular locking|'
                   r'inconsistent lock state|suspicious RCU usage|'
                   r'lock held when returning to user space|'
                   r'general protection fault|list_(add|del) corruption|'
                   r'Unable to handle kernel|Kernel panic|stack-protector|'
                   r'detected stalls|blocked for more than|soft lockup)')
TAP = re.compile(r'^(not ok|ok) \d+ (\S+)(.*)$')
PLAN = re.compile(r'^1\.\.(\d+)$')


def load_deviations(path):
    """Lines: STACK-GLOB BINARY TEST-GLOB [notrun] # reason. A "notrun"
    test is left out of the stack's run (guest-tests.sh) and counted as an
    expected deviation here."""
    devs = []
    if not os.path.exists(path):
        return devs
    for line in open(path):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        words = line.split()
        devs.append((words[0], words[1], words[2],
                     len(words) > 3 and words[3] == 'notrun'))
    return devs


def deviation(devs, stack, binary, test):
    return any(fnmatch.fnmatch(stack, s) and b == binary and
               fnmatch.fnmatch(test, t) for s, b, t, _ in devs)


def not_run(devs, stack, binary):
    """The "notrun" deviations of a stack's binary."""
    return [t for s, b, t, n in devs
            if n and b == binary and fnmatch.fnmatch(stack, s)]


def judge_stack(stack, sdir, tests, devs):
    """A VM run of one stack; 'host' is the host unit tests' pseudo stack."""
    c = dict(passed=0, failed=0, skipped=0, xfail=0)
    problems = []
    status = ''
    guest = stack != 'host'
    if os.path.exists(os.path.join(sdir, 'status')):
        status = open(os.path.join(sdir, 'status')).read().strip()
    if status != ('status=done' if guest else 'exit=0'):
        problems.append('%s did not finish (%s)' % ('guest' if guest else
                        'cargo test', status or 'no status'))
    for binary in tests:
        tap = os.path.join(sdir, binary + '.tap')
        if not os.path.exists(tap):
            problems.append('%s: no TAP output' % binary)
            c['failed'] += 1
            continue
        seen = 0
        left_out = not_run(devs, stack, binary)
        for line in open(tap, errors='replace'):
            m = TAP.match(line.rstrip('\n'))
            if m and any(fnmatch.fnmatch(m.group(2), t) for t in left_out):
                problems.append('%s: %s ran but is listed "notrun"' %
                                (binary, m.group(2)))
                c['failed'] += 1
        # one expected deviation per left-out test (glob), whatever its
        # variants: they did not run, so the TAP cannot count them
        c['xfail'] += len(left_out)
        for line in open(tap, errors='replace'):
            m = TAP.match(line.rstrip('\n'))
            if not m:
                continue
            seen += 1
            ok, name, rest = m.group(1) == 'ok', m.group(2), m.group(3)
            dev = deviation(devs, stack, binary, name)
            if '# SKIP' in rest:
                c['skipped'] += 1
                problems.append('%s: %s skipped' % (binary, name))
            elif ok and dev:
                c['failed'] += 1
                problems.append('%s: %s passed but is listed as an oracle '
                                'deviation (stale list?)' % (binary, name))
            elif ok:
                c['passed'] += 1
            elif dev:
                c['xfail'] += 1
            else:
                c['failed'] += 1
                problems.append('%s: %s FAILED' % (binary, name))
        if not seen:
            problems.append('%s: no test results in TAP' % binary)
            c['failed'] += 1
        # a binary cut off (by the guest's timeout, a crash) leaves its
        # plan unfinished, even when what it printed so far passed
        plans = [int(m.group(1)) for m in
                 (PLAN.match(line.strip()) for line in
                  open(tap, errors='replace')) if m]
        if plans != [seen]:
            problems.append('%s: %d results, plan %s' %
                            (binary, seen, plans or 'missing'))
            c['failed'] += 1
    if guest:
        c['failed'] += judge_kernel_log(sdir, tests, problems)
        for code, binary in exit_codes(sdir):
            if code == 124 or code >= 128:
                problems.append('%s: %s (exit %d)' % (
                    binary, 'timed out' if code == 124 else 'killed', code))
                c['failed'] += 1
    leaks = os.path.join(sdir, 'leaks')
    if os.path.exists(leaks):
        for line in open(leaks):
            problems.append('leak: ' + line.strip())
            c['failed'] += 1
    unload = os.path.join(sdir, 'unload-errors')
    if os.path.exists(unload):
        problems.append('module unload: ' + open(unload).read().strip())
        c['failed'] += 1
    return c, problems


def judge_kernel_log(sdir, tests, problems):
    """The guest script cuts the kernel log per test binary (<binary>.dmesg,
    plus boot, load and unload) and has kmemleak scan once, after the
    unload (kmemleak). Any splat fails the run, naming the binary; a leak
    fails it naming the tasks that allocated what leaked (a binary's comm);
    so does a binary whose log is missing (the guest died in it: the console
    log has what it printed). The kernel's ring buffer (128 KiB) wraps
    within the chattiest binaries, so the VM's console log
    (<stack>.console.log, every line of warning level and above) is scanned
    too: a splat found only there fails the run as well. Returns the number
    of failures."""
    failed = 0
    seen = set()
    for part in ['boot', 'load'] + tests + ['unload']:
        log = os.path.join(sdir, part + '.dmesg')
        if not os.path.exists(log):
            if part in tests:
                problems.append('%s: no kernel log (guest died?)' % part)
                failed += 1
            continue
        found = False
        for line in open(log, errors='replace'):
            if SPLAT.search(line):
                seen.add(line.strip())
                if not found:
                    problems.append('%s: kernel log: %s' % (part,
                                                            line.strip()))
                    failed += 1
                    found = True
    console = sdir.rstrip('/') + '.console.log'
    if os.path.exists(console):
        for line in open(console, errors='replace'):
            line = line.replace('\r', '').strip()
            if SPLAT.search(line) and line not in seen:
                problems.append('console (not in any binary\'s kernel log): '
                                '%s' % line)
                failed += 1
                break
    if not os.path.exists(os.path.join(sdir, 'unload.dmesg')):
        problems.append('no kernel log of the unload (guest died?)')
        failed += 1
    leak = os.path.join(sdir, 'kmemleak')
    if os.path.exists(leak):
        text = open(leak, errors='replace').read()
        first = text.split('\n', 1)[0].strip()
        comms = sorted(set(re.findall(r'comm "([^"]*)"', text)))
        problems.append('kmemleak: %s%s' % (
            first, ', allocated by %s' % ', '.join(comms) if comms else ''))
        failed += 1
    return failed


def fmt(c):
    s = '%d passed, %d failed' % (c['passed'], c['failed'])
    if c['skipped']:
        s += ', %d skipped' % c['skipped']
    if c['xfail']:
        s += ', %d expected deviations' % c['xfail']
    return s


def exit_field(sdir, field):
    """(value, binary) of each "BINARY exit=N seconds=S" line the guest
    wrote to exit-codes."""
    path = os.path.join(sdir, 'exit-codes')
    found = []
    if os.path.exists(path):
        for line in open(path):
            words = line.split()
            vals = [w.split('=', 1)[1] for w in words[1:]
                    if w.startswith(field + '=')]
            if words and vals and vals[0].isdigit():
                found.append((int(vals[0]), words[0]))
    return found


def exit_codes(sdir):
    """Exit code per test binary (the timeout's 124 among them)."""
    return exit_field(sdir, 'exit')


def durations(sdir):
    """Seconds per test binary, slowest first."""
    return sorted(exit_field(sdir, 'seconds'), reverse=True)


def stack_tests(results, stack):
    """The test binaries check.sh chose for a stack."""
    path = os.path.join(results, stack + '.tests')
    return open(path).read().split() if os.path.exists(path) else []


def main():
    results, devfile, stacks = sys.argv[1], sys.argv[2], sys.argv[3].split()
    devs = load_deviations(devfile)
    total = dict(passed=0, failed=0, skipped=0, xfail=0)
    bad = False
    for stack in stacks:
        c, problems = judge_stack(stack, os.path.join(results, stack),
                                  ['host_tests', 'host_fuzz']
                                  if stack == 'host' else
                                  stack_tests(results, stack), devs)
        for p in problems:
            print('  %s: %s' % (stack, p))
        print('%s: %s' % (stack, fmt(c)))
        times = durations(os.path.join(results, stack))
        if times:
            print('  %s: seconds: %s' % (stack, ', '.join(
                '%s %d' % (t, n) for n, t in times)))
        for k in total:
            total[k] += c[k]
        bad |= bool(c['failed']) or any('did not finish' in p
                                        for p in problems)
    print(fmt(total))
    if total['passed'] == 0:
        print('no test passed: treating the run as failed')
        bad = True
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
