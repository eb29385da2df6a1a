schema shipping;

aggregate Warehouse {
  key string;
  state { picked: bool; }
  errors { OutOfStock }
  command Pick { order: string; } emits Picked;
  command Restock { order: string; } emits Restocked;
  event Picked { order: string; }
  event Restocked { order: string; }
}

aggregate Courier {
  key string;
  state { booked: bool; }
  errors { NoSlot }
  command Book { order: string; } emits Booked, Queued;
  event Booked { order: string; }
  event Queued { order: string; }
}

aggregate Mailer {
  key string;
  state { sent: u32; }
  command Notify { order: string; } emits Notified;
  event Notified { order: string; }
}

aggregate Order {
  key string;
  state { placed: bool; }
  command Place { } emits Placed;
  event Placed { }
}

// Courier.Book: nothing of Courier is heard, so the saga never learns
// whether the parcel was booked. Not reported: Warehouse.Restock, sent to
// an aggregate the saga hears from (a compensation, left alone on
// purpose), and Mailer.Notify, which is never rejected (Mailer has no
// errors).
saga Shipment {
  key string;
  state { picked: bool; }
  start on Order.Placed;
  on Warehouse.Picked by order;
  on rejected Warehouse.Pick;
  sends Warehouse.Pick, Warehouse.Restock, Courier.Book, Mailer.Notify;
}
