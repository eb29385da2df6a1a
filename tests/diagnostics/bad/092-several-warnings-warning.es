schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
  event Archived { }
}

aggregate Log {
  event Written { line: string; }
  event Rotated { }
}
