/*
 * test_core.c - the lock events of lib/core.c, driven as the preload drives
 * them but without interposition: real pthreads call lw_acquire_before /
 * lw_acquire_after / lw_release on fake lock addresses, and lw_report_sink is
 * replaced by a function that keeps the reports for inspection.
 *
 * Covers: AB in one thread then BA in another gives exactly one
 * lock-order-inversion naming both locks, edges and threads (twin: the same
 * order everywhere is silent); the same cycle again (also through a new mode
 * pair) is not reported twice, a different cycle is; trylocks add no edge
 * into the lock, but orders taken while a trylocked lock is held count;
 * recursive re-locks only count; read-held locks do not stop the edge walk
 * (A(w) B(r) C(w) against C A); reader-preferring rwlocks ignore
 * read-on-read cycles; 1,000 locks held at once, released in reverse and in
 * random order (held stack and chain hashes stay consistent); out-of-order
 * release; destroy/re-init and type change give a new identity; statistics
 * (acquisitions, fast-path hits, edges, locks); concurrent threads; and
 * lw_core_finish (exit status, JSON document).
 *
 * Each test uses its own static lock objects and counts reports per test,
 * so the tests also run with CK_FORK=no (except the lw_core_finish ones,
 * which are skipped then: it works once per process).
 */
#include <check.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "depot.h"
#include "options.h"
#include "registry.h"
#include "report.h"
#include "types.h"

#define W LW_MODE_WRITE
#define R LW_MODE_READ

/* ---- captured reports ----------------------------------------------------- */

enum { MAX_REPORTS = 64 };
static pthread_mutex_t reports_mu = PTHREAD_MUTEX_INITIALIZER;
static lw_report_t *reports[MAX_REPORTS];
static int nreports, dropped_reports;

static void capture_sink(lw_report_t *r) {
  pthread_mutex_lock(&reports_mu);
  if (nreports < MAX_REPORTS) reports[nreports++] = r;
  else dropped_reports++, lw_report_free(r);
  pthread_mutex_unlock(&reports_mu);
}

static void setup(void) {
  pthread_mutex_lock(&reports_mu);
  for (int i = 0; i < nreports; i++) lw_report_free(reports[i]);
  nreports = dropped_reports = 0;
  pthread_mutex_unlock(&reports_mu);
  lw_report_sink = capture_sink;
}

static int report_count(void) {
  pthread_mutex_lock(&reports_mu);
  int n = nreports + dropped_reports;
  pthread_mutex_unlock(&reports_mu);
  return n;
}

static uint64_t id_of(const void *addr) {
  uint64_t id = 0;
  return lw_registry_find((uintptr_t)addr, &id) ? id : 0;
}

/* Index in r->locks of the lock at addr; fails the test if absent. */
static uint32_t lock_index(const lw_report_t *r, const void *addr) {
  for (uint32_t i = 0; i < r->nlocks; i++)
    if (r->locks[i].addr == (uintptr_t)addr) return i;
  ck_abort_msg("lock %p is not in the report", addr);
  return UINT32_MAX;
}

/* Checks that r is an inversion whose cycle is exactly the locks at addrs, in cycle order. */
static void check_cycle_report(const lw_report_t *r, const void *const *addrs, uint32_t n) {
  ck_assert_uint_eq(r->kind, LW_REPORT_LOCK_ORDER_INVERSION);
  ck_assert_uint_eq(r->nlocks, n);
  ck_assert_uint_eq(r->nedges, n);
  ck_assert_uint_lt(r->closing_edge, n);
  uint32_t first = lock_index(r, addrs[0]);
  for (uint32_t k = 0; k < n; k++) {
    uint32_t i = (first + k) % n;
    ck_assert_uint_eq(r->locks[i].addr, (uintptr_t)addrs[k]);
    ck_assert_uint_eq(r->locks[i].id, id_of(addrs[k]));
    ck_assert_uint_eq(r->edges[i].from, i);
    ck_assert_uint_eq(r->edges[i].to, (i + 1) % n);
  }
  /* the cycle starts at the lock with the smallest id */
  for (uint32_t i = 1; i < n; i++) ck_assert_uint_lt(r->locks[0].id, r->locks[i].id);
}

/* ---- threads and lock operations ---------------------------------------------- */

typedef void (*body_fn)(lw_thread_t *t, void *arg);

struct run {
  body_fn fn;
  void *arg;
  uint32_t seq;
};

static void *runner(void *p) {
  struct run *r = p;
  lw_thread_t *t = lw_core_thread();
  ck_assert_ptr_nonnull(t);
  ck_assert_ptr_eq(lw_core_thread(), t);
  r->seq = t->seq;
  r->fn(t, r->arg);
  lw_core_thread_exit(t);
  ck_assert_ptr_null(lw_tls_self);
  return NULL;
}

/* Runs fn in a new thread, waits for it, and returns its lockwatch number. */
static uint32_t in_thread(body_fn fn, void *arg) {
  struct run r = {fn, arg, UINT32_MAX};
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, runner, &r), 0);
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  ck_assert_uint_ne(r.seq, UINT32_MAX);
  return r.seq;
}

/* The kind the next acquisition's lock has, when it is met for the first time. */
static __thread unsigned next_kind;
static unsigned kind_of_next(uintptr_t addr) {
  (void)addr;
  return next_kind;
}

static void acquire(lw_thread_t *t, const void *addr, unsigned type, unsigned kind, unsigned mode,
                    unsigned flags) {
  lw_acq_t a;
  next_kind = kind;
  lw_acquire_before(t, &a, (uintptr_t)addr, type, kind_of_next, mode, flags,
                    (uintptr_t)__builtin_return_address(0));
  ck_assert_ptr_nonnull(a.rec);
  lw_acquire_after(t, &a, true);
}

static void lk(lw_thread_t *t, const void *addr) { acquire(t, addr, LW_TYPE_MUTEX, 0, W, 0); }
static void ul(lw_thread_t *t, const void *addr) { lw_release(t, (uintptr_t)addr, LW_TYPE_MUTEX, NULL, 0); }

/* A nest of acquisitions, released in reverse order. */
struct nest {
  const void *locks[8];
  unsigned flags[8], modes[8];
  unsigned type, kind;
  int n;
};

static void nest_body(lw_thread_t *t, void *arg) {
  const struct nest *s = arg;
  uint32_t base = t->nheld;
  for (int i = 0; i < s->n; i++)
    acquire(t, s->locks[i], s->type, s->kind, s->modes[i], s->flags[i]);
  ck_assert_uint_eq(t->nheld, base + (uint32_t)s->n);
  for (int i = s->n; i-- > 0;) ul(t, s->locks[i]);
  ck_assert_uint_eq(t->nheld, base);
}

/* Locks a then b (blocking, write) in a new thread; returns its number. */
static uint32_t nest2(const void *a, const void *b) {
  struct nest s = {{a, b}, {0}, {0}, LW_TYPE_MUTEX, 0, 2};
  return in_thread(nest_body, &s);
}


/* ---- inversions ---------------------------------------------------------------- */

START_TEST(test_ab_ba_reported) {
  static char A, B;
  uint32_t t1 = nest2(&A, &B);
  ck_assert_int_eq(report_count(), 0);
  uint32_t t2 = nest2(&B, &A);
  ck_assert_uint_ne(t1, t2);
  ck_assert_int_eq(report_count(), 1);
  const lw_report_t *r = reports[0];
  const void *cyc[] = {&A, &B};
  check_cycle_report(r, cyc, 2);
  ck_assert_uint_ge(r->seq, 1);
  /* A was seen first: smallest id, so the report starts at A */
  uint32_t ia = lock_index(r, &A), ib = lock_index(r, &B);
  ck_assert_uint_eq(ia, 0);
  ck_assert_uint_eq(ib, 1);
  ck_assert_uint_eq(r->locks[ia].type, LW_TYPE_MUTEX);
  /* edges[0] A -> B by thread 1, edges[1] B -> A by thread 2, which closed it */
  ck_assert_uint_eq(r->edges[0].w.thread, t1);
  ck_assert_uint_eq(r->edges[1].w.thread, t2);
  ck_assert_uint_eq(r->closing_edge, 1);
  for (int i = 0; i < 2; i++) {
    ck_assert_uint_eq(r->edges[i].from_mode, W);
    ck_assert_uint_eq(r->edges[i].to_mode, W);
    ck_assert_uint_eq(r->edges[i].other_thread, 0);
    ck_assert_uint_ne(r->edges[i].w.stack_to, 0);
    ck_assert_uint_ne(r->edges[i].w.stack_from, 0);
  }
  /* the held set of each witness is the one lock held at that moment */
  uint32_t n = 0;
  ck_assert_uint_eq(r->edges[0].nheld_ids, 1);
  ck_assert_uint_eq(r->edges[0].held_ids[0], id_of(&A));
  ck_assert_uint_eq(r->edges[1].nheld_ids, 1);
  ck_assert_uint_eq(r->edges[1].held_ids[0], id_of(&B));
  ck_assert_ptr_nonnull(lw_depot_get(&lw_stacks, r->edges[0].w.stack_to, &n));
  ck_assert_uint_gt(n, 0);
}
END_TEST

START_TEST(test_same_order_silent) {
  static char A, B;
  lw_stats_t s0, s1;
  lw_core_stats(&s0);
  nest2(&A, &B);
  nest2(&A, &B);
  ck_assert_int_eq(report_count(), 0);
  lw_core_stats(&s1);
  ck_assert_uint_eq(s1.edges - s0.edges, 1);
}
END_TEST

START_TEST(test_repeat_cycle_reported_once) {
  static char A, B;
  nest2(&A, &B);
  nest2(&B, &A);
  ck_assert_int_eq(report_count(), 1);
  for (int i = 0; i < 3; i++) {
    nest2(&A, &B);
    nest2(&B, &A);
  }
  ck_assert_int_eq(report_count(), 1);
}
END_TEST

START_TEST(test_same_cycle_new_modes_deduped) {
  /* writer-preferring rwlocks: B(w) -> A(r) is a new mode pair on the edge B -> A */
  static char A, B, C;
  struct nest ab = {{&A, &B}, {0}, {W, W}, LW_TYPE_RWLOCK, 0, 2};
  struct nest ba = {{&B, &A}, {0}, {W, W}, LW_TYPE_RWLOCK, 0, 2};
  struct nest ba_r = {{&B, &A}, {0}, {W, R}, LW_TYPE_RWLOCK, 0, 2};
  in_thread(nest_body, &ab);
  in_thread(nest_body, &ba);
  ck_assert_int_eq(report_count(), 1);
  lw_stats_t s0, s1;
  lw_core_stats(&s0);
  in_thread(nest_body, &ba_r);
  lw_core_stats(&s1);
  ck_assert_uint_gt(s1.cycle_searches, s0.cycle_searches); /* it was searched... */
  ck_assert_int_eq(report_count(), 1);                      /* ...and not reported again */
  /* twin: a different cycle through C is a new report */
  struct nest bc = {{&B, &C}, {0}, {W, W}, LW_TYPE_RWLOCK, 0, 2};
  struct nest ca = {{&C, &A}, {0}, {W, W}, LW_TYPE_RWLOCK, 0, 2};
  in_thread(nest_body, &bc);
  ck_assert_int_eq(report_count(), 1);
  in_thread(nest_body, &ca);
  ck_assert_int_eq(report_count(), 2);
  const void *cyc[] = {&A, &B, &C};
  check_cycle_report(reports[1], cyc, 3);
}
END_TEST

START_TEST(test_other_thread_in_report) {
  /* two threads take A then B; the report names the second one too */
  static char A, B;
  uint32_t t1 = nest2(&A, &B);
  uint32_t t2 = nest2(&A, &B);
  nest2(&B, &A);
  ck_assert_int_eq(report_count(), 1);
  const lw_report_t *r = reports[0];
  uint32_t ia = lock_index(r, &A);
  ck_assert_uint_eq(r->edges[ia].w.thread, t1);
  ck_assert_uint_eq(r->edges[ia].other_thread, t2 + 1);
}
END_TEST

/* ---- trylocks -------------------------------------------------------------------- */

START_TEST(test_trylock_adds_no_edge) {
  static char A, B;
  struct nest a_tryb = {{&A, &B}, {0, LW_ACQ_TRY}, {W, W}, LW_TYPE_MUTEX, 0, 2};
  in_thread(nest_body, &a_tryb);
  nest2(&B, &A);
  ck_assert_int_eq(report_count(), 0);
}
END_TEST

START_TEST(test_trylock_twin_blocking_reported) {
  static char A, B;
  struct nest a_b = {{&A, &B}, {0, 0}, {W, W}, LW_TYPE_MUTEX, 0, 2};
  in_thread(nest_body, &a_b);
  nest2(&B, &A);
  ck_assert_int_eq(report_count(), 1);
}
END_TEST

START_TEST(test_timed_lock_counts) {
  /* a timed lock can block: it counts like a lock */
  static char A, B;
  struct nest a_timedb = {{&A, &B}, {0, LW_ACQ_TIMED}, {W, W}, LW_TYPE_MUTEX, 0, 2};
  in_thread(nest_body, &a_timedb);
  nest2(&B, &A);
  ck_assert_int_eq(report_count(), 1);
}
END_TEST

START_TEST(test_order_under_trylocked_lock_counts) {
  /* A, trylock B, lock C: B -> C counts, and the walk goes on past B to A -> C */
  static char A, B, C;
  struct nest s = {{&A, &B, &C}, {0, LW_ACQ_TRY, 0}, {W, W, W}, LW_TYPE_MUTEX, 0, 3};
  in_thread(nest_body, &s);
  ck_assert_int_eq(report_count(), 0);
  nest2(&C, &B); /* holding C, B blocks: B -> C -> B */
  ck_assert_int_eq(report_count(), 1);
  const void *cyc_bc[] = {&B, &C};
  check_cycle_report(reports[0], cyc_bc, 2);
  nest2(&C, &A);
  ck_assert_int_eq(report_count(), 2);
  const void *cyc_ac[] = {&A, &C};
  check_cycle_report(reports[1], cyc_ac, 2);
}
END_TEST

START_TEST(test_order_under_trylocked_lock_twin) {
  /* the same, but the other thread only trylocks B while holding C: silent */
  static char A, B, C;
  struct nest s = {{&A, &B, &C}, {0, LW_ACQ_TRY, 0}, {W, W, W}, LW_TYPE_MUTEX, 0, 3};
  in_thread(nest_body, &s);
  struct nest c_tryb = {{&C, &B}, {0, LW_ACQ_TRY}, {W, W}, LW_TYPE_MUTEX, 0, 2};
  in_thread(nest_body, &c_tryb);
  ck_assert_int_eq(report_count(), 0);
}
END_TEST

/* ---- recursive and read re-locks ----------------------------------------------------- */

static char rec_A, rec_C;

static void recursive_body(lw_thread_t *t, void *arg) {
  bool release_fully_first = arg != NULL;
  acquire(t, &rec_A, LW_TYPE_MUTEX, LW_KIND_RECURSIVE, W, 0);
  acquire(t, &rec_A, LW_TYPE_MUTEX, LW_KIND_RECURSIVE, W, 0);
  ck_assert_uint_eq(t->nheld, 1);
  ck_assert_uint_eq(t->held[0].count, 2);
  ul(t, &rec_A);
  ck_assert_uint_eq(t->nheld, 1); /* still held once */
  ck_assert_uint_eq(t->held[0].count, 1);
  if (release_fully_first) {
    ul(t, &rec_A);
    ck_assert_uint_eq(t->nheld, 0);
  }
  lk(t, &rec_C); /* A -> C only while A is still held */
  ul(t, &rec_C);
  if (!release_fully_first) {
    ck_assert_uint_eq(t->nheld, 1);
    ul(t, &rec_A);
  }
  ck_assert_uint_eq(t->nheld, 0);
  ul(t, &rec_A); /* one unlock too many: ignored */
  ck_assert_uint_eq(t->nheld, 0);
}

START_TEST(test_recursive_relock) {
  ck_assert_int_eq(report_count(), 0);
  in_thread(recursive_body, NULL);
  ck_assert_int_eq(report_count(), 0); /* no self-edge */
  nest2(&rec_C, &rec_A);
  ck_assert_int_eq(report_count(), 1);
  const void *cyc[] = {&rec_A, &rec_C};
  check_cycle_report(reports[0], cyc, 2);
}
END_TEST

START_TEST(test_recursive_relock_twin) {
  in_thread(recursive_body, (void *)1);
  nest2(&rec_C, &rec_A);
  ck_assert_int_eq(report_count(), 0);
}
END_TEST

static char rd_A, rd_B;

static void read_relock_body(lw_thread_t *t, void *arg) {
  unsigned kind = *(unsigned *)arg;
  acquire(t, &rd_A, LW_TYPE_RWLOCK, kind, R, 0);
  acquire(t, &rd_A, LW_TYPE_RWLOCK, kind, R, 0);
  ck_assert_uint_eq(t->nheld, 1);
  ck_assert_uint_eq(t->held[0].count, 2);
  acquire(t, &rd_B, LW_TYPE_RWLOCK, 0, W, 0);
  ck_assert_uint_eq(t->nheld, 2);
  ul(t, &rd_B);
  ul(t, &rd_A);
  ul(t, &rd_A);
  ck_assert_uint_eq(t->nheld, 0);
}

START_TEST(test_read_relock_counts) {
  unsigned kind = LW_KIND_READER_PREF;
  in_thread(read_relock_body, &kind);
  ck_assert_int_eq(report_count(), 0);
}
END_TEST

/* The twin: on a writer-preferring rwlock a read re-lock can wait behind a queued writer. */
START_TEST(test_read_relock_writer_pref_reported) {
  unsigned kind = 0;
  in_thread(read_relock_body, &kind);
  ck_assert_int_eq(report_count(), 1);
  ck_assert_uint_eq(reports[0]->kind, LW_REPORT_DOUBLE_LOCK);
  ck_assert_uint_eq(reports[0]->detail, LW_DETAIL_MAY_BLOCK);
  ck_assert_uint_eq(reports[0]->nevents, 2);
}
END_TEST

/* ---- the edge walk and readers -------------------------------------------------------- */

START_TEST(test_read_held_lock_does_not_stop_walk) {
  /* A(w) B(r) C(w), then C A: lockdep would stop at B and miss A -> C */
  static char A, B, C;
  struct nest s = {{&A, &B, &C}, {0}, {W, R, W}, LW_TYPE_RWLOCK, 0, 3};
  in_thread(nest_body, &s);
  struct nest ca = {{&C, &A}, {0}, {W, W}, LW_TYPE_RWLOCK, 0, 2};
  in_thread(nest_body, &ca);
  ck_assert_int_eq(report_count(), 1);
  const void *cyc[] = {&A, &C};
  check_cycle_report(reports[0], cyc, 2);
}
END_TEST

START_TEST(test_write_held_lock_stops_walk) {
  /* twin: B held for writing stops the walk; the cycle is found through B */
  static char A, B, C;
  struct nest s = {{&A, &B, &C}, {0}, {W, W, W}, LW_TYPE_RWLOCK, 0, 3};
  lw_stats_t s0, s1;
  lw_core_stats(&s0);
  in_thread(nest_body, &s);
  lw_core_stats(&s1);
  ck_assert_uint_eq(s1.edges - s0.edges, 2); /* A -> B, B -> C; not A -> C */
  struct nest ca = {{&C, &A}, {0}, {W, W}, LW_TYPE_RWLOCK, 0, 2};
  in_thread(nest_body, &ca);
  ck_assert_int_eq(report_count(), 1);
  const void *cyc[] = {&A, &B, &C};
  check_cycle_report(reports[0], cyc, 3);
}
END_TEST

START_TEST(test_reader_pref_read_cycle_silent) {
  static char A, B;
  struct nest ab = {{&A, &B}, {0}, {R, R}, LW_TYPE_RWLOCK, LW_KIND_READER_PREF, 2};
  struct nest ba = {{&B, &A}, {0}, {R, R}, LW_TYPE_RWLOCK, LW_KIND_READER_PREF, 2};
  in_thread(nest_body, &ab);
  in_thread(nest_body, &ba);
  ck_assert_int_eq(report_count(), 0);
  /* a writer in the cycle makes it real */
  struct nest ab_w = {{&A, &B}, {0}, {W, W}, LW_TYPE_RWLOCK, LW_KIND_READER_PREF, 2};
  in_thread(nest_body, &ab_w);
  ck_assert_int_eq(report_count(), 1);
}
END_TEST

START_TEST(test_writer_pref_read_cycle_reported) {
  static char A, B;
  struct nest ab = {{&A, &B}, {0}, {R, R}, LW_TYPE_RWLOCK, 0, 2};
  struct nest ba = {{&B, &A}, {0}, {R, R}, LW_TYPE_RWLOCK, 0, 2};
  in_thread(nest_body, &ab);
  in_thread(nest_body, &ba);
  ck_assert_int_eq(report_count(), 1);
  const lw_report_t *r = reports[0];
  for (uint32_t i = 0; i < 2; i++) {
    ck_assert_uint_eq(r->edges[i].from_mode, R);
    ck_assert_uint_eq(r->edges[i].to_mode, R);
    ck_assert_uint_eq(r->locks[i].type, LW_TYPE_RWLOCK);
  }
}
END_TEST

/* ---- many held locks ------------------------------------------------------------------- */

enum { MANY = 1000 };
static char many[MANY], many2[MANY];

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(uint32_t n) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng % n);
}

/* The k-th live entry of t's held stack, oldest first (holes skipped). */
static const lw_held_t *live(const lw_thread_t *t, uint32_t k) {
  for (uint32_t i = 0; i < t->nheld; i++)
    if (t->held[i].addr && k-- == 0) return &t->held[i];
  ck_abort_msg("no live held entry %u", k);
  return NULL;
}

/* The held stack of t is exactly the locks arr[order[0..n)], oldest first. */
static void check_held(const lw_thread_t *t, const char *arr, const uint32_t *order, uint32_t n) {
  ck_assert_uint_eq(lw_held_live(t), n);
  for (uint32_t i = 0; i < n; i++) {
    ck_assert_ptr_eq((const void *)live(t, i)->addr, &arr[order[i]]);
    ck_assert_uint_eq(live(t, i)->id, id_of(&arr[order[i]]));
  }
}

/* Chains of t's held stack equal those of a fresh state that takes the same stack. */
static void check_chains(lw_thread_t *t) {
  lw_thread_t *ref = lw_thread_create(LW_NO_SEQ);
  ck_assert_ptr_nonnull(ref);
  uint32_t n = lw_held_live(t);
  for (uint32_t i = 0; i < n; i++) {
    lw_acq_t a;
    lw_acquire_before(ref, &a, live(t, i)->addr, LW_TYPE_MUTEX, NULL, live(t, i)->mode,
                      live(t, i)->flags, 1);
    lw_acquire_after(ref, &a, true);
  }
  ck_assert_uint_eq(lw_held_live(ref), n);
  for (uint32_t i = 0; i < n; i++) {
    ck_assert_uint_eq(live(ref, i)->addr, live(t, i)->addr);
    ck_assert_msg(live(ref, i)->chain == live(t, i)->chain, "chain %u differs after release", i);
  }
  for (uint32_t i = ref->nheld; i-- > 0;) lw_release(ref, ref->held[i].addr, LW_TYPE_MUTEX, NULL, 0);
  lw_thread_release(ref);
}

static void many_reverse_body(lw_thread_t *t, void *arg) {
  (void)arg;
  static uint32_t order[MANY];
  for (uint32_t i = 0; i < MANY; i++) order[i] = i;
  for (uint32_t i = 0; i < MANY; i++) lk(t, &many[i]);
  check_held(t, many, order, MANY);
  for (uint32_t i = MANY; i-- > 0;) {
    ul(t, &many[i]);
    ck_assert_uint_eq(t->nheld, i);
  }
  /* the same nest again: every nested acquisition takes the fast path */
  uint64_t fast = t->fast_hits;
  for (uint32_t i = 0; i < MANY; i++) lk(t, &many[i]);
  ck_assert_uint_eq(t->fast_hits - fast, MANY - 1);
  check_held(t, many, order, MANY);
  for (uint32_t i = MANY; i-- > 0;) ul(t, &many[i]);
  ck_assert_uint_eq(t->nheld, 0);
}

START_TEST(test_thousand_held_locks) {
  lw_stats_t s0, s1;
  lw_core_stats(&s0);
  in_thread(many_reverse_body, NULL);
  lw_core_stats(&s1);
  ck_assert_int_eq(report_count(), 0);
  /* one edge per nested acquisition (the walk stops at the lock below) */
  ck_assert_uint_eq(s1.edges - s0.edges, MANY - 1);
  ck_assert_uint_eq(s1.locks - s0.locks, MANY);
  ck_assert_uint_eq(s1.acquisitions - s0.acquisitions, 2 * MANY);
  /* and the chain 0 -> 999 is closed by 999 -> 0: a 1,000-lock cycle */
  nest2(&many[MANY - 1], &many[0]);
  ck_assert_int_eq(report_count(), 1);
  ck_assert_uint_eq(reports[0]->nlocks, MANY);
  ck_assert_uint_eq(reports[0]->locks[0].addr, (uintptr_t)&many[0]);
  ck_assert_uint_eq(reports[0]->locks[MANY - 1].addr, (uintptr_t)&many[MANY - 1]);
}
END_TEST

static void many_random_body(lw_thread_t *t, void *arg) {
  (void)arg;
  static uint32_t order[MANY];
  for (uint32_t i = 0; i < MANY; i++) order[i] = i;
  for (uint32_t i = 0; i < MANY; i++) lk(t, &many2[i]);
  check_held(t, many2, order, MANY);
  uint32_t n = MANY;
  while (n > 0) {
    uint32_t k = rnd(n);
    ul(t, &many2[order[k]]);
    memmove(&order[k], &order[k + 1], (n - 1 - k) * sizeof *order);
    n--;
    check_held(t, many2, order, n);
    if (n % 97 == 0 || n < 4) check_chains(t);
  }
  ck_assert_uint_eq(t->nheld, 0);
  /* the stack still works: a new nest after all that */
  lk(t, &many2[0]);
  lk(t, &many2[1]);
  ck_assert_uint_eq(t->nheld, 2);
  ul(t, &many2[1]);
  ul(t, &many2[0]);
}

START_TEST(test_thousand_held_random_release) {
  in_thread(many_random_body, NULL);
  /* the locks were always taken in index order: nothing to report */
  ck_assert_int_eq(report_count(), 0);
}
END_TEST

/* ---- out-of-order release ----------------------------------------------------------------- */

static char ooo_A, ooo_B, ooo_C;

static void ooo_body(lw_thread_t *t, void *arg) {
  (void)arg;
  lk(t, &ooo_A);
  lk(t, &ooo_B);
  ul(t, &ooo_A); /* not the top */
  ck_assert_uint_eq(lw_held_live(t), 1);
  ck_assert_ptr_eq((const void *)live(t, 0)->addr, &ooo_B);
  uint64_t chain_b = live(t, 0)->chain;
  lk(t, &ooo_C); /* orders: B -> C, and not A -> C */
  ck_assert_uint_eq(lw_held_live(t), 2);
  ck_assert_ptr_eq((const void *)live(t, 1)->addr, &ooo_C);
  ul(t, &ooo_C);
  ul(t, &ooo_B);
  /* B's chain after A left is the chain of B taken alone */
  lk(t, &ooo_B);
  ck_assert_uint_eq(t->held[0].chain, chain_b);
  ul(t, &ooo_B);
}

START_TEST(test_out_of_order_release) {
  lw_stats_t s0, s1;
  lw_core_stats(&s0);
  in_thread(ooo_body, NULL);
  lw_core_stats(&s1);
  ck_assert_uint_eq(s1.edges - s0.edges, 2); /* A -> B, B -> C */
  /* C then A closes A -> B -> C -> A: no direct A -> C makes it shorter */
  nest2(&ooo_C, &ooo_A);
  ck_assert_int_eq(report_count(), 1);
  const void *cyc[] = {&ooo_A, &ooo_B, &ooo_C};
  check_cycle_report(reports[0], cyc, 3);
}
END_TEST

START_TEST(test_out_of_order_release_twin) {
  /* the same locks in the same order but released in order: same edges */
  static char A, B, C;
  lw_stats_t s0, s1;
  lw_core_stats(&s0);
  nest2(&A, &B);
  nest2(&B, &C);
  lw_core_stats(&s1);
  ck_assert_uint_eq(s1.edges - s0.edges, 2);
  nest2(&C, &A);
  ck_assert_int_eq(report_count(), 1);
  const void *cyc[] = {&A, &B, &C};
  check_cycle_report(reports[0], cyc, 3);
}
END_TEST

static char fail_A, fail_B, fail_C;

static void failed_timed_body(lw_thread_t *t, void *arg) {
  (void)arg;
  lk(t, &fail_A);
  lw_acq_t a;
  lw_acquire_before(t, &a, (uintptr_t)&fail_B, LW_TYPE_MUTEX, NULL, W, LW_ACQ_TIMED, 1);
  lw_acquire_after(t, &a, false); /* timed out */
  ck_assert_uint_eq(t->nheld, 1);
  lk(t, &fail_C); /* held: A only, so A -> C and not B -> C */
  ul(t, &fail_C);
  ul(t, &fail_B); /* not held: ignored */
  ck_assert_uint_eq(t->nheld, 1);
  ul(t, &fail_A);
}

START_TEST(test_failed_acquisition_not_held) {
  /* a timed lock that times out is not held, but its order A -> B stays */
  in_thread(failed_timed_body, NULL);
  nest2(&fail_C, &fail_B);
  ck_assert_int_eq(report_count(), 0);
  nest2(&fail_B, &fail_A);
  ck_assert_int_eq(report_count(), 1);
  const void *cyc[] = {&fail_A, &fail_B};
  check_cycle_report(reports[0], cyc, 2);
}
END_TEST

/* ---- identity ---------------------------------------------------------------------------------- */

static char id_A, id_B;

static void destroy_reinit_body(lw_thread_t *t, void *arg) {
  (void)arg;
  lw_lock_destroyed(t, (uintptr_t)&id_A);
  ck_assert_uint_eq(id_of(&id_A), 0);
  lw_lock_created(t, (uintptr_t)&id_A, LW_TYPE_MUTEX, 0, 0);
}

START_TEST(test_destroy_reinit_new_identity) {
  /* instance identity: the class graph (same static lock, same class) is left out */
  lw_opt.classes = 0;
  nest2(&id_A, &id_B);
  uint64_t old = id_of(&id_A);
  lw_stats_t s0, s1;
  lw_core_stats(&s0);
  in_thread(destroy_reinit_body, NULL);
  lw_core_stats(&s1);
  uint64_t now = id_of(&id_A);
  ck_assert_uint_ne(now, 0);
  ck_assert_uint_gt(now, old);
  ck_assert_uint_eq(s0.edges - s1.edges, 1); /* A -> B left with the old A */
  ck_assert_uint_eq(s1.locks_created - s0.locks_created, 1);
  ck_assert_uint_eq(s1.locks, s0.locks);
  nest2(&id_B, &id_A);
  ck_assert_int_eq(report_count(), 0);
  lw_opt.classes = 1;
}
END_TEST

START_TEST(test_destroy_reinit_twin) {
  nest2(&id_A, &id_B);
  nest2(&id_B, &id_A);
  ck_assert_int_eq(report_count(), 1);
}
END_TEST

static void reinit_only_body(lw_thread_t *t, void *arg) {
  lw_lock_created(t, (uintptr_t)arg, LW_TYPE_MUTEX, 0, 0);
}

START_TEST(test_reinit_without_destroy) {
  /* instance identity: the class graph (same static lock, same class) is left out */
  lw_opt.classes = 0;
  /* pthread_mutex_init on a live address also ends the old identity */
  static char A, B;
  nest2(&A, &B);
  uint64_t old = id_of(&A);
  in_thread(reinit_only_body, &A);
  ck_assert_uint_gt(id_of(&A), old);
  nest2(&B, &A);
  ck_assert_int_eq(report_count(), 0);
  lw_opt.classes = 1;
}
END_TEST

START_TEST(test_type_change_new_identity) {
  /* instance identity: the class graph (same static lock, same class) is left out */
  lw_opt.classes = 0;
  /* the memory of a mutex reused for an rwlock is a new lock */
  static char A, B;
  nest2(&A, &B);
  uint64_t old = id_of(&A);
  struct nest b_rwa = {{&B, &A}, {0}, {W, W}, LW_TYPE_RWLOCK, 0, 2};
  in_thread(nest_body, &b_rwa);
  ck_assert_uint_gt(id_of(&A), old);
  ck_assert_int_eq(report_count(), 0);
  lw_opt.classes = 1;
}
END_TEST

/* ---- statistics -------------------------------------------------------------------------------- */

static char st_A, st_B;

static void stats_body(lw_thread_t *t, void *arg) {
  int rounds = (int)(intptr_t)arg;
  for (int i = 0; i < rounds; i++) {
    lk(t, &st_A);
    lk(t, &st_B);
    ul(t, &st_B);
    ul(t, &st_A);
  }
}

START_TEST(test_stats) {
  lw_stats_t s0, s1;
  lw_core_stats(&s0);
  in_thread(stats_body, (void *)(intptr_t)10);
  lw_core_stats(&s1);
  ck_assert_uint_eq(s1.acquisitions - s0.acquisitions, 20);
  ck_assert_uint_eq(s1.fast_path_hits - s0.fast_path_hits, 9);
  ck_assert_uint_eq(s1.edges - s0.edges, 1);
  ck_assert_uint_eq(s1.locks - s0.locks, 2);
  ck_assert_uint_eq(s1.locks_created - s0.locks_created, 2);
  ck_assert_uint_eq(s1.threads - s0.threads, 1);
  ck_assert_uint_eq(s1.cycle_searches, s0.cycle_searches); /* an ordered edge */
  ck_assert_uint_gt(s1.stacks, 0);
  ck_assert_uint_gt(s1.bytes, 0);
  /* a second thread repeating it: its own first round is slow, the rest fast */
  in_thread(stats_body, (void *)(intptr_t)5);
  lw_core_stats(&s0);
  ck_assert_uint_eq(s0.acquisitions - s1.acquisitions, 10);
  ck_assert_uint_eq(s0.fast_path_hits - s1.fast_path_hits, 4);
  ck_assert_uint_eq(s0.edges, s1.edges);
}
END_TEST

/* ---- concurrency ----------------------------------------------------------------------------------- */

enum { CT_THREADS = 4, CT_LOCKS = 16, CT_ROUNDS = 2000 };
static char ct_locks[CT_LOCKS];
static pthread_barrier_t ct_barrier, ct_done;

struct ct_arg {
  int index;
  bool invert; /* take the pair (15, 0) once at the end, against the order */
};

static void ct_body(lw_thread_t *t, void *p) {
  const struct ct_arg *a = p;
  uint64_t s = 0x9e3779b97f4a7c15ULL * (uint64_t)(a->index + 1);
  pthread_barrier_wait(&ct_barrier);
  for (int r = 0; r < CT_ROUNDS; r++) {
    /* a random ascending subset: always the same global order */
    int taken[CT_LOCKS], n = 0;
    for (int i = 0; i < CT_LOCKS; i++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      if (s & 1) {
        lk(t, &ct_locks[i]);
        taken[n++] = i;
      }
    }
    while (n > 0) ul(t, &ct_locks[taken[--n]]);
  }
  /* once every order is in (later orders could close other cycles through it) */
  pthread_barrier_wait(&ct_done);
  if (a->invert) {
    lk(t, &ct_locks[CT_LOCKS - 1]);
    lk(t, &ct_locks[0]);
    ul(t, &ct_locks[0]);
    ul(t, &ct_locks[CT_LOCKS - 1]);
  }
}

static void *ct_runner(void *p) {
  struct run *r = p;
  return runner(r);
}

static void run_concurrent(bool invert) {
  pthread_t th[CT_THREADS];
  struct ct_arg args[CT_THREADS];
  struct run runs[CT_THREADS];
  ck_assert_int_eq(pthread_barrier_init(&ct_barrier, NULL, CT_THREADS), 0);
  ck_assert_int_eq(pthread_barrier_init(&ct_done, NULL, CT_THREADS), 0);
  for (int i = 0; i < CT_THREADS; i++) {
    args[i] = (struct ct_arg){i, invert && i == CT_THREADS - 1};
    runs[i] = (struct run){ct_body, &args[i], UINT32_MAX};
    ck_assert_int_eq(pthread_create(&th[i], NULL, ct_runner, &runs[i]), 0);
  }
  for (int i = 0; i < CT_THREADS; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
  pthread_barrier_destroy(&ct_barrier);
  pthread_barrier_destroy(&ct_done);
}

START_TEST(test_concurrent_consistent_order_silent) {
  lw_stats_t s0, s1;
  lw_core_stats(&s0);
  run_concurrent(false);
  lw_core_stats(&s1);
  ck_assert_int_eq(report_count(), 0);
  ck_assert_uint_gt(s1.fast_path_hits - s0.fast_path_hits, 0);
  ck_assert_uint_le(s1.edges - s0.edges, CT_LOCKS * (CT_LOCKS - 1) / 2);
}
END_TEST

START_TEST(test_concurrent_inversion_reported_once) {
  run_concurrent(true);
  ck_assert_int_eq(report_count(), 1);
  ck_assert_uint_eq(reports[0]->kind, LW_REPORT_LOCK_ORDER_INVERSION);
  /* the cycle runs from lock 0 up to 15 and back */
  const lw_report_t *r = reports[0];
  ck_assert_uint_ge(r->nlocks, 2);
  uint32_t i0 = lock_index(r, &ct_locks[0]), i15 = lock_index(r, &ct_locks[CT_LOCKS - 1]);
  ck_assert_uint_eq(r->edges[i15].to, i0);
  ck_assert_uint_eq(r->closing_edge, i15);
  /* every other edge goes up the order */
  for (uint32_t k = 0; k < r->nedges; k++)
    if (k != i15) ck_assert_uint_lt(r->locks[r->edges[k].from].addr, r->locks[r->edges[k].to].addr);
}
END_TEST

/* ---- the end of the run ------------------------------------------------------------------------ */

static char fin_A, fin_B;

/* Reads a whole file; NULL if it cannot. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 8192;
      buf = realloc(buf, cap);
      ck_assert_ptr_nonnull(buf);
    }
    size_t r = fread(buf + n, 1, 4096, f);
    if (!r) break;
    n += r;
  }
  fclose(f);
  buf[n] = 0;
  return buf;
}

static json_object *member(json_object *o, const char *key) {
  json_object *v = NULL;
  ck_assert_msg(json_object_object_get_ex(o, key, &v), "no member '%s'", key);
  return v;
}

static void finish_with(bool inversion, int status, int expected_status) {
  char path[256];
  snprintf(path, sizeof path, "/tmp/lockwatch-unit-core-%d.json", (int)getpid());
  unlink(path);
  lw_report_sink = lw_report_default_sink; /* stores reports for the JSON document */
  lw_opt.json_path = path;
  uint32_t t1 = nest2(&fin_A, &fin_B);
  if (inversion) nest2(&fin_B, &fin_A);
  ck_assert_uint_eq(lw_core_report_count(), inversion ? 1 : 0);
  ck_assert_int_eq(lw_core_finish(status, true), expected_status);
  /* only the first call does anything */
  ck_assert_int_eq(lw_core_finish(0, true), 0);
  char *text = slurp(path);
  ck_assert_ptr_nonnull(text);
  json_object *doc = json_tokener_parse(text);
  ck_assert_msg(doc != NULL, "not JSON:\n%s", text);
  ck_assert_str_eq(json_object_get_string(member(doc, "tool")), "lockwatch");
  ck_assert_int_eq(json_object_get_int(member(doc, "pid")), getpid());
  json_object *reps = member(doc, "reports");
  ck_assert_int_eq(json_object_array_length(reps), inversion ? 1 : 0);
  json_object *stats = member(doc, "stats");
  ck_assert_int_ge(json_object_get_int64(member(stats, "acquisitions")), inversion ? 4 : 2);
  ck_assert_int_ge(json_object_get_int64(member(stats, "edges")), inversion ? 2 : 1);
  if (inversion) {
    json_object *r = json_object_array_get_idx(reps, 0);
    ck_assert_str_eq(json_object_get_string(member(r, "kind")), "lock-order-inversion");
    char ma[32], mb[32], tt[32];
    snprintf(ma, sizeof ma, "M%llu", (unsigned long long)id_of(&fin_A));
    snprintf(mb, sizeof mb, "M%llu", (unsigned long long)id_of(&fin_B));
    snprintf(tt, sizeof tt, "T%u", t1);
    json_object *cycle = member(r, "cycle");
    ck_assert_int_eq(json_object_array_length(cycle), 2);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(cycle, 0)), ma);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(cycle, 1)), mb);
    json_object *e0 = json_object_array_get_idx(member(r, "edges"), 0);
    ck_assert_str_eq(json_object_get_string(member(e0, "from")), ma);
    ck_assert_str_eq(json_object_get_string(member(e0, "to")), mb);
    ck_assert_str_eq(json_object_get_string(member(e0, "thread")), tt);
    ck_assert_int_eq(json_object_get_int(member(r, "closing_edge")), 1);
  }
  json_object_put(doc);
  free(text);
  unlink(path);
}

START_TEST(test_finish_with_report_changes_status) { finish_with(true, 0, 66); }
END_TEST

START_TEST(test_finish_keeps_nonzero_status) { finish_with(true, 3, 3); }
END_TEST

START_TEST(test_finish_without_report_keeps_status) { finish_with(false, 0, 0); }
END_TEST

/* ---- runner -------------------------------------------------------------------------------------- */

static Suite *core_suite(void) {
  Suite *s = suite_create("core");
  TCase *tc = tcase_create("inversions");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_ab_ba_reported);
  tcase_add_test(tc, test_same_order_silent);
  tcase_add_test(tc, test_repeat_cycle_reported_once);
  tcase_add_test(tc, test_same_cycle_new_modes_deduped);
  tcase_add_test(tc, test_other_thread_in_report);
  tcase_add_test(tc, test_trylock_adds_no_edge);
  tcase_add_test(tc, test_trylock_twin_blocking_reported);
  tcase_add_test(tc, test_timed_lock_counts);
  tcase_add_test(tc, test_order_under_trylocked_lock_counts);
  tcase_add_test(tc, test_order_under_trylocked_lock_twin);
  tcase_add_test(tc, test_recursive_relock);
  tcase_add_test(tc, test_recursive_relock_twin);
  tcase_add_test(tc, test_read_relock_counts);
  tcase_add_test(tc, test_read_relock_writer_pref_reported);
  tcase_add_test(tc, test_read_held_lock_does_not_stop_walk);
  tcase_add_test(tc, test_write_held_lock_stops_walk);
  tcase_add_test(tc, test_reader_pref_read_cycle_silent);
  tcase_add_test(tc, test_writer_pref_read_cycle_reported);
  tcase_add_test(tc, test_out_of_order_release);
  tcase_add_test(tc, test_out_of_order_release_twin);
  tcase_add_test(tc, test_failed_acquisition_not_held);
  tcase_add_test(tc, test_destroy_reinit_new_identity);
  tcase_add_test(tc, test_destroy_reinit_twin);
  tcase_add_test(tc, test_reinit_without_destroy);
  tcase_add_test(tc, test_type_change_new_identity);
  tcase_add_test(tc, test_stats);
  suite_add_tcase(s, tc);

  tc = tcase_create("heavy");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_thousand_held_locks);
  tcase_add_test(tc, test_thousand_held_random_release);
  tcase_add_test(tc, test_concurrent_consistent_order_silent);
  tcase_add_test(tc, test_concurrent_inversion_reported_once);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);

  /* lw_core_finish runs once per process: these need Check's fork mode */
  const char *fork_env = getenv("CK_FORK");
  if (fork_env && strcmp(fork_env, "no") == 0) return s;
  tc = tcase_create("finish");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_finish_with_report_changes_status);
  tcase_add_test(tc, test_finish_keeps_nonzero_status);
  tcase_add_test(tc, test_finish_without_report_keeps_status);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  lw_options_defaults(&lw_opt);
  lw_core_init();
  lw_report_sink = capture_sink;
  SRunner *sr = srunner_create(core_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
