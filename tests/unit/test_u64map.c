/*
 * test_u64map.c - the open-addressed 64-bit map and set (lib/u64map.c and
 * the inline lookup in u64map.h).
 *
 * Covers: an empty map finds nothing and allocates nothing; put then get;
 * overwriting a value keeps the count; growth past 100,000 keys with every
 * key and value intact (and absent keys still absent); keys that collide in
 * their low or high bits; a set stores no values (get reports presence and
 * leaves *val alone) and uses half the memory of a map; clear empties the
 * map and keeps its kind; lw_u64_mix spreads neighbouring keys.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "u64map.h"

START_TEST(test_empty) {
  lw_u64map_t m;
  lw_u64map_init(&m, true);
  uint64_t v = 5;
  ck_assert(!lw_u64map_get(&m, 1, &v));
  ck_assert(!lw_u64map_get(&m, UINT64_MAX, NULL));
  ck_assert_uint_eq(v, 5);
  ck_assert_uint_eq(m.count, 0);
  ck_assert_ptr_null(m.keys);
  ck_assert_uint_eq(lw_u64map_bytes(&m), 0);
  ck_assert(!m.is_set);
}
END_TEST

START_TEST(test_put_get_overwrite) {
  lw_u64map_t m;
  lw_u64map_init(&m, true);
  ck_assert(lw_u64map_put(&m, 42, 4200));
  ck_assert(lw_u64map_put(&m, UINT64_MAX, 7));
  ck_assert(lw_u64map_put(&m, 1, 0));
  uint64_t v = 0;
  ck_assert(lw_u64map_get(&m, 42, &v));
  ck_assert_uint_eq(v, 4200);
  ck_assert(lw_u64map_get(&m, UINT64_MAX, &v));
  ck_assert_uint_eq(v, 7);
  v = 99;
  ck_assert(lw_u64map_get(&m, 1, &v));
  ck_assert_uint_eq(v, 0);
  ck_assert(lw_u64map_get(&m, 42, NULL));
  ck_assert(!lw_u64map_get(&m, 43, &v));
  ck_assert_uint_eq(m.count, 3);
  ck_assert(lw_u64map_put(&m, 42, 4201));
  ck_assert_uint_eq(m.count, 3);
  ck_assert(lw_u64map_get(&m, 42, &v));
  ck_assert_uint_eq(v, 4201);
}
END_TEST

static uint64_t key_of(uint32_t i) { return 0x100000000ULL * (i + 1) + (i & 0xff); }

START_TEST(test_growth_map) {
  enum { N = 150000 };
  lw_u64map_t m;
  lw_u64map_init(&m, true);
  for (uint32_t i = 0; i < N; i++) {
    ck_assert(lw_u64map_put(&m, key_of(i), (uint64_t)i * 3));
    if (i % 10007 == 0) { /* earlier keys survive each doubling */
      uint64_t v;
      ck_assert(lw_u64map_get(&m, key_of(0), &v));
      ck_assert_uint_eq(v, 0);
    }
  }
  ck_assert_uint_eq(m.count, N);
  ck_assert_uint_gt(m.mask + 1, N);                       /* grew */
  ck_assert_uint_le((uint64_t)m.count * 4, (uint64_t)(m.mask + 1) * 3); /* at most 3/4 full */
  ck_assert_uint_eq((m.mask + 1) & m.mask, 0);             /* a power of two */
  for (uint32_t i = 0; i < N; i++) {
    uint64_t v = UINT64_MAX;
    ck_assert(lw_u64map_get(&m, key_of(i), &v));
    ck_assert_uint_eq(v, (uint64_t)i * 3);
    ck_assert(!lw_u64map_get(&m, key_of(i) + 0x100, &v)); /* never a key */
  }
  ck_assert_uint_eq(lw_u64map_bytes(&m), (uint64_t)(m.mask + 1) * 16);
  lw_u64map_clear(&m);
}
END_TEST

START_TEST(test_colliding_keys) {
  /* keys equal in the low 32 bits, and keys equal in the high 32 bits */
  lw_u64map_t m;
  lw_u64map_init(&m, true);
  for (uint64_t i = 1; i <= 1000; i++) {
    ck_assert(lw_u64map_put(&m, i << 32, i));
    ck_assert(lw_u64map_put(&m, i, i + 5000));
  }
  ck_assert_uint_eq(m.count, 2000);
  for (uint64_t i = 1; i <= 1000; i++) {
    uint64_t v;
    ck_assert(lw_u64map_get(&m, i << 32, &v));
    ck_assert_uint_eq(v, i);
    ck_assert(lw_u64map_get(&m, i, &v));
    ck_assert_uint_eq(v, i + 5000);
  }
  ck_assert(!lw_u64map_get(&m, 1001ULL << 32, NULL));
}
END_TEST

START_TEST(test_set) {
  enum { N = 120000 };
  lw_u64map_t s;
  lw_u64map_init(&s, false);
  ck_assert(s.is_set);
  for (uint32_t i = 0; i < N; i++) ck_assert(lw_u64map_put(&s, key_of(i), 12345));
  ck_assert_uint_eq(s.count, N);
  ck_assert_ptr_null(s.vals);
  for (uint32_t i = 0; i < N; i++) {
    uint64_t v = 777;
    ck_assert(lw_u64map_get(&s, key_of(i), &v));
    ck_assert_uint_eq(v, 777); /* a set has no values to give */
    ck_assert(lw_u64map_get(&s, key_of(i), NULL));
  }
  ck_assert(!lw_u64map_get(&s, 3, NULL));
  ck_assert_uint_eq(lw_u64map_bytes(&s), (uint64_t)(s.mask + 1) * 8);
  /* the same keys in a map take twice the memory */
  lw_u64map_t m;
  lw_u64map_init(&m, true);
  for (uint32_t i = 0; i < N; i++) ck_assert(lw_u64map_put(&m, key_of(i), i));
  ck_assert_uint_eq(m.mask, s.mask);
  ck_assert_uint_eq(lw_u64map_bytes(&m), 2 * lw_u64map_bytes(&s));
}
END_TEST

START_TEST(test_clear) {
  lw_u64map_t s, m;
  lw_u64map_init(&s, false);
  lw_u64map_init(&m, true);
  for (uint64_t i = 1; i <= 1000; i++) {
    lw_u64map_put(&s, i, 0);
    lw_u64map_put(&m, i, i);
  }
  lw_u64map_clear(&s);
  lw_u64map_clear(&m);
  ck_assert_uint_eq(s.count, 0);
  ck_assert_uint_eq(m.count, 0);
  ck_assert(s.is_set);
  ck_assert(!m.is_set);
  ck_assert_uint_eq(lw_u64map_bytes(&s), 0);
  for (uint64_t i = 1; i <= 1000; i++) {
    ck_assert(!lw_u64map_get(&s, i, NULL));
    ck_assert(!lw_u64map_get(&m, i, NULL));
  }
  /* usable again, with the same kind */
  ck_assert(lw_u64map_put(&m, 9, 90));
  uint64_t v = 0;
  ck_assert(lw_u64map_get(&m, 9, &v));
  ck_assert_uint_eq(v, 90);
  ck_assert(lw_u64map_put(&s, 9, 90));
  ck_assert_ptr_null(s.vals);
}
END_TEST

START_TEST(test_mix) {
  ck_assert_uint_eq(lw_u64_mix(0), 0);
  ck_assert_uint_ne(lw_u64_mix(1), lw_u64_mix(2));
  /* neighbouring keys land in different slots of a small table */
  uint32_t hits[64] = {0};
  for (uint64_t i = 1; i <= 640; i++) hits[lw_u64_mix(i) & 63]++;
  for (int i = 0; i < 64; i++) ck_assert_uint_lt(hits[i], 40);
}
END_TEST

static Suite *u64map_suite(void) {
  Suite *s = suite_create("u64map");
  TCase *tc = tcase_create("map");
  tcase_add_test(tc, test_empty);
  tcase_add_test(tc, test_put_get_overwrite);
  tcase_add_test(tc, test_growth_map);
  tcase_add_test(tc, test_colliding_keys);
  tcase_add_test(tc, test_set);
  tcase_add_test(tc, test_clear);
  tcase_add_test(tc, test_mix);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(u64map_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
