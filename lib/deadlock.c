/*
 * deadlock.c - real deadlocks, found by the threads that suffer them.
 *
 * A thread whose lock is contended waits in slices of deadlock_check_ms
 * (the preload turns a blocking lock into timed ones). After each slice it
 * calls lw_wait_check, which walks the waits-for graph: "T waits for lock L"
 * (published in T's state) and "L is held by U" (found in U's held stack).
 * A cycle back to the caller that is still there, unchanged, a moment later
 * is a deadlock: it is reported with every thread's awaited and held locks,
 * and on_deadlock decides what follows. Uncontended locks never come here.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "core_internal.h"
#include "options.h"
#include "output.h"
#include "symbolize.h"
#include "types.h"
#include "u64map.h"
#include "depot.h"

/* Publishes a's lock as the one t waits for. */
static void wait_publish(lw_thread_t *t, const lw_acq_t *a) {
  lw__sem_purge(t); /* others read the held stack while this thread waits: no dead semaphore */
  t->wait_rec = a->rec;
  t->wait_mode = a->mode;
  t->wait_stack = a->stack;
  t->wait_reported = false;
  atomic_fetch_add_explicit(&t->wait_seq, 1, memory_order_release);
  atomic_store_explicit(&t->wait_id, a->id, memory_order_release);
}

/*
 * A watched wait (a custom lock, a GMutex: the thread waits in code of the
 * program's) may contain other waits: a Python thread waiting for a layer
 * Lock takes the interpreter's lock (a pthread mutex and condvar) again and
 * again, and a Python Semaphore's acquire takes its Condition's Lock. The
 * outer wait stays the one published: the inner ones, watched or not,
 * neither replace it nor end it.
 */
static bool watched(const lw_thread_t *t) {
  return atomic_load_explicit(&t->watch_since, memory_order_relaxed) != 0;
}

void lw_wait_begin(lw_thread_t *t, const lw_acq_t *a) {
  if (!a->rec || watched(t)) return;
  wait_publish(t, a);
}

bool lw_wait_watch_begin(lw_thread_t *t, const lw_acq_t *a, uint64_t now) {
  if (!a->rec || watched(t)) return false; /* nested in a watched wait: that one stays */
  wait_publish(t, a);
  atomic_store_explicit(&t->watch_since, now ? now : 1, memory_order_release);
  return true;
}

static void wait_clear(lw_thread_t *t) {
  if (!atomic_load_explicit(&t->wait_id, memory_order_relaxed)) return;
  atomic_store_explicit(&t->wait_id, 0, memory_order_release);
  atomic_fetch_add_explicit(&t->wait_seq, 1, memory_order_release);
}

void lw_wait_end(lw_thread_t *t) {
  if (watched(t)) return; /* an inner wait of a watched one */
  wait_clear(t);
}

void lw_wait_watch_end(lw_thread_t *t) {
  if (watched(t)) atomic_store_explicit(&t->watch_since, 0, memory_order_release);
  wait_clear(t);
}

/* One waiting thread as seen at one moment. */
typedef struct member {
  lw_thread_t *t;
  uint32_t wait_seq;
  uint64_t wait_id;
  lw_lock_t *rec;
  uint8_t mode;
  uint32_t stack;
} member_t;

static bool conflicts(unsigned req, unsigned held, const lw_lock_t *rec) {
  return !(req == LW_MODE_READ && held == LW_MODE_READ && (rec->kind & LW_KIND_READER_PREF));
}

/* Reads u's wait state into *m; false if u is not waiting. */
static bool snapshot(lw_thread_t *u, member_t *m) {
  m->t = u;
  m->wait_seq = atomic_load_explicit(&u->wait_seq, memory_order_acquire);
  m->wait_id = atomic_load_explicit(&u->wait_id, memory_order_acquire);
  if (!m->wait_id) return false;
  m->rec = u->wait_rec;
  m->mode = u->wait_mode;
  m->stack = u->wait_stack;
  return atomic_load_explicit(&u->wait_seq, memory_order_acquire) == m->wait_seq;
}

/* Does u hold lock id in a mode that blocks a request in mode req? (racy unless u waits) */
static bool holds(lw_thread_t *u, uint64_t id, unsigned req, const lw_lock_t *rec) {
  uint32_t n = u->nheld;
  const lw_held_t *held = u->held;
  if (!held || n > u->cap_held) return false;
  for (uint32_t i = 0; i < n; i++)
    if (held[i].id == id && conflicts(req, held[i].mode, rec)) return true;
  return false;
}

/*
 * Does u stand between cur and the lock cur waits for? It does if it holds
 * the lock in a conflicting mode, or, for a read request on a
 * writer-preferring rwlock, if it waits there to write (queued writers go
 * first). Racy unless u waits.
 */
static bool blocks(lw_thread_t *u, const member_t *cur) {
  /* a lock whose identity ended (a semaphore found to be a signal) proves nothing */
  if (atomic_load_explicit(&cur->rec->id, memory_order_acquire) != cur->wait_id) return false;
  if (holds(u, cur->wait_id, cur->mode, cur->rec)) return true;
  return cur->mode == LW_MODE_READ && cur->rec->type == LW_TYPE_RWLOCK &&
         !(cur->rec->kind & LW_KIND_READER_PREF) &&
         atomic_load_explicit(&u->wait_id, memory_order_acquire) == cur->wait_id &&
         u->wait_mode == LW_MODE_WRITE;
}

/*
 * Looks for a cycle of waiting threads through me; stores it in out (me
 * first; each member waits for a lock the next one holds) and returns its
 * length, or 0. Caller holds the threads lock. cap bounds out.
 */
static uint32_t find_cycle(lw_thread_t *me, member_t *out, uint32_t cap) {
  uint32_t n = 0;
  if (!snapshot(me, &out[n++])) return 0;
  /* follow owners depth-first; a waiting thread has one awaited lock but it may have several owners */
  struct frame {
    lw_thread_t *next_candidate;
  } *stack = lw_alloc(cap * sizeof *stack);
  if (!stack) return 0;
  stack[0].next_candidate = lw_threads_first();
  uint32_t found = 0;
  while (n > 0 && !found) {
    member_t *cur = &out[n - 1];
    lw_thread_t *u = stack[n - 1].next_candidate;
    while (u && (!u->live || u == cur->t || !blocks(u, cur))) u = u->next_all;
    if (!u) { /* no more owners to try from here */
      n--;
      continue;
    }
    stack[n - 1].next_candidate = u->next_all;
    if (u == me) {
      found = n;
      break;
    }
    bool on_path = false;
    for (uint32_t i = 0; i < n && !on_path; i++) on_path = out[i].t == u;
    if (on_path || n == cap) continue; /* a cycle without me: its members report it */
    member_t m;
    if (!snapshot(u, &m)) continue; /* the owner runs: no deadlock through it */
    /* u's held stack, read while it waits, is whole only if it still waits the same wait */
    if (!blocks(u, cur) || atomic_load_explicit(&u->wait_seq, memory_order_acquire) != m.wait_seq)
      continue;
    out[n] = m;
    stack[n].next_candidate = lw_threads_first();
    n++;
  }
  lw_free(stack, cap * sizeof *stack);
  return found;
}

static uint32_t count_threads(void) {
  uint32_t n = 0;
  for (lw_thread_t *u = lw_threads_first(); u; u = u->next_all) n += u->live;
  return n;
}

/* Finds the cycle now; returns its length (members in *out, allocated). */
static uint32_t cycle_now(lw_thread_t *me, member_t **out, uint32_t *cap) {
  lw_threads_lock();
  *cap = count_threads() + 1;
  *out = lw_alloc(*cap * sizeof **out);
  uint32_t n = *out ? find_cycle(me, *out, *cap) : 0;
  lw_threads_unlock();
  return n;
}

static bool same_cycle(const member_t *a, uint32_t na, const member_t *b, uint32_t nb) {
  if (na != nb) return false;
  for (uint32_t i = 0; i < na; i++)
    if (a[i].t != b[i].t || a[i].wait_seq != b[i].wait_seq || a[i].wait_id != b[i].wait_id)
      return false;
  return true;
}

/* Index of lock id in r->locks, adding it from rec if new; -1 on overflow. */
static int32_t lock_index(lw_report_t *r, uint32_t *nlocks, uint32_t max, const lw_lock_t *rec,
                          uint64_t id) {
  for (uint32_t i = 0; i < *nlocks; i++)
    if (r->locks[i].id == id) return (int32_t)i;
  if (*nlocks == max) return -1;
  r->locks[*nlocks] = lw__rlock_of(rec, id);
  return (int32_t)(*nlocks)++;
}

static void report_deadlock(const member_t *m, uint32_t n) {
  uint64_t sig = LW_REPORT_DEADLOCK;
  uint32_t maxlocks = 0;
  for (uint32_t i = 0; i < n; i++) {
    sig += lw_u64_mix(((uint64_t)m[i].t->seq << 32) ^ m[i].wait_id ^ m[i].wait_seq);
    maxlocks += 1 + m[i].t->nheld;
  }
  if (!lw_report_first_time(sig)) return;
  lw_report_t *r = lw_report_new(LW_REPORT_DEADLOCK, maxlocks, 0);
  if (!r) return;
  uint32_t nlocks = 0;
  lw_threads_lock(); /* the members wait: their held stacks hold still */
  for (uint32_t i = 0; i < n; i++) {
    int32_t w = lock_index(r, &nlocks, maxlocks, m[i].rec, m[i].wait_id);
    lw_report_add_event(r, LW_EV_WAIT, m[i].t->seq, w, m[i].mode, m[i].stack);
    for (uint32_t k = 0; k < m[i].t->nheld; k++) {
      const lw_held_t *h = &m[i].t->held[k];
      if (!h->addr) continue; /* a hole */
      int32_t l = lock_index(r, &nlocks, maxlocks, h->rec, h->id);
      lw_report_add_event(r, LW_EV_HELD, m[i].t->seq, l, h->mode, h->stack);
    }
  }
  lw_threads_unlock();
  r->nlocks = nlocks; /* cap_locks keeps the array's size for lw_report_free */
  if (lw_report_submit(r)) lw__deadlock_action(); /* a suppressed deadlock hangs, as without us */
}

static void report_stall(lw_thread_t *t, const lw_acq_t *a, uint64_t waited_ns) {
  if (!lw_report_first_time(lw_u64_mix(((uint64_t)LW_REPORT_STALL << 56) ^ a->stack))) return;
  lw_report_t *r = lw_report_new(LW_REPORT_STALL, 1, 0);
  if (!r) return;
  r->locks[0] = lw__rlock_of(a->rec, a->id);
  r->waited_ms = waited_ns / 1000000;
  lw_report_add_event(r, LW_EV_WAIT, t->seq, 0, a->mode, a->stack);
  lw_threads_lock();
  for (lw_thread_t *u = lw_threads_first(); u; u = u->next_all) {
    if (!u->live || u == t) continue;
    uint32_t n = u->nheld;
    const lw_held_t *held = u->held;
    if (!held || n > u->cap_held) continue;
    for (uint32_t i = 0; i < n; i++)
      if (held[i].id == a->id) {
        lw_report_add_event(r, LW_EV_HELD, u->seq, 0, held[i].mode, held[i].stack);
        break;
      }
  }
  lw_threads_unlock();
  lw_report_submit(r);
}

void lw_wait_check(lw_thread_t *t, const lw_acq_t *a, uint64_t waited_ns) {
  if (!a->rec || t->wait_reported) return;
  member_t *first, *again;
  uint32_t cap1, cap2;
  uint32_t n = cycle_now(t, &first, &cap1);
  if (n) {
    /* a real deadlock stays; a glimpse of threads in passing does not */
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
    uint32_t n2 = cycle_now(t, &again, &cap2);
    if (same_cycle(first, n, again, n2)) {
      t->wait_reported = true;
      report_deadlock(first, n);
    }
    lw_free(again, cap2 * sizeof *again);
  } else if (lw_opt.stall_ms && waited_ns >= (uint64_t)lw_opt.stall_ms * 1000000) {
    t->wait_reported = true;
    report_stall(t, a, waited_ns);
  }
  lw_free(first, cap1 * sizeof *first);
}

void lw_wait_watch(uint64_t now) {
  enum { MAX_WATCHED = 64 };
  struct {
    lw_thread_t *t;
    lw_acq_t a;
    uint64_t since;
  } w[MAX_WATCHED];
  uint32_t n = 0;
  uint64_t slice = lw_wait_slice_ns();
  lw_threads_lock();
  for (lw_thread_t *u = lw_threads_first(); u && n < MAX_WATCHED; u = u->next_all) {
    uint64_t since = atomic_load_explicit(&u->watch_since, memory_order_acquire);
    member_t m;
    if (!u->live || !since || now < since + slice || u->wait_reported || !snapshot(u, &m)) continue;
    w[n].t = u;
    w[n].since = since;
    w[n].a = (lw_acq_t){.addr = 0, .rec = m.rec, .id = m.wait_id, .stack = m.stack, .mode = m.mode};
    n++;
  }
  lw_threads_unlock();
  /* a thread state is never freed (only reused): a wait that ended meanwhile shows no cycle */
  for (uint32_t i = 0; i < n; i++) lw_wait_check(w[i].t, &w[i].a, now - w[i].since);
}

uint64_t lw_wait_slice_ns(void) { return (uint64_t)lw_opt.deadlock_check_ms * 1000000; }

/* ---- dumps ------------------------------------------------------------- */

/* One line of a dump, gathered under the threads lock and written after. */
struct dump_line {
  uint32_t seq;
  int tid;
  bool waits;
  const lw_lock_t *rec;
  uint64_t id;
  uint8_t mode;
  uint32_t stack;
};

static void dump_lock(lw_buf_t *b, const struct dump_line *d) {
  char name[256];
  uintptr_t addr = atomic_load_explicit(&d->rec->addr, memory_order_relaxed);
  lw_buf_printf(b, "    %s M%llu", d->waits ? "waits for" : "holds", (unsigned long long)d->id);
  if (lw_symbolize_data(addr, name, sizeof name)) lw_buf_printf(b, " (%s)", name);
  else lw_buf_printf(b, " (0x%lx)", (unsigned long)addr);
  if (d->rec->type == LW_TYPE_RWLOCK) lw_buf_printf(b, " for %s", lw_mode_name(d->mode));
  lw_frame_t f;
  if (lw_symbolize_user_frame(d->stack, &f)) {
    lw_buf_printf(b, " at %s", f.function ? f.function : "?");
    if (f.file) lw_buf_printf(b, " %s:%d", f.file, f.line);
  }
  lw_buf_puts(b, "\n");
}

void lw_core_dump(const char *why) {
  uint32_t n = 0, cap = 64;
  struct dump_line *lines = lw_alloc(cap * sizeof *lines);
  lw_threads_lock();
  for (lw_thread_t *u = lw_threads_first(); u && lines; u = u->next_all) {
    if (!u->live) continue;
    uint32_t nheld = u->held && u->nheld <= u->cap_held ? u->nheld : 0;
    if (n + nheld + 2 > cap) {
      uint32_t ncap = (n + nheld + 2) * 2;
      struct dump_line *p = lw_realloc(lines, cap * sizeof *lines, ncap * sizeof *lines);
      if (!p) break;
      lines = p;
      cap = ncap;
    }
    lines[n++] = (struct dump_line){u->seq, (int)u->tid, false, NULL, 0, 0, 0};
    for (uint32_t i = 0; i < nheld; i++)
      if (u->held[i].addr)
        lines[n++] = (struct dump_line){u->seq, (int)u->tid, false, u->held[i].rec, u->held[i].id,
                                      u->held[i].mode, u->held[i].stack};
    uint64_t wid = atomic_load_explicit(&u->wait_id, memory_order_acquire);
    if (wid && u->wait_rec)
      lines[n++] = (struct dump_line){u->seq, (int)u->tid, true, u->wait_rec, wid, u->wait_mode,
                                      u->wait_stack};
  }
  lw_threads_unlock();
  lw_buf_t b = LW_BUF_INIT;
  lw_buf_printf(&b, "lockwatch: lock dump (%s), pid %d\n", why, (int)getpid());
  for (uint32_t i = 0; i < n; i++) {
    if (!lines[i].rec) {
      bool idle = i + 1 >= n || !lines[i + 1].rec;
      lw_buf_printf(&b, "  Thread T%u (tid %d)%s\n", lines[i].seq, lines[i].tid,
                    idle ? ": holds no lock" : ":");
    } else {
      dump_lock(&b, &lines[i]);
    }
  }
  lw_output_text(lw_buf_str(&b), b.n);
  lw_buf_free(&b);
  lw_free(lines, cap * sizeof *lines);
}
