/*
 * store_log.h - what the embedded log (store_log.c) offers beyond the
 * store interface: hooks for tests.
 *
 * Internal to libes.
 */
#ifndef ES__STORE_LOG_H
#define ES__STORE_LOG_H

/* Where the group commit calls es__store_log_pause(). */
enum {
  ES__LOG_PAUSE_QUEUED = 1, /* an appender queued its batch, is to wait */
  ES__LOG_PAUSE_HANDOFF = 2 /* a leader published its group, is to name the
                               next leader */
};

/* Test seam: when not NULL, called at the points of the group commit where
 * a thread that stalls (preempted on a busy machine) lets the others run
 * ahead. Stress tests set it to sleep now and then, which makes rare
 * interleavings common; nothing else sets it. Set it before any store is
 * opened and leave it until every store is closed. */
extern void (*es__store_log_pause)(int point);

#endif
