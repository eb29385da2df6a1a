schema shop;

record Lock {
  key: string;
  owner: string;
}
