schema bank;

aggregate Account {
  key string;
  state { balance: i64; }
  command Deposit { amount: i64; transfer: string?; } emits Deposited;
  command Withdraw { amount: i64; transfer: string; } emits Withdrawn;
  event Deposited { amount: i64; transfer: string?; }
  event Withdrawn { amount: i64; transfer: string; }
}

aggregate Transfer {
  key string;
  state { amount: i64; }
  command Start { amount: i64; } emits Started;
  event Started { amount: i64; }
}

// Both events carry the transfer's id in 'transfer': optional in one,
// required in the other.
saga MoneyTransfer {
  key string;
  state { amount: i64; }
  start on Transfer.Started;
  on Account.Deposited by transfer;
  on Account.Withdrawn by transfer;
}
