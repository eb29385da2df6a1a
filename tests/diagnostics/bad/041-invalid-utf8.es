schema shop;

aggregate Sample {
  state {
    ok: string = "dÃ­a";
    latin1: string = "día";
    overlong: string = "À¯";
    surrogate: string = "í €";
    past_max: string = "ô€€";
    truncated: string = "â‚";
  }
}
