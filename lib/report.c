/*
 * report.c - the report model, numbering, storage and the default sink.
 */
#include "report.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "class.h"
#include "lwlock.h"
#include "options.h"
#include "output.h"
#include "suppress.h"
#include "u64map.h"

static const char *const kind_names[LW_REPORT_KIND_COUNT][2] = {
    [LW_REPORT_LOCK_ORDER_INVERSION] = {"lock-order-inversion", "potential deadlock"},
    [LW_REPORT_DOUBLE_LOCK] = {"double-lock", "a thread locks a lock it already holds"},
    [LW_REPORT_UNLOCK_NOT_OWNER] = {"unlock-not-owner", "a thread unlocks a lock it does not hold"},
    [LW_REPORT_DESTROY_LOCKED] = {"destroy-locked", "a lock is destroyed while held"},
    [LW_REPORT_THREAD_EXIT_HOLDING] = {"thread-exit-holding-lock", "a thread ends holding locks"},
    [LW_REPORT_COND_WAIT_UNHELD] = {"cond-wait-unheld", "a condition variable is misused"},
    [LW_REPORT_DEADLOCK] = {"deadlock", "threads wait for each other forever"},
    [LW_REPORT_STALL] = {"stall", "a thread waits long for a lock"},
    [LW_REPORT_LOCK_ABANDONED] = {"lock-abandoned", "a held lock's memory holds a new lock"},
    [LW_REPORT_RANK_VIOLATION] = {"rank-violation", "a lock is taken against the declared ranks"},
    [LW_REPORT_NOT_HELD] = {"not-held", "a lock asserted held is not held"},
    [LW_REPORT_CALL_FAILED] = {"call-failed", "a lock call fails"},
    [LW_REPORT_EXIT_HOLDING] = {"exit-holding-lock", "the process exits holding locks"},
    [LW_REPORT_COND_DESTROY_WAITING] = {"cond-destroy-waiting",
                                        "a condition variable is destroyed while threads wait on it"},
    [LW_REPORT_SEM_DESTROY_WAITING] = {"sem-destroy-waiting",
                                       "a semaphore is destroyed while threads wait on it"},
    [LW_REPORT_BARRIER_MISUSE] = {"barrier-misuse", "a barrier is misused"},
};

const char *lw_report_kind_name(unsigned kind) {
  return kind < LW_REPORT_KIND_COUNT ? kind_names[kind][0] : "unknown";
}

const char *lw_report_kind_title(unsigned kind) {
  return kind < LW_REPORT_KIND_COUNT ? kind_names[kind][1] : "";
}

const char *lw_report_detail_name(unsigned detail) {
  static const char *const names[LW_DETAIL_COUNT] = {
      "", "blocks-forever", "fails", "times-out", "may-block", "not-locked", "other-owner",
      "self-owner", "not-held", "two-mutexes", "same-rank", "higher-rank", "read-held",
      "zero-count", "reinit-waiting", "destroy-waiting"};
  return detail < LW_DETAIL_COUNT ? names[detail] : "";
}

/* The name of an errno value a lock call can return ("EPERM"), or NULL. */
static const char *errno_name(int err) {
  switch (err) {
  case EINVAL: return "EINVAL";
  case EPERM: return "EPERM";
  case EDEADLK: return "EDEADLK";
  case EBUSY: return "EBUSY";
  case EAGAIN: return "EAGAIN";
  case EOVERFLOW: return "EOVERFLOW";
  case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EOWNERDEAD: return "EOWNERDEAD";
  case EINTR: return "EINTR";
  case ENOMEM: return "ENOMEM";
  case ENOSYS: return "ENOSYS";
  default: return NULL;
  }
}

const char *lw_errno_name(int err) {
  const char *n = errno_name(err);
  return n ? n : "E?";
}

const char *lw_event_name(unsigned what) {
  static const char *const names[LW_EV_COUNT] = {"lock",        "held",         "unlock",
                                                 "destroy",     "exit",         "cond-wait",
                                                 "cond-earlier", "wait",        "assert",
                                                 "call"};
  return what < LW_EV_COUNT ? names[what] : "unknown";
}

bool lw_report_add_event(lw_report_t *r, unsigned what, uint32_t thread, int32_t lock,
                         unsigned mode, uint32_t stack) {
  if (r->nevents == r->cap_events) {
    uint32_t cap = r->cap_events ? r->cap_events * 2 : 4;
    int unlimited = lw_alloc_unlimited;
    lw_alloc_unlimited = 1;
    void *p = lw_realloc(r->events, r->cap_events * sizeof *r->events, cap * sizeof *r->events);
    lw_alloc_unlimited = unlimited;
    if (!p) return false;
    r->events = p;
    r->cap_events = cap;
  }
  r->events[r->nevents++] = (lw_revent_t){(uint8_t)what, (uint8_t)mode, lock, thread, stack};
  return true;
}

static lw_report_t *lw_report_new_unlimited(unsigned kind, uint32_t nlocks, uint32_t nedges);

lw_report_t *lw_report_new(unsigned kind, uint32_t nlocks, uint32_t nedges) {
  /* a report is written even when memory_mb is reached: the limit is on learning */
  int unlimited = lw_alloc_unlimited;
  lw_alloc_unlimited = 1;
  lw_report_t *r = lw_report_new_unlimited(kind, nlocks, nedges);
  lw_alloc_unlimited = unlimited;
  return r;
}

static lw_report_t *lw_report_new_unlimited(unsigned kind, uint32_t nlocks, uint32_t nedges) {
  lw_report_t *r = lw_alloc(sizeof *r);
  if (!r) return NULL;
  r->kind = kind;
  r->locks = nlocks ? lw_alloc(nlocks * sizeof *r->locks) : NULL;
  r->edges = nedges ? lw_alloc(nedges * sizeof *r->edges) : NULL;
  if ((nlocks && !r->locks) || (nedges && !r->edges)) {
    lw_report_free(r);
    return NULL;
  }
  r->nlocks = r->cap_locks = nlocks;
  r->nedges = nedges;
  r->instances = 1;
  return r;
}

void lw_report_free(lw_report_t *r) {
  if (!r) return;
  lw_free(r->locks, r->cap_locks * sizeof *r->locks);
  for (uint32_t i = 0; r->edges && i < r->nedges; i++)
    lw_free(r->edges[i].held_ids, r->edges[i].nheld_ids * sizeof *r->edges[i].held_ids);
  lw_free(r->edges, r->nedges * sizeof *r->edges);
  lw_free(r->events, r->cap_events * sizeof *r->events);
  lw_free(r->labels.gate, r->labels.ngate * sizeof *r->labels.gate);
  lw_free(r, sizeof *r);
}

lw_report_sink_fn lw_report_sink = lw_report_default_sink;
void (*lw_report_halt)(void);
void (*lw_report_after_submit)(void);

static lw_ilock_t store_lock = LW_ILOCK_INIT;
static lw_u64map_t signatures; /* under store_lock */

bool lw_report_first_time(uint64_t signature) {
  signature |= 1;
  lw_ilock_acquire(&store_lock);
  bool first = !lw_u64map_get(&signatures, signature, NULL);
  if (first) lw_u64map_put(&signatures, signature, 0);
  lw_ilock_release(&store_lock);
  return first;
}
static lw_report_t *first, *last, *sfirst, *slast;
static uint32_t nstored, nsuppressed, npassing;
static _Atomic uint32_t next_seq = 1;

bool lw_report_submit(lw_report_t *r) {
  int unlimited = lw_alloc_unlimited;
  lw_alloc_unlimited = 1;
  r->seq = atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed);
  r->suppressed_by = lw_suppress_count() ? lw_suppress_match(r) : NULL;
  bool reported = r->suppressed_by == NULL;
  lw_report_sink(r);
  if (lw_report_after_submit) lw_report_after_submit();
  lw_alloc_unlimited = unlimited;
  return reported;
}

void lw_report_default_sink(lw_report_t *r) {
  if (r->suppressed_by) {
    lw_ilock_acquire(&store_lock);
    if (slast) slast->next = r;
    else sfirst = r;
    slast = r;
    nsuppressed++;
    lw_ilock_release(&store_lock);
    return;
  }
  lw_buf_t b = LW_BUF_INIT;
  lw_report_format_text(r, &b);
  lw_output_text(lw_buf_str(&b), b.n);
  lw_buf_free(&b);
  lw_ilock_acquire(&store_lock);
  if (last) last->next = r;
  else first = r;
  last = r;
  nstored++;
  npassing += r->passes;
  lw_ilock_release(&store_lock);
  if (lw_opt.halt_on_error && !r->passes && lw_report_halt) lw_report_halt();
}

const lw_report_t *lw_report_suppressed(uint32_t *n) {
  lw_ilock_acquire(&store_lock);
  const lw_report_t *r = sfirst;
  *n = nsuppressed;
  lw_ilock_release(&store_lock);
  return r;
}

uint32_t lw_report_failing(void) {
  lw_ilock_acquire(&store_lock);
  uint32_t n = nstored - npassing;
  lw_ilock_release(&store_lock);
  return n;
}

const lw_report_t *lw_report_stored(uint32_t *n) {
  lw_ilock_acquire(&store_lock);
  const lw_report_t *r = first;
  *n = nstored;
  lw_ilock_release(&store_lock);
  return r;
}

void lw_report_fork_prepare(void) { lw_ilock_acquire(&store_lock); }
void lw_report_fork_parent(void) { lw_ilock_release(&store_lock); }

void lw_report_fork_child(void) {
  lw_ilock_reset(&store_lock);
  /* the child starts with no report of its own (the parent's stay the parent's) */
  first = last = sfirst = slast = NULL;
  nstored = nsuppressed = npassing = 0;
}

/* ---- what a summary names ---------------------------------------------------- */

#define LW_MAX_WRAPPERS 32

struct wrapper_names {
  const char *name[LW_MAX_WRAPPERS];
  uint32_t n;
  char text[512]; /* the wrappers option, split in place */
};

static void add_wrapper(struct wrapper_names *w, const char *name) {
  if (!name || w->n == LW_MAX_WRAPPERS) return;
  for (uint32_t i = 0; i < w->n; i++)
    if (strcmp(w->name[i], name) == 0) return;
  w->name[w->n++] = name;
}

static bool where_in(const lw_report_t *r, uint32_t stack, lw_frame_t *out);

bool lw_report_where(const lw_report_t *r, lw_frame_t *out) {
  uint32_t stack = r->nedges ? r->edges[0].w.stack_to : r->nevents ? r->events[0].stack : 0;
  return where_in(r, stack, out);
}

bool lw_report_where_other(const lw_report_t *r, lw_frame_t *out) {
  if (r->nedges < 2) return false;
  return where_in(r, r->edges[r->nedges - 1].w.stack_to, out);
}

/* The user frame of stack past r's wrappers. */
static bool where_in(const lw_report_t *r, uint32_t stack, lw_frame_t *out) {
  struct wrapper_names w = {.n = 0};
  snprintf(w.text, sizeof w.text, "%s", lw_opt.wrappers ? lw_opt.wrappers : "");
  for (char *save = NULL, *tok = strtok_r(w.text, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save))
    add_wrapper(&w, tok);
  /* the innermost user function of each stack that takes a lock, and the lock it takes */
  /*
   * A wrapper takes different locks at the same line of the same function,
   * called from different places (a function that locks its arguments, as
   * a bank transfer does, is called from one place).
   */
  lw_frame_t f;
  const char *fn[64];
  uintptr_t pc[64], caller[64];
  uint32_t lock[64], nfn = 0;
  for (uint32_t i = 0; i < r->nedges && nfn + 2 <= 64; i++) {
    const lw_redge_t *e = &r->edges[i];
    if (lw_symbolize_user_frame_caller(e->w.stack_to, &f, &caller[nfn]) && f.function)
      fn[nfn] = f.function, pc[nfn] = f.pc, lock[nfn++] = e->to;
    if (lw_symbolize_user_frame_caller(e->w.stack_from, &f, &caller[nfn]) && f.function)
      fn[nfn] = f.function, pc[nfn] = f.pc, lock[nfn++] = e->from;
  }
  for (uint32_t i = 0; i < nfn; i++)
    for (uint32_t k = i + 1; k < nfn; k++)
      if (lock[i] != lock[k] && pc[i] == pc[k] && caller[i] != caller[k] &&
          strcmp(fn[i], fn[k]) == 0)
        add_wrapper(&w, fn[i]);
  return stack && lw_symbolize_user_frame_past(stack, w.name, w.n, out);
}

struct class_name {
  char *buf;
  unsigned len, used, frames, depth;
};

static void class_frame(const lw_frame_t *f, uint32_t index, void *ctx) {
  struct class_name *c = ctx;
  (void)index;
  if (c->frames >= c->depth || c->used >= c->len) return;
  if (f->inlined) return; /* the frame that holds the return address names it */
  int k = snprintf(c->buf + c->used, c->len - c->used, "%s%s", c->frames ? " < " : "",
                   f->function ? f->function : "?");
  if (k > 0) c->used += (unsigned)k;
  if (f->file && c->used < c->len) {
    k = snprintf(c->buf + c->used, c->len - c->used, " %s:%d", lw_basename(f->file), f->line);
    if (k > 0) c->used += (unsigned)k;
  }
  c->frames++;
}

void lw_report_class_name(const struct lw_class *c, char *buf, unsigned len) {
  buf[0] = 0;
  if (!c) return;
  if (c->how == LW_CLASS_STATIC) {
    if (!lw_symbolize_data(c->addr, buf, len))
      snprintf(buf, len, "%s+0x%lx", lw_basename(c->module), (unsigned long)c->offset);
    return;
  }
  struct class_name n = {buf, len, 0, 0, (unsigned)lw_opt.class_depth};
  lw_symbolize_stack(c->stack, class_frame, &n);
  if (n.used >= len && len) buf[len - 1] = 0;
}
