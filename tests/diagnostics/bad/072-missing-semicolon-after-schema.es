schema shop

record Money { amount: i64; }
