// a bound inside a list of lists lowered
schema atlas;

enum Unit { Metre, Foot }

record Point { x: f64; y: f64; }

record Segment {
  from: Point;
  to: Point;
  label: string? max 32;
}

record Route {
  legs: list<Segment> max 64;
  detour: Route?;
  unit: Unit;
}

aggregate Map {
  key string;
  state { routes: u32; last: Route?; }
  command Draw { grid: list<list<i32>>; route: Route; } emits Drawn;
  event Drawn {
    grid: list<list<i32> max 16> max 16;
    names: list<list<string max 4>>;
    route: Route;
    shortcut: Route?;
    tags: list<string>?;
    memo: string = "";
  }
}
