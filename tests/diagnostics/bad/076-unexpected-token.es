schema shop;

aggregate Order {
  state { total: i64; }
  total: i64;
}
