// Every line here is wrong in its own way.
schema bad;
enum E { A, A }
record R { self: R; x: Mony; }
record int { y: i32; }
aggregate Acc {
  key float;
  state { s: string = 12; u: u8 = 256; i: i64 = -9223372036854775809; }
  errors { Oops, Oops }
  command Go { } emits Nothing;
  command Go { } emits Went;
  command Same { } emits Same;
  event Same { }
  event Went { }
  event Lost { }
}
aggregate NoState { command C { } emits D; event D { } }
projection P { on Acc.Missing, Nope.Went; }
saga S { key string; start on Acc.Went by nowhere; on rejected Acc.Go; sends Acc.Gone; }
