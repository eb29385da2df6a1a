#!/usr/bin/env python3
"""esgen --json: valid JSON, deterministic, and consistent with the schema.

usage: check_schema_json.py ESGEN SCHEMA.es...
Checks, for each schema: two runs give the same bytes; the output parses;
every type id is FNV-1a 64 of "<schema>.<name>"; every list field has an
`elem` chain (one per level, bounds positive) and no other field has one;
every field reference (record, enum), aggregate state, event, projection
and saga reference names a type in the description.
"""
import json
import subprocess
import sys

KINDS = {"bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64",
         "f32", "f64", "string", "bytes", "timestamp", "uuid", "enum",
         "record"}


def fnv1a64(text):
    h = 14695981039346656037
    for byte in text.encode():
        h ^= byte
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def fail(msg):
    print("check_schema_json: " + msg, file=sys.stderr)
    sys.exit(1)


def check_elem(where, f):
    """A list field's chain of elements: each level says whether it is a
    list, lists (and only lists) have an element, bounds are positive."""
    level = f
    while level["list"]:
        e = level.get("elem")
        if not isinstance(e, dict) or not isinstance(e.get("list"), bool):
            fail(f"{where}: a list without a valid elem")
        if "max" in e and (not isinstance(e["max"], int) or e["max"] < 1):
            fail(f"{where}: bad elem max {e['max']!r}")
        level = e
    if "elem" in level:
        fail(f"{where}: elem on a value that is not a list")


def check(esgen, path):
    runs = [subprocess.run([esgen, "--json", path], capture_output=True,
                           check=False) for _ in range(2)]
    for r in runs:
        if r.returncode != 0:
            fail(f"{path}: esgen exited {r.returncode}: {r.stderr!r}")
    if runs[0].stdout != runs[1].stdout:
        fail(f"{path}: two runs differ")
    d = json.loads(runs[0].stdout)
    if d["format"] != "esgen-schema" or d["format_version"] != 2:
        fail(f"{path}: unexpected format header")
    enums = {e["name"]: e for e in d["enums"]}
    types = {}
    for t in d["types"]:
        key = (t["name"], t["version"])
        if key in types:
            fail(f"{path}: type {key} twice")
        types[key] = t
        want = fnv1a64(d["schema"] + "." + t["name"])
        if int(t["id"], 16) != want:
            fail(f"{path}: {t['name']}: id {t['id']} is not {want:016x}")
        for f in t["fields"]:
            if f["kind"] not in KINDS:
                fail(f"{path}: {t['name']}.{f['name']}: kind {f['kind']}")
            check_elem(f"{path}: {t['name']}.{f['name']}", f)
            if f["kind"] == "record" and (f["record"], 1) not in types:
                fail(f"{path}: {t['name']}.{f['name']}: record not before")
            if f["kind"] == "enum" and f["enum"] not in enums:
                fail(f"{path}: {t['name']}.{f['name']}: unknown enum")
            if f["kind"] == "enum" and "default" in f and \
                    f["default"] not in enums[f["enum"]]["values"]:
                fail(f"{path}: {t['name']}.{f['name']}: bad enum default")
    names = {n for n, _ in types}
    for a in d["aggregates"]:
        if a["state"] is not None and a["state"] not in names:
            fail(f"{path}: {a['name']}: state type missing")
        for c in a["commands"]:
            if a["name"] + "." + c["name"] not in names:
                fail(f"{path}: command {c['name']} missing")
        for e in a["events"]:
            for v in e["versions"]:
                if (a["name"] + "." + e["name"], v) not in types:
                    fail(f"{path}: event {e['name']} v{v} missing")
    for p in d["projections"]:
        for ref in p["on"]:
            if ref not in names:
                fail(f"{path}: projection {p['name']}: {ref} missing")
    for s in d["sagas"]:
        if s["state"] not in names:
            fail(f"{path}: saga {s['name']}: state missing")
        for h in s["on"]:
            if h["event"] not in names:
                fail(f"{path}: saga {s['name']}: {h['event']} missing")
    return d


def main():
    esgen = sys.argv[1]
    for path in sys.argv[2:]:
        d = check(esgen, path)
        print(f"{path}: {len(d['types'])} types, "
              f"{len(d['aggregates'])} aggregates: ok")


if __name__ == "__main__":
    main()
