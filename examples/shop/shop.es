// shop.es: an order's checkout across four aggregates. Placing an order
// starts the Checkout saga, which reserves the stock, charges the payment
// and ships the parcel, then confirms the order; when a step is rejected
// (or nothing happens for too long) it undoes what was done: the stock is
// released, the payment refunded, the order cancelled.
//
// Fat events: Order.Placed carries everything the saga needs (sku,
// quantity, amount, payment token, address), so the saga never has to ask
// a read model, which may lag behind.
schema shop;

enum OrderStatus { New, Placed, Confirmed, Cancelled }

// Where a Checkout instance is; `Cancelled` means "given up after a
// timeout, still compensating late confirmations".
enum CheckoutStage { Reserving, Charging, Shipping, Done, Cancelled }

record Address {
  name: string max 64;
  street: string max 128;
  city: string max 64;
  country: string max 2;          // ISO 3166 alpha-2
}

aggregate Order {
  key string;                     // the order id
  state {
    status: OrderStatus;
    customer: string;
    sku: string;
    qty: u32;
    amount: i64;                  // cents
    tracking: string;
    reason: string;
  }
  errors { AlreadyPlaced, NotPending, InvalidOrder }

  command Place   { customer: string; sku: string; qty: u32; amount: i64;
                    payment: string; address: Address; }  emits Placed;
  command Confirm { tracking: string; }                    emits Confirmed;
  command Cancel  { reason: string; }                      emits Cancelled;

  event Placed    { customer: string; sku: string; qty: u32; amount: i64;
                    payment: string; address: Address; }
  event Confirmed { tracking: string; }
  event Cancelled { reason: string; }
}

aggregate Inventory {
  key string;                     // the sku
  state {
    available: i64;               // units that can be reserved
    reserved: i64;                // units held by orders (shipped ones too)
  }
  errors { OutOfStock, NotReserved, InvalidQuantity }

  command Stock   { qty: u32; }                 emits Stocked;
  command Reserve { order: string; qty: u32; }  emits Reserved;
  command Release { order: string; qty: u32; }  emits Released;

  event Stocked  { qty: u32; }
  event Reserved { order: string; qty: u32; }
  event Released { order: string; qty: u32; }
}

aggregate Payment {
  key string;                     // the order id: one payment per order
  state { charged: i64; refunded: i64; }
  errors { Declined, AlreadyCharged, NotCharged, InvalidAmount }

  command Charge { customer: string; amount: i64; payment: string; }
                                                    emits Charged;
  command Refund { amount: i64; reason: string; }   emits Refunded;

  event Charged  { customer: string; amount: i64; }
  event Refunded { amount: i64; reason: string; }
}

aggregate Shipping {
  key string;                     // the order id: one parcel per order
  state { shipped: bool; tracking: string; }
  errors { Undeliverable, AlreadyShipped }

  command Ship { order: string; sku: string; qty: u32; address: Address; }
                                                    emits Shipped;

  event Shipped { tracking: string; country: string max 2; }
}

projection OrderHistory {
  on Order.Placed, Order.Confirmed, Order.Cancelled;
  on Inventory.Reserved, Inventory.Released;
  on Payment.Charged, Payment.Refunded;
  on Shipping.Shipped;
}

saga Checkout {
  key string;                     // the order id
  state {
    stage: CheckoutStage;
    order: string;                // the key (rejection and timeout handlers
                                  // get no event to take it from)
    sku: string;
    qty: u32;
    customer: string;
    amount: i64;
    payment: string;
    address: Address;
    reserved: bool;               // Inventory.Reserved heard
    charged: bool;                // Payment.Charged heard
  }

  start on Order.Placed;                  // the Order's key is the order id
  on Inventory.Reserved by order;         // Inventory is keyed by sku
  on Payment.Charged;                     // Payment and Shipping by order id
  on Shipping.Shipped;
  on rejected Inventory.Reserve;          // out of stock: cancel the order
  on rejected Payment.Charge;             // declined: release, cancel
  on rejected Shipping.Ship;              // undeliverable: refund, release,
                                          // cancel
  on timeout;                             // stuck: undo what was done, cancel
  sends Inventory.Reserve, Inventory.Release, Payment.Charge, Payment.Refund,
        Shipping.Ship, Order.Confirm, Order.Cancel;
}
