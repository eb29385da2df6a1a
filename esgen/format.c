/*
 * format.c - a small vsnprintf() (see format.h).
 */
#include "format.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Where the result goes: `room` bytes at `dst`, `n` the length so far
 * (which keeps counting past `room`). */
typedef struct sink {
  char *dst;
  size_t room;
  size_t n;
} sink;

static void put(sink *k, const char *s, size_t len) {
  if (k->n < k->room) {
    size_t fit = k->room - k->n;
    memcpy(k->dst + k->n, s, len < fit ? len : fit);
  }
  k->n += len;
}

static void pad(sink *k, char c, size_t count) {
  while (count--)
    put(k, &c, 1);
}

/* One conversion's flags, width, precision and length as parsed. */
typedef struct spec {
  int zero;      /* '0' flag */
  size_t width;  /* 0: none */
  int precision; /* -1: none */
  int length;    /* 'H' hh, 'h', 0, 'l', 'L' ll, 'z', 'j' */
  char conv;
} spec;

/* Parses the conversion after a '%' at `*p`, advancing past it; returns
 * 0, or -1 for one this file does not handle. */
static int parse_spec(const char **p, spec *sp, va_list *ap) {
  const char *f = *p;
  memset(sp, 0, sizeof *sp);
  sp->precision = -1;
  if (*f == '0') {
    sp->zero = 1;
    f++;
  }
  while (*f >= '0' && *f <= '9')
    sp->width = sp->width * 10 + (size_t)(*f++ - '0');
  if (*f == '.') {
    f++;
    if (*f == '*') {
      sp->precision = va_arg(*ap, int);
      f++;
    } else {
      sp->precision = 0;
      while (*f >= '0' && *f <= '9')
        sp->precision = sp->precision * 10 + (*f++ - '0');
    }
  }
  if (*f == 'h') {
    sp->length = f[1] == 'h' ? 'H' : 'h';
    f += f[1] == 'h' ? 2 : 1;
  } else if (*f == 'l') {
    sp->length = f[1] == 'l' ? 'L' : 'l';
    f += f[1] == 'l' ? 2 : 1;
  } else if (*f == 'z' || *f == 'j') {
    sp->length = *f++;
  }
  switch (sp->conv = *f) {
  case 'c':
  case 's':
  case 'd':
  case 'i':
  case 'u':
  case 'x':
  case 'X':
  case 'o':
  case '%':
    break;
  default:
    return -1;
  }
  /* A precision on an integer, or flags and lengths where they mean
   * something this file does not implement: the C library's job. */
  if (sp->conv != 's' && sp->precision >= 0)
    return -1;
  if ((sp->conv == 's' || sp->conv == 'c' || sp->conv == '%') &&
      (sp->zero || sp->length))
    return -1;
  *p = f + 1;
  return 0;
}

/* The next integer argument, as its length says, widened. */
static uintmax_t int_arg(const spec *sp, va_list *ap, int *negative) {
  intmax_t v;
  *negative = 0;
  if (sp->conv != 'd' && sp->conv != 'i') {
    switch (sp->length) {
    case 'H':
      return (unsigned char)va_arg(*ap, unsigned);
    case 'h':
      return (unsigned short)va_arg(*ap, unsigned);
    case 'l':
      return va_arg(*ap, unsigned long);
    case 'L':
      return va_arg(*ap, unsigned long long);
    case 'z':
      return va_arg(*ap, size_t);
    case 'j':
      return va_arg(*ap, uintmax_t);
    default:
      return va_arg(*ap, unsigned);
    }
  }
  switch (sp->length) {
  case 'H':
    v = (signed char)va_arg(*ap, int);
    break;
  case 'h':
    v = (short)va_arg(*ap, int);
    break;
  case 'l':
    v = va_arg(*ap, long);
    break;
  case 'L':
    v = va_arg(*ap, long long);
    break;
  case 'z': /* the signed type of size_t's width */
    v = (intmax_t)va_arg(*ap, ptrdiff_t);
    break;
  case 'j':
    v = va_arg(*ap, intmax_t);
    break;
  default:
    v = va_arg(*ap, int);
  }
  if (v < 0) {
    *negative = 1;
    /* -(v + 1) + 1 does not overflow for INTMAX_MIN */
    return (uintmax_t)(-(v + 1)) + 1;
  }
  return (uintmax_t)v;
}

static void put_int(sink *k, const spec *sp, va_list *ap) {
  char digits[3 * sizeof(uintmax_t) + 1];
  const char *set = sp->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  unsigned base = sp->conv == 'o'                      ? 8
                  : sp->conv == 'x' || sp->conv == 'X' ? 16
                                                       : 10;
  int negative;
  uintmax_t u = int_arg(sp, ap, &negative);
  size_t n = 0, len;
  do {
    digits[sizeof digits - ++n] = set[u % base];
    u /= base;
  } while (u);
  len = n + (size_t)negative;
  if (!sp->zero && sp->width > len)
    pad(k, ' ', sp->width - len);
  if (negative)
    put(k, "-", 1);
  if (sp->zero && sp->width > len)
    pad(k, '0', sp->width - len);
  put(k, digits + sizeof digits - n, n);
}

static void put_string(sink *k, const spec *sp, va_list *ap) {
  const char *s = va_arg(*ap, const char *);
  size_t len;
  if (!s)
    s = "(null)"; /* what glibc prints; never meant to happen */
  if (sp->precision >= 0) {
    const char *nul = memchr(s, '\0', (size_t)sp->precision);
    len = nul ? (size_t)(nul - s) : (size_t)sp->precision;
  } else {
    len = strlen(s);
  }
  if (sp->width > len)
    pad(k, ' ', sp->width - len);
  put(k, s, len);
}

/* Writes `fmt` with its arguments to `k`; -1 at the first conversion this
 * file does not handle (what it wrote so far is then of no use). */
static int format(sink *k, const char *fmt, va_list *ap) {
  const char *p = fmt;
  spec sp;
  for (;;) {
    const char *pct = strchr(p, '%');
    if (!pct) {
      put(k, p, strlen(p));
      return 0;
    }
    put(k, p, (size_t)(pct - p));
    p = pct + 1;
    if (parse_spec(&p, &sp, ap) != 0)
      return -1;
    if (sp.conv == '%') {
      put(k, "%", 1);
    } else if (sp.conv == 'c') {
      char c = (char)va_arg(*ap, int);
      if (sp.width > 1)
        pad(k, ' ', sp.width - 1);
      put(k, &c, 1);
    } else if (sp.conv == 's') {
      put_string(k, &sp, ap);
    } else {
      put_int(k, &sp, ap);
    }
  }
}

int esc_vformat(char *dst, size_t room, const char *fmt, va_list ap) {
  sink k = {dst, room, 0};
  va_list mine;
  int rc;
  va_copy(mine, ap);
  rc = format(&k, fmt, &mine);
  va_end(mine);
  if (rc != 0)
    return vsnprintf(dst, room, fmt, ap);
  if (k.n > INT_MAX)
    return -1;
  if (room)
    dst[k.n < room ? k.n : room - 1] = '\0';
  return (int)k.n;
}

int esc_format(char *dst, size_t room, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = esc_vformat(dst, room, fmt, ap);
  va_end(ap);
  return n;
}
