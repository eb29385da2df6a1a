schema shop;

enum Level { Low, Mid, High }

aggregate Sample {
  state {
    level: Level = Medium;
    other: Level = low;
  }
}
