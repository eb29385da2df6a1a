schema shop;

record struct { a: i64; }
record Point {
  int: i32;
  double: f64;
}
enum Kind { Small, char }
