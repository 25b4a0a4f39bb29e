/*
 * api.c - what a program declares through the public header (lockwatch.h):
 * lock names, lock ranks, and assertions that the calling thread holds a
 * lock. The rules are in docs/rules.md ("Declared ranks", "Held-lock
 * assertions"); the calls themselves in docs/api.md.
 *
 * Nothing here runs on the fast path: a rank is checked when an
 * acquisition's held-lock chain is new to the thread (lw__acquire_slow),
 * and names are only read by the report writers.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "core_internal.h"
#include "lw_uthash.h"
#include "lwlock.h"
#include "options.h"
#include "output.h"
#include "stack.h"
#include "types.h"
#include "u64map.h"

/* ---- names ---------------------------------------------------------------- */

/* Interned names: every distinct name is stored once and never freed. */
struct name_entry {
  UT_hash_handle hh;
  size_t len;
  char text[]; /* the key */
};
static struct name_entry *names;
static lw_ilock_t names_lock = LW_ILOCK_INIT;

/*
 * Returns the interned copy of the n bytes at s, control characters made
 * '?', so that a name prints on one line. NULL on OOM.
 */
static const char *intern(const char *s, size_t n) {
  char clean[LW_NAME_MAX + 1];
  for (size_t i = 0; i < n; i++) clean[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
  clean[n] = 0;
  struct name_entry *e;
  lw_ilock_acquire(&names_lock);
  HASH_FIND(hh, names, clean, n, e);
  if (!e && (e = lw_alloc(sizeof *e + n + 1))) {
    e->len = n;
    memcpy(e->text, clean, n + 1);
    lw_uthash_oom = 0;
    HASH_ADD_KEYPTR(hh, names, e->text, n, e);
    if (lw_uthash_oom) {
      lw_free(e, sizeof *e + n + 1);
      e = NULL;
    }
  }
  lw_ilock_release(&names_lock);
  return e ? e->text : NULL;
}

/* Bad input to a declaration: one line each, the first few times, then silence. */
void lw_api_say(const char *text) {
  static _Atomic int said;
  int n = atomic_fetch_add_explicit(&said, 1, memory_order_relaxed);
  if (n >= 8) return;
  char msg[600];
  snprintf(msg, sizeof msg, "%s%s", text,
           n == 7 ? " (further mistakes of this kind are not shown)" : "");
  lw_output_message(msg);
}

void lw_api_complain(const char *fmt, const char *a, long b) {
  char msg[400];
  snprintf(msg, sizeof msg, fmt, a, b);
  lw_api_say(msg);
}

int lw_lock_set_name(lw_thread_t *t, uintptr_t addr, const char *name) {
  (void)t;
  char shown[32];
  snprintf(shown, sizeof shown, "0x%lx", (unsigned long)addr);
  if (addr < 4096) {
    lw_api_complain("lockwatch_name(%s, ...): not a lock address (%ld); the name is ignored", shown,
             (long)addr);
    return LW_API_EINVAL;
  }
  if (!name || !*name) {
    lw_api_complain("lockwatch_name(%s, %ld): an empty or NULL name; ignored", shown, 0);
    return LW_API_EINVAL;
  }
  size_t n = strnlen(name, LW_NAME_MAX + 1);
  if (n > LW_NAME_MAX) {
    lw_api_complain("lockwatch_name(%s, ...): the name is longer than %ld bytes; ignored", shown,
             (long)LW_NAME_MAX);
    return LW_API_EINVAL;
  }
  const char *s = intern(name, n);
  if (!s || !lw_registry_annotate(addr, LW_ANNOTATE_NAME, s, 0, 0)) return LW_API_ENOMEM;
  return 0;
}

/* ---- ranks ---------------------------------------------------------------- */

int lw_lock_set_rank(lw_thread_t *t, uintptr_t addr, long rank, unsigned flags) {
  (void)t;
  char shown[32];
  snprintf(shown, sizeof shown, "0x%lx", (unsigned long)addr);
  if (addr < 4096) {
    lw_api_complain("lockwatch_rank(%s, %ld): not a lock address; the rank is ignored", shown, rank);
    return LW_API_EINVAL;
  }
  if (rank < 0 || rank > LW_RANK_MAX) {
    lw_api_complain("lockwatch_rank(%s, %ld): a rank is 0 to 1000000000; ignored", shown, rank);
    return LW_API_EINVAL;
  }
  if (!lw_registry_annotate(addr, LW_ANNOTATE_RANK, NULL, (int32_t)rank,
                            flags & LW_RANK_NESTABLE))
    return LW_API_ENOMEM;
  return 0;
}

/* Signature of a problem: its kind, its detail and the stacks that place it. */
static uint64_t signature(unsigned kind, unsigned detail, uint32_t s1, uint32_t s2) {
  return lw_u64_mix(((uint64_t)kind << 56 ^ (uint64_t)detail << 48) ^ lw_u64_mix(s1) ^
                    lw_u64_mix((uint64_t)s2 << 32 | 11));
}

void lw__check_rank(lw_thread_t *t, const lw_acq_t *a) {
  int32_t rank = lw_lock_rank(a->rec);
  if (rank == LW_RANK_NONE) return;
  bool nestable = a->rec->rank_flags & LW_RANK_NESTABLE;
  const lw_held_t *worst = NULL;
  int32_t worst_rank = -1;
  for (uint32_t i = 0; i < t->nheld; i++) {
    const lw_held_t *h = &t->held[i];
    if (h->addr == a->addr) continue;
    if (atomic_load_explicit(&h->rec->id, memory_order_relaxed) != h->id) continue; /* it ended */
    int32_t hr = lw_lock_rank(h->rec);
    if (hr == LW_RANK_NONE || hr < rank) continue;
    if (hr == rank && nestable && (h->rec->rank_flags & LW_RANK_NESTABLE)) continue;
    if (hr > worst_rank) {
      worst = h;
      worst_rank = hr;
    }
  }
  if (!worst) return;
  unsigned detail = worst_rank == rank ? LW_DETAIL_SAME_RANK : LW_DETAIL_HIGHER_RANK;
  uint32_t now = lw_stack_capture(&lw_stacks, (int)lw_opt.stack_depth);
  if (!lw_report_first_time(signature(LW_REPORT_RANK_VIOLATION, detail, now, worst->stack)))
    return;
  lw_report_t *r = lw_report_new(LW_REPORT_RANK_VIOLATION, 2, 0);
  if (!r) return;
  r->detail = detail;
  r->locks[0] = lw__rlock_of(a->rec, a->id);
  r->locks[1] = lw__rlock_of(worst->rec, worst->id);
  lw_report_add_event(r, LW_EV_LOCK, t->seq, 0, a->mode, now);
  lw_report_add_event(r, LW_EV_HELD, t->seq, 1, worst->mode, worst->stack);
  lw_report_submit(r);
}

/* ---- held-lock assertions ------------------------------------------------- */

void lw_assert_held(lw_thread_t *t, uintptr_t addr, unsigned mode, lw_state_for_fn state_for) {
  if (addr < 4096) {
    lw_api_complain("lockwatch_assert_held(%s): not a lock address (%ld); ignored", "NULL", (long)addr);
    return;
  }
  uint64_t id = 0;
  lw_lock_t *rec = lw_registry_find(addr, &id);
  const lw_held_t *mine = NULL;
  for (uint32_t i = t->nheld; i-- > 0 && !mine;) {
    const lw_held_t *h = &t->held[i];
    if (h->addr != addr) continue;
    if (h->foreign != atomic_load_explicit(&h->rec->foreign_unlocks, memory_order_relaxed))
      continue; /* another thread unlocked it for us */
    mine = h;
  }
  unsigned detail = LW_DETAIL_NONE;
  if (mine) {
    if (mode == LW_MODE_READ || mine->mode == LW_MODE_WRITE) return;
    detail = LW_DETAIL_READ_HELD;
  } else if (rec && state_for) {
    /* taken before lockwatch watched? the lock's memory knows its owner */
    lw_state_fn state = state_for(rec->type);
    if (state && state(addr, t->tid).owner == LW_OWNER_SELF) return;
  }
  uint32_t now = lw_stack_capture(&lw_stacks, (int)lw_opt.stack_depth);
  if (!lw_report_first_time(signature(LW_REPORT_NOT_HELD, detail + 16 * mode, now, 0))) return;
  lw_report_t *r = lw_report_new(LW_REPORT_NOT_HELD, 1, 0);
  if (!r) return;
  r->detail = detail;
  r->locks[0] = rec ? lw__rlock_of(rec, id) : (lw_rlock_t){.addr = addr, .type = LW_TYPE_NOT_SEEN};
  lw_report_add_event(r, LW_EV_ASSERT, t->seq, 0, mode, now);
  if (mine) lw_report_add_event(r, LW_EV_HELD, t->seq, 0, mine->mode, mine->stack);
  lw_report_submit(r);
}
