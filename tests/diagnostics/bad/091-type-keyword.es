schema shop;

record Sample {
  items: list;
}
