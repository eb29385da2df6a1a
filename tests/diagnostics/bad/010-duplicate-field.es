schema shop;

record Address {
  street: string;
  city: string;
  street: string?;
}
