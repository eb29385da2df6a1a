schema shop;

aggregate Sample {
  state { name: string = "unfinished; }
}
