schema m;
aggregate A {
  state { n: u32; }
  command Do { } emits Done;
  event Done { }
}
