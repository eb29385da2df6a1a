schema shop;

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed, Shipped;
  event Placed v0 { total: i64; }
  event Shipped v65536 { }
}
