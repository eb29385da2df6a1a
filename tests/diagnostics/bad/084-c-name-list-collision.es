schema shop;

record Money { amount: i64; }
record MoneyList { items: list<Money>; }
