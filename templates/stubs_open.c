/*
 * @STUBS@ - your half of @BASE@: esgen wrote this skeleton once and will
 * never overwrite it. Fill in each function; when the schema grows, the
 * compiler names every function still missing, because @BASE@.h
 * declares them all.
 *
 * decide: look at the state and the command, then emit events with
 *         @PREFIX@_<aggregate>_emit_<event>() and return 0, or return
 *         @PREFIX@_<aggregate>_reject() with one of the aggregate's errors.
 *         Never change anything here: decide must be free of side effects.
 * apply:  fold one event into the state. Strings and lists of the event
 *         live in `arena`, as long as the state does, so assign them as
 *         they are; allocate anything new from `arena` too.
 */
#include "@BASE@.h"

