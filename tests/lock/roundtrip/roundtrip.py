#!/usr/bin/env python3
"""The lock's round trip (docs/evolution.md), end to end.

  roundtrip.py ESGEN WALLET_V1 WALLET_V2 DIR

DIR holds wallet_v1.es, its lock wallet.lock, and the later schemas. The
lock is written from v1; a compatible change is accepted; a breaking one
is refused with the exact error; done as esgen says (v2 + the old shape as
v1) it is accepted. Then the program built from v1 (meson builds it with
--lock wallet.lock) writes events to an embedded store, the program built
from v2 reads them through its upcaster, and the v1 program is refused at
open by the store it can no longer read.
"""
import os
import shutil
import subprocess
import sys
import tempfile

ESGEN, V1, V2, SRC = sys.argv[1:5]
failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


BROKEN = """\
wallet_v2_broken.es:7:21: error: field 'cents' of event 'Account.Deposited' was renamed to 'amount'; events already stored have the old shape: declare it as 'Deposited v1' and the new one as 'Deposited v2'
    7 |   event Deposited { amount: i64; memo: string = ""; }
      |                     ^~~~~~
wallet.lock:12:5: note: the lock records 'cents: i32'
   12 |   0 cents: i32
      |     ^~~~~
"""

tmp = tempfile.mkdtemp(prefix="esgen-roundtrip-")
try:
    for name in os.listdir(SRC):
        if name.endswith(".es"):
            shutil.copy(os.path.join(SRC, name), tmp)

    # 1. The lock, written from v1, is the one committed beside it.
    r = run([ESGEN, "--lock", "wallet.lock", "-o", "out", "wallet_v1.es"], tmp)
    expect(r.returncode == 0 and r.stderr == "", f"lock from v1: {r}")
    with open(os.path.join(tmp, "wallet.lock")) as a, \
            open(os.path.join(SRC, "wallet.lock")) as b:
        expect(a.read() == b.read(), "the committed wallet.lock is stale")
    with open(os.path.join(tmp, "wallet.lock")) as f:
        lock = f.read()

    # 2. A compatible change builds; the lock stays as it was.
    r = run([ESGEN, "--lock", "wallet.lock", "-o", "out", "wallet_v1_memo.es"],
            tmp)
    expect(r.returncode == 0, f"compatible change refused: {r.stderr}")
    expect("note: 1 accepted change since 'wallet.lock'" in r.stderr, r.stderr)

    # 3. A breaking change is refused, with the line and the fix.
    r = run([ESGEN, "--lock", "wallet.lock", "-o", "out",
             "wallet_v2_broken.es"], tmp)
    expect(r.returncode == 1, f"breaking change built: {r}")
    expect(r.stderr == BROKEN, f"breaking change says:\n{r.stderr}")
    expect(not os.path.exists(os.path.join(tmp, "out",
                                           "wallet_v2_broken.es.h")),
           "a refused schema wrote its header")

    # 4. Done as the error says, it builds, and --update-lock records v2.
    r = run([ESGEN, "--lock", "wallet.lock", "-o", "out", "wallet_v2.es"], tmp)
    expect(r.returncode == 0, f"v2 refused: {r.stderr}")
    with open(os.path.join(tmp, "wallet.lock")) as f:
        expect(f.read() == lock, "the lock changed without --update-lock")
    r = run([ESGEN, "--lock", "wallet.lock", "--update-lock", "-o", "out",
             "wallet_v2.es"], tmp)
    expect(r.returncode == 0 and r.stderr == "", f"--update-lock: {r}")
    with open(os.path.join(tmp, "wallet.lock")) as f:
        text = f.read()
    expect("event Account.Deposited v2 id " in text and
           "event Account.Deposited v1 id " in text, text)

    # 5. Events written by v1 are read by v2 through the upcaster.
    store = os.path.join(tmp, "store")
    r = run([V1, store, "alice", "100", "200", "300"], tmp)
    expect(r.returncode == 0, f"v1 writing: {r.stderr}")
    expect(r.stdout == "balance 300 deposits 2\n", f"v1 saw: {r.stdout}")
    r = run([V2, store, "alice", "5"], tmp)
    expect(r.returncode == 0, f"v2 reading v1 events: {r.stderr}")
    expect(r.stdout == "balance 600 deposits 3\n", f"v2 saw: {r.stdout}")
    r = run([V2, store, "alice", "1"], tmp)
    expect(r.stdout == "balance 605 deposits 4\n", f"v2 again: {r.stdout}")

    # 6. The v1 program cannot read the v2 events now stored: refused at
    # open, naming the type and version.
    r = run([V1, store, "bob", "1"], tmp)
    expect(r.returncode == 1, f"v1 opened a store with v2 events: {r}")
    expect("the store may hold events of 'Account.Deposited' v2" in r.stderr
           and "reads 'Account.Deposited' only up to v1" in r.stderr,
           r.stderr)
finally:
    shutil.rmtree(tmp)

sys.exit(1 if failures else 0)
