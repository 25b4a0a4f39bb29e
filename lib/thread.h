/*
 * thread.h - per-thread state: the held-lock stack, the chain cache, the
 * call-site map and the table of orders the thread has published; and the
 * table of thread facts (tid, creator, creation stack) that reports cite.
 */
#ifndef LW_THREAD_H
#define LW_THREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "heldset.h"
#include "registry.h"
#include "types.h"
#include "u64map.h"

/*
 * One lock the thread holds. A lock released from the middle of the stack
 * leaves a hole (addr and id 0, rec NULL) that the live entries around it
 * link over (below, above); holes at the top go at once, the others when
 * they outnumber the live entries (the stack is compacted).
 */
typedef struct lw_held {
  uintptr_t addr;
  lw_lock_t *rec;
  uint64_t id;
  /*
   * Rolling hash of the walk that publish_orders makes from this entry
   * down: this entry and those below it down to, and including, the first
   * one that stops the walk (a blocking exclusive acquisition not marked
   * LW_HELD_REBRIDGE).
   */
  uint64_t chain;
  uint32_t stack; /* depot id of the stack at the first acquisition from its call site */
  uint32_t count; /* acquisitions by the owner (recursive locks); | LW_HELD_SAMPLED */
  uint32_t foreign; /* the lock's foreign_unlocks when it was taken */
  uint32_t below;   /* index of the live entry below (LW_HELD_NONE: none) */
  struct lw_hset *set; /* the held set up to this entry, made when first needed; owned */
  uint8_t mode;   /* enum lw_mode */
  uint8_t flags;  /* LW_ACQ_* of the acquisition */
  uint8_t type;
  uint32_t above; /* index of the live entry above (LW_HELD_NONE: none) */
  uint64_t since; /* with LW_HELD_SAMPLED: when the hold began (profile clock) */
} lw_held_t;
#define LW_HELD_NONE UINT32_MAX

/* Up to this many held locks the stack is scanned; beyond, an address index is kept. */
#define LW_HELD_SCAN 32

/*
 * In a held entry's count: its hold is timed (profile=1). The count then
 * differs from 1, so its release leaves the fast path, which tests count == 1.
 */
#define LW_HELD_SAMPLED 0x80000000u
#define LW_HELD_COUNT(h) ((h)->count & ~LW_HELD_SAMPLED)

struct lw_pub_slot; /* an order this thread published, thread.c */

/* The fast path's caches: lock address -> record, and call site -> stack. */
#define LW_LCACHE_SIZE 64
#define LW_SCACHE_SIZE 64
#define LW_CHAIN_FRONT_SIZE 64
typedef struct lw_lcache {
  uintptr_t addr;
  lw_lock_t *rec;
  uint64_t id;      /* valid while rec->id still equals it */
  uintptr_t pc;     /* the call site this lock was last taken from, and its stack */
  uint64_t context; /* the last chain key validated for this lock (0: none) */
  uint32_t stack;
  uint32_t acq; /* acquisitions through this entry not yet folded into the profile */
  uint8_t type;
} lw_lcache_t;
typedef struct lw_scache {
  uintptr_t pc;
  uint32_t stack;
} lw_scache_t;

/* Records of ended identities a thread buries at once (core.c, lw__retire). */
#define LW_DEAD_BATCH 64

/* The lock cache grows (to LW_LCACHE_MAX entries) for threads that use many locks. */
#define LW_LCACHE_MAX 4096
#define LW_TUNE_WINDOW 65536 /* acquisitions between looks at the miss rate (a power of two) */
static inline uint32_t lw_lcache_index(uintptr_t addr, uint32_t mask) {
  return (uint32_t)((addr >> 3) ^ (addr >> 13)) & mask;
}
static inline uint32_t lw_scache_index(uintptr_t pc) {
  return (uint32_t)(pc ^ (pc >> 6)) & (LW_SCACHE_SIZE - 1);
}

typedef struct lw_thread {
  /* the fast path's fields first, together */
  lw_held_t *held;
  uint32_t nheld, cap_held; /* nheld: entries up to the top one, holes included */
  /* the fast path leaves the held stack to the slow functions while set (holes, or indexed) */
  bool held_slow;
  uint64_t acquisitions, fast_hits;
  uint64_t next_tick; /* acquisitions at which lw__tick runs next (tuning, profile samples) */
  lw_lcache_t *lcache; /* lcache_mask + 1 entries: lcache0, or a grown array */
  uint32_t lcache_mask;
  uint32_t lcache_misses; /* since the last look at the miss rate */
  lw_lcache_t lcache0[LW_LCACHE_SIZE];
  lw_scache_t scache[LW_SCACHE_SIZE];
  uint64_t chain_front[LW_CHAIN_FRONT_SIZE]; /* recent chain-cache hits, direct-mapped */
  uint32_t seq; /* lockwatch thread number, T<seq> in reports; 0 is the first thread */
  pid_t tid;
  lw_u64map_t chains;        /* acquisition keys already validated */
  lw_u64map_t sites;         /* return address -> depot id of the stack there */
  lw_u64map_t conds;         /* (condvar, mutex id) pairs already checked */
  struct lw_pub_slot *pub; /* orders published by this thread: open addressing, inline */
  uint32_t pub_mask, pub_count;
  uint64_t flush_mark;       /* lw_registry_retired() when the order caches were last emptied */
  struct lw_thread *next_all, *next_free;
  bool live;
  uint32_t misuse_seen; /* misuse found in this thread's calls (a failed call it explains) */
  /*
   * Blocked-wait state, read by other threads looking for a deadlock. A
   * thread publishes it before it blocks and clears it after; while it is
   * blocked its held stack does not change, so wait_seq read before and
   * after reading the stack proves the stack was read whole.
   */
  _Atomic uint64_t wait_id; /* id of the lock waited for; 0 when not waiting */
  lw_lock_t *wait_rec;
  _Atomic uint32_t wait_seq; /* bumped at every wait begin and end */
  uint32_t wait_stack;
  uint8_t wait_mode;
  bool wait_reported;
  _Atomic uint64_t watch_since; /* a wait the watcher checks: when it began (ns; 0: none) */
  /* held arrays outgrown but kept readable until exit, for those readers */
  struct lw_old_held *old_held;
  /* the held stack's slow-path bookkeeping (thread.c, "held stack") */
  uint32_t nholes;    /* holes below the top */
  uint32_t sets_from; /* entries from here up may have no (or a stale) held set */
  uint32_t held_dups; /* entries whose address another entry has too (indexed mode) */
  bool indexed;       /* held_index is kept */
  struct lw_held_index *held_index; /* address -> entry, with more than LW_HELD_SCAN held */
  uint64_t next_sample; /* profile: acquisitions at which the next hold is timed */
  uint64_t rng;         /* profile: state of the sampling intervals' generator */
  lw_u64map_t classes; /* (stack, how) -> class: the class table's answers (class.c) */
  /* identities this thread ended whose records wait to be buried together (core.c) */
  uint32_t ndead;
  lw_lock_t *dead[LW_DEAD_BATCH];
  uintptr_t dead_addr[LW_DEAD_BATCH];
} lw_thread_t;

/* Thread-local words of the fast path, together so one TLS offset reaches both. */
struct lw_tls {
  int guard;          /* non-zero while the thread runs lockwatch code */
  lw_thread_t *self;  /* the thread's state (NULL until its first lock operation) */
};
extern __thread struct lw_tls lw_tls __attribute__((tls_model("initial-exec")));
#define lw_tls_guard (lw_tls.guard)
#define lw_tls_self (lw_tls.self)

/*
 * Numbers a thread about to be created by thread parent (seq + 1; 0 if
 * unknown) at create_stack, so threads are numbered in creation order.
 * Returns the number, or LW_NO_SEQ when memory is exhausted.
 */
uint32_t lw_thread_new_seq(uint32_t parent, uint32_t create_stack);
#define LW_NO_SEQ UINT32_MAX

/*
 * Creates the state of the calling thread with the number seq from
 * lw_thread_new_seq, or a new number (unknown creator) if seq is LW_NO_SEQ.
 * Returns NULL when memory is exhausted.
 */
lw_thread_t *lw_thread_create(uint32_t seq);

/* Returns t's state to the free list; t must not be used afterwards. */
void lw_thread_release(lw_thread_t *t);

/*
 * Called now and then by the fast path: grows t's lock cache when it misses
 * often (a thread cycling over more locks than it holds entries).
 */
void lw_thread_tune_lcache(lw_thread_t *t);

/* The next multiple of LW_TUNE_WINDOW after n acquisitions: when t's lock cache is next tuned. */
static inline uint64_t lw_thread_next_window(uint64_t n) {
  return (n | (LW_TUNE_WINDOW - 1)) + 1;
}

/* Makes room for one more held entry; returns false on OOM. */
bool lw_thread_reserve_held(lw_thread_t *t);

/*
 * The held stack's slow operations, each O(1) amortised whatever the number
 * held. A blocking exclusive acquisition not marked LW_HELD_REBRIDGE stops
 * the walk of publish_orders.
 */
static inline bool lw_held_stops(unsigned mode, unsigned flags) {
  return mode == LW_MODE_WRITE && !(flags & (LW_ACQ_TRY | LW_HELD_REBRIDGE));
}

/* The rolling hash of a held stack, one entry at a time (an invertible step: no mixing). */
static inline uint64_t lw_chain_step(uint64_t prev, uint64_t id, unsigned mode, unsigned flags) {
  uint64_t x = id << 4 | (uint64_t)mode << 1 | (flags & LW_ACQ_TRY) |
               ((flags & LW_HELD_REBRIDGE) ? 4u : 0u);
  return (prev ^ x) * 0x9e3779b97f4a7c15ULL + 1;
}

/* The chain of an entry pushed on top of `below` (NULL: on an empty stack). */
static inline uint64_t lw_chain_of(const lw_held_t *below, uint64_t id, unsigned mode,
                                   unsigned flags) {
  uint64_t prev = below && !lw_held_stops(mode, flags) ? below->chain : 0;
  return lw_chain_step(prev, id, mode, flags);
}


/* Pushes e (its links, chain and set are filled in); false on OOM. */
bool lw_held_push(lw_thread_t *t, const lw_held_t *e);

/* The index of the newest live entry for addr, or LW_HELD_NONE. */
uint32_t lw_held_find(const lw_thread_t *t, uintptr_t addr);

/*
 * Removes entry i, whatever its count: its held set is released, the walk
 * hashes above it are redone up to the first entry that stops walks, and
 * if a live lock is below it, the entries above it whose walks stopped at
 * it are marked LW_HELD_REBRIDGE (see docs/design.md).
 */
void lw_held_remove(lw_thread_t *t, uint32_t i);

/* Number of live entries. */
static inline uint32_t lw_held_live(const lw_thread_t *t) { return t->nheld - t->nholes; }

/* Forgets every entry (thread exit, fork child), releasing their sets. */
void lw_held_clear(lw_thread_t *t);

/*
 * Empties t's order caches (chains and published edges) when locks that
 * died since the last time could fill at least half of them: entries about
 * dead locks can never be hit again. Amortized O(1) per dead lock.
 */
void lw_thread_trim_orders(lw_thread_t *t);

/* Has t already published from -> to with this mode pair? */
bool lw_thread_has_edge(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair);

/* Remembers that t published from -> to with this mode pair. */
void lw_thread_add_edge(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair);

/*
 * The same, remembering whether the edge's gate set was still non-empty
 * (then a new held set of t's for the same edge must narrow it again) and
 * a hash of the gate candidates t narrowed it with (the same candidates
 * need not narrow it again).
 */
void lw_thread_put_edge(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair, bool gated,
                        uint64_t gate_sig);

/*
 * -1 if t has not published from -> to with this pair; else whether it was
 * gated then, with the hash of the candidates in *gate_sig (may be NULL).
 */
int lw_thread_edge_gated(lw_thread_t *t, uint64_t from, uint64_t to, unsigned pair,
                         uint64_t *gate_sig);

/*
 * Happens-before between threads through create and join (docs/rules.md).
 * lw_thread_new_seq records a creation; a started thread records its
 * pthread_t (handle); a join that returned records who joined it.
 * lw_thread_before(a, b) tells whether all of thread a's life came before
 * thread b started: a was joined by a thread that then created b or one of
 * b's creators (following joins of joiners). Takes only a leaf lock.
 */
void lw_thread_hb_start(uint32_t seq, uintptr_t handle);
void lw_thread_hb_joined(uint32_t joiner, uintptr_t handle);
bool lw_thread_before(uint32_t a, uint32_t b);
void lw_thread_hb_fork_prepare(void);
void lw_thread_hb_fork_parent(void);
void lw_thread_hb_fork_child(void);

/* Identities ended by live threads whose records are not yet buried (lock-free, approximate). */
uint64_t lw_thread_dead_pending(void);

/* The list of thread states, for walking them under lw_threads_lock. */
void lw_threads_lock(void);
void lw_threads_unlock(void);
lw_thread_t *lw_threads_first(void); /* then ->next_all; skip !live ones */

/* Finds the seq of a live thread by kernel tid; LW_NO_SEQ if none. */
uint32_t lw_thread_seq_of_tid(pid_t tid);

/* Facts about a thread, kept after it exits. */
typedef struct lw_thread_info {
  pid_t tid;
  uint32_t parent; /* seq + 1 of the creating thread; 0 if unknown */
  uint32_t create_stack;
  bool alive;
} lw_thread_info_t;

/* Copies the facts of thread seq into *out; returns false if unknown. */
bool lw_thread_info(uint32_t seq, lw_thread_info_t *out);

/* Sums counters over all threads, live and gone. */
void lw_thread_stats(uint64_t *threads, uint64_t *acquisitions, uint64_t *fast_hits,
                     uint64_t *bytes);

/* Fork hooks; the child keeps only the calling thread. */
void lw_thread_fork_prepare(void);
void lw_thread_fork_parent(void);
void lw_thread_fork_child(void);

#endif
