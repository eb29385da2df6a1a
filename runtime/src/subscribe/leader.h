/*
 * leader.h - leadership of a runner across processes: a live projection
 * or saga runner works only while it holds its store lease, and reloads
 * its position each time it (re)gains it, since another process may have
 * moved it meanwhile. Internal to libes.
 */
#ifndef ES__LEADER_H
#define ES__LEADER_H

#include <stdint.h>

#include "es/es_store.h"

/* How often a standby tries to take the lease, and how often a leader
 * checks that it still holds it. */
#define ES__LEADER_RETRY_US ((int64_t)1000000)

typedef struct es__leader {
  es_store *store;
  const char *name; /* the lease's name; must outlive the leader */
  es_lease *lease;  /* NULL: not leading */
  int64_t checked;  /* monotonic us of the last successful check */
} es__leader;

enum { ES__STANDBY = 0, ES__LEADING = 1, ES__NEW_LEADER = 2 };

/* Where the runner stands now: ES__LEADING (held, checked at most
 * ES__LEADER_RETRY_US ago), ES__NEW_LEADER (just taken: reload the
 * checkpoint and whatever else another holder may have changed), or
 * ES__STANDBY (another process holds it, or the store is unreachable: try
 * again after ES__LEADER_RETRY_US). */
int es__leader_poll(es__leader *l);

/* Makes the next es__leader_poll() check the lease whenever it was last
 * checked: another process was seen doing the runner's work. */
void es__leader_doubt(es__leader *l);

/* Gives the lease up (when held). */
void es__leader_release(es__leader *l);

#endif
