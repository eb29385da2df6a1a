schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  command Check { }
  command Touch { };
  event Placed { total: i64; }
}
