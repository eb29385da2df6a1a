schema shop;

record Matrix {
  rows: list<list<f64>>;
  maybe: list<i64?>;
  ragged: list<list<i64>?>;
}

// its list type would be the C type of list<list<f64>>
record F64List { x: f64; }
