schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64 = 0; note: string = ""; } emits Placed;
  event Placed { total: i64 = 0; note: string = ""; }
}
