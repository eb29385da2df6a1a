schema shop;

aggregate Sample {
  state {
    a: i8 = 128;
    b: i8 = -129;
    c: i16 = 32768;
    d: u16 = 65536;
    e: i32 = -2147483649;
    f: u32 = 4294967296;
    g: u8 = 0x100;
  }
}
