schema shop;

record Money {
  amount: i64
  currency: string;
}
