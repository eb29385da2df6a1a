schema shop;

aggregate Sample {
  state {
    path: string = "C:\temp\new\x";
    quote: string = "it\x27s";
    nul: string = "a\0b";
  }
}
