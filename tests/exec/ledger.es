// ledger.es: the executor's test schema. Account is bank-like (open,
// deposit, withdraw, a named rejection) plus commands that exercise the
// executor's edges: several events at once, none at all, an event outside
// `emits`, a fault, a long list. Deposited has an older shape (v1) that an
// upcaster lifts. Counter takes snapshots. Slot and Badge are keyed by
// u64 and uuid.
schema ledger;

aggregate Account {
  key string;

  state {
    owner: string;
    balance: i64;
    open: bool;
    postings: u64;
    tags: list<string> max 4096;
  }

  errors { NotOpen, AlreadyOpen, InsufficientFunds }

  command Open     { owner: string max 200; initial: i64; } emits Opened;
  command Deposit  { amount: i64; }                       emits Deposited;
  command Withdraw { amount: i64; }                       emits Withdrawn;
  command Split    { amounts: list<i64> max 64; }         emits Deposited;
  command Nothing  { }                                    emits Deposited;
  command Stray    { }                                    emits Deposited;
  command Fault    { code: i32; }                         emits Deposited;
  command Tag      { tags: list<string> max 4096; }       emits Tagged;

  event Opened    { owner: string; initial: i64; }
  event Deposited v1 { cents: i32; }
  event Deposited v2 { amount: i64; note: string = ""; }
  event Withdrawn { amount: i64; }
  event Tagged    { tags: list<string> max 4096; }
}

aggregate Counter {
  key string;
  state { total: i64; adds: u64; }
  command Add { amount: i64; } emits Added;
  event Added { amount: i64; }
  snapshot every 10;
}

aggregate Slot {
  key u64;
  state { fills: u64; }
  command Fill { note: bytes max 4; } emits Filled;
  event Filled { note: bytes max 4; }
}

aggregate Badge {
  key uuid;
  state { grants: u64; }
  command Grant { level: Level; } emits Granted;
  event Granted { level: Level; }
}

enum Level { Low, High }
