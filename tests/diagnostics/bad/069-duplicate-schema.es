schema shop;

record Money { amount: i64; }

schema store;
