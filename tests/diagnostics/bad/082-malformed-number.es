schema shop;

aggregate Sample {
  state { count: i64 = 12abc; }
}
