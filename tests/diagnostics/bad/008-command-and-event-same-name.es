schema shop;

aggregate Order {
  state { total: i64; }
  command Placed { total: i64; } emits Placed;
  event Placed { total: i64; }
}
