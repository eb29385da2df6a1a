schema shop;

aggregate Order {
  key string;
  state { total: i64; }
  errors { Empty }
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
  snapshot every 10;
  key u64;
  state { sum: i64; }
  errors { Full }
  snapshot every 20;
}
