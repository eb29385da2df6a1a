// wallet, version 1 of the schema: the round trip of docs/evolution.md
// starts here (wallet.lock is this schema's lock).
schema wallet;

aggregate Account {
  state { balance: i64; deposits: u32; }
  command Deposit { cents: i32; } emits Deposited;
  event Deposited { cents: i32; }
}
