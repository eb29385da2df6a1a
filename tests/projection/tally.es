// tally.es: the projection runner's test schema. Counter.Added has an
// older shape (v1) that an upcaster lifts; Counter.Noted is an event the
// Tally projection does not list (it must never reach a handler).
schema tally;

aggregate Counter {
  key string;
  state { total: i64; }
  command Add  { amount: i64; }   emits Added;
  command Note { text: string; }  emits Noted;
  event Added v1 { n: i32; }
  event Added v2 { amount: i64; }
  event Noted { text: string; }
}

aggregate Meter {
  key string;
  state { last: i64; }
  command Read { value: i64; } emits Reading;
  event Reading { value: i64; }
}

projection Tally {
  on Counter.Added, Meter.Reading;
}
