schema bank;

aggregate Account {
  key string;
  state { balance: i64; }
  command Withdraw { amount: i64; transfer: string; } emits Withdrawn;
  command Close { } emits Closed;
  event Withdrawn { amount: i64; transfer: string; }
  event Closed { }
}

aggregate Transfer {
  key string;
  state { amount: i64; }
  command Start { amount: i64; } emits Started;
  event Started { amount: i64; }
}

// Keyed by transfer id: Account.Closed without 'by' would be routed by
// the account's key, so it never reaches a transfer.
saga MoneyTransfer {
  key string;
  state { amount: i64; }
  start on Transfer.Started;
  on Account.Withdrawn by transfer;
  on Account.Closed;
}
