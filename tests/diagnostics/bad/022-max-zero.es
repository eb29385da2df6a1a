schema shop;

record Sample {
  name: string max 0;
  data: bytes max 0;
  items: list<i64> max 0;
}
