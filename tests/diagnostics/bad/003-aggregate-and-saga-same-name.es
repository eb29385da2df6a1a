schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
}

saga Order {
  start on Order.Placed;
}
