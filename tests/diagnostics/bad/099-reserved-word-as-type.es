schema shop;

record Sample {
  when: state;
}
