/*
 * test_depot.c - interned word sequences (lib/depot.c): lw_depot_put,
 * lw_depot_get and lw_depot_count.
 *
 * Covers: equal sequences (from different buffers) share an id, different
 * ones (other words, other order, prefixes, other length) do not; the empty
 * sequence is a sequence like any other; get returns the words and their
 * number, and NULL for id 0 and unknown ids; the stored copy does not follow
 * later changes of the caller's buffer; 100,000 sequences (hash table and id
 * table growth) keep their ids and words; long sequences; the byte count
 * grows; and 4 threads interning overlapping sequences agree on every id.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "depot.h"

static void expect_words(lw_depot_t *d, uint32_t id, const uintptr_t *v, uint32_t n) {
  uint32_t got_n = UINT32_MAX;
  const uintptr_t *got = lw_depot_get(d, id, &got_n);
  ck_assert_ptr_nonnull(got);
  ck_assert_uint_eq(got_n, n);
  for (uint32_t i = 0; i < n; i++) ck_assert_uint_eq(got[i], v[i]);
}

START_TEST(test_equal_sequences_share_id) {
  lw_depot_t d = LW_DEPOT_INIT;
  uintptr_t a[] = {0x401000, 0x402000, 0x403000};
  uintptr_t b[] = {0x401000, 0x402000, 0x403000};
  uint32_t ia = lw_depot_put(&d, a, 3);
  ck_assert_uint_ne(ia, 0);
  ck_assert_uint_eq(lw_depot_put(&d, b, 3), ia);
  ck_assert_uint_eq(lw_depot_put(&d, a, 3), ia);
  ck_assert_uint_eq(lw_depot_count(&d, NULL), 1);
  expect_words(&d, ia, a, 3);
}
END_TEST

START_TEST(test_different_sequences_differ) {
  lw_depot_t d = LW_DEPOT_INIT;
  uintptr_t a[] = {1, 2, 3}, swapped[] = {1, 3, 2}, other[] = {1, 2, 4}, longer[] = {1, 2, 3, 0};
  uint32_t ids[6];
  ids[0] = lw_depot_put(&d, a, 3);
  ids[1] = lw_depot_put(&d, swapped, 3);
  ids[2] = lw_depot_put(&d, other, 3);
  ids[3] = lw_depot_put(&d, a, 2);      /* prefix */
  ids[4] = lw_depot_put(&d, longer, 4); /* extension by a zero word */
  ids[5] = lw_depot_put(&d, a, 1);
  for (int i = 0; i < 6; i++) {
    ck_assert_uint_ne(ids[i], 0);
    for (int k = 0; k < i; k++) ck_assert_uint_ne(ids[i], ids[k]);
  }
  ck_assert_uint_eq(lw_depot_count(&d, NULL), 6);
  expect_words(&d, ids[0], a, 3);
  expect_words(&d, ids[1], swapped, 3);
  expect_words(&d, ids[2], other, 3);
  expect_words(&d, ids[3], a, 2);
  expect_words(&d, ids[4], longer, 4);
  expect_words(&d, ids[5], a, 1);
}
END_TEST

START_TEST(test_empty_sequence) {
  lw_depot_t d = LW_DEPOT_INIT;
  uintptr_t zero = 0, dummy = 99;
  uint32_t e1 = lw_depot_put(&d, &zero, 0);
  uint32_t e2 = lw_depot_put(&d, &dummy, 0);
  ck_assert_uint_ne(e1, 0);
  ck_assert_uint_eq(e1, e2);
  uint32_t z = lw_depot_put(&d, &zero, 1); /* one zero word is not empty */
  ck_assert_uint_ne(z, e1);
  uint32_t n = 77;
  ck_assert_ptr_nonnull(lw_depot_get(&d, e1, &n));
  ck_assert_uint_eq(n, 0);
  expect_words(&d, z, &zero, 1);
}
END_TEST

START_TEST(test_get_unknown) {
  lw_depot_t d = LW_DEPOT_INIT;
  uint32_t n = 5;
  ck_assert_ptr_null(lw_depot_get(&d, 0, &n));
  ck_assert_uint_eq(n, 0);
  n = 5;
  ck_assert_ptr_null(lw_depot_get(&d, 1, &n));
  ck_assert_uint_eq(n, 0);
  uintptr_t v = 7;
  uint32_t id = lw_depot_put(&d, &v, 1);
  ck_assert_uint_eq(id, 1); /* ids are dense from 1 */
  n = 5;
  ck_assert_ptr_null(lw_depot_get(&d, id + 1, &n));
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_null(lw_depot_get(&d, UINT32_MAX, &n));
  ck_assert_ptr_null(lw_depot_get(&d, 0, &n));
}
END_TEST

START_TEST(test_stored_copy_is_independent) {
  lw_depot_t d = LW_DEPOT_INIT;
  uintptr_t v[] = {10, 20, 30}, orig[] = {10, 20, 30};
  uint32_t id = lw_depot_put(&d, v, 3);
  v[1] = 21;
  expect_words(&d, id, orig, 3);
  uint32_t id2 = lw_depot_put(&d, v, 3);
  ck_assert_uint_ne(id2, id);
  expect_words(&d, id2, v, 3);
  /* pointers from get stay valid as the depot grows */
  uint32_t n;
  const uintptr_t *p = lw_depot_get(&d, id, &n);
  for (uintptr_t i = 0; i < 5000; i++) ck_assert_uint_ne(lw_depot_put(&d, &i, 1), 0);
  ck_assert_uint_eq(p[1], 20);
  ck_assert_ptr_eq(lw_depot_get(&d, id, &n), p);
}
END_TEST

START_TEST(test_many_sequences) {
  enum { N = 100000 };
  lw_depot_t d = LW_DEPOT_INIT;
  uint32_t *ids = malloc(N * sizeof *ids);
  ck_assert_ptr_nonnull(ids);
  uint64_t bytes0 = 0, bytes1 = 0;
  lw_depot_count(&d, &bytes0);
  for (uint32_t i = 0; i < N; i++) {
    uintptr_t v[3] = {i, (uintptr_t)i * 31, 0x7f0000000000 + i};
    ids[i] = lw_depot_put(&d, v, 1 + i % 3);
    ck_assert_uint_eq(ids[i], i + 1); /* all distinct: dense new ids */
  }
  ck_assert_uint_eq(lw_depot_count(&d, &bytes1), N);
  ck_assert_uint_gt(bytes1, bytes0 + (uint64_t)N * sizeof(uintptr_t));
  for (uint32_t i = 0; i < N; i++) {
    uintptr_t v[3] = {i, (uintptr_t)i * 31, 0x7f0000000000 + i};
    ck_assert_uint_eq(lw_depot_put(&d, v, 1 + i % 3), ids[i]);
    expect_words(&d, ids[i], v, 1 + i % 3);
  }
  ck_assert_uint_eq(lw_depot_count(&d, NULL), N);
  free(ids);
}
END_TEST

START_TEST(test_long_sequence) {
  enum { N = 20000 };
  lw_depot_t d = LW_DEPOT_INIT;
  uintptr_t *v = malloc(N * sizeof *v);
  ck_assert_ptr_nonnull(v);
  for (uint32_t i = 0; i < N; i++) v[i] = (uintptr_t)i * 0x1234567;
  uint32_t id = lw_depot_put(&d, v, N);
  ck_assert_uint_ne(id, 0);
  expect_words(&d, id, v, N);
  v[N - 1]++; /* differs in the last word only */
  uint32_t id2 = lw_depot_put(&d, v, N);
  ck_assert_uint_ne(id2, id);
  ck_assert_uint_eq(lw_depot_put(&d, v, N), id2);
  free(v);
}
END_TEST

START_TEST(test_global_depots_distinct) {
  uintptr_t v[] = {0xabc, 0xdef};
  uint32_t s = lw_depot_put(&lw_stacks, v, 2);
  ck_assert_uint_ne(s, 0);
  expect_words(&lw_stacks, s, v, 2);
}
END_TEST

/* ---- concurrency ------------------------------------------------------------ */

enum { NT = 4, SEQS = 20000 };
static lw_depot_t shared = LW_DEPOT_INIT;

struct worker {
  int index;
  uint32_t ids[SEQS];
};

static void *worker_main(void *p) {
  struct worker *w = p;
  for (uint32_t k = 0; k < SEQS; k++) {
    uint32_t i = (k * 7 + (uint32_t)w->index * 1000) % SEQS; /* each thread its own order */
    uintptr_t v[2] = {i, ~(uintptr_t)i};
    w->ids[i] = lw_depot_put(&shared, v, 2);
  }
  return NULL;
}

START_TEST(test_concurrent_put) {
  static struct worker w[NT];
  pthread_t th[NT];
  for (int i = 0; i < NT; i++) {
    w[i].index = i;
    ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
  }
  for (int i = 0; i < NT; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
  ck_assert_uint_eq(lw_depot_count(&shared, NULL), SEQS);
  for (uint32_t i = 0; i < SEQS; i++) {
    ck_assert_uint_ne(w[0].ids[i], 0);
    for (int t = 1; t < NT; t++) ck_assert_uint_eq(w[t].ids[i], w[0].ids[i]);
    uintptr_t v[2] = {i, ~(uintptr_t)i};
    expect_words(&shared, w[0].ids[i], v, 2);
  }
}
END_TEST

static Suite *depot_suite(void) {
  Suite *s = suite_create("depot");
  TCase *tc = tcase_create("basic");
  tcase_add_test(tc, test_equal_sequences_share_id);
  tcase_add_test(tc, test_different_sequences_differ);
  tcase_add_test(tc, test_empty_sequence);
  tcase_add_test(tc, test_get_unknown);
  tcase_add_test(tc, test_stored_copy_is_independent);
  tcase_add_test(tc, test_global_depots_distinct);
  suite_add_tcase(s, tc);
  tc = tcase_create("large");
  tcase_add_test(tc, test_many_sequences);
  tcase_add_test(tc, test_long_sequence);
  tcase_add_test(tc, test_concurrent_put);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(depot_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
