// bank.es: accounts, transfers between them, a balance read model and the
// saga that moves money safely.
schema bank;

enum Currency { EUR, USD, GBP }
enum TransferStatus { Pending, Done, Failed }

record Money {
  amount: i64;
  currency: Currency;
}

aggregate Account {
  key string;

  state {
    owner: string;
    balance: i64;
    open: bool;
    recent: list<Money> max 16;
    nickname: string?;
  }

  errors { InsufficientFunds, AccountClosed, AlreadyOpen, NotOpen }

  command Open     { owner: string; initial: i64; }         emits Opened;
  command Deposit  { amount: i64; transfer: string?; }      emits Deposited;
  command Withdraw { amount: i64; transfer: string?; }      emits Withdrawn;
  command Close    { }                                      emits Closed;

  event Opened    { owner: string; initial: i64; }
  event Deposited { amount: i64; transfer: string?; memo: string = ""; }
  event Withdrawn { amount: i64; transfer: string?; }
  event Closed    { }

  snapshot every 500;
}

aggregate Transfer {
  state { from: string; to: string; amount: i64; status: TransferStatus; }
  errors { AlreadyStarted, NotPending }
  command Start    { from: string; to: string; amount: i64; } emits Started;
  command Complete { }                                      emits Completed;
  command Fail     { reason: string; }                      emits Failed;
  event Started   { from: string; to: string; amount: i64; }
  event Completed { }
  event Failed    { reason: string; }
}

projection Balances {
  on Account.Opened, Account.Deposited, Account.Withdrawn;
}

saga MoneyTransfer {
  key string;
  state { from: string; to: string; amount: i64; withdrawn: bool; }

  start on Transfer.Started;
  on Account.Withdrawn by transfer;
  on Account.Deposited by transfer;
  on rejected Account.Withdraw;
  on rejected Account.Deposit;
  on timeout;
  sends Account.Withdraw, Account.Deposit, Transfer.Complete, Transfer.Fail;
}
