schema shop;

aggregate Sample {
  state { city: string = "Zürich, Köln"; bad: u8 = 256; }
}
