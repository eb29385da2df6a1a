schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed { total: i32; }
  event Placed v1 { cents: i32; }
  event Placed v2 { total: i64; }
}
