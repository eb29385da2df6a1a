schema shop;

enum Level { Low, High }

aggregate Sample {
  state {
    count: i64 = "ten";
    ratio: f64 = true;
    whole: i32 = 1.5;
    flag: bool = 1;
    name: string = Low;
    level: Level = "Low";
    level2: Level = 0;
  }
}
