// Event versions, optional records, snapshots, and sagas keyed three ways.
schema shop;

record Address { street: string; city: string; }

aggregate Order {
  key uuid;
  state { total: i64; ship_to: Address?; placed: bool; }
  errors { AlreadyPlaced, Empty }

  command Place  { total: i64; ship_to: Address?; customer: u64; } emits Placed;
  command Cancel { reason: string; }                               emits Cancelled;

  // The current shape is the highest version; v1 and v2 stay readable.
  event Placed v3 { total: i64; ship_to: Address?; customer: u64; note: string = ""; }
  event Placed v1 { total: i32; }
  event Placed v2 { total: i64; customer: u64; }
  event Cancelled { reason: string; }

  snapshot every 100;
}

aggregate Customer {
  key u64;
  state { orders: u32; }
  errors { Closed }
  command Count { order: uuid; } emits Counted;
  event Counted { order: uuid; }
}

projection Sales {
  on Order.Placed, Order.Cancelled;
  on Customer.Counted;
}

// Keyed like Order: no 'by' needed.
saga Fulfilment {
  key uuid;
  state { customer: u64; done: bool; }
  start on Order.Placed;
  on Order.Cancelled;
  on rejected Customer.Count;
  on timeout;
  sends Customer.Count;
}

// Keyed by customer number: 'by' names the field that carries it.
saga Loyalty {
  key u64;
  state { points: i64; }
  start on Order.Placed by customer;
  sends Order.Cancel;
}

// Keyed by a string field of the event.
saga Audit {
  key string;
  start on Order.Cancelled by reason;
}
