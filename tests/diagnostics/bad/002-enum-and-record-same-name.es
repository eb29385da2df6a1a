schema shop;

enum Currency { EUR, USD }
record Currency { code: string; }
