#!/usr/bin/env python3
"""Verdict over raw UML console output holding KTAP from an mpath-verify suite.

usage: ktap_verdict.py <raw-ktap-file>

Prints one line per failed/unfinished case naming the trace step
(from the "# mpv: <trace>:<step> <op>" diagnostics), then a closing line
"mpv-kunit: N passed, N failed" (plus ", N skipped").

Also prints "KERNEL at <trace>:<step>: <msg>" for a WARNING/BUG/panic/
lockdep/RCU/list-debug report or a soft-lockup RIP seen after the KTAP header.

Exit: 0 all cases ok; 1 some case not ok or a kernel report during the tests;
5 output incomplete (no KTAP, kernel crash, hang killed by kunit.py's
timeout or by the soft-lockup panic, plan not met).
"""
import re
import sys

STEP = re.compile(r'^\s*# mpv: (?P<trace>\S+):(?P<step>\d+) ?(?P<op>.*)$')
RESULT = re.compile(r'^(?P<indent>\s*)(?P<not>not )?ok (?P<num>\d+) (?P<name>[^#]*?)\s*(?:#\s*(?P<directive>.*))?$')
PLAN = re.compile(r'^(?P<indent>\s*)1\.\.(?P<n>\d+)\s*$')
FAILED = re.compile(r'(EXPECTATION|ASSERTION) FAILED at (\S+)')
# Kernel trouble after the KTAP header (boot-time WARNs, such as UML's
# virt-pci "No virtio device ID", come before it and are ignored).
KERNEL = re.compile(r'(WARNING: CPU: \d+ PID: \d+ at \S+|BUG: .*|Kernel panic - .*|'
                    r'possible circular locking dependency detected|'
                    r'suspicious RCU usage|list_(add|del) corruption.*|'
                    r'RIP: \S+:(\S+))')


def main(path):
    try:
        lines = open(path, errors='replace').read().splitlines()
    except OSError as e:
        print(f'mpv-kunit: cannot read {path}: {e}')
        return 5

    start = next((i for i, l in enumerate(lines) if l.rstrip() == 'KTAP version 1'), None)
    if start is None:
        print('mpv-kunit: no KTAP output (build or boot failed?)')
        print('mpv-kunit: 0 passed, 0 failed')
        return 5

    top_plan = None
    top_results = 0
    passed = failed = skipped = 0
    last_step = None          # (trace, step, op) of the current case
    failures = []             # (case, step, detail lines)
    detail = []
    fail_step = None          # step current when the case's first failure printed
    in_failure = False
    incomplete = []
    kernel = []               # (step, message)

    for line in lines[start + 1:]:
        m = PLAN.match(line)
        if m and not m.group('indent') and top_plan is None:
            top_plan = int(m.group('n'))
            continue
        m = STEP.match(line)
        if m:
            last_step = (m.group('trace'), int(m.group('step')), m.group('op'))
            in_failure = False
            continue
        k = KERNEL.search(line)
        if k:
            kernel.append((last_step, k.group(1)))
            continue
        f = FAILED.search(line)
        if f:
            in_failure = True
            if fail_step is None:
                fail_step = last_step
            detail.append(f'{f.group(1).lower()} failed at {f.group(2)}')
            continue
        m = RESULT.match(line)
        if m:
            in_failure = False
            depth = len(m.group('indent').expandtabs())
            if depth == 0:
                top_results += 1
                continue
            if depth != 4:
                continue  # parameterised sub-cases: counted by their parent
            directive = (m.group('directive') or '').strip()
            name = m.group('name').strip()
            if directive.upper().startswith('SKIP'):
                skipped += 1
            elif m.group('not'):
                failed += 1
                failures.append((name, fail_step or last_step, detail))
            else:
                passed += 1
            last_step, detail, fail_step = None, [], None
            continue
        if in_failure:
            text = line.strip()
            if text and not text.startswith('# '):
                detail.append(text)

    if last_step is not None:
        incomplete.append(last_step)

    for name, step, det in failures:
        where = f'{step[0]}:{step[1]} {step[2]}' if step else '(before first step)'
        print(f'FAIL {name} at {where}')
        for d in det:
            print(f'    {d}')
    for step in incomplete:
        print(f'UNFINISHED at {step[0]}:{step[1]} {step[2]} (hang or crash in this step)')

    for step, msg in kernel:
        where = f'{step[0]}:{step[1]} {step[2]}' if step else '(outside any step)'
        print(f'KERNEL at {where}: {msg}')

    complete = top_plan is not None and top_results == top_plan and not incomplete
    if not complete:
        print(f'mpv-kunit: output incomplete (plan {top_plan}, suite results {top_results})')
    tail = f', {skipped} skipped' if skipped else ''
    print(f'mpv-kunit: {passed} passed, {failed} failed{tail}')
    if not complete:
        return 5
    return 1 if failed or kernel else 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
