schema shop;

record Totals { sum: i64; }

aggregate Order {
  state { total: i64; }
  command Place { total: i64; } emits Placed;
  event Placed { total: i64; }
}

projection Totals { on Order.Placed; }
projection Orders { on Order.Placed; }
projection Orders { on Order.Placed; }
