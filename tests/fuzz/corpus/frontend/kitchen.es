// kitchen.es: every construct of the schema language in one file, for the
// codec tests. Each built-in type appears plain, optional and as a list
// element; records nest by value, behind `?` and inside lists, and one
// record contains itself; every kind of default literal appears; one event
// has three versions.
schema kitchen;

/* Enums: values are numbered 0.. in order. */
enum Color { Red, Green, Blue }
enum Heat { Low, Medium, High, Broil }

record Point {
  x: i32;
  y: i32;
}

/* Nested records: by value, in a bounded list, and optional. */
record Shape {
  name: string max 8;
  color: Color;
  origin: Point;
  corners: list<Point> max 3;
  label: Point?;
}

/* A record may contain itself behind list<> or ?. */
record Node {
  value: i32;
  children: list<Node>;
  next: Node?;
}

record Scalars {
  f_bool: bool;
  f_i8: i8;
  f_i16: i16;
  f_i32: i32;
  f_i64: i64;
  f_u8: u8;
  f_u16: u16;
  f_u32: u32;
  f_u64: u64;
  f_f32: f32;
  f_f64: f64;
  f_string: string;
  f_bytes: bytes;
  f_ts: timestamp;
  f_uuid: uuid;
}

record Optionals {
  o_bool: bool?;
  o_i8: i8?;
  o_i16: i16?;
  o_i32: i32?;
  o_i64: i64?;
  o_u8: u8?;
  o_u16: u16?;
  o_u32: u32?;
  o_u64: u64?;
  o_f32: f32?;
  o_f64: f64?;
  o_string: string?;
  o_bytes: bytes?;
  o_ts: timestamp?;
  o_uuid: uuid?;
  o_enum: Color?;
  o_record: Point?;
  o_list: list<i32>?;
  o_short: string? max 8;
}

record Lists {
  l_bool: list<bool>;
  l_i8: list<i8>;
  l_i16: list<i16>;
  l_i32: list<i32>;
  l_i64: list<i64>;
  l_u8: list<u8>;
  l_u16: list<u16>;
  l_u32: list<u32>;
  l_u64: list<u64>;
  l_f32: list<f32>;
  l_f64: list<f64>;
  l_string: list<string>;
  l_bytes: list<bytes>;
  l_ts: list<timestamp>;
  l_uuid: list<uuid>;
  l_enum: list<Color>;
  l_record: list<Point>;
}

record Bounded {
  name: string max 8;
  blob: bytes max 4;
  items: list<i32> max 3;
  tags: list<string max 8> max 3;
  maybe: bytes? max 4;
}

aggregate Oven {
  key uuid;

  state {
    name: string = "caf\u{e9} \u{1F373}";
    heat: Heat = Medium;
    lit: bool = true;
    bakes: u64 = 0;
    budget: u64 = 18446744073709551615;
    low: i64 = -9223372036854775808;
    ratio: f32 = 0.5;
    temp_c: f64 = -40.0;
    dishes: list<string> max 3;
    shapes: list<Shape> max 3;
    last: Shape?;
    burnt: string?;
  }

  errors { TooHot, NotLit, AlreadyClean }

  command Bake { dish: string max 8; temp_f: i32; minutes: u16; at: timestamp; }
    emits Baked, Burnt;
  command Clean { batch: uuid?; } emits Cleaned;
  command Configure {
    scalars: Scalars;
    optionals: Optionals;
    lists: Lists;
    bounded: Bounded;
    shape: Shape;
    tree: Node?;
    required: i32;
  } emits Configured, Defaults;

  // Three shapes of one event; reducers only ever see v3.
  event Baked v1 { dish: string; temp_f: i32; }
  event Baked v2 { dish: string; temp_c: f64; }
  event Baked v3 { dishes: list<string> max 3; temp_c: f64; minutes: u16 = 30; }

  event Burnt { dish: string; at: timestamp; }
  event Cleaned { batch: uuid?; at: timestamp = 0; }
  event Configured {
    scalars: Scalars;
    optionals: Optionals;
    lists: Lists;
    bounded: Bounded;
    shape: Shape;
    tree: Node?;
  }
  // A required field, then a default of every literal kind.
  event Defaults {
    required: i32;
    d_bool: bool = true;
    d_false: bool = false;
    d_i8: i8 = -128;
    d_i16: i16 = 32767;
    d_i32: i32 = -2147483648;
    d_i64: i64 = -9223372036854775808;
    d_u8: u8 = 255;
    d_u16: u16 = 65535;
    d_u32: u32 = 0xdeadbeef;
    d_u64: u64 = 18446744073709551615;
    d_f32: f32 = 1.5;
    d_f32_int: f32 = 2;
    d_f64: f64 = -0.125;
    d_f64_exp: f64 = 6.02e23;
    d_string: string = "caf\u{e9} \"q\" \\ \n\t\u{1F373}";
    d_empty: string = "";
    d_comment: string = "/* not a comment */";
    d_short: string max 8 = "ok";
    d_ts: timestamp = 1700000000000000;
    d_uuid: uuid = "123e4567-e89b-12d3-a456-426614174000";
    d_enum: Heat = Broil;
  }

  snapshot every 100;
}

aggregate Pantry {
  key u64;
  state { stock: list<string> max 3; }
  errors { Full }
  command Stock { item: string max 8; oven: uuid?; } emits Stocked;
  event Stocked { item: string max 8; oven: uuid?; }
}

projection Menu {
  on Oven.Baked, Oven.Burnt;
  on Pantry.Stocked;
}

saga Service {
  key uuid;
  state { burnt: u32; oven: uuid?; cleaning: bool; }

  start on Oven.Burnt;              // the key is the oven's own
  on Oven.Cleaned by batch;         // an optional uuid carries the key
  on Pantry.Stocked by oven;
  on rejected Oven.Clean;
  on timeout;
  sends Oven.Clean, Pantry.Stock;
}
