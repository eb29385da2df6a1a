schema shop;

aggregate Sample {
  state {
    nickname: string? = "none";
    count: i32? = 0;
  }
}
