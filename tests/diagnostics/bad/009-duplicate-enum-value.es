schema shop;

enum Color { Red, Green, Blue, Green }
