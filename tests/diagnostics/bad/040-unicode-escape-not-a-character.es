schema shop;

aggregate Sample {
  state {
    last: string = "\u{10FFFF}";
    past_last: string = "\u{110000}";
    surrogate: string = "\u{D83D}\u{DE00}";
    nul: string = "\u{0}";
  }
}
