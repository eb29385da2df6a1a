schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed v4 { total: i64; }
  event Placed v1 { total: i32; }
}
