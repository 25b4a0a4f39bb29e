/*
 * report_text.c - the text form of a report, for people (see
 * docs/report-format.md). Formatting only: every decision about what a
 * report contains was made when it was built.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "class.h"
#include "alloc.h"
#include "depot.h"
#include "report.h"
#include "symbolize.h"
#include "thread.h"
#include "types.h"

static void text_frame(const lw_frame_t *f, uint32_t i, void *ctx) {
  lw_buf_t *b = ctx;
  lw_buf_printf(b, "    #%u", i);
  if (f->function) lw_buf_printf(b, " %s", f->function);
  else lw_buf_printf(b, " 0x%lx", (unsigned long)f->pc);
  if (f->file) lw_buf_printf(b, " %s:%d", f->file, f->line);
  if (f->module) lw_buf_printf(b, " (%s+0x%lx)", lw_basename(f->module), (unsigned long)f->offset);
  if (f->inlined) lw_buf_puts(b, " (inlined)");
  lw_buf_puts(b, "\n");
}

static void text_frames(lw_buf_t *b, uint32_t stack) {
  if (!lw_symbolize_stack(stack, text_frame, b)) lw_buf_puts(b, "    <no stack>\n");
}

/* The name a report gives a lock: the program's (lockwatch.h), else its symbol. */
static bool lock_name(const lw_rlock_t *l, char *name, size_t n) {
  if (l->name) {
    snprintf(name, n, "%s", l->name);
    return true;
  }
  return lw_symbolize_data(l->addr, name, n);
}

static void text_lock_name(lw_buf_t *b, const lw_rlock_t *l) {
  char name[300];
  if (l->type == LW_TYPE_SEM) lw_buf_puts(b, "semaphore "); /* the others read as locks */
  if (lock_name(l, name, sizeof name))
    lw_buf_printf(b, "M%llu (%s, 0x%lx)", (unsigned long long)l->id, name, (unsigned long)l->addr);
  else if (l->addr)
    lw_buf_printf(b, "M%llu (0x%lx)", (unsigned long long)l->id, (unsigned long)l->addr);
  else
    lw_buf_printf(b, "M%llu", (unsigned long long)l->id);
}

/* "  Classes: C1 (name) => C2 (name) => C1" and, for a class-level cycle, why. */
static void text_classes(const lw_report_t *r, lw_buf_t *b) {
  char key[24], name[512];
  if (!r->nedges || !r->locks[r->edges[0].from].cls) return;
  lw_buf_puts(b, "  Lock classes: ");
  for (uint32_t i = 0; i < r->nedges; i++) {
    const lw_rlock_t *l = &r->locks[r->edges[i].from];
    if (!l->cls) return;
    lw_class_key_text(l->cls->key, key);
    lw_report_class_name(l->cls, name, sizeof name);
    lw_buf_printf(b, "%s (%s) => ", key, name);
  }
  lw_class_key_text(r->locks[r->edges[0].from].cls->key, key);
  lw_buf_printf(b, "%s\n", key);
  if (r->class_level)
    lw_buf_puts(b, "  class-level: instances never taken in both orders in this run; locks of "
                   "these classes were, and two threads taking them so can deadlock\n");
}

static const char *mode_note(const lw_rlock_t *l, unsigned mode) {
  if (l->type != LW_TYPE_RWLOCK) return "";
  return mode == LW_MODE_READ ? " for reading" : " for writing";
}

static void text_thread(lw_buf_t *b, uint32_t seq) {
  lw_thread_info_t info;
  if (!lw_thread_info(seq, &info)) return;
  if (info.tid == getpid()) {
    lw_buf_printf(b, "  Thread T%u (tid %d) is the main thread.\n", seq, (int)info.tid);
    return;
  }
  if (info.parent)
    lw_buf_printf(b, "  Thread T%u (tid %d) created by thread T%u at:\n", seq, (int)info.tid,
                  info.parent - 1);
  else
    lw_buf_printf(b, "  Thread T%u (tid %d), created before lockwatch started or outside "
                  "pthread_create.\n", seq, (int)info.tid);
  if (info.parent) text_frames(b, info.create_stack);
}

/* Writes " file:line in function" of the frame a summary names. */
static void text_where(lw_buf_t *b, const lw_report_t *r) {
  lw_frame_t f, o;
  if (!lw_report_where(r, &f)) return;
  if (f.file) lw_buf_printf(b, " %s:%d", f.file, f.line);
  if (f.function) lw_buf_printf(b, " in %s", f.function);
  if (!lw_report_where_other(r, &o) || !o.function || !f.function ||
      !strcmp(o.function, f.function))
    return;
  lw_buf_puts(b, " against");
  f = o;
  if (f.file) lw_buf_printf(b, " %s:%d", f.file, f.line);
  if (f.function) lw_buf_printf(b, " in %s", f.function);
}

/* "lock(name)" or "rlock(name)", as the scenario writes a request. */
static void scenario_lock(lw_buf_t *b, const char *name, bool read) {
  lw_buf_printf(b, "%slock(%s)", read ? "r" : "", name);
}

/* The length of what scenario_lock writes. */
static size_t scenario_lock_len(const char *name, bool read) {
  return strlen(name) + (read ? 7 : 6);
}

/* Appends n spaces. */
static void pad(lw_buf_t *b, size_t n) {
  static const char spaces[] = "                                ";
  while (n > 0) {
    size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
    lw_buf_add(b, spaces, k);
    n -= k;
  }
}

void lw_report_format_scenario(lw_buf_t *b, uint32_t n, const lw_scenario_step_t *s) {
  static const char indent[] = "        ";
  if (n < 2) return;
  bool repeated = false;
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t k = 0; k < i; k++) repeated |= strcmp(s[i].thread, s[k].thread) == 0;
  if (n == 2) {
    /* lockdep's two columns: each thread takes its first lock, then asks for the other's. */
    size_t w = strlen(s[0].thread);
    size_t a = scenario_lock_len(s[0].held, s[0].held_read);
    size_t c = scenario_lock_len(s[0].wanted, s[0].wanted_read);
    if (a > w) w = a;
    if (c > w) w = c;
    w += 4;
    if (w < 24) w = 24;
    lw_buf_puts(b, "\n  Possible unsafe locking scenario:\n\n");
    lw_buf_printf(b, "%s%s", indent, s[0].thread);
    pad(b, w - strlen(s[0].thread));
    lw_buf_printf(b, "%s\n%s----", s[1].thread, indent);
    pad(b, w - 4);
    lw_buf_printf(b, "----\n%s", indent);
    scenario_lock(b, s[0].held, s[0].held_read);
    lw_buf_printf(b, "\n%s", indent);
    pad(b, w);
    scenario_lock(b, s[1].held, s[1].held_read);
    lw_buf_printf(b, "\n%s", indent);
    pad(b, w);
    scenario_lock(b, s[1].wanted, s[1].wanted_read);
    lw_buf_printf(b, "\n%s", indent);
    scenario_lock(b, s[0].wanted, s[0].wanted_read);
    lw_buf_puts(b, "\n");
  } else {
    /* One row per thread: every thread holds its first lock and waits for its second. */
    size_t tw = 0, hw = 0; /* widest thread, widest first lock */
    for (uint32_t i = 0; i < n; i++) {
      size_t t = strlen(s[i].thread), l = scenario_lock_len(s[i].held, s[i].held_read);
      if (t > tw) tw = t;
      if (l > hw) hw = l;
    }
    lw_buf_printf(b, "\n  Possible unsafe locking scenario (%u threads, each holding its first "
                  "lock and waiting for its second):\n\n", n);
    for (uint32_t i = 0; i < n; i++) {
      lw_buf_printf(b, "%s%s:", indent, s[i].thread);
      pad(b, tw - strlen(s[i].thread) + 1);
      scenario_lock(b, s[i].held, s[i].held_read);
      pad(b, hw - scenario_lock_len(s[i].held, s[i].held_read));
      lw_buf_puts(b, " ... ");
      scenario_lock(b, s[i].wanted, s[i].wanted_read);
      lw_buf_puts(b, "\n");
    }
  }
  if (repeated)
    lw_buf_printf(b, "\n%s(one thread took more than one of these orders, at different times: "
                  "threads running this code at once can deadlock)\n", indent);
  lw_buf_printf(b, "\n%s*** DEADLOCK ***\n", indent);
}

/* The scenario of an inversion, with the locks' names as the cycle line gives them. */
static void text_scenario(const lw_report_t *r, lw_buf_t *b) {
  enum { NAME = 256, THREAD = 16 };
  uint32_t n = r->nedges;
  size_t size = n * (sizeof(lw_scenario_step_t) + 2 * NAME + THREAD);
  lw_scenario_step_t *steps = lw_alloc(size);
  if (!steps) return;
  char *names = (char *)(steps + n);
  for (uint32_t i = 0; i < n; i++) {
    const lw_redge_t *e = &r->edges[i];
    char *held = names + i * (2 * NAME + THREAD), *wanted = held + NAME, *thread = wanted + NAME;
    const lw_rlock_t *from = &r->locks[e->from], *to = &r->locks[e->to];
    if (!lock_name(from, held, NAME))
      snprintf(held, NAME, "M%llu", (unsigned long long)from->id);
    if (!lock_name(to, wanted, NAME))
      snprintf(wanted, NAME, "M%llu", (unsigned long long)to->id);
    snprintf(thread, THREAD, "T%u", e->w.thread);
    steps[i] = (lw_scenario_step_t){thread, held, wanted,
                                    from->type == LW_TYPE_RWLOCK && e->from_mode == LW_MODE_READ,
                                    to->type == LW_TYPE_RWLOCK && e->to_mode == LW_MODE_READ};
  }
  lw_report_format_scenario(b, n, steps);
  lw_free(steps, size);
}

/* What the cycle looks like beyond its edges (docs/rules.md, labels). */
static void text_labels(const lw_report_t *r, lw_buf_t *b) {
  const lw_rlabels_t *l = &r->labels;
  if (l->guarded) {
    lw_buf_puts(b, "  Guarded by ");
    for (uint32_t k = 0; k < l->ngate && r->nedges + k < r->nlocks; k++) {
      if (k) lw_buf_puts(b, ", ");
      text_lock_name(b, &r->locks[r->nedges + k]);
    }
    lw_buf_printf(b, ": every edge was taken while holding %s, so this cycle cannot deadlock%s.\n",
                  l->ngate == 1 ? "it" : "them",
                  r->passes ? "" : " (reported because of report_guarded=1)");
  }
  if (l->threads_had < l->threads_needed) {
    if (l->threads_had <= 1)
      lw_buf_printf(b, "  Single thread: one thread took every edge; %u threads running these "
                    "paths at once deadlock.\n", l->threads_needed);
    else
      lw_buf_printf(b, "  Needs %u threads on these paths; this run had %u.\n",
                    l->threads_needed, l->threads_had);
  }
  if (l->ordered)
    lw_buf_printf(b, "  Ordered by create/join: the threads that took these edges never ran at "
                  "the same time in this run; a schedule that runs them together deadlocks%s.\n",
                  r->passes && !l->guarded ? " (report_ordered=0: not counted)" : "");
}

static void text_inversion(const lw_report_t *r, lw_buf_t *b) {
  lw_buf_puts(b, "  Cycle in lock order graph: ");
  for (uint32_t i = 0; i < r->nedges; i++) {
    text_lock_name(b, &r->locks[r->edges[i].from]);
    lw_buf_puts(b, " => ");
  }
  lw_buf_printf(b, "M%llu\n", (unsigned long long)r->locks[r->edges[0].from].id);
  text_classes(r, b);
  text_labels(r, b);
  text_scenario(r, b);
  for (uint32_t i = 0; i < r->nedges; i++) {
    const lw_redge_t *e = &r->edges[i];
    const lw_rlock_t *from = &r->locks[e->from], *to = &r->locks[e->to];
    lw_buf_printf(b, "\n  M%llu acquired%s here while holding M%llu%s in thread T%u:\n",
                  (unsigned long long)to->id, mode_note(to, e->to_mode),
                  (unsigned long long)from->id, mode_note(from, e->from_mode), e->w.thread);
    text_frames(b, e->w.stack_to);
    lw_buf_printf(b, "\n  M%llu previously acquired%s by thread T%u here:\n",
                  (unsigned long long)from->id, mode_note(from, e->from_mode), e->w.thread);
    text_frames(b, e->w.stack_from);
    if (e->other_thread)
      lw_buf_printf(b, "  (thread T%u also took M%llu while holding M%llu)\n", e->other_thread - 1,
                    (unsigned long long)to->id, (unsigned long long)from->id);
  }
}

static uint32_t deadlock_threads(const lw_report_t *r) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < r->nevents; i++) n += r->events[i].what == LW_EV_WAIT;
  return n;
}

/* The sentence under the headline of the kinds about one call; false for others. */
static bool text_object_headline(const lw_report_t *r, const lw_revent_t *e, lw_buf_t *b) {
  switch (r->kind) {
  case LW_REPORT_CALL_FAILED:
    lw_buf_printf(b, "  Thread T%u: %s(0x%lx) returned %s: %s.\n", e->thread, r->call,
                  (unsigned long)r->object, lw_errno_name(r->error), r->reason);
    return true;
  case LW_REPORT_COND_DESTROY_WAITING:
  case LW_REPORT_SEM_DESTROY_WAITING:
    lw_buf_printf(b, "  Thread T%u: %s(0x%lx) while %u thread%s wait%s on it; %s.\n", e->thread,
                  r->call, (unsigned long)r->object, r->waiters, r->waiters == 1 ? "" : "s",
                  r->waiters == 1 ? "s" : "",
                  r->kind == LW_REPORT_COND_DESTROY_WAITING
                      ? "glibc's destroy waits until they are woken"
                      : "they may never be woken");
    return true;
  case LW_REPORT_BARRIER_MISUSE:
    if (r->detail == LW_DETAIL_ZERO_COUNT)
      lw_buf_printf(b, "  Thread T%u: %s(0x%lx) with a count of 0 (it fails with EINVAL).\n",
                    e->thread, r->call, (unsigned long)r->object);
    else
      lw_buf_printf(b, "  Thread T%u: %s(0x%lx) while %u thread%s wait%s on it; %s.\n",
                    e->thread, r->call, (unsigned long)r->object, r->waiters,
                    r->waiters == 1 ? "" : "s", r->waiters == 1 ? "s" : "",
                    r->detail == LW_DETAIL_DESTROY_WAITING
                        ? "glibc's destroy waits for them forever"
                        : "they are never released");
    return true;
  default: return false;
  }
}

/* The sentence under the headline, for kinds that are not cycles. */
static void text_headline(const lw_report_t *r, lw_buf_t *b) {
  const lw_revent_t *e = r->nevents ? &r->events[0] : NULL;
  if (e && r->call && text_object_headline(r, e, b)) return;
  if (e && r->kind == LW_REPORT_EXIT_HOLDING) {
    lw_buf_printf(b, "  Thread T%u ends the process holding %u lock%s (not counted: a warning).\n",
                  e->thread, r->nlocks, r->nlocks == 1 ? "" : "s");
    return;
  }
  if (!e || e->lock < 0 || (uint32_t)e->lock >= r->nlocks) return;
  const lw_rlock_t *l = &r->locks[e->lock];
  unsigned long long id = (unsigned long long)l->id;
  lw_buf_puts(b, "  ");
  switch (r->kind) {
  case LW_REPORT_DOUBLE_LOCK:
    lw_buf_printf(b, "Thread T%u requests %s M%llu", e->thread, lw_type_name(l->type), id);
    lw_buf_printf(b, "%s, which it already holds", mode_note(l, e->mode));
    if (r->detail == LW_DETAIL_BLOCKS_FOREVER) lw_buf_puts(b, ": this call would wait forever.");
    else if (r->detail == LW_DETAIL_FAILS) lw_buf_puts(b, ": the call fails with EDEADLK.");
    else if (r->detail == LW_DETAIL_TIMES_OUT) lw_buf_puts(b, ": the call waits until its timeout.");
    else if (r->detail == LW_DETAIL_MAY_BLOCK)
      lw_buf_puts(b, ": on a writer-preferring rwlock it waits forever if a writer is queued.");
    else lw_buf_puts(b, ".");
    break;
  case LW_REPORT_UNLOCK_NOT_OWNER:
    lw_buf_printf(b, "Thread T%u unlocks %s M%llu, which it does not hold", e->thread,
                  lw_type_name(l->type), id);
    if (r->detail == LW_DETAIL_NOT_LOCKED) lw_buf_puts(b, ": it is not locked at all.");
    else if (r->detail == LW_DETAIL_OTHER_OWNER)
      lw_buf_printf(b, ": thread tid %d holds it.", r->other_tid);
    else lw_buf_puts(b, ".");
    break;
  case LW_REPORT_DESTROY_LOCKED:
    lw_buf_printf(b, "Thread T%u destroys %s M%llu while ", e->thread, lw_type_name(l->type), id);
    if (r->detail == LW_DETAIL_SELF_OWNER) lw_buf_puts(b, "it holds it.");
    else if (r->detail == LW_DETAIL_OTHER_OWNER && r->other_tid)
      lw_buf_printf(b, "thread tid %d holds it.", r->other_tid);
    else lw_buf_puts(b, "it is held.");
    break;
  case LW_REPORT_THREAD_EXIT_HOLDING:
    lw_buf_printf(b, "Thread T%u ends while holding %u lock%s; a thread that waits for %s later "
                  "waits forever.", e->thread, r->nlocks, r->nlocks == 1 ? "" : "s",
                  r->nlocks == 1 ? "it" : "one of them");
    break;
  case LW_REPORT_COND_WAIT_UNHELD:
    lw_buf_printf(b, "Thread T%u waits on condition variable 0x%lx with %s M%llu", e->thread,
                  (unsigned long)r->object, lw_type_name(l->type), id);
    if (r->detail == LW_DETAIL_NOT_HELD) lw_buf_puts(b, ", which it does not hold.");
    else if (r->detail == LW_DETAIL_TWO_MUTEXES)
      lw_buf_puts(b, ", but the condition variable is also used with another mutex.");
    else lw_buf_puts(b, ".");
    break;
  case LW_REPORT_DEADLOCK:
    lw_buf_printf(b, "%u threads wait for each other in a cycle; none of them can go on.",
                  deadlock_threads(r));
    break;
  case LW_REPORT_LOCK_ABANDONED:
    lw_buf_printf(b, "Thread T%u held %s M%llu when a new, unlocked lock appeared at its address "
                  "(its memory was reused without unlock or destroy); the new lock is a new "
                  "identity.", e->thread, lw_type_name(l->type), id);
    break;
  case LW_REPORT_STALL:
    lw_buf_printf(b, "Thread T%u has waited %llu ms for %s M%llu, with no deadlock cycle in sight.",
                  e->thread, (unsigned long long)r->waited_ms, lw_type_name(l->type), id);
    break;
  case LW_REPORT_RANK_VIOLATION:
    if (r->nlocks < 2) break;
    lw_buf_printf(b, "Thread T%u requests M%llu (rank %d) while holding M%llu (rank %d): a lock "
                  "may only be taken while every ranked lock held has a lower rank%s.",
                  e->thread, id, (int)l->rank, (unsigned long long)r->locks[1].id,
                  (int)r->locks[1].rank,
                  r->detail == LW_DETAIL_SAME_RANK ? " (equal ranks nest only when declared "
                                                     "nestable)" : "");
    break;
  case LW_REPORT_NOT_HELD:
    lw_buf_printf(b, "Thread T%u asserts it holds %s M%llu%s, but it %s.", e->thread,
                  lw_type_name(l->type), id, e->mode == LW_MODE_READ ? "" : " exclusively",
                  r->detail == LW_DETAIL_READ_HELD ? "holds it only for reading" : "does not");
    break;
  default:
    lw_buf_puts(b, lw_report_kind_title(r->kind));
    lw_buf_puts(b, ".");
  }
  lw_buf_puts(b, "\n");
}

/* One labelled stack. */
static void text_event(const lw_report_t *r, const lw_revent_t *e, lw_buf_t *b) {
  const lw_rlock_t *l = e->lock >= 0 && (uint32_t)e->lock < r->nlocks ? &r->locks[e->lock] : NULL;
  unsigned long long id = l ? (unsigned long long)l->id : 0;
  const char *mode = l ? mode_note(l, e->mode) : "";
  lw_buf_puts(b, "\n  ");
  switch (e->what) {
  case LW_EV_LOCK: lw_buf_printf(b, "M%llu requested%s by thread T%u here:", id, mode, e->thread); break;
  case LW_EV_HELD: lw_buf_printf(b, "M%llu acquired%s by thread T%u here:", id, mode, e->thread); break;
  case LW_EV_UNLOCK: lw_buf_printf(b, "M%llu released by thread T%u here:", id, e->thread); break;
  case LW_EV_DESTROY: lw_buf_printf(b, "M%llu destroyed by thread T%u here:", id, e->thread); break;
  case LW_EV_EXIT: lw_buf_printf(b, "Thread T%u ends here:", e->thread); break;
  case LW_EV_COND_WAIT:
    lw_buf_printf(b, "Thread T%u waits on condition variable 0x%lx with M%llu here:", e->thread,
                  (unsigned long)r->object, id);
    break;
  case LW_EV_COND_EARLIER:
    lw_buf_printf(b, "Thread T%u waited on condition variable 0x%lx with M%llu here:", e->thread,
                  (unsigned long)r->object, id);
    break;
  case LW_EV_WAIT: lw_buf_printf(b, "Thread T%u waits for M%llu%s here:", e->thread, id, mode); break;
  case LW_EV_ASSERT: lw_buf_printf(b, "Thread T%u asserts it holds M%llu here:", e->thread, id); break;
  case LW_EV_CALL: lw_buf_printf(b, "Thread T%u calls %s here:", e->thread, r->call ? r->call : "exit"); break;
  default: lw_buf_puts(b, "here:");
  }
  lw_buf_puts(b, "\n");
  text_frames(b, e->stack);
}

/* Every thread a report names, once each, with where it was created. */
static void text_threads(const lw_report_t *r, lw_buf_t *b) {
  uint32_t n = r->nedges + r->nevents;
  lw_buf_puts(b, "\n");
  for (uint32_t i = 0; i < n; i++) {
    uint32_t seq = i < r->nedges ? r->edges[i].w.thread : r->events[i - r->nedges].thread;
    bool seen = false;
    for (uint32_t k = 0; k < i && !seen; k++)
      seen = (k < r->nedges ? r->edges[k].w.thread : r->events[k - r->nedges].thread) == seq;
    if (!seen) text_thread(b, seq);
  }
}

/* Locks without a symbol name, with where they were created. */
static void text_unnamed_locks(const lw_report_t *r, lw_buf_t *b) {
  for (uint32_t i = 0; i < r->nlocks; i++) {
    char name[300];
    const lw_rlock_t *l = &r->locks[i];
    if (lock_name(l, name, sizeof name)) continue;
    if (l->addr)
      lw_buf_printf(b, "\n  %s M%llu (0x%lx) created at:\n", lw_type_name(l->type),
                    (unsigned long long)l->id, (unsigned long)l->addr);
    else
      lw_buf_printf(b, "\n  %s M%llu (the first of its class) created at:\n",
                    lw_type_name(l->type), (unsigned long long)l->id);
    text_frames(b, l->create_stack);
  }
}

void lw_report_format_text(const lw_report_t *r, lw_buf_t *b) {
  lw_buf_puts(b, "==================\n");
  lw_buf_printf(b, "lockwatch: %s (%s) (pid %d)\n", lw_report_kind_name(r->kind),
                lw_report_kind_title(r->kind), (int)getpid());
  if (r->passes)
    lw_buf_puts(b, "  (This report does not change the exit status.)\n");
  if (r->kind == LW_REPORT_LOCK_ORDER_INVERSION) {
    text_inversion(r, b);
  } else {
    text_headline(r, b);
    if (r->nlocks) {
      lw_buf_puts(b, "  Lock");
      lw_buf_puts(b, r->nlocks == 1 ? ": " : "s: ");
      for (uint32_t i = 0; i < r->nlocks; i++) {
        if (i) lw_buf_puts(b, ", ");
        text_lock_name(b, &r->locks[i]);
      }
      lw_buf_puts(b, "\n");
    }
    for (uint32_t i = 0; i < r->nevents; i++) text_event(r, &r->events[i], b);
  }
  text_unnamed_locks(r, b);
  text_threads(r, b);
  lw_buf_printf(b, "\n  SUMMARY: lockwatch: %s", lw_report_kind_name(r->kind));
  text_where(b, r);
  lw_buf_puts(b, "\n==================\n");
}
