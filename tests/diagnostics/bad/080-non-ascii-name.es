schema shop;

record Año { días: i32; }
