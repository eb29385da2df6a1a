schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed, Charged;
  event Placed { total: i64; }
}

aggregate Payment {
  state { amount: i64; }
  command Charge { amount: i64; } emits Charged;
  event Charged { amount: i64; }
}
