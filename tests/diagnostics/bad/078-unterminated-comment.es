schema shop;

/* a comment that never ends
record Money { amount: i64; }
