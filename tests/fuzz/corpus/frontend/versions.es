/* Versions, keys and defaults at the edges of their ranges. */
schema shop;

enum Size { S, M, L }

record Line { sku: string max 32; qty: u16; size: Size?; }

aggregate Order {
  key uuid;
  state { lines: list<Line> max 100; total: u64 = 18446744073709551615; size: Size = M; }
  errors { Empty, TooLarge }
  command Place { lines: list<Line>; note: string? max 64; } emits Placed, Noted;
  command Cancel { why: string; } emits Cancelled;
  event Placed v3 { lines: list<Line>; at: timestamp; min: i64 = -9223372036854775808; }
  event Placed v2 { lines: list<Line>; }
  event Placed v1 { skus: list<string>; }
  event Noted { text: string = "a \"quoted\"\n\t\u{1F600} note\\"; flag: bool = true; }
  event Cancelled { why: string; ratio: f64 = 0.5; blob: bytes max 4096; }
  snapshot every 100;
}

aggregate Counter {
  key u64;
  state { n: i8 = -128; m: u8 = 255; f: f32 = 1.5e3; }
  errors { Full }
  command Add { step: i16; } emits Added;
  event Added { step: i16; }
}

projection Sales { on Order.Placed, Order.Cancelled, Counter.Added; }

saga Fulfil {
  key uuid;
  state { order: uuid?; tries: u32; }
  start on Order.Placed;
  on Order.Cancelled;
  on rejected Counter.Add;
  on timeout;
  sends Counter.Add;
}
