schema shop;

enum Nothing { }
