/*
 * es_error.h - the one error enum of libes.
 *
 * Every libes function that can fail returns an int: 0 on success or one of
 * the negative ES_E* codes below. The codes live in their own range
 * (-30999 .. -30900) so they never collide with errno values.
 */
#ifndef ES_ERROR_H
#define ES_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, value, message): the single source of codes, names and texts. */
#define ES_ERRNO_MAP(XX)                                                       \
  XX(EINVAL, -30900, "invalid argument")                                       \
  XX(ENOMEM, -30901, "out of memory")                                          \
  XX(ETOOBIG, -30902, "value exceeds its size limit")                          \
  XX(EDECODE, -30903, "malformed msgpack input")                               \
  XX(ETRUNC, -30904, "input ends before the value does")                       \
  XX(ETYPE, -30905, "msgpack value has the wrong type")                        \
  XX(ERANGE, -30906, "number out of range for its field")                      \
  XX(EDEPTH, -30907, "value nested too deeply")                                \
  XX(ETRAILING, -30908, "bytes left after the value")                          \
  XX(EBOUND, -30909, "value exceeds the schema's max bound")                   \
  XX(EENUM, -30910, "unknown enum value")                                      \
  XX(EMISSING, -30911, "required field is missing")                            \
  XX(EVERSION, -30912, "unknown or unsupported type version")                  \
  XX(EUNKNOWN, -30913, "unknown type")                                         \
  XX(ENOTEMITTED, -30914, "event is not in the command's emits list")          \
  XX(ENOTSENT, -30915, "command is not in the saga's sends list")              \
  XX(EREJECTED, -30916, "command rejected by the domain")                      \
  XX(EUPCAST, -30917, "upcaster failed")                                       \
  XX(ECONFLICT, -30918, "stream is not at the expected version")               \
  XX(ETIMEDOUT, -30919, "timed out")                                           \
  XX(ENOTFOUND, -30920, "no such item")                                        \
  XX(EINTERRUPTED, -30921, "wait interrupted")                                 \
  XX(ELOCKED, -30922, "store is locked by another process")                    \
  XX(ECORRUPT, -30923, "store data is corrupt")                                \
  XX(EIO, -30924, "store I/O error")                                           \
  XX(EREADONLY, -30925, "store is open read-only")                             \
  XX(ESCHEMA, -30926, "store holds events this schema cannot read")

typedef enum es_errno {
#define ES__ERR_ENUM(name, value, msg) ES_##name = value,
  ES_ERRNO_MAP(ES__ERR_ENUM)
#undef ES__ERR_ENUM
      ES_OK = 0
} es_errno;

/* The message for code `rc` ("success" for 0, "unknown error" otherwise). */
const char *es_strerror(int rc);

/* The symbolic name of `rc` ("ES_EDECODE"), or "ES_UNKNOWN". */
const char *es_err_name(int rc);

#ifdef __cplusplus
}
#endif
#endif
