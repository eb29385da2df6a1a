#!/usr/bin/env python3
"""esctl end to end, on stores the examples write.

Run by meson (tests/esctl/meson.build) with ESCTL, BANK, BANK_CTL,
NOTES_V1 and NOTES_V2 naming the programs. Every --json line is parsed
with Python's json module. Prints one line per check; exits 1 if any
failed.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import re
import urllib.request

ESCTL = os.environ["ESCTL"]
BANK = os.environ["BANK"]
BANK_CTL = os.environ["BANK_CTL"]
NOTES_V1 = os.environ["NOTES_V1"]
NOTES_V2 = os.environ["NOTES_V2"]

TMP = tempfile.mkdtemp(prefix="esctl-test-")
failures = []


def run(*args, prog=None, stdin=None, want=0):
    """Runs PROG ARGS; checks the exit status; returns (stdout, stderr)."""
    cmd = [prog or ESCTL] + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, input=stdin, timeout=120,
                       check=False)
    out, err = r.stdout.decode(), r.stderr.decode()
    if want is not None and r.returncode != want:
        raise AssertionError(f"{' '.join(cmd)}: exit {r.returncode}, "
                             f"wanted {want}\nstdout: {out}\nstderr: {err}")
    return out, err


def jlines(out):
    """Every line of OUT parsed as JSON."""
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def check(fn):
    try:
        fn()
        print(f"ok   {fn.__name__}")
    except Exception as e:  # noqa: BLE001 - every failure is reported
        failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {e}")


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


# ---- stores ----------------------------------------------------------------

BANK_DATA = os.path.join(TMP, "bank-data")
subprocess.run([BANK, BANK_DATA], check=True, capture_output=True,
               timeout=120)


def test_info():
    out, _ = run("info", BANK_DATA)
    expect("store         " + BANK_DATA + " (log, read-only)" in out, out)
    expect("schemas       1" in out and "bank " in out, out)
    expect("MoneyTransfer" in out and "dead letters  1" in out, out)
    (info,) = jlines(run("--json", "info", BANK_DATA)[0])
    expect(info["kind"] == "log", info)
    expect(info["events"] == info["head"] and info["head"] > 20, info)
    expect([s["name"] for s in info["schemas"]] == ["bank"], info)
    expect(info["projections"][0]["name"] == "Balances", info)
    expect(info["sagas"][0]["instances"] == 3, info)
    expect(info["dead_letters"] == 1, info)


def test_ls():
    out, _ = run("ls", BANK_DATA)
    expect(out.splitlines()[0].split() == ["STREAM", "VERSION", "POSITION"],
           out)
    rows = jlines(run("--json", "ls", BANK_DATA)[0])
    names = {(r["stream"], r["key"]) for r in rows}
    expect(("Account", "alice") in names and ("Account", "bob") in names, rows)
    (info,) = jlines(run("--json", "info", BANK_DATA)[0])
    expect(len(rows) == info["streams"], (len(rows), info["streams"]))
    expect(sum(r["version"] for r in rows) == info["events"], rows)
    accounts = jlines(run("--json", "ls", BANK_DATA, "--type", "Account")[0])
    expect({r["key"] for r in accounts} == {"alice", "bob", "carol"}, accounts)


def test_cat():
    events = jlines(run("--json", "cat", BANK_DATA, "Account/alice")[0])
    expect(events[0]["type"] == "Account.Opened", events[0])
    expect(events[0]["data"] == {"owner": "Alice", "initial": 100}, events[0])
    expect([e["version"] for e in events] == list(range(1, len(events) + 1)),
           events)
    expect(all(e["decoded"] for e in events), events)
    positions = [e["position"] for e in events]
    expect(positions == sorted(positions), positions)
    for key in ("id", "time", "correlation", "causation", "type_version"):
        expect(key in events[0], key)
    later = jlines(run("--json", "cat", BANK_DATA, "Account/alice",
                       "--from", "2")[0])
    expect(later == events[1:], later)
    out, _ = run("cat", BANK_DATA, "Account/alice")
    expect("Account.Opened v1" in out and '"owner":"Alice"' in out, out)
    _, err = run("cat", BANK_DATA, "Account/nobody", want=1)
    expect("esctl: error: no stream 'Account/nobody'" in err, err)
    _, err = run("cat", BANK_DATA, "alice", want=2)
    expect("esctl: error: 'alice' is not a stream" in err, err)


def test_tail():
    events = jlines(run("--json", "tail", BANK_DATA)[0])
    expect([e["position"] for e in events] ==
           list(range(1, len(events) + 1)), "positions have gaps")
    last = jlines(run("--json", "tail", BANK_DATA, "--from",
                      len(events))[0])
    expect(last == events[-1:], last)
    out, _ = run("tail", BANK_DATA, "--from", len(events))
    expect(out.startswith(f"{len(events):6d}  "), out)


def test_verify_clean():
    out, _ = run("verify", BANK_DATA)
    expect(" 0 problems" in out, out)
    (v,) = jlines(run("--json", "verify", BANK_DATA)[0])
    expect(v["problems"] == 0 and v["events"] > 0, v)


def test_projections_sagas_dead_letters():
    out, _ = run("projections", BANK_DATA)
    expect("Balances" in out, out)
    (p,) = jlines(run("--json", "projections", BANK_DATA)[0])
    expect(p["projection"] == "Balances" and "Account.Opened" in p["on"], p)
    sagas = jlines(run("--json", "sagas", BANK_DATA)[0])
    expect({s["key"] for s in sagas} == {"t-1-a", "t-1-b", "t-1-c"}, sagas)
    done = [s for s in sagas if s["key"] == "t-1-a"][0]
    expect(done["completed"] and done["state"]["amount"] == 30, done)
    out, _ = run("sagas", BANK_DATA)
    expect("MoneyTransfer" in out and "completed" in out, out)
    (dl,) = jlines(run("--json", "dead-letters", BANK_DATA)[0])
    expect(dl["saga"] == "MoneyTransfer" and dl["target"] ==
           "Account.Withdraw", dl)
    out, _ = run("dead-letters", BANK_DATA)
    expect(dl["id"] in out, out)


def test_copy_compares_every_event():
    dst = os.path.join(TMP, "copy")
    out, _ = run("copy", BANK_DATA, dst)
    expect("digest" in out and "matches" in out, out)
    a = jlines(run("--json", "tail", BANK_DATA)[0])
    b = jlines(run("--json", "tail", dst)[0])
    expect(a == b, "the copy's events differ")
    expect(run("info", dst)[0].count("bank ") == 1, "schema not copied")
    sa = jlines(run("--json", "sagas", BANK_DATA)[0])
    sb = jlines(run("--json", "sagas", dst)[0])
    expect(sa == sb, "saga records differ")
    _, err = run("copy", BANK_DATA, dst, want=2)
    expect("is not empty" in err, err)


def test_export_import():
    out, _ = run("export", BANK_DATA)
    lines = jlines(out)
    expect("schema" in lines[0] and "event" in lines[-1], lines[0])
    dst = os.path.join(TMP, "imported")
    run("import", dst, stdin=out.encode())
    expect(run("export", dst)[0] == out, "export of the import differs")
    _, err = run("import", os.path.join(TMP, "bad-import"),
                 stdin=b'{"event":{"stream":"A"}}\n', want=1)
    expect("<stdin>:1: not a line of esctl export" in err, err)


def test_state_time_travel():
    steps = jlines(run("--json", "state", BANK_DATA, "Account/alice",
                       prog=BANK_CTL)[0])
    expect(steps[0]["state"]["balance"] == 100, steps[0])
    expect(steps[0]["event"]["type"] == "Account.Opened", steps[0])
    at2 = jlines(run("--json", "state", BANK_DATA, "Account/alice", "--at",
                     "2", prog=BANK_CTL)[0])
    expect(at2 == steps[:2], at2)
    expect(at2[1]["state"]["balance"] == 160, at2[1])
    out, _ = run("state", BANK_DATA, "Account/alice", "--at", "1",
                 prog=BANK_CTL)
    expect('=> {"owner":"Alice","balance":100' in out, out)
    _, err = run("state", BANK_DATA, "Account/alice", want=2)
    expect("unknown command 'state'" in err, err)


def test_stream_arguments_are_checked_alike():
    for prog, cmd, opt in ((None, "cat", "--from"),
                           (BANK_CTL, "state", "--at")):
        _, err = run(cmd, BANK_DATA, "Account/alice", opt, "0", prog=prog,
                     want=2)
        expect(f"'{opt} 0': not a version (1, 2, ...)" in err, err)
        _, err = run(cmd, BANK_DATA, "Account/alice", opt, prog=prog, want=2)
        expect(f"'{opt}' needs a version (1, 2, ...)" in err, err)
        _, err = run(cmd, BANK_DATA, opt, "2", prog=prog, want=2)
        expect(f"'{cmd}' needs a stream: {cmd} AGG/KEY [{opt} V]" in err, err)
        _, err = run(cmd, BANK_DATA, "Account/alice", "Account/bob",
                     prog=prog, want=2)
        expect(f"'{cmd}': unexpected 'Account/bob' ({cmd} AGG/KEY [{opt} V])"
               in err, err)
        _, err = run(cmd, BANK_DATA, "alice", prog=prog, want=2)
        expect("'alice' is not a stream" in err, err)


def test_rebuild_runs_the_handlers():
    store = os.path.join(TMP, "rebuilt")
    run("copy", BANK_DATA, store)
    out, _ = run("rebuild", store, "Balances", prog=BANK_CTL)
    expect("read model emptied" in out and "read model: {" in out, out)
    (r,) = jlines(run("--json", "rebuild", store, "Balances",
                      prog=BANK_CTL)[0])
    (info,) = jlines(run("--json", "info", store)[0])
    expect(r["position"] == info["head"], (r, info))
    (proj,) = jlines(run("--json", "projections", store)[0])
    handled = [e for e in jlines(run("--json", "tail", store)[0])
               if e["type"] in proj["on"]]
    expect(r["handled"] == len(handled), (r, len(handled)))
    # The read model the user's handlers rebuilt: every account's balance,
    # as folding its stream says.
    for key in ("alice", "bob", "carol"):
        steps = jlines(run("--json", "state", store, "Account/" + key,
                           prog=BANK_CTL)[0])
        expect(r["read_model"][key] == steps[-1]["state"]["balance"],
               (key, r["read_model"], steps[-1]))
    # A rebuild twice over gives the same read model (emptied first).
    (again,) = jlines(run("--json", "rebuild", store, "Balances",
                          prog=BANK_CTL)[0])
    expect(again["read_model"] == r["read_model"], again)
    _, err = run("rebuild", store, "Nothing", prog=BANK_CTL, want=2)
    expect("has no projection 'Nothing'" in err, err)


def test_redispatch():
    store = os.path.join(TMP, "ops")
    run("copy", BANK_DATA, store)
    expect(not os.path.exists(os.path.join(BANK_DATA, "dead-letters.jsonl")),
           "dead letters live in the store, not in a file")
    (dl,) = jlines(run("--json", "dead-letters", store)[0])
    # The letter's command (a withdrawal of 0) still fails the same way,
    # and stays a dead letter.
    _, err = run("redispatch", store, dl["id"], prog=BANK_CTL, want=1)
    expect("redispatch of " + dl["id"] in err, err)
    expect(len(jlines(run("--json", "dead-letters", store)[0])) == 1, "kept")
    _, err = run("redispatch", store, "no-such-id", prog=BANK_CTL, want=1)
    expect("no dead letter 'no-such-id'" in err, err)
    # A dead-letter file an earlier version wrote (the same letter, and one
    # whose command - [amount, transfer], amount 5 - can succeed): the
    # tools warn about it; redispatch imports it (the copy of the store's
    # letter once), succeeds, alice is debited, the letter leaves the
    # list, and a second re-dispatch finds no letter.
    dl_path = os.path.join(store, "dead-letters.jsonl")
    fixed = dict(dl, id="0b6a54e4-1c9d-8f00-9a3e-5d2b7c1e0f42",
                 msgpack="9205" + dl["msgpack"][4:])
    expect(dl["msgpack"].startswith("9200"), dl)
    with open(dl_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(dl) + "\n" + json.dumps(fixed) + "\n")
    _, err = run("dead-letters", store)
    expect("holds 2 dead letter(s) written by an earlier version" in err, err)
    before = jlines(run("--json", "cat", store, "Account/alice")[0])
    (res,) = jlines(run("--json", "redispatch", store, fixed["id"],
                        prog=BANK_CTL)[0])
    expect(res["outcome"] == "ok" and res["resolved"], res)
    expect(not os.path.exists(dl_path) and
           os.path.exists(dl_path + ".migrated"), "the file is renamed")
    after = jlines(run("--json", "cat", store, "Account/alice")[0])
    expect(len(after) == len(before) + 1, after[-1])
    expect(after[-1]["type"] == "Account.Withdrawn" and
           after[-1]["data"]["amount"] == 5, after[-1])
    expect(res["version"] == after[-1]["version"], (res, after[-1]))
    left = jlines(run("--json", "dead-letters", store)[0])
    expect([x["id"] for x in left] == [dl["id"]], left)
    out, _ = run("dead-letters", store)
    expect(fixed["id"] not in out and dl["id"] in out, out)
    (info,) = jlines(run("--json", "info", store)[0])
    expect(info["dead_letters"] == 1, info)
    _, err = run("redispatch", store, fixed["id"], prog=BANK_CTL, want=1)
    expect("no dead letter" in err, err)


def test_sagas_show_pending_timeouts():
    # The bank's story up to the moment transfer t-1-c scheduled its
    # give-up timeout (the story later moves its clock and fires it): the
    # exported events up to that timer record, imported into a new store.
    events = jlines(run("--json", "tail", BANK_DATA)[0])
    (timer,) = [e for e in events if e["type"] == "es.saga.timer" and
                e["data"][1] == "t-1-c" and e["data"][2] == "give-up" and
                e["data"][0] == 1]
    lines = [ln for ln in run("export", BANK_DATA)[0].splitlines()
             if "event" not in json.loads(ln) or
             json.loads(ln)["event"]["position"] <= timer["position"]]
    store = os.path.join(TMP, "pending")
    run("import", store, stdin=("\n".join(lines) + "\n").encode())
    sagas = {s["key"]: s for s in jlines(run("--json", "sagas", store)[0])}
    c = sagas["t-1-c"]
    expect(not c["completed"] and len(c["timeouts"]) == 1, c)
    expect(c["timeouts"][0]["name"] == "give-up", c)
    expect(sagas["t-1-a"]["timeouts"] == [], sagas["t-1-a"])
    out, _ = run("sagas", store)
    expect("timeout 'give-up' due " + c["timeouts"][0]["due"] in out, out)
    # On the whole store the timeout has fired: none pending.
    done = [s for s in jlines(run("--json", "sagas", BANK_DATA)[0])
            if s["key"] == "t-1-c"][0]
    expect(done["timeouts"] == [], done)


def big_store():
    """A store of 12,000 events (enough for a progress bar), imported."""
    small = os.path.join(TMP, "small")
    subprocess.run([NOTES_V1, small, "k", "one"], check=True)
    out = run("export", small)[0].splitlines()
    schema = [ln for ln in out if ln.startswith('{"schema"')]
    ev = json.loads([ln for ln in out if ln.startswith('{"event"')][0])
    lines = list(schema)
    for i in range(1, 12001):
        e = dict(ev["event"], position=i, version=i, key="big")
        e["id"] = "01a24089-116c-77b8-9ede-%012x" % i
        lines.append(json.dumps({"event": e}))
    store = os.path.join(TMP, "big")
    run("import", store, stdin=("\n".join(lines) + "\n").encode())
    return store


def run_with_tty_stderr(*args):
    """Runs esctl ARGS with stderr on a pseudo-terminal and stdout on a
    pipe; returns (exit status, stdout, what the terminal received)."""
    master, slave = os.openpty()
    p = subprocess.Popen([ESCTL] + list(args), stdout=subprocess.PIPE,
                         stderr=slave)
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        tty += chunk
    out = p.stdout.read()
    p.wait(timeout=120)
    os.close(master)
    return p.returncode, out.decode(), tty.decode(errors="replace")


def test_progress_bar_only_on_a_terminal():
    store = big_store()
    for args in (("verify", store), ("copy", store,
                                     os.path.join(TMP, "big-copy"))):
        rc, out, tty = run_with_tty_stderr(*args)
        expect(rc == 0, (args, rc, out, tty))
        expect(re.search(r"\[#+ *\] +\d+%", tty) and "100%" in tty,
               (args, tty[-300:]))
        expect("[" not in out, out)  # never on stdout
    # stderr a pipe: no bar.
    out, err = run("verify", store)
    expect("12000 events read" in out, out)
    expect(err == "", err)


def test_two_schema_versions():
    store = os.path.join(TMP, "notes")
    subprocess.run([NOTES_V1, store, "n1", "old one", "old two"], check=True)
    subprocess.run([NOTES_V2, store, "n1", "new one"], check=True)
    (info,) = jlines(run("--json", "info", store)[0])
    expect(len(info["schemas"]) == 2, info)
    events = jlines(run("--json", "cat", store, "Note/n1")[0])
    expect([e["type_version"] for e in events] == [1, 1, 2], events)
    expect(events[0]["data"] == {"text": "old one"}, events[0])
    expect(events[2]["data"] == {"text": "new one", "tags": ["v2"]},
           events[2])
    # Reopening with a schema already recorded records nothing more.
    subprocess.run([NOTES_V2, store, "n2", "x"], check=True)
    (info,) = jlines(run("--json", "info", store)[0])
    expect(len(info["schemas"]) == 2, info)
    # The older build cannot read the v2 events now in the store: it is
    # refused at open, and records nothing.
    old = subprocess.run([NOTES_V1, store, "n3", "y"], capture_output=True,
                         text=True)
    expect(old.returncode != 0, old)
    expect("store holds events this schema cannot read" in old.stderr, old)
    (info,) = jlines(run("--json", "info", store)[0])
    expect(len(info["schemas"]) == 2, info)


def test_damage_found_with_file_and_offset():
    store = os.path.join(TMP, "damaged")
    # Small segments: "a" fills sealed, indexed segments; "b" lands last.
    texts = [f"note number {i} " + "x" * 200 for i in range(40)]
    subprocess.run([NOTES_V1, "--segment", "4096", store, "a"] + texts,
                   check=True)
    subprocess.run([NOTES_V1, "--segment", "4096", store, "b", "safe"],
                   check=True)
    segs = sorted(glob.glob(os.path.join(store, "*.seg")))
    expect(len(segs) >= 3, segs)
    with open(segs[0], "r+b") as f:
        f.seek(2000)
        byte = f.read(1)
        f.seek(2000)
        f.write(bytes([byte[0] ^ 0xFF]))
    out, err = run("verify", store, want=1)
    name = os.path.basename(segs[0])
    expect(f"{store}/{name}" in err and "offset" in err, err)
    expect("problem" in out, out)
    (v,) = jlines(run("--json", "verify", store, want=1)[0])
    expect(v["problems"] >= 1, v)
    safe = jlines(run("--json", "cat", store, "Note/b")[0])
    expect(safe[0]["data"] == {"text": "safe"}, safe)
    _, err = run("cat", store, "Note/a", want=1)
    expect("esctl: error:" in err, err)


def test_tail_follow_sees_another_process():
    store = os.path.join(TMP, "follow")
    subprocess.run([NOTES_V1, store, "k", "first"], check=True)
    p = subprocess.Popen([ESCTL, "--json", "tail", store, "-f"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = json.loads(p.stdout.readline())
        expect(first["data"] == {"text": "first"}, first)
        subprocess.run([NOTES_V1, store, "k", "second"], check=True)
        # Blocks until the line arrives; the meson timeout bounds it.
        second = json.loads(p.stdout.readline())
        expect(second["data"] == {"text": "second"}, second)
        expect(second["position"] == 2, second)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)


def test_hostile_store_files():
    # A truncated segment: cut inside the last record.
    store = os.path.join(TMP, "truncated")
    subprocess.run([NOTES_V1, store, "k", "one", "two"], check=True)
    (seg,) = glob.glob(os.path.join(store, "*.seg"))
    size = os.path.getsize(seg)
    os.truncate(seg, size - 7)
    out, _ = run("--json", "tail", store)
    expect(len(jlines(out)) == 1, out)  # the unfinished append is not read
    run("verify", store)
    # A sealed segment cut in half: every command refuses the store with
    # the file and offset, verify counts it as a problem; nothing crashes.
    store = os.path.join(TMP, "cut")
    texts = [f"note {i} " + "y" * 300 for i in range(30)]
    subprocess.run([NOTES_V1, "--segment", "4096", store, "k"] + texts,
                   check=True)
    segs = sorted(glob.glob(os.path.join(store, "*.seg")))
    expect(len(segs) >= 2, segs)
    os.truncate(segs[0], os.path.getsize(segs[0]) // 2)
    _, err = run("info", store, want=2)
    expect("esctl: error: cannot open store" in err and
           os.path.basename(segs[0]) in err, err)
    _, err = run("verify", store, want=1)
    expect(os.path.basename(segs[0]) in err and "offset" in err, err)
    # Bad schema descriptions: damaged text, a description that is JSON but
    # not one, and a list naming a missing description.
    store = os.path.join(TMP, "bad-schema")
    subprocess.run([NOTES_V1, store, "k", "one"], check=True)
    for garbage in (b"{\"format\":\"esgen-schema\",\"format_version\":1,",
                    b"[1,2,3]", b"\x00\xff" * 50, b"{}" * 40000):
        for ck in glob.glob(os.path.join(store, "ckpt-*")):
            with open(ck, "rb") as f:
                data = f.read()
            if b"esgen-schema" in data:
                victim = ck
        with open(victim, "rb") as f:
            data = f.read()
        # Keep the checkpoint file's own framing: replace the JSON inside.
        start = data.find(b"{\"format\"")
        expect(start > 0, "description not found in its checkpoint file")
        with open(victim, "wb") as f:
            f.write(data[:start] + garbage[: len(data) - start].ljust(
                len(data) - start, b" "))
        out, err = run("info", store, want=None)
        expect("Traceback" not in err and "Sanitizer" not in err, err)
        out, err = run("--json", "cat", store, "Note/k", want=None)
        expect("Sanitizer" not in err, err)
        with open(victim, "wb") as f:
            f.write(data)
    # A store that is not one.
    _, err = run("info", os.path.join(TMP, "missing"), want=2)
    expect("esctl: error: cannot open store" in err, err)


def test_bank_serves_the_ops_endpoint():
    store = os.path.join(TMP, "served")
    p = subprocess.Popen([BANK, "--serve", "127.0.0.1:0", store],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = None
        for line in p.stdout:  # the story, then the line naming the port
            m = re.search(rb"serving http://127\.0\.0\.1:(\d+)/metrics", line)
            if m:
                port = int(m.group(1))
                break
        expect(port, "bank never said where it serves")
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(base + "/metrics", timeout=60) as r:
            text = r.read().decode()
        expect('es_commands_total{outcome="ok"}' in text, text)
        expect('es_saga_lag_events{saga="MoneyTransfer"} 0' in text, text)
        for path, want in (("/health", "ok\n"), ("/ready", "ready\n")):
            with urllib.request.urlopen(base + path, timeout=60) as r:
                got = r.read().decode()
            expect(got == want, (path, got))
    finally:
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=60)
    expect(rc == 0, f"bank exited {rc}")


def test_copy_log_to_postgres():
    wp = os.environ.get("WITH_POSTGRES", "")
    if not wp:
        print("     (skipped: no with-postgres)")
        return
    a_path = os.path.join(TMP, "pg-tail.jsonl")
    info_path = os.path.join(TMP, "pg-info.json")
    script = (f'"{ESCTL}" copy "{BANK_DATA}" "$ES_PG_CONNINFO" && '
              f'"{ESCTL}" --json tail "$ES_PG_CONNINFO" > "{a_path}" && '
              f'"{ESCTL}" --json info "$ES_PG_CONNINFO" > "{info_path}"')
    r = subprocess.run([wp, "sh", "-c", script], capture_output=True,
                       timeout=240, check=False)
    if r.returncode == 77:
        print("     (skipped: no PostgreSQL server binaries)")
        return
    expect(r.returncode == 0, r.stderr.decode() + r.stdout.decode())
    expect(b"matches" in r.stdout, r.stdout)
    with open(a_path, encoding="utf-8") as f:
        pg = jlines(f.read())
    log = jlines(run("--json", "tail", BANK_DATA)[0])
    expect(pg == log, "events differ between the log and PostgreSQL")
    with open(info_path, encoding="utf-8") as f:
        (info,) = jlines(f.read())
    expect(info["kind"] != "log" and info["schemas"][0]["name"] == "bank",
           info)
    expect(info["store"] == "(PostgreSQL)", info)  # no conninfo printed


def test_usage():
    _, err = run(want=2)
    expect("esctl: error: no command given" in err, err)
    _, err = run("frobnicate", BANK_DATA, want=2)
    expect("unknown command 'frobnicate'" in err, err)
    out, _ = run("--help")
    expect("cat AGG/KEY" in out and "state AGG/KEY" not in out, out)
    out, _ = run("--help", prog=BANK_CTL)
    expect("state AGG/KEY" in out, out)
    _, err = run("info", "postgresql://localhost/x", want=2)
    expect("esctl: error:" in err, err)


for t in (test_info, test_ls, test_cat, test_tail, test_verify_clean,
          test_projections_sagas_dead_letters, test_copy_compares_every_event,
          test_export_import, test_state_time_travel,
          test_stream_arguments_are_checked_alike,
          test_rebuild_runs_the_handlers, test_redispatch,
          test_sagas_show_pending_timeouts,
          test_progress_bar_only_on_a_terminal, test_two_schema_versions,
          test_damage_found_with_file_and_offset,
          test_tail_follow_sees_another_process, test_hostile_store_files,
          test_bank_serves_the_ops_endpoint, test_copy_log_to_postgres,
          test_usage):
    check(t)

shutil.rmtree(TMP, ignore_errors=True)
if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
print("all passed")
