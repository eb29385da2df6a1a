schema shop;

aggregate Sample {
  state {
    empty: string = "\u{}";
    no_braces: string = "\u20AC";
    unclosed: string = "\u{20AC";
    not_hex: string = "\u{xyz}";
    seven: string = "\u{0010FFFF}";
  }
}
