schema shop;

record HttpServer { host: string; }
record HTTPServer { host: string; }
