schema shop;

record Money { amount: i64; }

record Line {
  price: Mony;
  qty: u32;
  tags: list<Tag>;
  discount: Discount?;
}
