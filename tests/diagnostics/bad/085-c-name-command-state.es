schema shop;

aggregate Order {
  state { total: i64; }
  command State { } emits Stated;
  event Stated { }
}
