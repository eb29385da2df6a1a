/*
 * format.h - vsnprintf() for the conversions esgen's generators use, at a
 * fraction of its cost (a big schema formats millions of lines, and the C
 * library's general formatter was a sixth of esgen's time).
 */
#ifndef ESC_FORMAT_H
#define ESC_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* As vsnprintf(dst, room, fmt, ap): writes at most `room` bytes, the last
 * of them a NUL (nothing when `room` is 0), and returns the length of the
 * whole result, or a negative value on an error. Handles itself %%, %c,
 * %s and %.*s / %.Ns, and %d %i %u %x %X %o with an optional '0' flag,
 * width and the h, hh, l, ll, z and j lengths; anything else in `fmt` is
 * left to vsnprintf() with the same result. */
int esc_vformat(char *dst, size_t room, const char *fmt, va_list ap);

/* As snprintf(), through esc_vformat(). */
int esc_format(char *dst, size_t room, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
