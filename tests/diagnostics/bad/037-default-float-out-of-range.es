schema shop;

aggregate Sample {
  state {
    ok: f32 = 3.4e38;
    big: f32 = 3.5e38;
    huge: f64 = 1e309;
    tiny: f64 = -1e309;
  }
}
