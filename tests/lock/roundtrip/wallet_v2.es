// wallet, version 2: the breaking change done as esgen says, the old shape
// kept as v1; stored v1 events are lifted by an upcaster.
schema wallet;

aggregate Account {
  state { balance: i64; deposits: u32; }
  command Deposit { amount: i64; } emits Deposited;
  event Deposited v2 { amount: i64; memo: string = ""; }
  event Deposited v1 { cents: i32; }
}
