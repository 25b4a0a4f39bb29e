/*
 * report.h - reports as data, the sink they go through, and the writers
 * that format them without any logic of their own.
 *
 * A report is built (with lw_alloc) where a problem is found, holding only
 * ids: lock ids and addresses, thread numbers, depot ids of stacks and lock
 * sets. Symbolization happens in the writers. Unit tests replace
 * lw_report_sink to look at the data.
 */
#ifndef LW_REPORT_H
#define LW_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "graph.h"
#include "symbolize.h"

enum lw_report_kind {
  LW_REPORT_LOCK_ORDER_INVERSION = 0,
  LW_REPORT_DOUBLE_LOCK,
  LW_REPORT_UNLOCK_NOT_OWNER,
  LW_REPORT_DESTROY_LOCKED,
  LW_REPORT_THREAD_EXIT_HOLDING,
  LW_REPORT_COND_WAIT_UNHELD,
  LW_REPORT_DEADLOCK,
  LW_REPORT_STALL,
  LW_REPORT_LOCK_ABANDONED,
  LW_REPORT_RANK_VIOLATION, /* a lock taken against the ranks the program declared */
  LW_REPORT_NOT_HELD,       /* LOCKWATCH_ASSERT_HELD failed */
  LW_REPORT_CALL_FAILED,    /* a lock, condvar, semaphore or barrier call failed (misuse.c) */
  LW_REPORT_EXIT_HOLDING,   /* the process exits while the exiting thread holds locks */
  LW_REPORT_COND_DESTROY_WAITING, /* a condition variable is destroyed with threads waiting */
  LW_REPORT_SEM_DESTROY_WAITING,  /* a semaphore is destroyed with threads waiting */
  LW_REPORT_BARRIER_MISUSE, /* a barrier of count 0, or re-initialised or destroyed with waiters */
  LW_REPORT_KIND_COUNT
};

/* The JSON `kind`: "lock-order-inversion", "double-lock", ... */
const char *lw_report_kind_name(unsigned kind);

/* A short explanation for the text headline: "potential deadlock", ... */
const char *lw_report_kind_title(unsigned kind);

/* What exactly happened, for the kinds that have variants (JSON `detail`). */
enum lw_report_detail {
  LW_DETAIL_NONE = 0,
  LW_DETAIL_BLOCKS_FOREVER, /* double-lock: the call would wait forever */
  LW_DETAIL_FAILS,          /* double-lock: the call fails (EDEADLK) */
  LW_DETAIL_TIMES_OUT,      /* double-lock: a timed call waits until its timeout */
  LW_DETAIL_MAY_BLOCK,      /* double-lock: a read re-lock that blocks if a writer waits */
  LW_DETAIL_NOT_LOCKED,     /* unlock-not-owner: nobody holds it */
  LW_DETAIL_OTHER_OWNER,    /* unlock-not-owner, destroy-locked: another thread holds it */
  LW_DETAIL_SELF_OWNER,     /* destroy-locked: the destroying thread holds it */
  LW_DETAIL_NOT_HELD,       /* cond-wait-unheld: the mutex is not held by the waiter */
  LW_DETAIL_TWO_MUTEXES,    /* cond-wait-unheld: the condvar was used with another mutex */
  LW_DETAIL_SAME_RANK,      /* rank-violation: a lock of the rank held, not declared nestable */
  LW_DETAIL_HIGHER_RANK,    /* rank-violation: a lock of a higher rank is held */
  LW_DETAIL_READ_HELD,      /* not-held: held, but only for reading */
  LW_DETAIL_ZERO_COUNT,     /* barrier-misuse: initialised with a count of 0 */
  LW_DETAIL_REINIT_WAITING, /* barrier-misuse: initialised again while threads wait on it */
  LW_DETAIL_DESTROY_WAITING, /* barrier-misuse: destroyed while threads wait on it */
  LW_DETAIL_COUNT
};

/* "blocks-forever", ... ("" for LW_DETAIL_NONE). */
const char *lw_report_detail_name(unsigned detail);

/* What a labelled stack of a report shows. */
enum lw_event_what {
  LW_EV_LOCK = 0,     /* requests the lock here */
  LW_EV_HELD,         /* acquired the lock here (and still holds it) */
  LW_EV_UNLOCK,       /* releases the lock here */
  LW_EV_DESTROY,      /* destroys the lock here */
  LW_EV_EXIT,         /* the thread ends here */
  LW_EV_COND_WAIT,    /* waits on the condition variable with the lock here */
  LW_EV_COND_EARLIER, /* waited on the same condition variable with the lock here */
  LW_EV_WAIT,         /* is blocked waiting for the lock here */
  LW_EV_ASSERT,       /* asserts here that it holds the lock */
  LW_EV_CALL,         /* makes the call the report is about here (no lock: -1, or its lock) */
  LW_EV_COUNT
};

/* "EPERM" for EPERM, and so on for the errors lock calls return ("E?" for others). */
const char *lw_errno_name(int err);

/* "lock", "held", ... as in JSON events[].what. */
const char *lw_event_name(unsigned what);

/* One labelled stack: thread `thread` did `what` to locks[lock] (or no lock: -1). */
typedef struct lw_revent {
  uint8_t what;
  uint8_t mode;
  int32_t lock;
  uint32_t thread;
  uint32_t stack;
} lw_revent_t;

/* A lock as a report names it. */
typedef struct lw_rlock {
  uint64_t id;
  uintptr_t addr;
  uint8_t type, kind;
  uint32_t create_stack;
  const struct lw_class *cls; /* its lock class, or NULL (classes=0) */
  const char *name; /* the name the program gave it (lockwatch.h), or NULL */
  int32_t rank;     /* its declared rank, when has_rank */
  uint8_t has_rank;
} lw_rlock_t;

/* The type of a lock a report names before lockwatch saw it locked (lw_type_name: "lock"). */
#define LW_TYPE_NOT_SEEN 0xff

/* An edge of a reported cycle: locks[to] requested while locks[from] was held. */
typedef struct lw_redge {
  uint32_t from, to; /* indices into locks */
  uint8_t from_mode, to_mode;
  lw_witness_t w;         /* w.held_set is not used here: see held_ids */
  uint32_t other_thread; /* 1 + another thread that made the same edge; 0 if none */
  uint64_t *held_ids;    /* every lock held when the edge was made, oldest first */
  uint32_t nheld_ids;
  /* the threads known to have made this edge (LW_EDGE_THREADS at most; nthreads may say more) */
  uint32_t threads[4];
  uint32_t nthreads;
} lw_redge_t;

/*
 * What an inversion's cycle looks like beyond its edges (lib/labels.c,
 * docs/rules.md "Cycles that cannot deadlock, and labels").
 */
typedef struct lw_rlabels {
  uint8_t guarded;         /* every witness of every edge held the gate locks */
  uint8_t ordered;         /* the threads that made the edges never ran at the same time */
  uint32_t threads_needed; /* threads a deadlock on these paths needs (the cycle's length) */
  uint32_t threads_had;    /* most edges distinct threads of this run made (< needed: labelled) */
  uint64_t *gate;          /* ids of the gate locks, when guarded */
  uint32_t ngate;
} lw_rlabels_t;

typedef struct lw_report {
  uint32_t kind;
  uint32_t seq; /* 1, 2, ... in the order reports were made */
  uint32_t nlocks, nedges;
  uint32_t cap_locks; /* room in locks (nlocks may be smaller) */
  lw_rlock_t *locks;
  lw_redge_t *edges;
  uint32_t closing_edge; /* index of the edge whose arrival revealed the cycle */
  uint32_t detail;       /* enum lw_report_detail */
  uintptr_t object;      /* the condition variable, for cond-wait-unheld */
  int other_tid;         /* the owner's kernel tid when another thread holds the lock */
  uint64_t waited_ms;    /* stall: how long the thread had waited */
  const char *call;      /* call-failed, and the kinds about an object: the function called */
  int error;             /* call-failed: the errno value it returned */
  const char *reason;    /* call-failed: why it fails (a static sentence) */
  uint32_t waiters;      /* *-destroy-waiting, barrier-misuse: threads still waiting */
  const char *suppressed_by; /* the suppression rule that matched, or NULL */
  bool class_level;      /* inversion found in the class graph: no two instances met in both orders */
  uint64_t signature;    /* inversions: the classes and witness stacks that make it one bug */
  uint32_t instances;    /* inversions: cycles of instances (or classes) folded into this report */
  bool passes;               /* listed, but changes neither the exit status nor SARIF's level */
  lw_rlabels_t labels;       /* inversions only */
  lw_revent_t *events;
  uint32_t nevents, cap_events;
  struct lw_report *next;
} lw_report_t;

/* Allocates a zeroed report with room for the given numbers. NULL on OOM. */
lw_report_t *lw_report_new(unsigned kind, uint32_t nlocks, uint32_t nedges);

/* Appends an event; returns false (report unchanged) on OOM. */
bool lw_report_add_event(lw_report_t *r, unsigned what, uint32_t thread, int32_t lock,
                         unsigned mode, uint32_t stack);

/*
 * Returns true the first time a report with this signature (a hash of what
 * makes it the same problem) is seen in the run, false afterwards.
 */
bool lw_report_first_time(uint64_t signature);

/* Frees a report made by lw_report_new. */
void lw_report_free(lw_report_t *r);

/* Where submitted reports go; the default stores, prints and honours halt_on_error. */
typedef void (*lw_report_sink_fn)(lw_report_t *r);
extern lw_report_sink_fn lw_report_sink;

/*
 * Numbers r, checks it against the suppressions, and hands it to
 * lw_report_sink, which owns it afterwards. Returns false if a suppression
 * matched (the report then fails nothing and ends nothing).
 */
bool lw_report_submit(lw_report_t *r);

/*
 * The default sink: keeps r for the JSON document and prints its text; a
 * suppressed report is only kept, apart.
 */
void lw_report_default_sink(lw_report_t *r);

/* The stored reports that were not suppressed, oldest first, and their number. */
const lw_report_t *lw_report_stored(uint32_t *n);

/* Number of stored reports that fail the run (not suppressed, not passing). */
uint32_t lw_report_failing(void);

/* The stored suppressed reports, oldest first, and their number. */
const lw_report_t *lw_report_suppressed(uint32_t *n);

/* Run-wide facts for the JSON document. */
typedef struct lw_stats {
  uint64_t locks;         /* live locks now */
  uint64_t locks_created; /* identities ever created */
  uint64_t edges;         /* edges in the graph now */
  uint64_t acquisitions;
  uint64_t fast_path_hits;
  uint64_t threads;
  uint64_t cycle_searches;
  uint64_t stacks;
  uint64_t bytes; /* mapped by lockwatch */
  uint64_t suppressed; /* reports a suppression matched */
  uint64_t memory_exhausted; /* 1 once lockwatch's memory ran out (max_memory_mb or the kernel) */
  uint64_t graph_ns; /* time spent adding orders to the graph and searching it for cycles */
  uint64_t edges_created; /* instance edges ever added (edges: those still live) */
  uint64_t classes;       /* lock classes met */
  uint64_t class_edges;   /* edges of the class graph */
} lw_stats_t;

/*
 * The JSON document's "schema": 2 added lock classes, the class graph and
 * stacks; 3 put them in class units, the edges as rows of small integers.
 */
#define LW_JSON_SCHEMA 3

/* An edge of the class graph, for the JSON document: from -> to are class numbers. */
typedef struct lw_cedge {
  uint32_t from, to;
  uint8_t from_mode, to_mode;
  lw_witness_t w; /* w.held_set is not used here */
} lw_cedge_t;

typedef struct lw_run_info {
  int pid;
  const char *program;
  const char *const *argv; /* NULL-terminated; may be NULL */
  lw_stats_t stats;
  const lw_cedge_t *class_edges; /* the class graph (every mode pair of every edge) */
  uint32_t nclass_edges;
  const char *run_id; /* the run the process belongs to (docmerge.h); may be NULL */
  const struct lw_prof_snapshot *profile; /* profile=1: the profile section; else NULL */
} lw_run_info_t;

/*
 * The frame r's summary names: the innermost frame in the program's own
 * code of its first stack, past the program's lock wrappers (the wrappers
 * option, and any function that is the innermost user frame of stacks
 * taking two different locks of r). False if r has no stack.
 */
bool lw_report_where(const lw_report_t *r, lw_frame_t *out);

/*
 * For an inversion, the same for the acquisition of the opposite order: the
 * last edge's, which takes the cycle's first lock back. False otherwise.
 */
bool lw_report_where_other(const lw_report_t *r, lw_frame_t *out);

/*
 * A lock class as people read it, into buf: the symbol of a static lock,
 * else the first frames that make its key ("new_lock scn.c:12 < get_space
 * scn.c:40"). Empty for NULL.
 */
void lw_report_class_name(const struct lw_class *c, char *buf, unsigned len);

/*
 * One thread of a cycle's unsafe scenario (the kernel lockdep's "possible
 * unsafe locking scenario"): the thread takes `held`, then asks for
 * `wanted`, which the next thread holds. Names are the locks' symbols or ids.
 */
typedef struct lw_scenario_step {
  const char *thread;        /* "T1" */
  const char *held, *wanted; /* "accounts", "M3" */
  bool held_read, wanted_read; /* taken for reading (rwlocks) */
} lw_scenario_step_t;

/*
 * Appends the scenario of a cycle of n >= 2 steps to b, from a blank line
 * on: two columns for a cycle of two locks, one row per thread for longer
 * ones. The runtime and the lockwatch command both write it with this.
 */
void lw_report_format_scenario(lw_buf_t *b, uint32_t n, const lw_scenario_step_t *steps);

/* Appends the text of r (see docs/report-format.md) to b. */
void lw_report_format_text(const lw_report_t *r, lw_buf_t *b);

/* Appends the JSON document of a run with reports and suppressed reports (lists) to b. */
void lw_report_format_json(lw_buf_t *b, const lw_report_t *reports, const lw_report_t *suppressed,
                           const lw_run_info_t *run);

/* Fork hook: the child starts with an empty store (and a free lock). */
void lw_report_fork_child(void);
void lw_report_fork_prepare(void);
void lw_report_fork_parent(void);

/* Called by the default sink after a report when halt_on_error is set. */
extern void (*lw_report_halt)(void);

/*
 * Called by lw_report_submit after the sink took a report (NULL: nothing),
 * holding no lockwatch lock and never in a signal handler.
 */
extern void (*lw_report_after_submit)(void);

#endif
