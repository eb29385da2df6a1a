schema tree;

record A { b: B; }
record B { name: string; c: C; }
record C { a: A; }

// Behind ? or list<> a cycle is fine:
record D { e: E; }
record E { d: D?; ds: list<D>; }
