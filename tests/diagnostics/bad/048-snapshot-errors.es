schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
  snapshot every 0;
}

aggregate Log {
  event Written { line: string; }
  snapshot every 100;
}
