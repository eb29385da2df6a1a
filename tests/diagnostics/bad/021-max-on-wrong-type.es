schema shop;

enum Size { S, M, L }
record Money { amount: i64; }

record Sample {
  count: i64 max 10;
  size: Size max 2;
  money: Money max 1;
  flag: bool? max 1;
}
