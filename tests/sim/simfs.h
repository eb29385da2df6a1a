/*
 * simfs.h - a simulated file system for the log store (store/io.h) that
 * models durability and injects faults, deterministically from a seed.
 *
 * Per file it keeps the durable contents and the writes (and truncations)
 * made since the last fsync/fdatasync; per directory, the durable entries
 * and the creations, renames and unlinks since the last fsync of the
 * directory. simfs_power_loss() keeps the durable state plus an arbitrary
 * seeded subset of the unsynced file writes (each kept whole, not at all,
 * or cut after any byte) and a seeded prefix of each directory's unsynced
 * entry changes (journaled metadata reaches the disk in order), so a file's
 * data may survive while its directory entry does not.
 *
 * Faults (simfs_fault) are drawn per eligible call at a rate, or forced on
 * the next one. A failed fsync behaves as Linux does since 4.13: some of
 * the unsynced writes may have reached the disk, the rest never will, the
 * page cache still shows all of them, and the next fsync succeeds.
 * A crash countdown turns the power off after a number of calls, in the
 * middle of whatever the store was doing: every call after it fails with
 * EIO until simfs_restart().
 *
 * Single-threaded, one instance per process.
 */
#ifndef SIMFS_H
#define SIMFS_H

#include <stdint.h>

#include "store/io.h"

typedef enum simfs_fault {
  SIMFS_WRITE_EIO,   /* pwrite/pwritev: EIO, a prefix maybe written */
  SIMFS_SYNC_EIO,    /* fsync/fdatasync: EIO, unsynced writes in limbo */
  SIMFS_ENOSPC,      /* pwrite/pwritev/ftruncate growing: ENOSPC */
  SIMFS_SHORT_WRITE, /* pwrite/pwritev: fewer bytes than asked, no error */
  SIMFS_READ_FLIP,   /* pread: one bit of what it returns flipped */
  SIMFS_FAULT_KINDS
} simfs_fault;

/* Starts an empty file system with random choices seeded by `seed`. */
void simfs_init(uint64_t seed);
void simfs_free(void);

/* The es__io table to install with es__io_set(). */
const es__io *simfs_io(void);

/* Each eligible call faults with probability `per_million` / 10^6 (0: no
 * random faults), the kind drawn among those in the `kinds` bit mask. */
void simfs_set_faults(uint32_t per_million, unsigned kinds);
/* The next eligible call gets fault `k`. */
void simfs_force(simfs_fault k);

/* Power goes off after `calls` more calls (0: no countdown). */
void simfs_crash_after(uint64_t calls);
/* Power goes off now. */
void simfs_power_loss(void);
/* Whether power went off since simfs_restart(). */
int simfs_crashed(void);
/* Power back on: descriptors of before are gone, files hold what survived. */
void simfs_restart(void);

/* How many faults of kind `k` were injected; power losses. */
uint64_t simfs_injected(simfs_fault k);
uint64_t simfs_power_losses(void);
const char *simfs_fault_name(simfs_fault k);

/* Whether a failed fsync/fdatasync hit a file whose name ends in `suffix`
 * since the last call (which clears it). */
int simfs_sync_failed_on(const char *suffix);

#endif
