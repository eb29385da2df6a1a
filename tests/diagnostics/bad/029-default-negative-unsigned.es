schema shop;

aggregate Sample {
  state {
    zero: u8 = -0;
    small: u8 = -1;
    big: u64 = -18446744073709551615;
  }
}
