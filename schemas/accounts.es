// accounts.es: the account workload of bench/accounts.c (cold loads and
// replay). Every event carries {accountId, amount, ts}.
schema accounts;

aggregate Account {
  key string;

  state {
    accountId: string;
    balance: i64;
    open: bool;
  }

  errors { AlreadyOpen, NotOpen, InsufficientFunds }

  command Open     { accountId: string; amount: i64; ts: timestamp; } emits Opened;
  command Deposit  { accountId: string; amount: i64; ts: timestamp; } emits Deposited;
  command Withdraw { accountId: string; amount: i64; ts: timestamp; } emits Withdrawn;

  event Opened    { accountId: string; amount: i64; ts: timestamp; }
  event Deposited { accountId: string; amount: i64; ts: timestamp; }
  event Withdrawn { accountId: string; amount: i64; ts: timestamp; }
}
