// wallet with a compatible change: a field added at the end, with a default.
schema wallet;

aggregate Account {
  state { balance: i64; deposits: u32; }
  command Deposit { cents: i32; } emits Deposited;
  event Deposited { cents: i32; memo: string = ""; }
}
