/*
 * embed.c - build-time tool: turns template files into one C array of
 * string literals, in the order given, so esgen carries its templates
 * inside the binary and never reads files at run time.
 *
 *   embed OUT.c TEMPLATE...
 */
#include <stdio.h>

int main(int argc, char **argv) {
  FILE *out;
  if (argc < 3) {
    fprintf(stderr, "usage: embed OUT.c TEMPLATE...\n");
    return 2;
  }
  out = fopen(argv[1], "w");
  if (!out) {
    perror(argv[1]);
    return 1;
  }
  fprintf(out, "/* Generated from templates/ by embed. */\n");
  fprintf(out, "#include \"template.h\"\n\n");
  fprintf(out, "const char *const esc_templates[ESC_TPL_COUNT] = {\n");
  for (int i = 2; i < argc; i++) {
    FILE *in = fopen(argv[i], "rb");
    int c, col = 0;
    if (!in) {
      perror(argv[i]);
      fclose(out);
      return 1;
    }
    fprintf(out, "    \"");
    while ((c = fgetc(in)) != EOF) {
      if (c == '\n') {
        fprintf(out, "\\n\"\n    \"");
        col = 0;
        continue;
      }
      if (c == '\\' || c == '"')
        fprintf(out, "\\%c", c);
      else if (c < 0x20 || c >= 0x7f)
        fprintf(out, "\\%03o", c);
      else if (c == '?')
        fprintf(out, "\\?"); /* no trigraphs */
      else
        fputc(c, out);
      col++;
    }
    fprintf(out, "\",\n");
    fclose(in);
  }
  fprintf(out, "};\n");
  if (fclose(out) != 0) {
    perror(argv[1]);
    return 1;
  }
  return 0;
}
