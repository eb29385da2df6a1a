schema shop;

aggregate Order {
  key i64;
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
}

saga Billing {
  key Order;
  start on Order.Placed by total;
}
