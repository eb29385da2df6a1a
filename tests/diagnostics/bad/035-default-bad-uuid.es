schema shop;

aggregate Sample {
  state {
    good: uuid = "123e4567-e89b-12d3-a456-426614174000";
    too_short: uuid = "123e4567";
    no_dashes: uuid = "123e4567e89b12d3a456426614174000abcd";
    number: uuid = 0;
  }
}
