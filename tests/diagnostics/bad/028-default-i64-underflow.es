schema shop;

aggregate Sample {
  state {
    smallest: i64 = -9223372036854775808;
    too_small: i64 = -9223372036854775809;
    too_large: i64 = 9223372036854775808;
    when: timestamp = -9223372036854775809;
  }
}
