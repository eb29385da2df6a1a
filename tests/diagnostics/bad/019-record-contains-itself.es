schema tree;

record Node {
  label: string;
  next: Node;
}
