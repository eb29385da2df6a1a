schema shop;

record string { text: bytes; }
enum u8 { Low, High }
record Sample { i64: i64; }
