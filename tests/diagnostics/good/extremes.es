// Every integer type at both ends of its range, floats, strings with every
// escape, uuids, enums and timestamps as defaults.
schema extremes;

enum Level { Low, Mid, High }

aggregate Limits {
  key u64;

  state {
    i8_min: i8 = -128;
    i8_max: i8 = 127;
    i16_min: i16 = -32768;
    i16_max: i16 = 32767;
    i32_min: i32 = -2147483648;
    i32_max: i32 = 2147483647;
    i64_min: i64 = -9223372036854775808;
    i64_max: i64 = 9223372036854775807;
    u8_max: u8 = 255;
    u16_max: u16 = 65535;
    u32_max: u32 = 4294967295;
    u64_max: u64 = 18446744073709551615;
    u64_hex: u64 = 0xFFFFFFFFFFFFFFFF;
    u_zero: u64 = 0;
    neg_zero: u8 = -0;
    at: timestamp = -9223372036854775808;
    f32_big: f32 = 3.4028234e38;
    f32_neg: f32 = -1.5e-10;
    f64_big: f64 = 1.7976931348623157e308;
    f64_int: f64 = -3;
    yes: bool = true;
    no: bool = false;
    level: Level = High;
    id: uuid = "123e4567-e89b-12d3-a456-426614174000";
  }

  command Touch { } emits Touched;
  event Touched { }
}

aggregate Texts {
  key uuid;

  state {
    plain: string = "plain";
    empty: string = "";
    escapes: string = "tab\there, newline\n, quote \" and backslash \\";
    euro: string = "\u{20AC} and \u{20ac}";
    emoji: string = "\u{1F600}";
    one_digit: string = "\u{41}";
    six_digits: string = "\u{01F600} \u{10FFFF}";
    raw_utf8: string = "día, 日本, 😀";
    bounded: string max 3 = "abc";
    bounded_utf8: string max 2 = "é";
    comment_like: string = "/* not a comment */ // nor this";
  }

  command Write { text: string max 64; } emits Written;
  event Written { text: string; }
}
