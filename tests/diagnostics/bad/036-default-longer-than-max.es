schema shop;

aggregate Sample {
  state {
    fits: string max 3 = "abc";
    bytes_count: string max 3 = "día!";
    too_long: string max 3 = "abcd";
  }
}
