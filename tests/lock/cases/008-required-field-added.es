// required field added
schema shop;

enum Size { Small, Medium, Large }

record Item { sku: string max 32; qty: u32; }

aggregate Order {
  state { total: i64; items: list<Item> max 50; }
  errors { Empty }
  command Place { total: i64; items: list<Item> max 50; } emits Placed;
  command Ship  { carrier: string; }                      emits Shipped;
  event Placed  { total: i64; items: list<Item> max 50; note: string?; size: Size = Medium; }
  event Shipped { carrier: string max 64; tracking: string; }
}

saga Delivery {
  state { tries: u32; }
  start on Order.Placed;
  sends Order.Ship;
}
