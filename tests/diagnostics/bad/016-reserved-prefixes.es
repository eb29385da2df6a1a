schema shop;

record Sample {
  _hidden: i64;
  es_seq: u64;
}
enum es_kind { A }
