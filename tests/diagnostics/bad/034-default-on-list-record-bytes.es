schema shop;

record Money { amount: i64; }

aggregate Sample {
  state {
    items: list<i64> = 0;
    money: Money = 0;
    blob: bytes = "abc";
  }
}
