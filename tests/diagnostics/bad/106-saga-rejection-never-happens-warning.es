schema shop;

aggregate Order {
  key string;
  state { placed: bool; }
  command Place { } emits Placed;
  event Placed { }
}

// Counter declares no errors: its decide functions cannot reject.
aggregate Counter {
  key string;
  state { n: u64; }
  command Add { order: string; } emits Added;
  event Added { order: string; }
}

saga Tally {
  key string;
  state { added: bool; }
  start on Order.Placed;
  on Counter.Added by order;
  on rejected Counter.Add;
  sends Counter.Add;
}
