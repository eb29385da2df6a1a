schema shop;

aggregate Sample {
  state {
    largest: u64 = 18446744073709551615;
    too_large: u64 = 18446744073709551616;
    too_large_hex: u64 = 0x10000000000000000;
  }
}
