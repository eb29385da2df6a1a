/*
 * es_store.h - the event store interface: one vtable, several stores.
 *
 * A store keeps events in streams (aggregate type name + instance key),
 * numbered per stream by a 1-based version, and in one global order
 * numbered by a 1-based position. Besides events it keeps two kinds of
 * small keyed blobs: one snapshot per stream and named checkpoints.
 *
 * Implementations: the memory store (es_store_open_memory(), here), the
 * embedded log (es_store_open_log(), here) and PostgreSQL
 * (es_store_open_postgres(), here; docs/postgres.md);
 * docs/storage.md maps every operation onto each. Applications call the
 * es_store_*() functions, which check their arguments once for every
 * implementation and then call through es_store_ops; an implementation
 * only ever sees valid arguments.
 *
 * Ownership. Appended payloads are copied by the store before
 * es_store_append() returns. Reads hand each event to a callback as an
 * es_stored_event whose pointers (stream names, payload) are valid only
 * during that call: copy what you keep. Snapshot and checkpoint blobs are
 * copied into an es_buf the caller owns.
 *
 * Threads. Every function may be called from any number of threads at once
 * on one store, except es_store_close(), which must be the last call.
 * Callbacks run on the calling thread without any store lock held: they
 * may call the store again (even append).
 *
 * Durability of an acknowledged append (es_store_append() returned 0):
 *   memory      - visible to every later read of this store; gone with the
 *                 process. Nothing touches disk.
 *   embedded    - on disk: fdatasync'd before the call returns,
 *                 concurrent appends sharing one sync (group commit).
 *   PostgreSQL  - committed: as durable as the server's
 *                 synchronous_commit setting makes a commit; concurrent
 *                 appends of one process share one transaction.
 * A failed append (any nonzero return) has changed nothing in any store.
 */
#ifndef ES_STORE_H
#define ES_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "es_buf.h"
#include "es_meta.h"
#include "es_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults used when an es_store_options field is 0. */
#define ES_STORE_DEFAULT_MAX_EVENT ((size_t)1 << 20) /* 1 MiB */
#define ES_STORE_DEFAULT_MAX_BLOB ((size_t)16 << 20) /* 16 MiB */
#define ES_STORE_DEFAULT_MAX_APPEND_EVENTS ((uint32_t)65536)

/* The most streams one es_store_append() may touch. */
#define ES_STORE_MAX_APPEND_STREAMS 1024

/* Default command retention: how long es_store_command_find() finds a
 * command after its events were appended (see there). */
#define ES_STORE_DEFAULT_COMMAND_RETENTION_US ((int64_t)24 * 3600 * 1000000)

/* Default segment size of the embedded log. */
#define ES_STORE_DEFAULT_SEGMENT_SIZE ((uint64_t)64 << 20) /* 64 MiB */

/* What es_store_open_log() tells its caller beyond the return code. */
typedef struct es_store_open_report {
  uint64_t dropped_bytes; /* torn tail cut back at open (0: none) */
  uint64_t offset;        /* where the cut (or ES_ECORRUPT damage) is */
  long locked_pid;        /* ES_ELOCKED: the pid holding the lock */
  char file[64];          /* the segment of `offset` ("" if none) */
  char message[320];      /* one line for people ("" when all is well) */
  /* How the open rebuilt its in-memory index: */
  uint32_t segments_indexed; /* sealed segments loaded from their index */
  uint32_t segments_scanned; /* segments read record by record */
  uint64_t events_scanned;   /* event records those scans went through */
  uint32_t indexes_written;  /* index files (re)written (writers only) */
} es_store_open_report;

/* Limits and choices given at open; 0 fields take the defaults. */
typedef struct es_store_options {
  size_t max_event_size;      /* largest payload of one event, bytes */
  size_t max_blob_size;       /* largest snapshot or checkpoint blob */
  uint32_t max_append_events; /* most events in one es_store_append() */
  /* Embedded log only (other stores ignore them): */
  uint64_t segment_size;        /* roll segments past this many bytes */
  es_store_open_report *report; /* NULL, or filled in by the open */
  /* Metrics (sync latency) and hooks; NULL: none. Must outlive the store. */
  const struct es_obs *obs;
  /* How long the store remembers which append carried out a command id
   * (es_store_command_find()), counted from the time of its events:
   * 0: ES_STORE_DEFAULT_COMMAND_RETENTION_US (a day); negative: forever. */
  int64_t command_retention_us;
  /* The store's clock, microseconds since the epoch: the time given to
   * events appended without one, and the "now" of the command retention.
   * NULL: CLOCK_REALTIME. Tests pass their own to move time at will. */
  int64_t (*now_us)(void *ctx);
  void *clock_ctx;
  /* PostgreSQL only: the schema holding the store's tables (NULL:
   * "esgen"); 1 .. 48 of [A-Za-z0-9_], not starting with a digit. One
   * database can hold several stores in several schemas. */
  const char *pg_schema;
} es_store_options;

#define ES_STORE_OPTIONS_INIT                                                  \
  { 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL, NULL }

/* ---- appending -------------------------------------------------------- */

/* What an append requires of a stream's current version (the version of
 * its last event, 0 when it has none). */
typedef enum es_expect_kind {
  ES_EXPECT_ANY,       /* anything */
  ES_EXPECT_NO_STREAM, /* no event yet (version 0) */
  ES_EXPECT_EXISTS,    /* at least one event */
  ES_EXPECT_EXACT      /* exactly `version` (EXACT 0 == NO_STREAM) */
} es_expect_kind;

typedef struct es_expected {
  uint32_t kind;    /* es_expect_kind */
  uint64_t version; /* ES_EXPECT_EXACT only */
} es_expected;

static inline es_expected es_expect_any(void) {
  es_expected e = {ES_EXPECT_ANY, 0};
  return e;
}
static inline es_expected es_expect_no_stream(void) {
  es_expected e = {ES_EXPECT_NO_STREAM, 0};
  return e;
}
static inline es_expected es_expect_exists(void) {
  es_expected e = {ES_EXPECT_EXISTS, 0};
  return e;
}
static inline es_expected es_expect_exact(uint64_t version) {
  es_expected e = {ES_EXPECT_EXACT, version};
  return e;
}

/* One event to append. Zero fields are filled in by the store: a zero
 * event id becomes a fresh random (version 7, time-ordered) uuid, a zero
 * timestamp becomes the time of the append (CLOCK_REALTIME, microseconds).
 * Correlation and causation ids are stored as given (zero stays zero). */
typedef struct es_new_event {
  es_uuid event_id;
  uint64_t type_id;      /* es_type_desc.type_id */
  uint32_t type_version; /* es_type_desc.version */
  es_timestamp timestamp;
  es_uuid correlation_id;
  es_uuid causation_id;
  const void *payload; /* msgpack; may be NULL when len is 0 */
  size_t len;
} es_new_event;

/* The events for one stream in an append, with that stream's expectation.
 * A group with no events only checks its expectation (useful to make an
 * append depend on another stream staying where it was read). */
typedef struct es_append_stream {
  const char *type; /* aggregate type name, 1 .. ES_STREAM_TYPE_MAX bytes */
  const char *key;  /* instance key, 1 .. ES_KEY_MAX bytes */
  es_expected expected;
  const es_new_event *events;
  uint32_t n_events;
  uint64_t version; /* out: the stream's version after a successful append */
} es_append_stream;

/* What es_store_append() reports. */
typedef struct es_append_result {
  uint64_t first_position; /* of the first event appended */
  uint64_t last_position;  /* of the last one */
  uint32_t conflict;       /* ES_ECONFLICT: index of the failing group */
  uint64_t actual_version; /* ES_ECONFLICT: that stream's current version */
} es_append_result;

/* ---- reading ---------------------------------------------------------- */

/* One stored event as reads deliver it. Every pointer (meta.aggregate,
 * meta.key, payload) is valid only during the callback it is passed to. */
typedef struct es_stored_event {
  es_event_meta meta;
  const uint8_t *payload;
  size_t len;
} es_stored_event;

/* Receives one event. Returning 0 continues; anything else stops the read,
 * which returns that value (use an ES_E* code or a positive code of your
 * own, distinct from 0). */
typedef int (*es_event_fn)(const es_stored_event *ev, void *ctx);

/* A snapshot's header; its bytes go into the caller's es_buf. */
typedef struct es_snapshot_info {
  uint64_t version; /* the stream version the state was taken at */
  uint64_t layout;  /* es_type_desc.layout_hash of the state type */
} es_snapshot_info;

/* The append that carried out a command, as es_store_command_find()
 * reports it: the events holding the command id as their causation id. */
typedef struct es_command_record {
  uint64_t first_position; /* its first event */
  uint64_t last_position;  /* its last event (consecutive positions) */
  es_timestamp timestamp;  /* the first event's time */
} es_command_record;

/* ---- the vtable --------------------------------------------------------- */

typedef struct es_store es_store;
typedef struct es_lease es_lease;

/* What every store implements. Arguments reaching these are already
 * checked by the es_store_*() wrappers (see each one for the contract);
 * names and keys are NUL-terminated and within their limits. */
typedef struct es_store_ops {
  const char *name; /* "memory", "log", "postgres" */
  void (*close)(es_store *s);
  int (*append)(es_store *s, es_append_stream *streams, uint32_t n_streams,
                es_append_result *res);
  int (*read_stream)(es_store *s, const char *type, const char *key,
                     uint64_t from_version, uint32_t max, es_event_fn fn,
                     void *ctx);
  int (*read_all)(es_store *s, uint64_t from_position, uint32_t max,
                  es_event_fn fn, void *ctx);
  int (*wait)(es_store *s, uint64_t after, int64_t timeout_us, uint64_t *head);
  void (*interrupt)(es_store *s);
  int (*head)(es_store *s, uint64_t *position);
  int (*stream_version)(es_store *s, const char *type, const char *key,
                        uint64_t *version);
  int (*snapshot_put)(es_store *s, const char *type, const char *key,
                      const es_snapshot_info *info, const void *data,
                      size_t len);
  int (*snapshot_get)(es_store *s, const char *type, const char *key,
                      es_snapshot_info *info, es_buf *data);
  int (*checkpoint_put)(es_store *s, const char *name, uint64_t position,
                        const void *data, size_t len);
  int (*checkpoint_get)(es_store *s, const char *name, uint64_t *position,
                        es_buf *data);
  /* `id` is not zero; see es_store_command_find() for the contract. */
  int (*command_find)(es_store *s, const es_uuid *id, es_command_record *out);
  /* NULL: the store lives in one process and grants every lease at once;
   * see es_store_lease_try(). */
  int (*lease_try)(es_store *s, const char *name, es_lease **out);
} es_store_ops;

/* The common head of every store; an implementation embeds it as its
 * first member. Fields are for implementations, not applications. */
struct es_store {
  const es_store_ops *ops;
  es_store_options opt; /* with the defaults filled in */
};

/* ---- opening and closing ------------------------------------------------ */

/* Opens an empty memory store with the limits in `opt` (NULL: defaults).
 * On success `*out` is the store, which the caller releases with
 * es_store_close(). Returns 0, ES_EINVAL for a NULL `out`, or ES_ENOMEM
 * (`*out` is then NULL). */
int es_store_open_memory(es_store **out, const es_store_options *opt);

/* es_store_open_log() flags. */
#define ES_STORE_READONLY 1u /* no lock, no writes; may run beside a writer */

/* Opens (creating when missing, unless ES_STORE_READONLY) the embedded log
 * in directory `dir`. Each sealed segment loads its index file when that
 * matches the segment (else it is scanned, and a writer rewrites the
 * index); the newest segment is scanned. A writer takes the directory's
 * lock, recovers: a torn tail (what follows the last whole batch of the
 * newest segment when nothing there can be an acknowledged batch: a short
 * record, a bad one with no valid record after it, or the pieces of one
 * unfinished batch) is cut back to the last whole batch and described in
 * `opt->report`. A read-only open takes no lock, writes nothing and sees
 * what was whole at open, refreshed by later reads. Returns 0, or
 * ES_ELOCKED   - another writer holds the lock (report: locked_pid);
 * ES_ECORRUPT  - damage before the tail in a segment the open read (report:
 *                file and offset); damage inside a segment loaded from its
 *                index is ES_ECORRUPT from the read that meets it
 *                (es_store_verify_log() reads everything);
 * ES_EINVAL    - NULL out or dir, unknown flags;
 * ES_EIO, ES_ENOMEM. `*out` is NULL on failure.
 * Appends fail with ES_EREADONLY on a read-only store; after a failed
 * write or fdatasync (ES_EIO) every later append fails the same way: the
 * store must be closed and reopened, which recovers what is on disk. */
int es_store_open_log(es_store **out, const char *dir,
                      const es_store_options *opt, unsigned flags);

/* What es_store_verify_log() found. The first damage is described in
 * `file`, `offset` and `message`; `on_damage`, when set, is called for
 * every one (file, byte offset, one line for people, `ctx`). */
typedef struct es_store_verify_report {
  uint32_t segments;   /* segment files read */
  uint32_t indexes;    /* index files checked against their segment */
  uint32_t cmd_files;  /* command-id files (N.cmd) checked likewise */
  uint64_t events;     /* event records checked */
  uint64_t batches;    /* commit records checked */
  uint64_t head;       /* the last position of a whole batch */
  uint64_t tail_bytes; /* an unfinished batch at the end of the newest
                          segment (a writer's next open cuts it) */
  uint64_t damage;     /* damaged places found; 0: the store is whole */
  char file[64];       /* the first damage: its file ("" if none) */
  uint64_t offset;     /* and its byte offset in that file */
  char message[320];   /* one line for people ("" when all is well) */
  void (*on_damage)(const char *file, uint64_t offset, const char *message,
                    void *ctx);
  void *ctx;
} es_store_verify_report;

/* Reads every file of the embedded log in `dir` and checks it: each
 * segment's header and every record's framing and CRC32C, event records
 * (positions without gaps across segments, each stream's versions without
 * gaps, lengths), commit records (each closes exactly the batch before
 * it), that a sealed segment ends with a whole batch, and each sealed
 * segment's index file and command-id file (when there are) against the
 * segment's records.
 * It catches what an open does not read: records of sealed segments that
 * load from their index. Never writes and takes no lock: it may run
 * beside a writer (the writer's unfinished batch at the end is not damage;
 * see `tail_bytes`). `rep` may be NULL; when not, the caller sets
 * `on_damage` and `ctx` (or zeroes them) and the rest is filled in.
 * Returns 0 (whole), ES_ECORRUPT (damage: see the report), ES_EINVAL
 * (NULL or empty dir), ES_EIO (a file could not be read) or ES_ENOMEM. */
int es_store_verify_log(const char *dir, es_store_verify_report *rep);

/* Opens the PostgreSQL store in the database `conninfo` names (a libpq
 * connection string or URI: "postgresql://user@host/db", "host=/run/pg
 * dbname=app"). On first use it creates its tables in schema
 * `opt->pg_schema` (default "esgen"), and migrates tables written by an
 * older libes, holding an advisory lock so concurrent opens never migrate
 * at once. Many processes on many machines may open one store and append
 * concurrently; every operation works across them. Flags:
 * ES_STORE_READONLY (no migration; appends and puts fail with
 * ES_EREADONLY). Lost connections are re-made for a bounded time (about
 * 15 s) before an operation fails with ES_EIO. Returns 0, or
 * ES_EIO       - the server cannot be reached, or refused a statement
 *                (`opt->report->message` has the server's words);
 * ES_EVERSION  - the tables were written by a newer libes (or, read-only,
 *                by an older one);
 * ES_EINVAL    - NULL out or conninfo, unknown flags, a bad schema name,
 *                or a libes built without PostgreSQL support;
 * ES_ENOMEM. `*out` is NULL on failure. */
int es_store_open_postgres(es_store **out, const char *conninfo,
                           const es_store_options *opt, unsigned flags);

/* Releases the store and everything it holds. No other call on `s` may be
 * running or follow, including es_store_wait(): interrupt waiters first.
 * Accepts NULL. */
void es_store_close(es_store *s);

/* The implementation's name ("memory"), or "" for NULL. */
const char *es_store_kind(const es_store *s);

/* ---- operations --------------------------------------------------------- */

/* Appends every group in `streams[0 .. n_streams)` atomically: either each
 * group's expectation holds and all their events land, in group order and
 * within a group in array order, at consecutive global positions, or
 * nothing changes. On success sets each group's `version` and, when `res`
 * is not NULL, the first and last positions. Returns 0, or
 * ES_ECONFLICT - a group's expectation failed; `res->conflict` is the first
 *                such group, `res->actual_version` its stream's version;
 * ES_EINVAL    - NULL store or streams, no group, more than
 *                ES_STORE_MAX_APPEND_STREAMS groups, no event at all, an
 *                empty or over-long type, a key es_key_check() refuses
 *                (reads accept any key of 1 .. ES_KEY_MAX bytes), an
 *                unknown expectation
 *                kind, events NULL with n_events > 0, a payload NULL with
 *                len > 0, or one stream named in two groups;
 * ES_ETOOBIG   - more than max_append_events events, or a payload over
 *                max_event_size;
 * ES_ENOMEM, or an I/O error of a disk store. */
int es_store_append(es_store *s, es_append_stream *streams, uint32_t n_streams,
                    es_append_result *res);

/* Shorthand for a one-group append to (type, key); `*version` (may be
 * NULL) receives the stream's new version. Same errors. */
int es_store_append_one(es_store *s, const char *type, const char *key,
                        es_expected expected, const es_new_event *events,
                        uint32_t n_events, uint64_t *version);

/* Calls `fn` for the events of stream (type, key) with versions
 * from_version, from_version + 1, ... (0 reads from 1), in version order,
 * at most `max` of them (0: no limit), and only those present when the
 * call began. A stream without events reads as empty. Returns 0, the
 * callback's nonzero value, or ES_EINVAL (NULL store, callback, type or
 * key; bad type or key length). */
int es_store_read_stream(es_store *s, const char *type, const char *key,
                         uint64_t from_version, uint32_t max, es_event_fn fn,
                         void *ctx);

/* Calls `fn` for every event at global positions from_position,
 * from_position + 1, ... (0 reads from 1), in position order, at most
 * `max` (0: no limit), and only those present when the call began; the
 * positions delivered have no gaps. Returns 0, the callback's nonzero
 * value, or ES_EINVAL. */
int es_store_read_all(es_store *s, uint64_t from_position, uint32_t max,
                      es_event_fn fn, void *ctx);

/* Blocks until the head position is greater than `after`, for at most
 * `timeout_us` microseconds (negative: no limit; 0: just checks). No
 * polling: appends wake waiters. `*head` (may be NULL) receives the head
 * seen. Returns 0, ES_ETIMEDOUT, ES_EINTERRUPTED after
 * es_store_interrupt(), or ES_EINVAL. */
int es_store_wait(es_store *s, uint64_t after, int64_t timeout_us,
                  uint64_t *head);

/* Makes every es_store_wait() blocked at the moment of the call return
 * ES_EINTERRUPTED (later waits are unaffected). Accepts NULL. */
void es_store_interrupt(es_store *s);

/* The position of the last event appended (0 when empty) into
 * `*position`. Returns 0 or ES_EINVAL. */
int es_store_head(es_store *s, uint64_t *position);

/* The version of stream (type, key) (0 when it has no events) into
 * `*version`. Returns 0 or ES_EINVAL. */
int es_store_stream_version(es_store *s, const char *type, const char *key,
                            uint64_t *version);

/* Stores `len` bytes (copied) as the snapshot of stream (type, key),
 * replacing any earlier one. The stream need not exist. Returns 0,
 * ES_EINVAL (NULL arguments, bad names, data NULL with len > 0),
 * ES_ETOOBIG (len over max_blob_size), or ES_ENOMEM. */
int es_store_snapshot_put(es_store *s, const char *type, const char *key,
                          const es_snapshot_info *info, const void *data,
                          size_t len);

/* Copies the snapshot of stream (type, key) into `data` (cleared first;
 * its `max` bounds the size) and its header into `*info`. Returns 0,
 * ES_ENOTFOUND when there is none, ES_EINVAL, or the buffer's error
 * (ES_ETOOBIG, ES_ENOMEM). */
int es_store_snapshot_get(es_store *s, const char *type, const char *key,
                          es_snapshot_info *info, es_buf *data);

/* Stores the checkpoint named `name` (1 .. ES_KEY_MAX bytes): a position
 * and an optional blob of `len` bytes (copied), replacing any earlier
 * value. Projections and saga runners keep their last handled position
 * here (command ids live in the command index). Returns
 * 0, ES_EINVAL, ES_ETOOBIG (len over max_blob_size) or ES_ENOMEM. */
int es_store_checkpoint_put(es_store *s, const char *name, uint64_t position,
                            const void *data, size_t len);

/* Reads checkpoint `name`: its position into `*position` and, when `data`
 * is not NULL, its blob into `data` (cleared first). Returns 0,
 * ES_ENOTFOUND, ES_EINVAL, or the buffer's error. */
int es_store_checkpoint_get(es_store *s, const char *name, uint64_t *position,
                            es_buf *data);

/* The command index: which append carried out command `id`. Every event
 * whose causation id is not zero names the command that produced it (the
 * executor stores the command id there); the store remembers, for each
 * such id, the FIRST append that stored events with it: their first and
 * last positions (the events of one command are consecutive) and the time
 * of the first. It finds that record while the record is younger than
 * the store's command retention (es_store_options.command_retention_us,
 * a day by default; measured on the store's clock from the event's time)
 * and may forget it after: at least the retention, not a number of
 * commands. Every append that returned before the call began is found.
 * This is what makes a command id execute once however many commands
 * its target took in between (docs/runtime.md). Returns 0, ES_ENOTFOUND
 * (never seen, or expired), ES_EINVAL (NULL arguments, a zero id).
 *
 * Implementations: the memory store keeps a hash table; the embedded log
 * keeps one in memory, rebuilt at open from a small N.cmd file written
 * beside each sealed segment's index (or from the segment's records); a
 * SQL store keeps a table keyed by the command id (primary key), filled
 * in the append's transaction, its rows deleted after the retention. */
int es_store_command_find(es_store *s, const es_uuid *id,
                          es_command_record *out);

/* ---- leadership ---------------------------------------------------------- */

/* Tries to take the lease named `name` (1 .. ES_KEY_MAX bytes): among all
 * the processes sharing the store, at most one holds a given lease at a
 * time. Projection and saga runners take one ("projection:<Name>",
 * "saga:<Name>") so that a projection or saga runs in one process while
 * the others stand by. Stores of one process (memory, embedded log: its
 * writer lock already admits one process) grant every lease at once.
 * PostgreSQL holds a session advisory lock on a connection of its own:
 * when the holder dies, the server ends the session and the lease is
 * free again. Returns 0 (`*out` is the lease, released with
 * es_store_lease_release()), ES_ELOCKED (another holder has it), ES_EINVAL
 * (NULL arguments, a bad name), ES_EIO (the server cannot be reached) or
 * ES_ENOMEM. `*out` is NULL on failure. */
int es_store_lease_try(es_store *s, const char *name, es_lease **out);

/* Whether `l` is still held: 0, or ES_EIO when it was lost (the
 * connection holding it is gone, so another process may hold it now): the
 * holder stops the work the lease guards and releases it. One round trip
 * on PostgreSQL. */
int es_store_lease_check(es_lease *l);

/* Gives the lease up. Accepts NULL. */
void es_store_lease_release(es_lease *l);

#ifdef __cplusplus
}
#endif
#endif
