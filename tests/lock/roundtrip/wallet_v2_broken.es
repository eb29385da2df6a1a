// wallet with a breaking change made in place: refused against wallet.lock.
schema wallet;

aggregate Account {
  state { balance: i64; deposits: u32; }
  command Deposit { amount: i64; } emits Deposited;
  event Deposited { amount: i64; memo: string = ""; }
}
