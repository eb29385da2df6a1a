schema shop;

aggregate Order {
  state { total: i64; }
  errors { AlreadyPlaced, Empty, AlreadyPlaced }
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
}
