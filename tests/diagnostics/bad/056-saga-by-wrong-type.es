schema shop;

aggregate Order {
  key uuid;
  state { total: i64; }
  command Place { total: i64; customer: u64; } emits Placed;
  command Cancel { ref: string?; } emits Cancelled;
  event Placed { total: i64; customer: u64; }
  event Cancelled { ref: string?; }
}

saga Loyalty {
  key u64;
  start on Order.Placed by total;
  on Order.Cancelled by ref;
}
