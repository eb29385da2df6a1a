schema lex;
record R { s: string = "bad \q escape"; n: i32 = 0x; }
/* never closed
