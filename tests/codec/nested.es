// nested.es: lists of lists, for the codec tests. Each level of a nested
// list may have its own bound: `list<list<i32> max 3> max 4` holds at
// most 4 lists of at most 3 numbers each.
schema nested;

enum Suit { Hearts, Spades }

record Cell {
  row: u16;
  label: string max 8;
}

record Grids {
  numbers: list<list<i32>>;
  bounded: list<list<i32> max 3> max 4;
  words: list<list<string max 5> max 3> max 2;
  cells: list<list<Cell> max 3>;
  cubes: list<list<list<i64> max 2> max 2> max 2;
  suits: list<list<Suit>>;
  maybe: list<list<u8>>?;
}

aggregate Board {
  key u64;
  state {
    grids: Grids?;
    history: list<list<string>> max 8;
  }
  command Draw { grids: Grids; } emits Drawn;
  event Drawn { grids: Grids; rows: list<list<Cell>>; }
}
