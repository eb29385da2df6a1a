/*
 * main.c - the esgen command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <es/es.h>

#include "frontend.h"
#include "gen.h"
#include "lock_cli.h"
#include "output.h"

static const char usage[] =
    "usage: esgen [options] FILE.es\n"
    "\n"
    "Compiles an event-sourcing schema into C: FILE.es.h and FILE.es.c.\n"
    "\n"
    "options:\n"
    "  -o DIR        write FILE.es.h and FILE.es.c into DIR, creating it if\n"
    "                needed (default: .)\n"
    "  --stubs FILE  write a skeleton of every function you must write to\n"
    "                FILE (never overwrites it); only the skeleton is\n"
    "                written unless -o is given too\n"
    "  --fuzz FILE   write a libFuzzer harness of every decoder to FILE\n"
    "                (docs/testing.md); only the harness is written unless\n"
    "                -o is given too\n"
    "  --check       check the schema and report problems; write nothing\n"
    "  --graph       print a Mermaid flowchart of the schema to stdout\n"
    "  --json        print the schema's JSON description to stdout\n"
    "                (docs/schema-json.md)\n"
    "  --lock FILE   check the schema against lock FILE and refuse changes\n"
    "                that stored events could not survive; writes FILE\n"
    "                when it does not exist (docs/evolution.md)\n"
    "  --update-lock with --lock: record the schema's accepted changes in\n"
    "                the lock\n"
    "  --diff OLD    print how the schema changed since OLD (a lock or an\n"
    "                older .es file), classified; builds nothing\n"
    "  --version     print the version and exit\n"
    "  --help        print this help and exit\n"
    "\n"
    "Exit status: 0 on success, 1 on any error (nothing is written then).\n";

static int fail_usage(const char *fmt, const char *arg) {
  fprintf(stderr, "esgen: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nusage: esgen [options] FILE.es (try 'esgen --help')\n");
  return 1;
}

static const char *basename_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static int write_out(const char *path, es_buf *b, bool keep_existing) {
  int err = esc_write_file(path, b->data ? (const char *)b->data : "", b->len,
                           keep_existing);
  if (err == EEXIST && keep_existing) {
    fprintf(stderr,
            "esgen: error: '%s' already exists; esgen never overwrites your "
            "code (remove it or pick another name)\n",
            path);
    return 1;
  }
  if (err) {
    fprintf(stderr, "esgen: error: cannot write '%s': %s\n", path,
            strerror(err));
    return 1;
  }
  return 0;
}

/* Long because: it parses the command line and runs the one mode it asks
 * for, in the order the usage text lists them.
 * The esgen command (docs/generated-code.md). */
int main(int argc, char **argv) {
  const char *input = NULL, *outdir = NULL, *stubs = NULL, *lock = NULL;
  const char *diff = NULL, *fuzz = NULL;
  bool check = false, graph = false, json = false, update_lock = false;
  bool write_lock = false;
  esc_schema *s = NULL;
  es_buf h = ES_BUF_INIT, c = ES_BUF_INIT, st = ES_BUF_INIT, g = ES_BUF_INIT;
  es_buf fz = ES_BUF_INIT;
  int rc = 1, warnings = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if (strcmp(a, "--version") == 0) {
      printf("esgen %s (libes ABI %d)\n", ESGEN_VERSION, ES_ABI_VERSION);
      return 0;
    } else if (strcmp(a, "-o") == 0 || strcmp(a, "--stubs") == 0 ||
               strcmp(a, "--lock") == 0 || strcmp(a, "--diff") == 0 ||
               strcmp(a, "--fuzz") == 0) {
      if (i + 1 >= argc)
        return fail_usage("'%s' needs an argument", a);
      if (a[1] == 'o')
        outdir = argv[++i];
      else if (a[2] == 's')
        stubs = argv[++i];
      else if (a[2] == 'l')
        lock = argv[++i];
      else if (a[2] == 'f')
        fuzz = argv[++i];
      else
        diff = argv[++i];
    } else if (strcmp(a, "--update-lock") == 0) {
      update_lock = true;
    } else if (strncmp(a, "-o", 2) == 0 && a[2]) {
      outdir = a + 2;
    } else if (strcmp(a, "--check") == 0) {
      check = true;
    } else if (strcmp(a, "--graph") == 0) {
      graph = true;
    } else if (strcmp(a, "--json") == 0) {
      json = true;
    } else if (a[0] == '-' && a[1]) {
      return fail_usage("unknown option '%s'", a);
    } else if (input) {
      return fail_usage("more than one schema given ('%s')", a);
    } else {
      input = a;
    }
  }
  if (!input)
    return fail_usage("%s", "no schema file given");
  if (update_lock && !lock)
    return fail_usage("%s", "'--update-lock' needs '--lock FILE'");
  if (diff && (lock || graph || json || stubs || fuzz || outdir || check))
    return fail_usage("%s", "'--diff' only compares; give it no other "
                            "option");
  if (graph && json)
    return fail_usage("%s", "'--graph' and '--json' both print to stdout; "
                            "give one of them");

  /* Large schemas make large outputs; the cap only guards against bugs. */
  es_buf_init(&h, (size_t)1 << 30);
  es_buf_init(&c, (size_t)1 << 30);
  es_buf_init(&st, (size_t)1 << 30);
  es_buf_init(&g, (size_t)1 << 30);
  es_buf_init(&fz, (size_t)1 << 30);

  if (esc_compile_file(input, stderr, &s, &warnings) != 0)
    goto done;
  if (diff) {
    rc = esc_lock_diff(diff, s);
    goto done;
  }
  /* A lock is written only where outputs are: never by --check. */
  if (lock && esc_lock_check(s, lock, update_lock, !check, &write_lock) != 0)
    goto done;
  if (check) {
    rc = 0;
    goto done;
  }

  const char *base = basename_of(input);
  if (graph || json) {
    if ((graph ? esc_gen_graph(s, &g) : esc_gen_json(s, &g)) != 0)
      goto oom;
    fwrite(g.data, 1, g.len, stdout);
    if (fflush(stdout) != 0) {
      fprintf(stderr, "esgen: error: cannot write to stdout: %s\n",
              strerror(errno));
      goto done;
    }
  }
  if (stubs) {
    if (esc_gen_stubs(s, base, basename_of(stubs), &st) != 0)
      goto oom;
    if (write_out(stubs, &st, true) != 0)
      goto done;
  }
  if (fuzz) {
    if (esc_gen_fuzz(s, base, basename_of(fuzz), &fz) != 0)
      goto oom;
    if (write_out(fuzz, &fz, false) != 0)
      goto done;
  }

  /* The header and source: asked for by -o, or when nothing else is. */
  if (outdir || (!graph && !json && !stubs && !fuzz)) {
    /* Both are complete in memory before either file is touched. */
    if (esc_gen_header(s, base, &h) != 0 || esc_gen_source(s, base, &c) != 0)
      goto oom;
    char path[4096];
    const char *dir = outdir ? outdir : ".";
    int err = outdir ? esc_make_dirs(outdir) : 0;
    if (err) {
      fprintf(stderr, "esgen: error: cannot create directory '%s': %s\n",
              outdir, strerror(err));
      goto done;
    }
    if (snprintf(path, sizeof path, "%s/%s.h", dir, base) >= (int)sizeof path)
      goto toolong;
    if (write_out(path, &h, false) != 0)
      goto done;
    if (snprintf(path, sizeof path, "%s/%s.c", dir, base) >= (int)sizeof path)
      goto toolong;
    if (write_out(path, &c, false) != 0)
      goto done;
  }
  rc = write_lock ? esc_lock_write_file(s, lock) : 0;
  goto done;

toolong:
  fprintf(stderr, "esgen: error: output path is too long\n");
  goto done;
oom:
  fprintf(stderr, "esgen: error: out of memory while generating code\n");
done:
  es_buf_close(&h);
  es_buf_close(&c);
  es_buf_close(&st);
  es_buf_close(&g);
  es_buf_close(&fz);
  esc_schema_free(s);
  return rc;
}
