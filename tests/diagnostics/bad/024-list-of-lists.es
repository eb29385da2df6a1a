schema shop;

record Matrix {
  rows: list<list<f64>>;
  maybe: list<i64?>;
}
