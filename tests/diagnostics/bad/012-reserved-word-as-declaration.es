schema shop;

record state { total: i64; }
enum Answer { true, false }
