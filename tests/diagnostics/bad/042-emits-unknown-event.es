schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placd;
  event Placed { total: i64; }
}
