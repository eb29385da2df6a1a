schema shop;

enum Color { Red, Green };
