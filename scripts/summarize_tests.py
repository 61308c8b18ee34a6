#!/usr/bin/env python3
"""Prints one closing line for the whole suite from JUnit XML reports:
'tests: N passed, N failed' (plus skipped), counting each report's cases,
preceded by one 'FAILED <suite>::<test>: <first line of the message>' line per
failed case, so the tail of a CI log names what failed.

With --failures-only it prints just the FAILED lines (used by .ci/run's
closing summary, which lists every stage's failures together)."""
import sys
import xml.etree.ElementTree as ET

args = sys.argv[1:]
failures_only = "--failures-only" in args
paths = [a for a in args if a != "--failures-only"]

passed = failed = skipped = 0
failed_lines = []
for path in paths:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        failed_lines.append(f"FAILED missing or unreadable report {path}: {error}")
        failed += 1
        continue
    for case in root.iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failed += 1
            message = (problem.get("message") or problem.text or "").strip()
            first = message.splitlines()[0][:200] if message else ""
            failed_lines.append(
                f"FAILED {case.get('classname', '')}::{case.get('name', '')}: {first}")
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
for line in failed_lines:
    print(line)
if not failures_only:
    line = f"tests: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
