schema shop;

record Sample {
  ok: string max 4294967295;
  name: string max 4294967296;
}
