schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  command Place { total: i32; } emits Placed;
  event Placed { total: i64; }
}
