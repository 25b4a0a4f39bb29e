/*
 * test_profile.c - the profile (lib/profile.c, lib/profile_text.c) driven
 * through the core's event API, without the preload.
 *
 * Covers: acquisitions counted exactly from the threads' lock caches
 * (including through evictions of a small cache); failed acquisitions;
 * contended waits with their call site; every hold timed with
 * profile_sample=1 and the estimate of the total; a destroyed lock's
 * profile kept in the group of its creation site; the order of the
 * snapshot; lw_prof_fold and the "other places" site; the table's text.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "options.h"
#include "profile.h"
#include "types.h"

#define ADDR(base, i) ((uintptr_t)(base) + (uintptr_t)(i) * 64)

static lw_thread_t *me(void) { return lw_core_thread(); }

static void take(lw_thread_t *t, uintptr_t addr, uintptr_t pc) {
  lw_acq_t a;
  lw_acquire_before(t, &a, addr, LW_TYPE_MUTEX, NULL, LW_MODE_WRITE, 0, pc);
  lw_acquire_after(t, &a, true);
}

static void drop(lw_thread_t *t, uintptr_t addr) { lw_release(t, addr, LW_TYPE_MUTEX, NULL, 1); }

/* The entry of the lock at addr in a fresh snapshot (copied), or fails. */
static lw_prof_entry_t entry_of(uintptr_t addr, bool destroyed) {
  lw_prof_snapshot_t s;
  ck_assert(lw_profile_snapshot(&s));
  lw_prof_entry_t e;
  bool found = false;
  for (uint32_t i = 0; i < s.n && !found; i++)
    if (s.e[i].addr == addr && s.e[i].destroyed == destroyed) e = s.e[i], found = true;
  lw_profile_snapshot_free(&s);
  ck_assert_msg(found, "no profile entry for %#lx", (unsigned long)addr);
  return e;
}

START_TEST(test_acquisitions_exact) {
  lw_thread_t *t = me();
  /* more locks than the lock cache holds at first: entries are evicted and folded */
  for (int round = 0; round < 50; round++)
    for (int i = 0; i < 300; i++) {
      take(t, ADDR(0x100000, i), 0x1000 + (uintptr_t)i % 3);
      drop(t, ADDR(0x100000, i));
    }
  for (int i = 0; i < 300; i += 37) {
    lw_prof_entry_t e = entry_of(ADDR(0x100000, i), false);
    ck_assert_uint_eq(lw_prof_acquisitions(&e.c), 50);
    ck_assert_uint_eq(e.c.contended, 0);
    ck_assert_uint_eq(e.nlocks, 1);
  }
}
END_TEST

START_TEST(test_failed_and_waited) {
  lw_thread_t *t = me();
  uintptr_t m = ADDR(0x200000, 0);
  take(t, m, 0x2000);
  drop(t, m);
  lw_acq_t a;
  lw_acquire_before(t, &a, m, LW_TYPE_MUTEX, NULL, LW_MODE_WRITE, LW_ACQ_TRY, 0x2001);
  lw_acquire_after(t, &a, false); /* busy */
  lw_acquire_before(t, &a, m, LW_TYPE_MUTEX, NULL, LW_MODE_WRITE, 0, 0x2002);
  uint64_t w0 = lw_profile_now() - 5000000; /* it waited 5 ms */
  lw_profile_waited(t, &a, w0);
  lw_acquire_after(t, &a, true);
  drop(t, m);
  lw_prof_entry_t e = entry_of(m, false);
  ck_assert_uint_eq(lw_prof_acquisitions(&e.c), 2);
  ck_assert_uint_eq(e.c.failed, 1);
  ck_assert_uint_eq(e.c.contended, 1);
  ck_assert_uint_ge(e.c.wait_ns, 5000000);
  ck_assert_uint_lt(e.c.wait_ns, 5000000 + 1000000000ull);
  ck_assert_uint_eq(e.c.wait_max_ns, e.c.wait_ns);
  ck_assert_uint_eq(e.c.wait_sites[0].stack, a.stack);
  ck_assert_uint_eq(e.c.wait_sites[0].count, 1);
  ck_assert_uint_eq(e.c.wait_sites[1].stack, 0);
}
END_TEST

START_TEST(test_every_hold_timed) {
  lw_thread_t *t = me();
  uintptr_t m = ADDR(0x300000, 0);
  struct timespec ms = {0, 1000000};
  for (int i = 0; i < 10; i++) {
    take(t, m, 0x3000);
    nanosleep(&ms, NULL);
    drop(t, m);
  }
  lw_prof_entry_t e = entry_of(m, false);
  ck_assert_uint_eq(e.c.hold_samples, 10);
  ck_assert_uint_ge(e.c.hold_sampled_ns, 10 * 1000000ull);
  ck_assert_uint_eq(e.hold_ns, e.c.hold_sampled_ns); /* every hold: the estimate is the sum */
  ck_assert_uint_ge(e.c.hold_max_ns, 1000000);
  ck_assert_uint_eq(e.c.hold_sites[0].count, 10);
}
END_TEST

START_TEST(test_destroyed_locks_grouped) {
  lw_thread_t *t = me();
  for (int i = 0; i < 5; i++) {
    uintptr_t m = ADDR(0x400000, i);
    lw_lock_created(t, m, LW_TYPE_MUTEX, 0, 0x4000); /* one creation site */
    for (int k = 0; k < 3; k++) {
      take(t, m, 0x4001);
      drop(t, m);
    }
    lw_lock_destroyed(t, m);
  }
  lw_prof_entry_t e = entry_of(ADDR(0x400000, 0), true);
  ck_assert_uint_eq(e.nlocks, 5);
  ck_assert_uint_eq(lw_prof_acquisitions(&e.c), 15);
  ck_assert(e.destroyed);
}
END_TEST

START_TEST(test_snapshot_order) {
  lw_thread_t *t = me();
  uintptr_t hot = ADDR(0x500000, 0), cold = ADDR(0x500000, 1);
  for (int i = 0; i < 3; i++) {
    lw_acq_t a;
    lw_acquire_before(t, &a, hot, LW_TYPE_MUTEX, NULL, LW_MODE_WRITE, 0, 0x5000);
    lw_profile_waited(t, &a, lw_profile_now() - 1000000);
    lw_acquire_after(t, &a, true);
    drop(t, hot);
  }
  for (int i = 0; i < 100; i++) {
    take(t, cold, 0x5001);
    drop(t, cold);
  }
  lw_prof_snapshot_t s;
  ck_assert(lw_profile_snapshot(&s));
  ck_assert_uint_ge(s.n, 2);
  ck_assert_uint_eq(s.e[0].addr, hot);
  for (uint32_t i = 1; i < s.n; i++) ck_assert_uint_le(s.e[i].c.wait_ns, s.e[i - 1].c.wait_ns);
  lw_profile_snapshot_free(&s);
}
END_TEST

START_TEST(test_fold_and_other_sites) {
  lw_prof_counts_t a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  for (uint32_t s = 1; s <= LW_PROF_SITES + 2; s++)
    lw_prof_site_add(a.wait_sites, &a.wait_other, 0x100 + s, s, 1, 10 * s, 10 * s);
  ck_assert_uint_eq(a.wait_other.count, 2); /* the sites that did not fit */
  ck_assert_uint_eq(a.wait_other.max_ns, 10 * (LW_PROF_SITES + 2));
  a.attempts = 10, a.failed = 1, a.wait_max_ns = 5, a.hold_samples = 2, a.hold_sampled_ns = 20;
  b.attempts = 5, b.wait_max_ns = 50, b.hold_samples = 1, b.hold_sampled_ns = 10;
  lw_prof_site_add(b.wait_sites, &b.wait_other, 0x101, 9, 4, 7, 7); /* same place, other stack */
  lw_prof_fold(&a, &b);
  ck_assert_uint_eq(lw_prof_acquisitions(&a), 14);
  ck_assert_uint_eq(a.wait_max_ns, 50);
  ck_assert_uint_eq(a.wait_sites[0].count, 5);
  ck_assert_uint_eq(a.wait_sites[0].ns, 17);
  ck_assert_uint_eq(lw_prof_hold_estimate(&a), 140); /* 30 ns over 3 samples, 14 acquisitions */
}
END_TEST

START_TEST(test_table_text) {
  lw_prof_trow_t row;
  memset(&row, 0, sizeof row);
  row.id = "M3";
  row.name = "accounts+64";
  row.type = "mutex";
  row.acquisitions = 100;
  row.contended = 40;
  row.wait_ns = 12345678;
  row.wait_max_ns = 2000000;
  row.hold_ns = 3000;
  row.wait_sites[0] = (lw_prof_trow_site_t){"bank.c:12 in transfer (bank+0x1f)", 40, 12345678,
                                            2000000};
  row.nwait_sites = 1;
  lw_prof_table_t t = {"pid 7", 1, 100, 40, 12345678, 256, &row, 1};
  lw_buf_t b = LW_BUF_INIT;
  lw_prof_format_table(&b, &t);
  const char *s = lw_buf_str(&b);
  ck_assert_ptr_nonnull(strstr(s, "lockwatch: profile of pid 7: 1 lock acquired 100 times, 40 "
                                  "contended, 12.345 ms of waiting\n"));
  ck_assert_ptr_nonnull(strstr(s, "\n     1          100           40       12.345        2.000 "
                                  "       0.003        0.000  M3 accounts+64 (mutex)\n"));
  ck_assert_ptr_nonnull(strstr(s, "contended at bank.c:12 in transfer (bank+0x1f): 40 times, "
                                  "12.345 ms (longest 2.000 ms)\n"));
  lw_buf_free(&b);
  char where[128];
  ck_assert_str_eq(lw_prof_where(where, sizeof where, "f", "/src/a.c", 3, "/bin/p", 0x10),
                   "a.c:3 in f (p+0x10)");
  ck_assert_str_eq(lw_prof_where(where, sizeof where, NULL, NULL, 0, NULL, 0), "an unknown place");
}
END_TEST

int main(void) {
  lw_options_defaults(&lw_opt);
  lw_opt.profile = 1;
  lw_opt.profile_sample = 1; /* every hold timed, so tests are exact */
  lw_core_init();
  Suite *s = suite_create("profile");
  TCase *tc = tcase_create("profile");
  tcase_add_test(tc, test_acquisitions_exact);
  tcase_add_test(tc, test_failed_and_waited);
  tcase_add_test(tc, test_every_hold_timed);
  tcase_add_test(tc, test_destroyed_locks_grouped);
  tcase_add_test(tc, test_snapshot_order);
  tcase_add_test(tc, test_fold_and_other_sites);
  tcase_add_test(tc, test_table_text);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
