/*
 * text.c - lockwatch report: the text of saved reports, as the runtime
 * prints it on stderr (docs/report-format.md "Text"; lib/report_text.c is
 * the runtime's writer, and the two must stay alike line for line).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "tool.h"

/* The headline explanation of a kind ("potential deadlock"), "" if unknown. */
static const char *kind_title(const char *kind) {
  for (unsigned i = 0; i < LW_REPORT_KIND_COUNT; i++)
    if (strcmp(lw_report_kind_name(i), kind) == 0) return lw_report_kind_title(i);
  return "";
}

static bool str_is(const char *s, const char *want) { return s && strcmp(s, want) == 0; }

static const char *or_q(const char *s) { return s ? s : "?"; }

/* The frames of a stack, "    #0 function file:line (module+offset)" each. */
static void text_frames(lwt_str_t *b, json_object *frames) {
  size_t n = lwt_len(frames);
  if (!n) {
    lwt_str_puts(b, "    <no stack>\n");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    lwt_frame_t f;
    lwt_frame_get(lwt_at(frames, i), &f);
    lwt_str_printf(b, "    #%zu", i);
    if (f.function) lwt_str_printf(b, " %s", f.function);
    else lwt_str_printf(b, " %s", or_q(f.pc));
    if (f.file) lwt_str_printf(b, " %s:%lld", f.file, f.line);
    if (f.module) lwt_str_printf(b, " (%s+%s)", lwt_basename(f.module), or_q(f.offset));
    lwt_str_puts(b, "\n");
  }
}

/* "M1 (accounts, 0x55...)" or "M1 (0x55...)"; "semaphore M1 (...)" for a semaphore. */
static void text_lock_name(lwt_str_t *b, json_object *report, const char *id) {
  json_object *l = lwt_report_lock(report, id);
  const char *name = lwt_get_str(l, "name"), *addr = lwt_get_str(l, "address");
  if (str_is(lwt_get_str(l, "type"), "semaphore")) lwt_str_puts(b, "semaphore ");
  if (name) lwt_str_printf(b, "%s (%s, %s)", or_q(id), name, or_q(addr));
  else if (!str_is(addr, "0x0")) lwt_str_printf(b, "%s (%s)", or_q(id), or_q(addr));
  else lwt_str_printf(b, "%s", or_q(id));
}

/* "  Lock classes: C.. (name) => ..." and, for a class-level cycle, why. */
static void text_classes(lwt_str_t *b, json_object *r) {
  json_object *edges = lwt_get(r, "edges", json_type_array);
  size_t n = lwt_len(edges);
  if (!n) return;
  lwt_str_t line = LWT_STR_INIT;
  lwt_str_puts(&line, "  Lock classes: ");
  for (size_t i = 0; i < n; i++) {
    json_object *l = lwt_report_lock(r, lwt_get_str(lwt_at(edges, i), "from"));
    const char *cls = lwt_get_str(l, "class"), *name = lwt_get_str(l, "class_name");
    if (!cls) {
      lwt_str_free(&line);
      return;
    }
    lwt_str_printf(&line, "%s (%s) => ", cls, name ? name : "");
  }
  lwt_str_printf(&line, "%s\n",
                 or_q(lwt_get_str(lwt_report_lock(r, lwt_get_str(lwt_at(edges, 0), "from")), "class")));
  lwt_str_puts(b, lwt_str_get(&line));
  lwt_str_free(&line);
  json_object *cl = NULL;
  if (json_object_object_get_ex(r, "class_level", &cl) && json_object_get_boolean(cl))
    lwt_str_puts(b, "  class-level: instances never taken in both orders in this run; locks of "
                    "these classes were, and two threads taking them so can deadlock\n");
}

/* " for reading" / " for writing" for rwlocks, "" for other locks. */
static const char *mode_note(json_object *lock, const char *mode) {
  if (!str_is(lwt_get_str(lock, "type"), "rwlock")) return "";
  return str_is(mode, "read") ? " for reading" : " for writing";
}

/* Where thread t (of process pid) came from, if the runtime knew the thread. */
static void text_thread(lwt_str_t *b, json_object *t, long long pid) {
  const char *id = or_q(lwt_get_str(t, "id"));
  const char *parent = lwt_get_str(t, "parent");
  long long tid = lwt_get_int(t, "tid", 0);
  if (tid == 0) return; /* the runtime did not know the thread */
  if (tid == pid) {
    lwt_str_printf(b, "  Thread %s (tid %lld) is the main thread.\n", id, tid);
    return;
  }
  if (parent) {
    lwt_str_printf(b, "  Thread %s (tid %lld) created by thread %s at:\n", id, tid, parent);
    text_frames(b, lwt_get(t, "created", json_type_array));
  } else {
    lwt_str_printf(b, "  Thread %s (tid %lld), created before lockwatch started or outside "
                   "pthread_create.\n", id, tid);
  }
}

/* " file:line in function" of the innermost frame of frames. */
static void text_where(lwt_str_t *b, json_object *frames) {
  lwt_frame_t f;
  if (!lwt_len(frames)) return;
  lwt_frame_get(lwt_at(frames, 0), &f);
  if (f.file) lwt_str_printf(b, " %s:%lld", f.file, f.line);
  if (f.function) lwt_str_printf(b, " in %s", f.function);
}

void lwt_text_edge_labels(lwt_str_t *acquired, lwt_str_t *held, json_object *report,
                          json_object *e) {
  const char *from = or_q(lwt_get_str(e, "from")), *to = or_q(lwt_get_str(e, "to"));
  const char *from_mode = lwt_get_str(e, "from_mode"), *to_mode = lwt_get_str(e, "to_mode");
  const char *thread = or_q(lwt_get_str(e, "thread"));
  json_object *fl = lwt_report_lock(report, from), *tl = lwt_report_lock(report, to);
  lwt_str_printf(acquired, "%s acquired%s here while holding %s%s in thread %s", to,
                 mode_note(tl, to_mode), from, mode_note(fl, from_mode), thread);
  lwt_str_printf(held, "%s previously acquired%s by thread %s here", from,
                 mode_note(fl, from_mode), thread);
}

/* A lock's name as the cycle line shows it: its symbol, else its id. */
static const char *scenario_name(json_object *report, const char *id) {
  const char *name = lwt_get_str(lwt_report_lock(report, id), "name");
  return name ? name : or_q(id);
}

/* Taken for reading (which the scenario shows only for rwlocks)? */
static bool read_mode(json_object *report, const char *id, const char *mode) {
  return str_is(lwt_get_str(lwt_report_lock(report, id), "type"), "rwlock") &&
         str_is(mode, "read");
}

void lwt_text_scenario(lwt_str_t *b, json_object *r) {
  json_object *edges = lwt_get(r, "edges", json_type_array);
  size_t n = lwt_len(edges);
  if (n < 2 || n > UINT32_MAX) return;
  lw_scenario_step_t *steps = lwt_xmalloc(n * sizeof *steps);
  for (size_t i = 0; i < n; i++) {
    json_object *e = lwt_at(edges, i);
    const char *from = lwt_get_str(e, "from"), *to = lwt_get_str(e, "to");
    steps[i] = (lw_scenario_step_t){or_q(lwt_get_str(e, "thread")), scenario_name(r, from),
                                    scenario_name(r, to),
                                    read_mode(r, from, lwt_get_str(e, "from_mode")),
                                    read_mode(r, to, lwt_get_str(e, "to_mode"))};
  }
  lw_buf_t text = LW_BUF_INIT;
  lw_report_format_scenario(&text, (uint32_t)n, steps);
  if (text.oom) {
    lwt_error("out of memory");
    exit(LWT_EXIT_ERROR);
  }
  lwt_str_add(b, lw_buf_str(&text), text.n);
  lw_buf_free(&text);
  free(steps);
}

/* The labels of a cycle, as lib/report_text.c writes them. */
static void text_labels(lwt_str_t *b, json_object *r) {
  json_object *gate = lwt_get(r, "gate", json_type_array);
  bool fails = lwt_report_fails(r);
  if (lwt_len(gate)) {
    lwt_str_puts(b, "  Guarded by ");
    for (size_t k = 0; k < lwt_len(gate); k++) {
      if (k) lwt_str_puts(b, ", ");
      text_lock_name(b, r, json_object_get_string(lwt_at(gate, k)));
    }
    lwt_str_printf(b, ": every edge was taken while holding %s, so this cycle cannot deadlock%s.\n",
                   lwt_len(gate) == 1 ? "it" : "them",
                   fails ? " (reported because of report_guarded=1)" : "");
  }
  long long needed = lwt_get_int(r, "threads_needed", 0), had = lwt_get_int(r, "threads_had", 0);
  if (had < needed) {
    if (had <= 1)
      lwt_str_printf(b, "  Single thread: one thread took every edge; %lld threads running these "
                     "paths at once deadlock.\n", needed);
    else
      lwt_str_printf(b, "  Needs %lld threads on these paths; this run had %lld.\n", needed, had);
  }
  json_object *labels = lwt_get(r, "labels", json_type_array);
  for (size_t k = 0; k < lwt_len(labels); k++)
    if (str_is(json_object_get_string(lwt_at(labels, k)), "ordered"))
      lwt_str_printf(b, "  Ordered by create/join: the threads that took these edges never ran at "
                     "the same time in this run; a schedule that runs them together "
                     "deadlocks%s.\n",
                     fails || lwt_len(gate) ? "" : " (report_ordered=0: not counted)");
}

/* The cycle line, the classes, the labels, the unsafe scenario, then both stacks of every edge. */
static void text_inversion(lwt_str_t *b, json_object *r) {
  json_object *edges = lwt_get(r, "edges", json_type_array);
  size_t n = lwt_len(edges);
  lwt_str_puts(b, "  Cycle in lock order graph: ");
  for (size_t i = 0; i < n; i++) {
    text_lock_name(b, r, lwt_get_str(lwt_at(edges, i), "from"));
    lwt_str_puts(b, " => ");
  }
  lwt_str_printf(b, "%s\n", n ? or_q(lwt_get_str(lwt_at(edges, 0), "from")) : "");
  text_classes(b, r);
  text_labels(b, r);
  lwt_text_scenario(b, r);
  for (size_t i = 0; i < n; i++) {
    json_object *e = lwt_at(edges, i);
    lwt_str_t acq = LWT_STR_INIT, held = LWT_STR_INIT;
    lwt_text_edge_labels(&acq, &held, r, e);
    lwt_str_printf(b, "\n  %s:\n", lwt_str_get(&acq));
    text_frames(b, lwt_get(e, "acquired", json_type_array));
    lwt_str_printf(b, "\n  %s:\n", lwt_str_get(&held));
    text_frames(b, lwt_get(e, "held", json_type_array));
    const char *also = lwt_get_str(e, "also_by_thread");
    if (also)
      lwt_str_printf(b, "  (thread %s also took %s while holding %s)\n", also,
                     or_q(lwt_get_str(e, "to")), or_q(lwt_get_str(e, "from")));
    const char *doc = lwt_get_str(e, "document");
    if (doc) /* an edge of a merged class graph: where it came from */
      lwt_str_printf(b, "  (in process %lld (%s), from %s)\n", lwt_get_int(e, "pid", 0),
                     lwt_basename(or_q(lwt_get_str(e, "program"))), doc);
    lwt_str_free(&acq);
    lwt_str_free(&held);
  }
}

/* The headline of the kinds about one call (call-failed, ...-destroy-waiting, barrier-misuse). */
static bool call_headline(lwt_str_t *b, json_object *r, json_object *e) {
  const char *call = lwt_get_str(r, "call"), *kind = lwt_get_str(r, "kind");
  if (!call || !e) return false;
  const char *thread = or_q(lwt_get_str(e, "thread")), *obj = or_q(lwt_get_str(r, "object"));
  long long waiters = lwt_get_int(r, "waiters", 0);
  if (str_is(kind, "call-failed"))
    lwt_str_printf(b, "Thread %s: %s(%s) returned %s: %s.", thread, call, obj,
                   or_q(lwt_get_str(r, "error")), or_q(lwt_get_str(r, "reason")));
  else if (str_is(lwt_get_str(r, "detail"), "zero-count"))
    lwt_str_printf(b, "Thread %s: %s(%s) with a count of 0 (it fails with EINVAL).", thread, call,
                   obj);
  else
    lwt_str_printf(b, "Thread %s: %s(%s) while %lld thread%s wait%s on it.", thread, call, obj,
                   waiters, waiters == 1 ? "" : "s", waiters == 1 ? "s" : "");
  return true;
}

bool lwt_text_headline(lwt_str_t *b, json_object *r) {
  json_object *events = lwt_get(r, "events", json_type_array);
  json_object *e = lwt_at(events, 0);
  if (call_headline(b, r, e)) return true;
  const char *lid = lwt_get_str(e, "lock");
  json_object *l = lwt_report_lock(r, lid);
  if (e && str_is(lwt_get_str(r, "kind"), "exit-holding-lock")) {
    size_t n = lwt_len(lwt_get(r, "locks", json_type_array));
    lwt_str_printf(b, "Thread %s ends the process holding %zu lock%s (not counted: a warning).",
                   or_q(lwt_get_str(e, "thread")), n, n == 1 ? "" : "s");
    return true;
  }
  if (!e || !l) return false;
  const char *kind = lwt_get_str(r, "kind"), *detail = lwt_get_str(r, "detail");
  const char *thread = or_q(lwt_get_str(e, "thread")), *type = or_q(lwt_get_str(l, "type"));
  long long owner = lwt_get_int(r, "owner_tid", 0);
  if (str_is(kind, "double-lock")) {
    lwt_str_printf(b, "Thread %s requests %s %s", thread, type, lid);
    lwt_str_printf(b, "%s, which it already holds", mode_note(l, lwt_get_str(e, "mode")));
    if (str_is(detail, "blocks-forever")) lwt_str_puts(b, ": this call would wait forever.");
    else if (str_is(detail, "fails")) lwt_str_puts(b, ": the call fails with EDEADLK.");
    else if (str_is(detail, "times-out")) lwt_str_puts(b, ": the call waits until its timeout.");
    else if (str_is(detail, "may-block"))
      lwt_str_puts(b, ": on a writer-preferring rwlock it waits forever if a writer is queued.");
    else lwt_str_puts(b, ".");
  } else if (str_is(kind, "unlock-not-owner")) {
    lwt_str_printf(b, "Thread %s unlocks %s %s, which it does not hold", thread, type, lid);
    if (str_is(detail, "not-locked")) lwt_str_puts(b, ": it is not locked at all.");
    else if (str_is(detail, "other-owner")) lwt_str_printf(b, ": thread tid %lld holds it.", owner);
    else lwt_str_puts(b, ".");
  } else if (str_is(kind, "destroy-locked")) {
    lwt_str_printf(b, "Thread %s destroys %s %s while ", thread, type, lid);
    if (str_is(detail, "self-owner")) lwt_str_puts(b, "it holds it.");
    else if (str_is(detail, "other-owner") && owner)
      lwt_str_printf(b, "thread tid %lld holds it.", owner);
    else lwt_str_puts(b, "it is held.");
  } else if (str_is(kind, "thread-exit-holding-lock")) {
    size_t n = lwt_len(lwt_get(r, "locks", json_type_array));
    lwt_str_printf(b, "Thread %s ends while holding %zu lock%s; a thread that waits for %s later "
                   "waits forever.", thread, n, n == 1 ? "" : "s", n == 1 ? "it" : "one of them");
  } else if (str_is(kind, "cond-wait-unheld")) {
    lwt_str_printf(b, "Thread %s waits on condition variable %s with %s %s", thread,
                   or_q(lwt_get_str(r, "condition_variable")), type, lid);
    if (str_is(detail, "not-held")) lwt_str_puts(b, ", which it does not hold.");
    else if (str_is(detail, "two-mutexes"))
      lwt_str_puts(b, ", but the condition variable is also used with another mutex.");
    else lwt_str_puts(b, ".");
  } else if (str_is(kind, "deadlock")) {
    size_t waits = 0;
    for (size_t i = 0; i < lwt_len(events); i++)
      waits += str_is(lwt_get_str(lwt_at(events, i), "what"), "wait");
    lwt_str_printf(b, "%zu threads wait for each other in a cycle; none of them can go on.", waits);
  } else if (str_is(kind, "lock-abandoned")) {
    lwt_str_printf(b, "Thread %s held %s %s when a new, unlocked lock appeared at its address "
                   "(its memory was reused without unlock or destroy); the new lock is a new "
                   "identity.", thread, type, lid);
  } else if (str_is(kind, "stall")) {
    lwt_str_printf(b, "Thread %s has waited %lld ms for %s %s, with no deadlock cycle in sight.",
                   thread, lwt_get_int(r, "waited_ms", 0), type, lid);
  } else if (str_is(kind, "rank-violation")) {
    json_object *held = lwt_at(lwt_get(r, "locks", json_type_array), 1);
    lwt_str_printf(b, "Thread %s requests %s (rank %lld) while holding %s (rank %lld): a lock may "
                   "only be taken while every ranked lock held has a lower rank%s.", thread, lid,
                   lwt_get_int(l, "rank", 0), or_q(lwt_get_str(held, "id")),
                   lwt_get_int(held, "rank", 0),
                   str_is(detail, "same-rank") ? " (equal ranks nest only when declared nestable)"
                                               : "");
  } else if (str_is(kind, "not-held")) {
    lwt_str_printf(b, "Thread %s asserts it holds %s %s%s, but it %s.", thread, type, lid,
                   str_is(lwt_get_str(e, "mode"), "read") ? "" : " exclusively",
                   str_is(detail, "read-held") ? "holds it only for reading" : "does not");
  } else {
    lwt_str_printf(b, "%s.", kind_title(or_q(kind)));
  }
  return true;
}

void lwt_text_event_label(lwt_str_t *b, json_object *r, json_object *e) {
  const char *what = lwt_get_str(e, "what");
  const char *lid = lwt_get_str(e, "lock");
  json_object *l = lwt_report_lock(r, lid);
  const char *id = lid ? lid : "M0"; /* the runtime's name for "no lock" */
  const char *mode = l ? mode_note(l, lwt_get_str(e, "mode")) : "";
  const char *t = or_q(lwt_get_str(e, "thread"));
  const char *cv = or_q(lwt_get_str(r, "condition_variable"));
  if (str_is(what, "lock")) lwt_str_printf(b, "%s requested%s by thread %s here", id, mode, t);
  else if (str_is(what, "held")) lwt_str_printf(b, "%s acquired%s by thread %s here", id, mode, t);
  else if (str_is(what, "unlock")) lwt_str_printf(b, "%s released by thread %s here", id, t);
  else if (str_is(what, "destroy")) lwt_str_printf(b, "%s destroyed by thread %s here", id, t);
  else if (str_is(what, "exit")) lwt_str_printf(b, "Thread %s ends here", t);
  else if (str_is(what, "cond-wait"))
    lwt_str_printf(b, "Thread %s waits on condition variable %s with %s here", t, cv, id);
  else if (str_is(what, "cond-earlier"))
    lwt_str_printf(b, "Thread %s waited on condition variable %s with %s here", t, cv, id);
  else if (str_is(what, "wait")) lwt_str_printf(b, "Thread %s waits for %s%s here", t, id, mode);
  else if (str_is(what, "assert")) lwt_str_printf(b, "Thread %s asserts it holds %s here", t, id);
  else lwt_str_puts(b, "here");
}

void lwt_text_report(lwt_str_t *b, const lwt_report_t *rep) {
  json_object *r = rep->obj;
  const char *kind = or_q(lwt_get_str(r, "kind"));
  json_object *locks = lwt_get(r, "locks", json_type_array);
  json_object *events = lwt_get(r, "events", json_type_array);
  json_object *threads = lwt_get(r, "threads", json_type_array);
  lwt_str_puts(b, "==================\n");
  lwt_str_printf(b, "lockwatch: %s (%s) (pid %lld)\n", kind, kind_title(kind), rep->pid);
  const char *by = lwt_get_str(r, "suppressed_by");
  if (rep->suppressed) lwt_str_printf(b, "  Suppressed by the rule %s.\n", or_q(by));
  if (!lwt_report_fails(r)) lwt_str_puts(b, "  (This report does not change the exit status.)\n");
  if (strcmp(kind, "lock-order-inversion") == 0) {
    text_inversion(b, r);
  } else {
    lwt_str_t headline = LWT_STR_INIT;
    if (lwt_text_headline(&headline, r)) lwt_str_printf(b, "  %s\n", lwt_str_get(&headline));
    lwt_str_free(&headline);
    size_t n = lwt_len(locks);
    if (n) {
      lwt_str_puts(b, n == 1 ? "  Lock: " : "  Locks: ");
      for (size_t i = 0; i < n; i++) {
        if (i) lwt_str_puts(b, ", ");
        text_lock_name(b, r, lwt_get_str(lwt_at(locks, i), "id"));
      }
      lwt_str_puts(b, "\n");
    }
    for (size_t i = 0; i < lwt_len(events); i++) {
      json_object *e = lwt_at(events, i);
      lwt_str_puts(b, "\n  ");
      lwt_text_event_label(b, r, e);
      lwt_str_puts(b, ":\n");
      text_frames(b, lwt_get(e, "stack", json_type_array));
    }
  }
  for (size_t i = 0; i < lwt_len(locks); i++) {
    json_object *l = lwt_at(locks, i);
    if (lwt_get_str(l, "name")) continue;
    if (!str_is(lwt_get_str(l, "address"), "0x0"))
      lwt_str_printf(b, "\n  %s %s (%s) created at:\n", or_q(lwt_get_str(l, "type")),
                     or_q(lwt_get_str(l, "id")), or_q(lwt_get_str(l, "address")));
    else
      lwt_str_printf(b, "\n  %s %s (the first of its class) created at:\n",
                     or_q(lwt_get_str(l, "type")), or_q(lwt_get_str(l, "id")));
    text_frames(b, lwt_get(l, "created", json_type_array));
  }
  lwt_str_puts(b, "\n");
  for (size_t i = 0; i < lwt_len(threads); i++) text_thread(b, lwt_at(threads, i), rep->pid);
  lwt_str_printf(b, "\n  SUMMARY: lockwatch: %s", kind);
  json_object *where = lwt_get(r, "where", json_type_object);
  if (where) {
    json_object *other = lwt_get(r, "where_other", json_type_object);
    lwt_frame_t f, o;
    lwt_frame_get(where, &f);
    if (f.file) lwt_str_printf(b, " %s:%lld", f.file, f.line);
    if (f.function) lwt_str_printf(b, " in %s", f.function);
    if (other && lwt_frame_get(other, &o) && o.function && f.function &&
        strcmp(o.function, f.function)) {
      lwt_str_puts(b, " against");
      if (o.file) lwt_str_printf(b, " %s:%lld", o.file, o.line);
      lwt_str_printf(b, " in %s", o.function);
    }
  } else {
    text_where(b, lwt_report_primary_stack(r));
  }
  lwt_str_puts(b, "\n==================\n");
}

static const char report_usage[] =
    "usage: lockwatch report [--suppressed] [--html FILE [--srcroot DIR]] FILE.json...\n"
    "       lockwatch report --profile [--top N] FILE.json...\n"
    "\n"
    "Prints the reports of lockwatch JSON documents (written with\n"
    "LOCKWATCH_OPTIONS=json_path=... or lockwatch run --json) as the text the\n"
    "runtime prints on stderr, then one line with the counts; or writes them\n"
    "as one HTML page. With --profile, prints instead the profile table of\n"
    "each document (a run with profile=1): the locks that made threads wait\n"
    "longest.\n"
    "\n"
    "  --suppressed   also print the reports a suppression rule matched\n"
    "  --html FILE    write one self-contained HTML page instead (summary, graph,\n"
    "                 scenarios, stacks with their source lines; '-': standard output)\n"
    "  --srcroot DIR  with --html: read relative source paths under DIR (default:\n"
    "                 the working directory)\n"
    "  --profile      print the profile tables\n"
    "  --top N        with --profile, the N locks most waited for (default 10)\n"
    "  -h, --help     print this help\n";

/* lockwatch report --profile: the table of every document. Returns the exit status. */
static int print_profiles(lwt_docs_t *d, long top) {
  for (size_t i = 0; i < d->ndocs; i++) {
    if (!lwt_get(d->docs[i].root, "profile", json_type_object)) {
      lwt_error("%s: no profile in this document: the run was made without profile=1 (set "
                "LOCKWATCH_OPTIONS=profile=1)", d->docs[i].path);
      return LWT_EXIT_ERROR;
    }
  }
  lwt_str_t out = LWT_STR_INIT;
  for (size_t i = 0; i < d->ndocs; i++) {
    json_object *root = d->docs[i].root;
    size_t nprocs = lwt_len(lwt_get(root, "processes", json_type_array));
    char whose[64];
    if (nprocs > 1) snprintf(whose, sizeof whose, "%zu processes", nprocs);
    else snprintf(whose, sizeof whose, "pid %lld", lwt_get_int(root, "pid", 0));
    lwt_profile_table(&out, lwt_get(root, "profile", json_type_object), whose, top);
  }
  int status = lwt_write_output(NULL, out.p, out.n) == 0 ? LWT_EXIT_OK : LWT_EXIT_ERROR;
  lwt_str_free(&out);
  return status;
}

int lwt_cmd_report(int argc, char **argv) {
  static const struct option opts[] = {{"suppressed", no_argument, NULL, 's'},
                                       {"html", required_argument, NULL, 'H'},
                                       {"srcroot", required_argument, NULL, 'r'},
                                       {"profile", no_argument, NULL, 'p'},
                                       {"top", required_argument, NULL, 't'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool with_suppressed = false, profile = false;
  const char *html = NULL, *srcroot_arg = NULL;
  long top = 10;
  bool top_given = false;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    if (c == 'h') {
      fputs(report_usage, stdout);
      return LWT_EXIT_OK;
    }
    if (c == 's') with_suppressed = true;
    else if (c == 'H') html = optarg;
    else if (c == 'r') srcroot_arg = optarg;
    else if (c == 'p') profile = true;
    else if (c == 't') {
      top_given = true;
      if (!lwt_parse_long(optarg, 1, 1000000, &top))
        return lwt_usage_error("report", "--top wants a number from 1 to 1000000, not '%s'",
                               optarg);
    } else return lwt_bad_option("report", c, argv);
  }
  if (srcroot_arg && !html) return lwt_usage_error("report", "--srcroot needs --html");
  if (srcroot_arg && !*srcroot_arg) return lwt_usage_error("report", "--srcroot is empty");
  if (html && !*html) return lwt_usage_error("report", "--html needs a file name");
  if (html && profile) return lwt_usage_error("report", "--profile and --html go apart");
  if (top_given && !profile) return lwt_usage_error("report", "--top needs --profile");
  if (optind >= argc) return lwt_usage_error("report", "no JSON file given");
  lwt_docs_t d = LWT_DOCS_INIT;
  if (lwt_docs_load_all(&d, argv + optind, argc - optind) != 0) {
    lwt_docs_free(&d);
    return LWT_EXIT_ERROR;
  }
  if (profile) {
    int status = print_profiles(&d, top);
    lwt_docs_free(&d);
    return status;
  }
  if (html) {
    char *srcroot = srcroot_arg ? lwt_srcroot_normalize(srcroot_arg) : NULL;
    lwt_html_opts_t o = {srcroot, -1, NULL, NULL};
    int status = LWT_EXIT_ERROR;
    if (!srcroot_arg || srcroot) status = lwt_html_write(&d, html, &o) == 0 ? LWT_EXIT_OK
                                                                            : LWT_EXIT_ERROR;
    free(srcroot);
    lwt_docs_free(&d);
    return status;
  }
  lwt_str_t out = LWT_STR_INIT;
  for (size_t i = 0; i < d.nreports; i++) lwt_text_report(&out, &d.reports[i]);
  if (with_suppressed)
    for (size_t i = 0; i < d.nsuppressed; i++) lwt_text_report(&out, &d.suppressed[i]);
  lwt_str_puts(&out, "lockwatch: ");
  size_t failing = lwt_docs_failing(&d);
  lwt_count(&out, failing, "report", "reports");
  lwt_str_printf(&out, ", %zu suppressed, from ", d.nsuppressed);
  lwt_count(&out, d.nprocs, "process", "processes");
  if (failing < d.nreports)
    lwt_str_printf(&out, "; and %zu listed that change nothing", d.nreports - failing);
  lwt_str_puts(&out, "\n");
  int status = lwt_write_output(NULL, out.p, out.n) == 0 ? LWT_EXIT_OK : LWT_EXIT_ERROR;
  lwt_str_free(&out);
  lwt_docs_free(&d);
  return status;
}
