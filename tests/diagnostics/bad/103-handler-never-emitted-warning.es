schema shop;

aggregate Order {
  key string;
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
  event Shipped { carrier: string; }   // no command emits it
}

projection Sales {
  on Order.Placed, Order.Shipped;
}

saga Delivery {
  key string;
  state { carrier: string; }
  start on Order.Placed;
  on Order.Shipped;
}
