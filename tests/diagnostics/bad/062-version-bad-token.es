schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed version2 { total: i64; }
  event Placed V1 { total: i32; }
}
