schema shop;

aggregate Order {
  key uuid;
  state { total: i64; } errors { Shipped }
  command Place { total: i64; customer: u64; } emits Placed;
  command Cancel { ref: string?; } emits Cancelled;
  event Placed { total: i64; customer: u64; }
  event Cancelled { ref: string?; }
}

saga Refunds {
  key uuid;
  start on Order.Placed;
  on Order.Placed;
  on timeout;
  on timeout;
  on rejected Order.Cancel;
  on rejected Order.Cancel;
  sends Order.Cancel, Order.Cancel;
}
