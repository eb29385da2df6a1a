#!/usr/bin/env python3
"""The table of modelling mistakes in docs/language.md against the tests.

usage: check_mistake_table.py LANGUAGE_MD TESTS_DIR

The section "Modelling mistakes caught before the program runs" states a
count ("...: N classes") and has a table numbered 1 to N. Every row names
its tests in its last column:

  045, 026-029      golden cases tests/diagnostics/bad/NNN-*.es (+ .err)
  lock 002-009      golden cases tests/lock/cases/NNN-*.es (+ .err)
  test_grow         a test program tests/*/test_grow.c
  -                 none: allowed only for rows the C compiler catches

Each golden case must exist, and its expected output must say what the
row says: a row caught "(warning)" cites at least one case whose .err has
a warning, any other esgen row at least one whose .err has an error, and
every case cited has that diagnostic. Prints every problem and exits 1 if
there is one.
"""
import glob
import os
import re
import sys

SECTION = "### Modelling mistakes caught before the program runs"


def section(text):
    start = text.index(SECTION)
    end = text.find("\n### ", start + len(SECTION))
    return text[start:end if end >= 0 else len(text)]


def numbers(spec):
    """'026-029, 037' -> [26, 27, 28, 29, 37]"""
    out = []
    for part in spec.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            return None
        lo = int(m.group(1))
        hi = int(m.group(2) or lo)
        out.extend(range(lo, hi + 1))
    return out


def cells(row):
    # Split on '|' outside backticks: messages may hold a '|'.
    parts, cur, quoted = [], "", False
    for ch in row.strip().strip("|"):
        if ch == "`":
            quoted = not quoted
        if ch == "|" and not quoted:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    md, tests = sys.argv[1], sys.argv[2]
    with open(md, encoding="utf-8") as f:
        text = section(f.read())
    problems = []

    m = re.search(r":\s+(\d+)\s+classes\b", text)
    if not m:
        problems.append("the section states no count ('...: N classes')")
        stated = None
    else:
        stated = int(m.group(1))

    rows = [cells(line) for line in text.splitlines()
            if re.match(r"\|\s*\d+\s*\|", line)]
    for i, row in enumerate(rows, 1):
        if int(row[0]) != i:
            problems.append(f"row {i} is numbered {row[0]}")
    if stated is not None and stated != len(rows):
        problems.append(f"the text says {stated} classes, the table has "
                        f"{len(rows)} rows")

    diag_dir = os.path.join(tests, "diagnostics", "bad")
    lock_dir = os.path.join(tests, "lock", "cases")
    for row in rows:
        if len(row) != 5:
            problems.append(f"row {row[0]} has {len(row)} cells, not 5")
            continue
        num, _, caught_by, _, cited = row
        where = f"row {num}"
        if cited == "-":
            if "C compiler" not in caught_by:
                problems.append(f"{where}: caught by {caught_by} but names "
                                "no test")
            continue
        if re.fullmatch(r"test_\w+", cited):
            if not glob.glob(os.path.join(tests, "*", cited + ".c")):
                problems.append(f"{where}: no test program {cited}.c")
            continue
        directory = diag_dir
        if cited.startswith("lock "):
            directory, cited = lock_dir, cited[len("lock "):]
        nums = numbers(cited)
        if not nums:
            problems.append(f"{where}: cannot read its tests '{cited}'")
            continue
        want = "warning" if "(warning)" in caught_by else "error"
        said = False
        for n in nums:
            found = glob.glob(os.path.join(directory, f"{n:03d}-*.es"))
            if len(found) != 1:
                problems.append(f"{where}: {len(found)} golden cases "
                                f"numbered {n:03d} in {directory}")
                continue
            err = found[0][:-len(".es")] + ".err"
            try:
                with open(err, encoding="utf-8") as f:
                    expected = f.read()
            except OSError:
                problems.append(f"{where}: {err} is missing")
                continue
            has = f": {want}: " in expected
            if not has:
                problems.append(f"{where}: {os.path.basename(err)} has no "
                                f"{want}, but the row says esgen reports one")
            said = said or has
        if not said and nums:
            problems.append(f"{where}: no cited case shows its {want}")

    for p in problems:
        print(f"{md}: {p}", file=sys.stderr)
    if not problems:
        print(f"{len(rows)} classes of mistakes, each with its tests")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
