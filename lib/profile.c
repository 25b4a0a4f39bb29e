/*
 * profile.c - the contention and hold-time profile of every lock (see
 * profile.h and docs/profile.md): profile records, their folds, the groups
 * of destroyed locks, and the snapshot and table at the end of the run.
 *
 * Nothing here runs on the fast path: the wrappers come here for a
 * contended acquisition, a failed one, a timed hold (one acquisition in
 * profile_sample), and a lock-cache entry evicted or folded.
 */
#include "profile.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "core.h"
#include "depot.h"
#include "options.h"
#include "output.h"
#include "symbolize.h"
#include "thread.h"
#include "types.h"
#include "u64map.h"

int lw_profile_on;

/* Every profile record ever made (they are never freed), newest first. */
static lw_prof_t *_Atomic all_profs;

/* The groups of destroyed locks, one per (creation stack, type). */
typedef struct lw_prof_group {
  uint64_t first_id;
  uintptr_t addr; /* the first one's */
  uint32_t create_stack;
  uint8_t type;
  uint64_t nlocks;
  lw_prof_counts_t c;
} lw_prof_group_t;
static lw_ilock_t groups_lock = LW_ILOCK_INIT;
static lw_prof_group_t *groups;
static uint32_t ngroups, cap_groups;
static lw_u64map_t group_index; /* (create_stack, type) -> index + 1 in groups */

void lw_profile_init(void) {
  lw_profile_on = lw_opt.profile;
  lw_u64map_init(&group_index, true);
}

uint64_t lw_profile_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t lw_prof_hold_estimate(const lw_prof_counts_t *c) {
  if (!c->hold_samples) return 0;
  uint64_t acq = lw_prof_acquisitions(c);
  if (acq < c->hold_samples) acq = c->hold_samples;
  return (uint64_t)((double)c->hold_sampled_ns / (double)c->hold_samples * (double)acq);
}

/* ---- counts ---------------------------------------------------------------- */

void lw_prof_site_add(lw_prof_site_t *sites, lw_prof_site_t *other, uintptr_t pc,
                      uint32_t stack, uint64_t count, uint64_t ns, uint64_t max_ns) {
  lw_prof_site_t *s = other;
  if (stack) {
    for (uint32_t i = 0; i < LW_PROF_SITES; i++) {
      if (sites[i].stack == 0) {
        s = &sites[i];
        s->pc = pc;
        s->stack = stack;
        break;
      }
      if (sites[i].pc == pc) {
        s = &sites[i];
        break;
      }
    }
  }
  s->count += count;
  s->ns += ns;
  if (max_ns > s->max_ns) s->max_ns = max_ns;
}

void lw_prof_fold(lw_prof_counts_t *into, const lw_prof_counts_t *from) {
  into->attempts += from->attempts;
  into->failed += from->failed;
  into->contended += from->contended;
  into->wait_ns += from->wait_ns;
  if (from->wait_max_ns > into->wait_max_ns) into->wait_max_ns = from->wait_max_ns;
  into->hold_samples += from->hold_samples;
  into->hold_sampled_ns += from->hold_sampled_ns;
  if (from->hold_max_ns > into->hold_max_ns) into->hold_max_ns = from->hold_max_ns;
  for (uint32_t i = 0; i < LW_PROF_SITES; i++) {
    const lw_prof_site_t *w = &from->wait_sites[i], *h = &from->hold_sites[i];
    if (w->stack)
      lw_prof_site_add(into->wait_sites, &into->wait_other, w->pc, w->stack, w->count, w->ns,
                       w->max_ns);
    if (h->stack)
      lw_prof_site_add(into->hold_sites, &into->hold_other, h->pc, h->stack, h->count, h->ns,
                       h->max_ns);
  }
  lw_prof_site_add(into->wait_sites, &into->wait_other, 0, 0, from->wait_other.count,
                   from->wait_other.ns, from->wait_other.max_ns);
  lw_prof_site_add(into->hold_sites, &into->hold_other, 0, 0, from->hold_other.count,
                   from->hold_other.ns, from->hold_other.max_ns);
}

/* The profile record of rec, made if it has none (NULL when memory is exhausted). */
static lw_prof_t *prof_of(lw_lock_t *rec) {
  lw_prof_t *p = atomic_load_explicit(&rec->prof, memory_order_acquire);
  if (p) return p;
  lw_prof_t *fresh = lw_alloc(sizeof *fresh);
  if (!fresh) return NULL;
  fresh->rec = rec;
  if (!atomic_compare_exchange_strong_explicit(&rec->prof, &p, fresh, memory_order_acq_rel,
                                               memory_order_acquire)) {
    lw_free(fresh, sizeof *fresh);
    return p;
  }
  fresh->next_all = atomic_load_explicit(&all_profs, memory_order_relaxed);
  while (!atomic_compare_exchange_weak_explicit(&all_profs, &fresh->next_all, fresh,
                                                memory_order_release, memory_order_relaxed)) {
  }
  return fresh;
}

/*
 * Takes the profile record of rec for an update of the identity id; NULL
 * (nothing taken) if that identity ended meanwhile or memory is exhausted.
 */
static lw_prof_t *prof_lock(lw_lock_t *rec, uint64_t id) {
  lw_prof_t *p = prof_of(rec);
  if (!p) return NULL;
  lw_ilock_acquire(&p->lock);
  /* the identity ends (id cleared) before lw_profile_retire takes this lock */
  if (atomic_load_explicit(&rec->id, memory_order_acquire) != id) {
    lw_ilock_release(&p->lock);
    return NULL;
  }
  return p;
}

/* The call site of a stack: its innermost return address (lockwatch's frames are not kept). */
static uintptr_t site_pc(uint32_t stack) {
  uint32_t n = 0;
  const uintptr_t *pcs = stack ? lw_depot_get(&lw_stacks, stack, &n) : NULL;
  return pcs && n ? pcs[0] : 0;
}

void lw_profile_waited(lw_thread_t *t, const lw_acq_t *a, uint64_t start) {
  uint64_t ns = lw_profile_now() - start;
  (void)t;
  if (!a->rec) return;
  uintptr_t pc = site_pc(a->stack);
  lw_prof_t *p = prof_lock(a->rec, a->id);
  if (!p) return;
  p->c.contended++;
  p->c.wait_ns += ns;
  if (ns > p->c.wait_max_ns) p->c.wait_max_ns = ns;
  lw_prof_site_add(p->c.wait_sites, &p->c.wait_other, pc, a->stack, 1, ns, ns);
  lw_ilock_release(&p->lock);
}

void lw_profile_failed(const lw_acq_t *a) {
  lw_prof_t *p = prof_lock(a->rec, a->id);
  if (!p) return;
  p->c.failed++;
  lw_ilock_release(&p->lock);
}

void lw_profile_held(lw_lock_t *rec, uint64_t id, uint32_t stack, uint64_t since) {
  uint64_t ns = lw_profile_now() - since;
  uintptr_t pc = site_pc(stack);
  lw_prof_t *p = prof_lock(rec, id);
  if (!p) return;
  p->c.hold_samples++;
  p->c.hold_sampled_ns += ns;
  if (ns > p->c.hold_max_ns) p->c.hold_max_ns = ns;
  lw_prof_site_add(p->c.hold_sites, &p->c.hold_other, pc, stack, 1, ns, ns);
  lw_ilock_release(&p->lock);
}

uint64_t lw_profile_interval(lw_thread_t *t) {
  uint64_t mean = (uint64_t)lw_opt.profile_sample;
  if (mean <= 1) return 1;
  /* xorshift64: uniform in [1, 2 * mean - 1], so that no loop of locks aliases with it */
  uint64_t x = t->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  t->rng = x;
  return 1 + x % (2 * mean - 1);
}

void lw_profile_fold_entry(lw_lcache_t *c, bool mine) {
  uint32_t n;
  if (mine) {
    n = c->acq;
    c->acq = 0;
  } else {
    n = __atomic_exchange_n(&c->acq, 0, __ATOMIC_RELAXED);
  }
  if (!n || !c->rec) return;
  /* the lock was destroyed since: these acquisitions are not counted */
  if (atomic_load_explicit(&c->rec->id, memory_order_acquire) != c->id) return;
  lw_prof_t *p = prof_of(c->rec);
  if (p) atomic_fetch_add_explicit(&p->attempts, n, memory_order_relaxed);
}

void lw_profile_fold_thread(lw_thread_t *t, bool mine) {
  for (uint32_t i = 0; i <= t->lcache_mask; i++) lw_profile_fold_entry(&t->lcache[i], mine);
}

void lw_profile_retire(lw_lock_t *rec, uint64_t id, uintptr_t addr) {
  lw_prof_t *p = atomic_load_explicit(&rec->prof, memory_order_acquire);
  if (!p) return;
  lw_prof_counts_t c;
  lw_ilock_acquire(&p->lock);
  c = p->c;
  memset(&p->c, 0, sizeof p->c);
  c.attempts += atomic_exchange_explicit(&p->attempts, 0, memory_order_relaxed);
  lw_ilock_release(&p->lock);
  if (!c.attempts && !c.contended && !c.hold_samples) return;
  uint64_t key = ((uint64_t)rec->create_stack << 8 | rec->type) + 1;
  lw_ilock_acquire(&groups_lock);
  uint64_t at = 0;
  if (!lw_u64map_get(&group_index, key, &at)) {
    if (ngroups == cap_groups) {
      uint32_t cap = cap_groups ? cap_groups * 2 : 16;
      lw_prof_group_t *g = lw_realloc(groups, cap_groups * sizeof *groups, cap * sizeof *groups);
      if (!g) goto out;
      groups = g;
      cap_groups = cap;
    }
    if (!lw_u64map_put(&group_index, key, ngroups + 1)) goto out;
    groups[ngroups] = (lw_prof_group_t){id, addr, rec->create_stack, rec->type, 0, {0}};
    at = ++ngroups;
  }
  groups[at - 1].nlocks++;
  lw_prof_fold(&groups[at - 1].c, &c);
out:
  lw_ilock_release(&groups_lock);
}

void lw_profile_fork_child(void) {
  lw_ilock_reset(&groups_lock);
  for (lw_prof_t *p = atomic_load(&all_profs); p; p = p->next_all) {
    lw_ilock_reset(&p->lock);
    memset(&p->c, 0, sizeof p->c);
    atomic_store_explicit(&p->attempts, 0, memory_order_relaxed);
  }
  ngroups = 0;
  lw_u64map_clear(&group_index);
  lw_thread_t *t = lw_tls_self;
  if (t)
    for (uint32_t i = 0; i <= t->lcache_mask; i++) t->lcache[i].acq = 0;
}

/* ---- the snapshot at the end --------------------------------------------------- */

static bool snapshot_add(lw_prof_snapshot_t *s, const lw_prof_entry_t *e) {
  if (s->n == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 64;
    lw_prof_entry_t *p = lw_realloc(s->e, s->cap * sizeof *s->e, cap * sizeof *s->e);
    if (!p) return false;
    s->e = p;
    s->cap = cap;
  }
  s->e[s->n++] = *e;
  return true;
}

static int entry_order(const void *x, const void *y) {
  const lw_prof_entry_t *a = x, *b = y;
  if (a->c.wait_ns != b->c.wait_ns) return a->c.wait_ns > b->c.wait_ns ? -1 : 1;
  if (a->hold_ns != b->hold_ns) return a->hold_ns > b->hold_ns ? -1 : 1;
  uint64_t qa = lw_prof_acquisitions(&a->c), qb = lw_prof_acquisitions(&b->c);
  if (qa != qb) return qa > qb ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

bool lw_profile_snapshot(lw_prof_snapshot_t *s) {
  memset(s, 0, sizeof *s);
  s->sample_every = (uint32_t)lw_opt.profile_sample;
  /* every thread's pending counts (racy for threads still running, which is fine at exit) */
  lw_threads_lock();
  for (lw_thread_t *t = lw_threads_first(); t; t = t->next_all)
    if (t->live) lw_profile_fold_thread(t, t == lw_tls_self);
  lw_threads_unlock();
  bool ok = true;
  for (lw_prof_t *p = atomic_load(&all_profs); p && ok; p = p->next_all) {
    lw_prof_entry_t e;
    memset(&e, 0, sizeof e);
    lw_ilock_acquire(&p->lock);
    e.id = atomic_load_explicit(&p->rec->id, memory_order_acquire);
    e.addr = atomic_load_explicit(&p->rec->addr, memory_order_relaxed);
    e.create_stack = p->rec->create_stack;
    e.type = p->rec->type;
    e.c = p->c;
    e.c.attempts += atomic_load_explicit(&p->attempts, memory_order_relaxed);
    lw_ilock_release(&p->lock);
    if (!e.id || (!e.c.attempts && !e.c.contended)) continue;
    e.nlocks = 1;
    ok = snapshot_add(s, &e);
  }
  lw_ilock_acquire(&groups_lock);
  for (uint32_t i = 0; i < ngroups && ok; i++) {
    lw_prof_entry_t e;
    memset(&e, 0, sizeof e);
    e.id = groups[i].first_id;
    e.addr = groups[i].addr;
    e.create_stack = groups[i].create_stack;
    e.type = groups[i].type;
    e.destroyed = true;
    e.nlocks = groups[i].nlocks;
    e.c = groups[i].c;
    ok = snapshot_add(s, &e);
  }
  lw_ilock_release(&groups_lock);
  if (!ok) {
    lw_profile_snapshot_free(s);
    return false;
  }
  for (uint32_t i = 0; i < s->n; i++) {
    lw_prof_entry_t *e = &s->e[i];
    e->hold_ns = lw_prof_hold_estimate(&e->c);
    s->locks += e->nlocks;
    s->acquisitions += lw_prof_acquisitions(&e->c);
    s->contended += e->c.contended;
    s->wait_ns += e->c.wait_ns;
  }
  if (s->n > 1) qsort(s->e, s->n, sizeof *s->e, entry_order); /* (e is NULL when n is 0) */
  return true;
}

void lw_profile_snapshot_free(lw_prof_snapshot_t *s) {
  lw_free(s->e, s->cap * sizeof *s->e);
  memset(s, 0, sizeof *s);
}

/* ---- the table at the end ------------------------------------------------------ */

/* The strings of one row of the table. */
struct row_text {
  char id[32], name[256], created[384];
  char sites[2 * (LW_PROF_SITES + 1)][384];
};

/* "file:line in function (module+0x..)" of the frame a person wants named in stack. */
static const char *site_where(uint32_t stack, char *buf, size_t len) {
  lw_frame_t f;
  if (!stack || !lw_symbolize_user_frame(stack, &f)) return NULL;
  return lw_prof_where(buf, len, f.function, f.file, f.line, f.module, f.offset);
}

/* Fills the table's sites from a site table of the counts. */
static uint32_t row_sites(lw_prof_trow_site_t *out, char (*text)[384], const lw_prof_site_t *s,
                          const lw_prof_site_t *other) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < LW_PROF_SITES; i++) {
    if (!s[i].stack) continue;
    out[n] = (lw_prof_trow_site_t){site_where(s[i].stack, text[n], sizeof text[n]), s[i].count,
                                   s[i].ns, s[i].max_ns};
    if (!out[n].where) out[n].where = "an unknown place";
    n++;
  }
  if (other->count) out[n++] = (lw_prof_trow_site_t){NULL, other->count, other->ns, other->max_ns};
  return n;
}

void lw_profile_print(const lw_prof_snapshot_t *s) {
  uint32_t cap = s->n < (uint64_t)lw_opt.profile_top ? s->n : (uint32_t)lw_opt.profile_top;
  lw_prof_trow_t *rows = cap ? lw_alloc(cap * sizeof *rows) : NULL;
  struct row_text *text = cap ? lw_alloc(cap * sizeof *text) : NULL;
  uint32_t nrows = rows && text ? cap : 0;
  for (uint32_t i = 0; i < nrows; i++) {
    const lw_prof_entry_t *e = &s->e[i];
    lw_prof_trow_t *r = &rows[i];
    struct row_text *x = &text[i];
    snprintf(x->id, sizeof x->id, "M%llu", (unsigned long long)e->id);
    r->id = x->id;
    r->name = lw_symbolize_data(e->addr, x->name, sizeof x->name) ? x->name : NULL;
    r->type = lw_type_name(e->type);
    r->created = site_where(e->create_stack, x->created, sizeof x->created);
    r->nlocks = e->nlocks;
    r->destroyed = e->destroyed;
    r->acquisitions = lw_prof_acquisitions(&e->c);
    r->contended = e->c.contended;
    r->wait_ns = e->c.wait_ns;
    r->wait_max_ns = e->c.wait_max_ns;
    r->hold_ns = e->hold_ns;
    r->hold_max_ns = e->c.hold_max_ns;
    r->hold_samples = e->c.hold_samples;
    r->nwait_sites = row_sites(r->wait_sites, x->sites, e->c.wait_sites, &e->c.wait_other);
    r->nhold_sites = row_sites(r->hold_sites, x->sites + LW_PROF_SITES + 1, e->c.hold_sites,
                               &e->c.hold_other);
  }
  char whose[32];
  snprintf(whose, sizeof whose, "pid %d", (int)getpid());
  lw_prof_table_t table = {whose, s->locks, s->acquisitions, s->contended, s->wait_ns,
                           s->sample_every, rows, nrows};
  lw_buf_t b = LW_BUF_INIT;
  lw_prof_format_table(&b, &table);
  if (!b.oom) lw_output_text(lw_buf_str(&b), b.n);
  lw_buf_free(&b);
  lw_free(rows, cap * sizeof *rows);
  lw_free(text, cap * sizeof *text);
}
