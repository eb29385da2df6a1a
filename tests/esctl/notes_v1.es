// notes, version 1 of the schema: esctl's test of a store written by two
// versions of one schema (notes_v2.es is the next one).
schema notes;

aggregate Note {
  key string;
  state { count: u32; last: string; }
  command Add { text: string; } emits Added;
  event Added { text: string; }
}
