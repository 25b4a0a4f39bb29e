/*
 * test_registry.c - lock identity (lib/registry.c): lw_registry_get, find,
 * unlink and recycle.
 *
 * Covers: a record carries the type, kind and id it was created with; get
 * on a known address returns the same record and id; ids differ between
 * addresses and are never reused, also when a record is unlinked, recycled
 * and taken again at the same or another address; find and unlink return
 * NULL for an address with no live record; 100,000 addresses (several table
 * rebuilds) stay findable with their ids, also after half of them are
 * retired; statistics; and 4 threads creating and looking up overlapping
 * address sets (with churn on private addresses) end with exactly one live
 * id per address.
 *
 * Each test runs in its own process (Check's fork mode) but uses its own
 * address range, so the tests also pass with CK_FORK=no.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "graph.h"
#include "registry.h"
#include "types.h"

/* Fake lock addresses: never dereferenced, only used as keys. */
#define ADDR(base, i) ((uintptr_t)(base) + (uintptr_t)(i) * 64)

/* Retires the record of addr as lockwatch does: end its identity, bury it. */
static lw_lock_t *retire(uintptr_t addr) {
  uint64_t id = 0;
  lw_lock_t *rec = lw_registry_find(addr, &id);
  if (!rec || !lw_registry_kill(rec, id)) return NULL;
  lw_registry_bury(&rec, &addr, 1);
  return rec;
}

START_TEST(test_get_creates_then_returns_same) {
  uintptr_t a = ADDR(0x100000, 0), b = ADDR(0x100000, 1);
  uint64_t ida = 0, idb = 0, again = 0, found = 0;
  ck_assert_ptr_null(lw_registry_find(a, &found));
  lw_lock_t *ra = lw_registry_get(a, LW_TYPE_RWLOCK, LW_KIND_READER_PREF, 42, &ida);
  ck_assert_ptr_nonnull(ra);
  ck_assert_uint_ne(ida, 0);
  ck_assert_uint_eq(atomic_load(&ra->id), ida);
  ck_assert_uint_eq(atomic_load(&ra->addr), a);
  ck_assert_uint_eq(ra->type, LW_TYPE_RWLOCK);
  ck_assert_uint_eq(ra->kind, LW_KIND_READER_PREF);
  ck_assert_uint_eq(ra->create_stack, 42);
  ck_assert_uint_eq(ra->node.id, ida);
  ck_assert(ra->node.reader_pref);
  ck_assert_uint_eq(ra->node.ord, 0);

  lw_lock_t *rb = lw_registry_get(b, LW_TYPE_MUTEX, LW_KIND_RECURSIVE, 0, &idb);
  ck_assert_ptr_nonnull(rb);
  ck_assert_ptr_ne(ra, rb);
  ck_assert_uint_ne(ida, idb);
  ck_assert(!rb->node.reader_pref);

  /* a second get (even with other parameters) returns the live record */
  ck_assert_ptr_eq(lw_registry_get(a, LW_TYPE_MUTEX, 0, 7, &again), ra);
  ck_assert_uint_eq(again, ida);
  ck_assert_uint_eq(ra->type, LW_TYPE_RWLOCK);
  ck_assert_ptr_eq(lw_registry_find(a, &found), ra);
  ck_assert_uint_eq(found, ida);
  ck_assert_ptr_eq(lw_registry_find(b, &found), rb);
  ck_assert_uint_eq(found, idb);
}
END_TEST

START_TEST(test_kill_then_find_is_null) {
  uintptr_t a = ADDR(0x200000, 0);
  uint64_t id = 0, found = 0;
  lw_lock_t *rec = lw_registry_get(a, LW_TYPE_MUTEX, 0, 0, &id);
  ck_assert_ptr_nonnull(rec);
  ck_assert(lw_registry_kill(rec, id));
  ck_assert_uint_eq(atomic_load(&rec->id), 0);
  ck_assert_ptr_null(lw_registry_find(a, &found));
  /* an identity ends once: a second ender does not own the record */
  ck_assert(!lw_registry_kill(rec, id));
  lw_registry_bury(&rec, &a, 1);
  ck_assert_ptr_null(lw_registry_find(a, &found));
  ck_assert_ptr_null(lw_registry_find(ADDR(0x200000, 99), &found));
}
END_TEST

/* An ended record still in the table is replaced by the next lock at its address. */
START_TEST(test_ended_record_replaced) {
  uintptr_t a = ADDR(0x280000, 0);
  uint64_t id = 0, id2 = 0, found = 0;
  lw_lock_t *rec = lw_registry_get(a, LW_TYPE_MUTEX, 0, 0, &id);
  ck_assert_ptr_nonnull(rec);
  ck_assert(lw_registry_kill(rec, id));
  lw_lock_t *rec2 = lw_registry_get(a, LW_TYPE_MUTEX, 0, 0, &id2);
  ck_assert_ptr_nonnull(rec2);
  ck_assert_ptr_ne(rec2, rec); /* the ended one is not yet buried: not reused */
  ck_assert_uint_ne(id2, id);
  /* burying the ended record leaves its replacement in place */
  lw_registry_bury(&rec, &a, 1);
  ck_assert_ptr_eq(lw_registry_find(a, &found), rec2);
  ck_assert_uint_eq(found, id2);
  ck_assert_ptr_eq(retire(a), rec2);
  ck_assert_ptr_null(lw_registry_find(a, &found));
}
END_TEST

START_TEST(test_ids_never_reused) {
  uintptr_t a = ADDR(0x300000, 0), other = ADDR(0x300000, 1);
  enum { ROUNDS = 1000 };
  uint64_t *ids = malloc(ROUNDS * sizeof *ids);
  ck_assert_ptr_nonnull(ids);
  lw_lock_t *first = NULL;
  bool reused_record = false;
  for (int i = 0; i < ROUNDS; i++) {
    uint64_t id = 0, found = 0;
    lw_lock_t *rec = lw_registry_get(a, LW_TYPE_MUTEX, 0, 0, &id);
    ck_assert_ptr_nonnull(rec);
    ck_assert_uint_ne(id, 0);
    if (!first) first = rec;
    reused_record |= i > 0 && rec == first;
    ck_assert_ptr_eq(lw_registry_find(a, &found), rec);
    ck_assert_uint_eq(found, id);
    int same = -1; /* one assertion, not i of them: each one costs Check a write */
    for (int k = 0; k < i && same < 0; k++)
      if (ids[k] == id) same = k;
    ck_assert_int_eq(same, -1);
    ids[i] = id;
    ck_assert_ptr_eq(retire(a), rec);
  }
  /* the freed record is taken again (that is the point of recycling) */
  ck_assert(reused_record);
  /* recycled record at another address: new id, old address unknown */
  uint64_t id = 0, found = 0;
  lw_lock_t *rec = lw_registry_get(other, LW_TYPE_MUTEX, 0, 0, &id);
  ck_assert_ptr_eq(rec, first);
  for (int k = 0; k < ROUNDS; k++) ck_assert_uint_ne(ids[k], id);
  ck_assert_uint_eq(atomic_load(&rec->addr), other);
  ck_assert_ptr_null(lw_registry_find(a, &found));
  ck_assert_ptr_eq(lw_registry_find(other, &found), rec);
  ck_assert_uint_eq(found, id);
  free(ids);
}
END_TEST

START_TEST(test_recycled_record_has_fresh_node) {
  uintptr_t a = ADDR(0x400000, 0);
  uint64_t id1 = 0, id2 = 0;
  lw_lock_t *rec = lw_registry_get(a, LW_TYPE_RWLOCK, LW_KIND_READER_PREF, 5, &id1);
  rec->node.ord = 17; /* as if it had been in the graph */
  rec->node.mark[0] = 3;
  ck_assert_ptr_eq(retire(a), rec);
  lw_lock_t *again = lw_registry_get(a, LW_TYPE_MUTEX, LW_KIND_ERRORCHECK, 6, &id2);
  ck_assert_ptr_eq(again, rec);
  ck_assert_uint_gt(id2, id1);
  ck_assert_uint_eq(again->node.id, id2);
  ck_assert_uint_eq(again->node.ord, 0);
  ck_assert_uint_eq(again->node.mark[0], 0);
  ck_assert(!again->node.reader_pref);
  ck_assert_uint_eq(again->type, LW_TYPE_MUTEX);
  ck_assert_uint_eq(again->kind, LW_KIND_ERRORCHECK);
  ck_assert_uint_eq(again->create_stack, 6);
}
END_TEST

START_TEST(test_many_addresses) {
  enum { N = 100000 };
  const uintptr_t base = 0x10000000;
  uint64_t *ids = malloc(N * sizeof *ids);
  lw_lock_t **recs = malloc(N * sizeof *recs);
  ck_assert(ids && recs);
  uint64_t live0, created0, bytes0, live, created, bytes;
  lw_registry_stats(&live0, &created0, &bytes0);
  for (uint32_t i = 0; i < N; i++) {
    recs[i] = lw_registry_get(ADDR(base, i), LW_TYPE_MUTEX, 0, i, &ids[i]);
    ck_assert_ptr_nonnull(recs[i]);
    if (i && i % 9973 == 0) { /* earlier entries survive the rebuilds */
      uint64_t f = 0;
      ck_assert_ptr_eq(lw_registry_find(ADDR(base, 0), &f), recs[0]);
      ck_assert_uint_eq(f, ids[0]);
    }
  }
  lw_registry_stats(&live, &created, &bytes);
  ck_assert_uint_eq(live - live0, N);
  ck_assert_uint_eq(created - created0, N);
  ck_assert_uint_gt(bytes, bytes0);
  for (uint32_t i = 0; i < N; i++) {
    uint64_t f = 0;
    ck_assert_ptr_eq(lw_registry_find(ADDR(base, i), &f), recs[i]);
    ck_assert_uint_eq(f, ids[i]);
    ck_assert_uint_eq(recs[i]->create_stack, i);
    if (i) ck_assert_uint_ne(ids[i], ids[i - 1]);
  }
  /* ids are all distinct: sorted they strictly increase (single thread: in order) */
  for (uint32_t i = 1; i < N; i++) ck_assert_uint_gt(ids[i], ids[i - 1]);
  /* retire every other address: tombstones must not hide the rest */
  for (uint32_t i = 0; i < N; i += 2) ck_assert_ptr_eq(retire(ADDR(base, i)), recs[i]);
  lw_registry_stats(&live, &created, &bytes);
  ck_assert_uint_eq(live - live0, N / 2);
  for (uint32_t i = 0; i < N; i++) {
    uint64_t f = 0;
    lw_lock_t *r = lw_registry_find(ADDR(base, i), &f);
    if (i % 2) {
      ck_assert_ptr_eq(r, recs[i]);
      ck_assert_uint_eq(f, ids[i]);
    } else {
      ck_assert_ptr_null(r);
    }
  }
  /* and new addresses after that take the recycled records with new ids */
  for (uint32_t i = 0; i < N; i += 2) {
    uint64_t id = 0;
    ck_assert_ptr_nonnull(lw_registry_get(ADDR(base, N + i), LW_TYPE_MUTEX, 0, 0, &id));
    ck_assert_uint_gt(id, ids[N - 1]);
  }
  lw_registry_stats(&live, &created, &bytes);
  ck_assert_uint_eq(live - live0, N);
  ck_assert_uint_eq(created - created0, N + N / 2);
  free(ids);
  free(recs);
}
END_TEST

/* ---- concurrency ------------------------------------------------------------ */

enum { NTHREADS = 4, SHARED = 20000, PER_THREAD = 12000, CHURN = 3000 };
static const uintptr_t shared_base = 0x40000000, churn_base = 0x60000000;

struct worker {
  int index;
  uint64_t ids[SHARED]; /* id seen per shared address; 0 if not touched */
  lw_lock_t *recs[SHARED];
  int bad_churn;
};

static void *worker_main(void *arg) {
  struct worker *w = arg;
  uint64_t s = 0x12345 + (uint64_t)w->index * 7919;
  /* overlapping windows of the shared set, each walked in its own order */
  uint32_t start = (uint32_t)w->index * (SHARED / NTHREADS) / 2;
  for (uint32_t k = 0; k < PER_THREAD; k++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    uint32_t i = (start + (uint32_t)(s % PER_THREAD)) % SHARED;
    uint64_t id = 0, f = 0;
    lw_lock_t *rec = (k & 1) ? lw_registry_get(ADDR(shared_base, i), LW_TYPE_MUTEX, 0, 0, &id)
                             : lw_registry_find(ADDR(shared_base, i), &f);
    if (!(k & 1)) {
      if (!rec) continue;
      id = f;
    }
    if (!rec) return NULL;
    if (w->ids[i] && w->ids[i] != id) w->ids[i] = UINT64_MAX; /* changed under us */
    else w->ids[i] = id;
    w->recs[i] = rec;
    /* churn on private addresses: unlink/recycle while the others read */
    uintptr_t c = ADDR(churn_base, (uint32_t)w->index * CHURN + k % CHURN);
    uint64_t cid = 0, cf = 0;
    lw_lock_t *cr = lw_registry_get(c, LW_TYPE_MUTEX, 0, 0, &cid);
    if (!cr || lw_registry_find(c, &cf) != cr || cf != cid) w->bad_churn++;
    if (k % 3 == 0) {
      lw_lock_t *un = retire(c);
      if (un != cr) w->bad_churn++;
    }
  }
  return NULL;
}

START_TEST(test_concurrent_overlapping) {
  static struct worker w[NTHREADS];
  pthread_t th[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    w[i].index = i;
    ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
  uint32_t touched = 0;
  for (uint32_t i = 0; i < SHARED; i++) {
    uint64_t id = 0, f = 0;
    lw_lock_t *rec = NULL;
    for (int t = 0; t < NTHREADS; t++) {
      ck_assert_uint_ne(w[t].ids[i], UINT64_MAX);
      if (!w[t].ids[i]) continue;
      if (!id) {
        id = w[t].ids[i];
        rec = w[t].recs[i];
      }
      /* every thread saw the same record and id for this address */
      ck_assert_uint_eq(w[t].ids[i], id);
      ck_assert_ptr_eq(w[t].recs[i], rec);
    }
    lw_lock_t *live = lw_registry_find(ADDR(shared_base, i), &f);
    if (!id) {
      ck_assert_ptr_null(live);
      continue;
    }
    touched++;
    ck_assert_ptr_eq(live, rec);
    ck_assert_uint_eq(f, id);
  }
  ck_assert_uint_gt(touched, SHARED / 2);
  for (int t = 0; t < NTHREADS; t++) ck_assert_int_eq(w[t].bad_churn, 0);
  /* ids are unique across shared addresses */
  uint64_t *all = malloc(touched * sizeof *all);
  ck_assert_ptr_nonnull(all);
  uint32_t n = 0;
  for (uint32_t i = 0; i < SHARED; i++) {
    uint64_t f = 0;
    if (lw_registry_find(ADDR(shared_base, i), &f)) all[n++] = f;
  }
  ck_assert_uint_eq(n, touched);
  uint64_t maxid = 0;
  for (uint32_t i = 0; i < n; i++)
    if (all[i] > maxid) maxid = all[i];
  unsigned char *bits = calloc(maxid / 8 + 1, 1);
  ck_assert_ptr_nonnull(bits);
  for (uint32_t i = 0; i < n; i++) {
    ck_assert_uint_ne(all[i], 0);
    ck_assert_msg(!(bits[all[i] / 8] & (1u << (all[i] % 8))), "id %llu used twice",
                  (unsigned long long)all[i]);
    bits[all[i] / 8] |= (unsigned char)(1u << (all[i] % 8));
  }
  free(bits);
  free(all);
}
END_TEST

static Suite *registry_suite(void) {
  Suite *s = suite_create("registry");
  TCase *tc = tcase_create("basic");
  tcase_add_test(tc, test_get_creates_then_returns_same);
  tcase_add_test(tc, test_kill_then_find_is_null);
  tcase_add_test(tc, test_ended_record_replaced);
  tcase_add_test(tc, test_ids_never_reused);
  tcase_add_test(tc, test_recycled_record_has_fresh_node);
  suite_add_tcase(s, tc);
  tc = tcase_create("large");
  tcase_add_test(tc, test_many_addresses);
  tcase_add_test(tc, test_concurrent_overlapping);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(registry_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
