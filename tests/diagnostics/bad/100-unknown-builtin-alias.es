schema shop;

// Names other languages give the built-in types.
record Item {
  name: str;
  count: int;
  price: double;
  added: datetime;
  id: guid;
  ok: boolean;
}
