schema shop;

record Money { amount: i64; }
record Address { street: string; }
record Money { cents: i64; }
