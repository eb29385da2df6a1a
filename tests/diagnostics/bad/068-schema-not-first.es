record Money { amount: i64; }

schema shop;
