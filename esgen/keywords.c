/*
 * keywords.c - lookups in the keyword and built-in type tables.
 */
#include "keywords.h"

#include <string.h>

#include "parse.h"

static const struct {
  const char *text;
  size_t len;
  int token;
} keywords[] = {
#define ESC_KEYWORD_ENTRY(tk, text) {text, sizeof text - 1, TK_##tk},
    ESC_KEYWORDS(ESC_KEYWORD_ENTRY)
#undef ESC_KEYWORD_ENTRY
};

#define N_KEYWORDS (sizeof keywords / sizeof keywords[0])

/* The parser numbers the keywords first and together (parse.y). */
_Static_assert(TK_SCHEMA == 1 && TK_FALSE == (int)N_KEYWORDS,
               "parse.y's keyword tokens differ from ESC_KEYWORDS");

int esc_keyword_token(const char *z, size_t n) {
  /* Called for every name in a schema: length and first letter rule out
   * almost every keyword before a comparison. */
  if (n < 2 || n > 10)
    return 0;
  for (size_t i = 0; i < N_KEYWORDS; i++)
    if (keywords[i].len == n && keywords[i].text[0] == z[0] &&
        memcmp(keywords[i].text, z, n) == 0)
      return keywords[i].token;
  return 0;
}

bool esc_is_keyword_token(int token) {
  return token >= TK_SCHEMA && token <= TK_FALSE;
}

const char *esc_keyword_text(int token) {
  for (size_t i = 0; i < N_KEYWORDS; i++)
    if (keywords[i].token == token)
      return keywords[i].text;
  return NULL;
}

static const char *const builtins[] = {
#define ESC_BUILTIN_NAME(kind, text) text,
    ESC_BUILTINS(ESC_BUILTIN_NAME)
#undef ESC_BUILTIN_NAME
};

_Static_assert(sizeof builtins / sizeof builtins[0] == ESC_T_UUID + 1,
               "ESC_BUILTINS differs from the ESC_T_* kinds");

int esc_builtin_kind(esc_tok name) {
  for (int k = 0; k <= ESC_T_UUID; k++)
    if (strlen(builtins[k]) == name.n &&
        memcmp(builtins[k], name.z, name.n) == 0)
      return k;
  return -1;
}

const char *esc_kind_name(int kind) {
  if (kind >= 0 && kind <= ESC_T_UUID)
    return builtins[kind];
  return kind == ESC_T_ENUM     ? "enum"
         : kind == ESC_T_RECORD ? "record"
         : kind == ESC_T_LIST   ? "list"
                                : "?";
}
