schema shop;

record Money {
  amount: i64 = 0;
  currency: string = "EUR";
}
