schema shop;

record Money { amount: i64; }

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
}

projection Totals {
  on Order.Placd;
  on Order.Place;
  on Money.Placed;
}
