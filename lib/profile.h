/*
 * profile.h - the contention and hold-time profile (profile=1; see
 * docs/profile.md).
 *
 * Each lock record gets, the first time it has something to count, a
 * profile record (lw_prof_t) that lives as long as the lock record itself:
 * it is zeroed, never freed, when the lock's identity ends, after its counts
 * were folded into the group of destroyed locks of the same creation site.
 *
 * What is counted where:
 * - acquisitions: in the thread's lock-cache entry (thread-private, no
 *   branch and no shared write on the fast path), folded into the profile
 *   record when the entry is evicted, every LW_TUNE_WINDOW acquisitions of
 *   the thread, at thread exit and at the end of the run;
 * - contended acquisitions and their wait: by the wrapper, around the wait
 *   that follows a failed first try (two clock reads per contended
 *   acquisition, nothing otherwise);
 * - hold times: sampled, one acquisition in about profile_sample per thread,
 *   at random; the total is estimated as the mean sampled hold times the
 *   acquisitions.
 *
 * Every count is a field of lw_prof_counts_t, and lw_prof_fold adds one
 * such set of counts into another: a per-class view (or any other key) at
 * exit is a fold of the per-lock entries of lw_profile_snapshot keyed by
 * that key.
 */
#ifndef LW_PROFILE_H
#define LW_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "lwlock.h"

struct lw_lock;
struct lw_thread;
struct lw_lcache;
struct lw_acq;

/* Call sites kept per lock and per measure; the rest are summed as "other sites". */
#define LW_PROF_SITES 4

/* A call site's share of a lock's contended acquisitions, or of its sampled holds. */
typedef struct lw_prof_site {
  uintptr_t pc;   /* the key: the call site (innermost return address of stack) */
  uint32_t stack; /* depot id of the first stack seen there; 0: slot unused */
  uint64_t count; /* contended acquisitions, or hold samples */
  uint64_t ns;    /* their total wait, or their total sampled hold */
  uint64_t max_ns;
} lw_prof_site_t;

/* The counts of one lock (or of a group of locks: they add up with lw_prof_fold). */
typedef struct lw_prof_counts {
  uint64_t attempts;  /* acquisition calls, including failed ones */
  uint64_t failed;    /* trylocks that found the lock taken, timeouts, errors */
  uint64_t contended; /* acquisitions that found the lock taken and waited */
  uint64_t wait_ns, wait_max_ns;
  uint64_t hold_samples, hold_sampled_ns, hold_max_ns;
  lw_prof_site_t wait_sites[LW_PROF_SITES], hold_sites[LW_PROF_SITES];
  lw_prof_site_t wait_other, hold_other; /* stack 0: the sites that did not fit */
} lw_prof_counts_t;

/* The profile record of a lock record. */
typedef struct lw_prof {
  lw_ilock_t lock; /* guards c */
  lw_prof_counts_t c;
  /* acquisitions folded from lock caches, kept apart from c: added without the lock */
  _Atomic uint64_t attempts;
  struct lw_lock *rec;
  struct lw_prof *next_all;
} lw_prof_t;

/* Non-zero when profile=1; read-only once lockwatch started. */
extern int lw_profile_on;

/* Reads the options; call once, after they are set. */
void lw_profile_init(void);

/* The clock of every profile measurement, in nanoseconds (CLOCK_MONOTONIC). */
uint64_t lw_profile_now(void);

/* Successful acquisitions: attempts minus failures. */
static inline uint64_t lw_prof_acquisitions(const lw_prof_counts_t *c) {
  return c->attempts > c->failed ? c->attempts - c->failed : 0;
}

/*
 * The estimated total hold time: the mean sampled hold times the successful
 * acquisitions (0 without samples).
 */
uint64_t lw_prof_hold_estimate(const lw_prof_counts_t *c);

/* Adds the counts of from into into (sites by stack; maxima kept). */
void lw_prof_fold(lw_prof_counts_t *into, const lw_prof_counts_t *from);

/*
 * Adds count observations (ns in all, max_ns the longest) at call site pc
 * (stack: a stack there) to a site table; stack 0 adds to other.
 */
void lw_prof_site_add(lw_prof_site_t *sites, lw_prof_site_t *other, uintptr_t pc,
                      uint32_t stack, uint64_t count, uint64_t ns, uint64_t max_ns);

/*
 * Before a blocking wait for the lock of a: the clock if profiling, else 0
 * (then nothing else need be done).
 */
static inline uint64_t lw_profile_wait_start(void) {
  return __builtin_expect(lw_profile_on, 0) ? lw_profile_now() : 0;
}

/* After the wait that began at start (non-zero) for the lock of a. */
void lw_profile_waited(struct lw_thread *t, const struct lw_acq *a, uint64_t start);

/* An acquisition of a that failed (trylock busy, timeout, error). */
void lw_profile_failed(const struct lw_acq *a);

/* The hold of the lock rec (id) that began at since ended now; stack: where it was taken. */
void lw_profile_held(struct lw_lock *rec, uint64_t id, uint32_t stack, uint64_t since);

/* Acquisitions between two hold samples of a thread: random, profile_sample on average. */
uint64_t lw_profile_interval(struct lw_thread *t);

/*
 * Folds the acquisitions counted in one lock-cache entry into its lock's
 * record. mine: the entry is the calling thread's (else another thread may
 * still count in it).
 */
void lw_profile_fold_entry(struct lw_lcache *c, bool mine);

/* Folds every lock-cache entry of t (mine: t is the caller's; else under the threads lock). */
void lw_profile_fold_thread(struct lw_thread *t, bool mine);

/*
 * The identity id of rec ended (its id is already 0): its counts join the
 * group of destroyed locks created at the same place, and its profile
 * record is zeroed for the record's next identity. addr: where it lived.
 */
void lw_profile_retire(struct lw_lock *rec, uint64_t id, uintptr_t addr);

/* One line of the profile: a live lock, or the destroyed locks of one creation site. */
typedef struct lw_prof_entry {
  uint64_t id; /* the lock's id; for destroyed locks, the first one's */
  uintptr_t addr;
  uint32_t create_stack;
  uint8_t type;
  bool destroyed;
  uint64_t nlocks; /* identities folded into this entry */
  uint64_t hold_ns; /* estimated total hold */
  lw_prof_counts_t c;
} lw_prof_entry_t;

/* The profile of the run at one moment, most total wait first. */
typedef struct lw_prof_snapshot {
  lw_prof_entry_t *e;
  uint32_t n, cap;
  uint64_t locks;       /* every lock (and group) with at least one acquisition */
  uint64_t acquisitions, contended, wait_ns;
  uint32_t sample_every;
} lw_prof_snapshot_t;

/*
 * Folds every thread's pending counts and returns the profile of every
 * lock that was acquired, sorted by total wait, then estimated hold, then
 * acquisitions. Returns false (s empty) when memory is exhausted.
 */
bool lw_profile_snapshot(lw_prof_snapshot_t *s);
void lw_profile_snapshot_free(lw_prof_snapshot_t *s);

/* Writes the table of the top profile_top locks of s as report text (stderr or log_path). */
void lw_profile_print(const lw_prof_snapshot_t *s);

/* Fork hook: the child starts with an empty profile. */
void lw_profile_fork_child(void);

/* ---- the table (profile_text.c), shared by the runtime and the lockwatch command ---- */

/* A call site as the table shows it. */
typedef struct lw_prof_trow_site {
  const char *where; /* "file:line in function (module+0x1f)"; NULL: the other sites */
  uint64_t count, ns, max_ns;
} lw_prof_trow_site_t;

/* One row of the table: plain data, already symbolized. */
typedef struct lw_prof_trow {
  const char *id;      /* "M3" */
  const char *name;    /* a global's symbol ("accounts+64"), or NULL */
  const char *type;    /* "mutex", ... */
  const char *created; /* where it was created, as a site, or NULL */
  const char *process; /* "pid 123" when the table spans processes, else NULL */
  uint64_t nlocks;     /* 1, or the number of destroyed (or merged) locks it stands for */
  bool destroyed;
  uint64_t acquisitions, contended, wait_ns, wait_max_ns, hold_ns, hold_max_ns, hold_samples;
  lw_prof_trow_site_t wait_sites[LW_PROF_SITES + 1], hold_sites[LW_PROF_SITES + 1];
  uint32_t nwait_sites, nhold_sites;
} lw_prof_trow_t;

/* The whole table. */
typedef struct lw_prof_table {
  const char *whose; /* "pid 123", or "3 processes" */
  uint64_t locks, acquisitions, contended, wait_ns;
  uint32_t sample_every;
  const lw_prof_trow_t *rows;
  uint32_t nrows; /* the rows shown (the top ones) */
} lw_prof_table_t;

/*
 * Writes a call site the way the table names it: "file:line in function
 * (module+0xoffset)", leaving out what is unknown. Returns buf.
 */
const char *lw_prof_where(char *buf, size_t len, const char *function, const char *file,
                          int line, const char *module, uintptr_t offset);

/* Appends the text of the table (see docs/profile.md) to b. */
void lw_prof_format_table(lw_buf_t *b, const lw_prof_table_t *t);

#endif
