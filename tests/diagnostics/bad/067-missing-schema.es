// no schema declaration
record Money { amount: i64; }
