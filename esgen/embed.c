/*
 * embed.c - build-time tool: turns template files into one C array of
 * string literals, so esgen carries its templates inside the binary and
 * never reads files at run time, and writes the header that names them.
 *
 *   embed OUT.c OUT.h TEMPLATE...
 *
 * A template file is one template, named after the file in capitals
 * (header_open.h: ESC_TPL_HEADER_OPEN), unless it has sections: a line
 * "@@ name" starts template ESC_TPL_<NAME>, which runs to the next such
 * line or the end of the file. Anything before a file's first section is
 * a comment for its readers and is not embedded. A line ending in '\\'
 * has no line break.
 */
#include <stdio.h>
#include <string.h>

#define MAX_TEMPLATES 256

static char names[MAX_TEMPLATES][64];
static int n_names;

/* Records template `name` (in capitals, '.' and '-' as '_'); the index. */
static int add_name(const char *z, size_t n) {
  size_t o = 0;
  if (n_names == MAX_TEMPLATES)
    return -1;
  for (size_t i = 0; i < n && o + 1 < sizeof names[0]; i++) {
    char c = z[i];
    if (c >= 'a' && c <= 'z')
      c = (char)(c - 32);
    else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      c = '_';
    names[n_names][o++] = c;
  }
  names[n_names][o] = '\0';
  for (int i = 0; i < n_names; i++)
    if (strcmp(names[i], names[n_names]) == 0) {
      fprintf(stderr, "embed: two templates named %s\n", names[i]);
      return -1;
    }
  return n_names++;
}

/* Writes one line of template text as part of a C string literal. A line
 * that ends in '\\' continues on the next without a line break (the
 * generator writes what goes between). */
static void put_line(FILE *out, const char *line, size_t n) {
  if (n >= 2 && line[n - 2] == '\\' && line[n - 1] == '\n')
    n -= 2;
  fprintf(out, "    \"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)line[i];
    if (c == '\n')
      fprintf(out, "\\n");
    else if (c == '\\' || c == '"')
      fprintf(out, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      fprintf(out, "\\%03o", c);
    else if (c == '?')
      fprintf(out, "\\?"); /* no trigraphs */
    else
      fputc(c, out);
  }
  fprintf(out, "\"\n");
}

/* The file name without its directory and extension. */
static void stem(const char *path, const char **z, size_t *n) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  const char *dot = strchr(base, '.');
  *z = base;
  *n = dot ? (size_t)(dot - base) : strlen(base);
}

static int embed_file(FILE *out, const char *path) {
  char line[4096];
  FILE *in = fopen(path, "rb");
  int open = 0, sections = 0;
  if (!in) {
    perror(path);
    return -1;
  }
  /* A file with sections is told by its first "@@ " line. */
  while (fgets(line, sizeof line, in))
    if (strncmp(line, "@@ ", 3) == 0)
      sections = 1;
  rewind(in);
  if (!sections) {
    const char *z;
    size_t n;
    stem(path, &z, &n);
    if (add_name(z, n) < 0)
      goto too_many;
    fprintf(out, "    /* %s */\n    \"\"\n", names[n_names - 1]);
    open = 1;
  }
  while (fgets(line, sizeof line, in)) {
    size_t n = strlen(line);
    if (strncmp(line, "@@ ", 3) == 0) {
      while (n > 3 && (line[n - 1] == '\n' || line[n - 1] == ' '))
        n--;
      if (open)
        fprintf(out, "    ,\n");
      if (add_name(line + 3, n - 3) < 0)
        goto too_many;
      fprintf(out, "    /* %s */\n    \"\"\n", names[n_names - 1]);
      open = 1;
      continue;
    }
    if (open)
      put_line(out, line, n);
  }
  if (open)
    fprintf(out, "    ,\n");
  fclose(in);
  return 0;
too_many:
  fprintf(stderr, "embed: %s: more than %d templates, or a name twice\n", path,
          MAX_TEMPLATES);
  fclose(in);
  return -1;
}

int main(int argc, char **argv) {
  FILE *out, *hdr;
  if (argc < 4) {
    fprintf(stderr, "usage: embed OUT.c OUT.h TEMPLATE...\n");
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
  for (int i = 3; i < argc; i++)
    if (embed_file(out, argv[i]) != 0) {
      fclose(out);
      return 1;
    }
  fprintf(out, "};\n");
  if (fclose(out) != 0) {
    perror(argv[1]);
    return 1;
  }
  hdr = fopen(argv[2], "w");
  if (!hdr) {
    perror(argv[2]);
    return 1;
  }
  fprintf(hdr, "/* Generated from templates/ by embed. */\n");
  fprintf(hdr, "#ifndef ESC_TEMPLATES_H\n#define ESC_TEMPLATES_H\n\n");
  fprintf(hdr, "enum {\n");
  for (int i = 0; i < n_names; i++)
    fprintf(hdr, "  ESC_TPL_%s,\n", names[i]);
  fprintf(hdr, "  ESC_TPL_COUNT\n};\n\n#endif\n");
  if (fclose(hdr) != 0) {
    perror(argv[2]);
    return 1;
  }
  return 0;
}
