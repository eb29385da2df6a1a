// Records may refer to themselves, and to each other, behind list<> or ?.
schema tree;

record Node {
  label: string;
  children: list<Node> max 1000;
  parent_hint: Node?;
}

record Expr {
  op: string;
  left: Term?;
  right: Term?;
}

record Term {
  value: i64;
  nested: Expr?;
  terms: list<Term>;
}

// Contains Expr by value, which is fine: Expr reaches Term only behind '?'.
record Statement {
  expr: Expr;
  bytes_max: bytes max 4096;
  tags: list<string max 16> max 8;
}

aggregate Document {
  state {
    root: Node?;
    body: list<Statement>;
  }

  command Replace { root: Node; } emits Replaced;
  event Replaced { root: Node; }
}
