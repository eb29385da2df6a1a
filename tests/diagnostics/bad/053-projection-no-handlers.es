schema shop;

projection Totals { }
