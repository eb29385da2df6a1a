schema shop;

aggregate Order {
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
}
