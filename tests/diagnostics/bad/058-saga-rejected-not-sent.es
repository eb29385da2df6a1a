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
  on rejected Order.Cancel;
}
