/*
 * report_json.c - the JSON document of a run, for machines (schema in
 * docs/report-format.md). Formatting only.
 */
#include <stdio.h>
#include <string.h>

#include <lockwatch/lockwatch.h>

#include "class.h"
#include "depot.h"
#include "u64map.h"
#include "alloc.h"
#include "json.h"
#include "profile.h"
#include "report.h"
#include "symbolize.h"
#include "thread.h"
#include "types.h"


static void json_lock_ref(lw_json_t *j, uint64_t id) {
  char s[32];
  snprintf(s, sizeof s, "M%llu", (unsigned long long)id);
  lw_json_string(j, s);
}

static void json_thread_ref(lw_json_t *j, uint32_t seq) {
  char s[32];
  snprintf(s, sizeof s, "T%u", seq);
  lw_json_string(j, s);
}

static void json_frame(const lw_frame_t *f, uint32_t index, void *ctx) {
  lw_json_t *j = ctx;
  (void)index;
  lw_json_object_begin(j);
  lw_json_key(j, "pc");
  lw_json_hex(j, f->pc);
  lw_json_key(j, "function");
  lw_json_string(j, f->function);
  lw_json_key(j, "file");
  lw_json_string(j, f->file);
  lw_json_key(j, "line");
  lw_json_int(j, f->line);
  lw_json_key(j, "column");
  lw_json_int(j, f->column);
  lw_json_key(j, "module");
  lw_json_string(j, f->module);
  lw_json_key(j, "offset");
  lw_json_hex(j, f->offset);
  lw_json_key(j, "inlined");
  lw_json_bool(j, f->inlined);
  lw_json_object_end(j);
}

static void json_frames(lw_json_t *j, uint32_t stack) {
  lw_json_array_begin(j);
  lw_symbolize_stack(stack, json_frame, j);
  lw_json_array_end(j);
}

static void json_class_ref(lw_json_t *j, const lw_class_t *c) {
  char s[24];
  if (!c) {
    lw_json_null(j);
    return;
  }
  lw_class_key_text(c->key, s);
  lw_json_string(j, s);
}

static void json_lock(lw_json_t *j, const lw_rlock_t *l) {
  char name[256];
  bool symbol = lw_symbolize_data(l->addr, name, sizeof name);
  lw_json_object_begin(j);
  lw_json_key(j, "class");
  json_class_ref(j, l->cls);
  lw_json_key(j, "class_name");
  if (l->cls) {
    char cname[512];
    lw_report_class_name(l->cls, cname, sizeof cname);
    lw_json_string(j, cname);
  } else {
    lw_json_null(j);
  }
  lw_json_key(j, "id");
  json_lock_ref(j, l->id);
  lw_json_key(j, "address");
  lw_json_hex(j, l->addr);
  lw_json_key(j, "type");
  lw_json_string(j, lw_type_name(l->type));
  lw_json_key(j, "name");
  lw_json_string(j, l->name ? l->name : symbol ? name : NULL);
  lw_json_key(j, "symbol");
  lw_json_string(j, symbol ? name : NULL);
  lw_json_key(j, "rank");
  if (l->has_rank) lw_json_int(j, l->rank);
  else lw_json_null(j);
  lw_json_key(j, "created");
  json_frames(j, l->create_stack);
  lw_json_object_end(j);
}

static void json_edge(lw_json_t *j, const lw_report_t *r, const lw_redge_t *e) {
  lw_json_object_begin(j);
  lw_json_key(j, "from");
  json_lock_ref(j, r->locks[e->from].id);
  lw_json_key(j, "to");
  json_lock_ref(j, r->locks[e->to].id);
  lw_json_key(j, "from_mode");
  lw_json_string(j, lw_mode_name(e->from_mode));
  lw_json_key(j, "to_mode");
  lw_json_string(j, lw_mode_name(e->to_mode));
  lw_json_key(j, "thread");
  json_thread_ref(j, e->w.thread);
  lw_json_key(j, "held_locks");
  lw_json_array_begin(j);
  for (uint32_t i = 0; i < e->nheld_ids; i++) json_lock_ref(j, e->held_ids[i]);
  lw_json_array_end(j);
  lw_json_key(j, "acquired");
  json_frames(j, e->w.stack_to);
  lw_json_key(j, "held");
  json_frames(j, e->w.stack_from);
  lw_json_key(j, "also_by_thread");
  if (e->other_thread) json_thread_ref(j, e->other_thread - 1);
  else lw_json_null(j);
  lw_json_key(j, "from_instance");
  json_lock_ref(j, e->w.from_id ? e->w.from_id : r->locks[e->from].id);
  lw_json_key(j, "to_instance");
  json_lock_ref(j, e->w.to_id ? e->w.to_id : r->locks[e->to].id);
  lw_json_object_end(j);
}

static void json_event(lw_json_t *j, const lw_report_t *r, const lw_revent_t *e) {
  lw_json_object_begin(j);
  lw_json_key(j, "what");
  lw_json_string(j, lw_event_name(e->what));
  lw_json_key(j, "thread");
  json_thread_ref(j, e->thread);
  lw_json_key(j, "lock");
  if (e->lock >= 0 && (uint32_t)e->lock < r->nlocks) json_lock_ref(j, r->locks[e->lock].id);
  else lw_json_null(j);
  lw_json_key(j, "mode");
  lw_json_string(j, lw_mode_name(e->mode));
  lw_json_key(j, "stack");
  json_frames(j, e->stack);
  lw_json_object_end(j);
}

static void json_thread(lw_json_t *j, uint32_t seq) {
  lw_thread_info_t info = {0};
  bool known = lw_thread_info(seq, &info);
  lw_json_object_begin(j);
  lw_json_key(j, "id");
  json_thread_ref(j, seq);
  lw_json_key(j, "tid");
  lw_json_int(j, known ? info.tid : 0);
  lw_json_key(j, "parent");
  if (info.parent) json_thread_ref(j, info.parent - 1);
  else lw_json_null(j);
  lw_json_key(j, "created");
  json_frames(j, info.parent ? info.create_stack : 0);
  lw_json_object_end(j);
}

/* Writes "kind file:line in function", naming the innermost frame of the first edge. */
static void json_summary(lw_json_t *j, const lw_report_t *r) {
  char s[1024];
  lw_frame_t f = {0};
  (void)lw_report_where(r, &f);
  int k = snprintf(s, sizeof s, "%s", lw_report_kind_name(r->kind));
  if (f.file && k < (int)sizeof s)
    k += snprintf(s + k, sizeof s - (size_t)k, " %s:%d", lw_basename(f.file), f.line);
  if (f.function && k < (int)sizeof s) k += snprintf(s + k, sizeof s - (size_t)k, " in %s", f.function);
  lw_frame_t o;
  if (lw_report_where_other(r, &o) && o.function && f.function && strcmp(o.function, f.function) &&
      k < (int)sizeof s) {
    k += snprintf(s + k, sizeof s - (size_t)k, " against");
    if (o.file && k < (int)sizeof s)
      k += snprintf(s + k, sizeof s - (size_t)k, " %s:%d", lw_basename(o.file), o.line);
    if (k < (int)sizeof s) snprintf(s + k, sizeof s - (size_t)k, " in %s", o.function);
  }
  lw_json_string(j, s);
}

static void json_report(lw_json_t *j, const lw_report_t *r) {
  lw_json_object_begin(j);
  lw_json_key(j, "id");
  lw_json_uint(j, r->seq);
  lw_json_key(j, "kind");
  lw_json_string(j, lw_report_kind_name(r->kind));
  lw_json_key(j, "summary");
  json_summary(j, r);
  lw_frame_t where;
  lw_json_key(j, "where");
  if (lw_report_where(r, &where)) json_frame(&where, 0, j);
  else lw_json_null(j);
  lw_json_key(j, "where_other");
  if (lw_report_where_other(r, &where)) json_frame(&where, 0, j);
  else lw_json_null(j);
  if (r->suppressed_by) {
    lw_json_key(j, "suppressed_by");
    lw_json_string(j, r->suppressed_by);
  }
  lw_json_key(j, "locks");
  lw_json_array_begin(j);
  for (uint32_t i = 0; i < r->nlocks; i++) json_lock(j, &r->locks[i]);
  lw_json_array_end(j);
  lw_json_key(j, "fails");
  lw_json_bool(j, !r->passes);
  if (r->kind == LW_REPORT_LOCK_ORDER_INVERSION) {
    const lw_rlabels_t *l = &r->labels;
    lw_json_key(j, "cycle");
    lw_json_array_begin(j);
    for (uint32_t i = 0; i < r->nedges; i++) json_lock_ref(j, r->locks[r->edges[i].from].id);
    lw_json_array_end(j);
    lw_json_key(j, "closing_edge");
    lw_json_uint(j, r->closing_edge);
    lw_json_key(j, "class_level");
    lw_json_bool(j, r->class_level);
    lw_json_key(j, "instances");
    lw_json_uint(j, r->instances);
    lw_json_key(j, "guarded");
    lw_json_bool(j, l->guarded);
    lw_json_key(j, "gate");
    lw_json_array_begin(j);
    for (uint32_t k = 0; l->guarded && k < l->ngate; k++) json_lock_ref(j, l->gate[k]);
    lw_json_array_end(j);
    lw_json_key(j, "threads_needed");
    lw_json_uint(j, l->threads_needed);
    lw_json_key(j, "threads_had");
    lw_json_uint(j, l->threads_had);
    lw_json_key(j, "labels");
    lw_json_array_begin(j);
    if (l->guarded) lw_json_string(j, "guarded");
    if (l->threads_had < l->threads_needed)
      lw_json_string(j, l->threads_had <= 1 ? "single-thread" : "few-threads");
    if (l->ordered) lw_json_string(j, "ordered");
    lw_json_array_end(j);
  }
  lw_json_key(j, "detail");
  lw_json_string(j, r->detail ? lw_report_detail_name(r->detail) : NULL);
  if (r->kind == LW_REPORT_COND_WAIT_UNHELD) {
    lw_json_key(j, "condition_variable");
    lw_json_hex(j, r->object);
  }
  if (r->call) {
    lw_json_key(j, "call");
    lw_json_string(j, r->call);
    lw_json_key(j, "object");
    lw_json_hex(j, r->object);
  }
  if (r->kind == LW_REPORT_CALL_FAILED) {
    lw_json_key(j, "error");
    lw_json_string(j, lw_errno_name(r->error));
    lw_json_key(j, "reason");
    lw_json_string(j, r->reason);
  }
  if (r->kind == LW_REPORT_COND_DESTROY_WAITING || r->kind == LW_REPORT_SEM_DESTROY_WAITING ||
      r->kind == LW_REPORT_BARRIER_MISUSE) {
    lw_json_key(j, "waiters");
    lw_json_uint(j, r->waiters);
  }
  if (r->kind == LW_REPORT_STALL) {
    lw_json_key(j, "waited_ms");
    lw_json_uint(j, r->waited_ms);
  }
  if (r->other_tid) {
    lw_json_key(j, "owner_tid");
    lw_json_int(j, r->other_tid);
  }
  lw_json_key(j, "edges");
  lw_json_array_begin(j);
  for (uint32_t i = 0; i < r->nedges; i++) json_edge(j, r, &r->edges[i]);
  lw_json_array_end(j);
  lw_json_key(j, "events");
  lw_json_array_begin(j);
  for (uint32_t i = 0; i < r->nevents; i++) json_event(j, r, &r->events[i]);
  lw_json_array_end(j);
  lw_json_key(j, "threads");
  lw_json_array_begin(j);
  uint32_t n = r->nedges + r->nevents;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t seq = i < r->nedges ? r->edges[i].w.thread : r->events[i - r->nedges].thread;
    bool seen = false;
    for (uint32_t k = 0; k < i && !seen; k++)
      seen = (k < r->nedges ? r->edges[k].w.thread : r->events[k - r->nedges].thread) == seq;
    if (!seen) json_thread(j, seq);
  }
  lw_json_array_end(j);
  lw_json_object_end(j);
}

/* The depot stacks a class unit names, each with its index in the unit's "stacks". */
typedef struct unit_stacks {
  lw_u64map_t index; /* depot id -> index */
  uint32_t *ids;     /* index -> depot id */
  uint32_t n, cap;
} unit_stacks_t;

/* The index of depot stack `stack` in the unit (added if new), or -1 for none. */
static int64_t unit_stack(unit_stacks_t *u, uint32_t stack) {
  uint64_t v = 0;
  if (!stack) return -1;
  if (lw_u64map_get(&u->index, stack, &v)) return (int64_t)v;
  if (u->n == u->cap) {
    uint32_t cap = u->cap ? u->cap * 2 : 64;
    uint32_t *p = lw_realloc(u->ids, (size_t)u->cap * sizeof *p, (size_t)cap * sizeof *p);
    if (!p) return -1; /* memory exhausted: the edge keeps its place, without that stack */
    u->ids = p;
    u->cap = cap;
  }
  if (!lw_u64map_put(&u->index, stack, u->n)) return -1;
  u->ids[u->n] = stack;
  return u->n++;
}

/*
 * The run's class unit (docs/report-format.md "Lock classes and the class
 * graph"): its classes, the stacks they and the class edges name, and the
 * edges as rows of small integers indexing the two tables.
 */
static void json_class_unit(lw_json_t *j, const lw_run_info_t *run) {
  char name[256], key[24];
  unit_stacks_t u = {.n = 0};
  lw_u64map_init(&u.index, true);
  uint32_t n = lw_class_count();
  lw_json_object_begin(j);
  lw_json_key(j, "pid");
  lw_json_int(j, run->pid);
  lw_json_key(j, "program");
  lw_json_string(j, run->program);
  lw_json_key(j, "classes");
  lw_json_array_begin(j);
  for (uint32_t i = 1; i <= n; i++) {
    const lw_class_t *c = lw_class_at(i);
    lw_json_array_begin_inline(j);
    lw_class_key_text(c->key, key);
    lw_json_string(j, key);
    lw_json_string(j, lw_class_how_name(c->how));
    lw_json_string(j, lw_type_name(c->type));
    lw_report_class_name(c, name, sizeof name);
    lw_json_string(j, name);
    if (c->how == LW_CLASS_STATIC) {
      lw_json_string(j, c->module);
      lw_json_hex(j, c->offset);
    } else {
      lw_json_null(j);
      lw_json_null(j);
    }
    lw_json_uint(j, atomic_load_explicit(&c->instances, memory_order_relaxed));
    lw_json_int(j, unit_stack(&u, c->stack));
    lw_json_array_end(j);
  }
  lw_json_array_end(j);
  lw_json_key(j, "edges");
  lw_json_array_begin(j);
  for (uint32_t i = 0; i < run->nclass_edges; i++) {
    const lw_cedge_t *e = &run->class_edges[i];
    lw_json_array_begin_inline(j);
    lw_json_uint(j, e->from - 1);
    lw_json_uint(j, e->to - 1);
    lw_json_uint(j, LW_PAIR(e->from_mode, e->to_mode));
    lw_json_uint(j, e->w.thread);
    lw_json_int(j, unit_stack(&u, e->w.stack_to));
    lw_json_int(j, unit_stack(&u, e->w.stack_from));
    lw_json_array_end(j);
  }
  lw_json_array_end(j);
  lw_json_key(j, "stacks");
  lw_json_array_begin(j);
  for (uint32_t i = 0; i < u.n; i++) {
    lw_json_object_begin(j);
    lw_json_key(j, "id");
    snprintf(key, sizeof key, "S%016llx", (unsigned long long)lw_class_stack_key(u.ids[i]));
    lw_json_string(j, key);
    lw_json_key(j, "frames");
    json_frames(j, u.ids[i]);
    lw_json_object_end(j);
  }
  lw_json_array_end(j);
  lw_json_object_end(j);
  lw_u64map_clear(&u.index);
  if (u.ids) lw_free(u.ids, (size_t)u.cap * sizeof *u.ids);
}

static void json_prof_sites(lw_json_t *j, const lw_prof_site_t *s, const lw_prof_site_t *other) {
  lw_json_array_begin(j);
  for (uint32_t i = 0; i <= LW_PROF_SITES; i++) {
    const lw_prof_site_t *x = i < LW_PROF_SITES ? &s[i] : other;
    if (i < LW_PROF_SITES ? !x->stack : !x->count) continue;
    lw_json_object_begin(j);
    lw_json_key(j, "count");
    lw_json_uint(j, x->count);
    lw_json_key(j, "ns");
    lw_json_uint(j, x->ns);
    lw_json_key(j, "max_ns");
    lw_json_uint(j, x->max_ns);
    lw_json_key(j, "stack");
    if (i < LW_PROF_SITES) json_frames(j, x->stack);
    else lw_json_null(j);
    lw_json_object_end(j);
  }
  lw_json_array_end(j);
}

static void json_prof_lock(lw_json_t *j, const lw_prof_entry_t *e) {
  char name[256];
  lw_json_object_begin(j);
  lw_json_key(j, "id");
  json_lock_ref(j, e->id);
  lw_json_key(j, "address");
  lw_json_hex(j, e->addr);
  lw_json_key(j, "type");
  lw_json_string(j, lw_type_name(e->type));
  lw_json_key(j, "name");
  lw_json_string(j, lw_symbolize_data(e->addr, name, sizeof name) ? name : NULL);
  lw_json_key(j, "created");
  json_frames(j, e->create_stack);
  lw_json_key(j, "destroyed");
  lw_json_bool(j, e->destroyed);
  lw_json_key(j, "locks");
  lw_json_uint(j, e->nlocks);
  lw_json_key(j, "acquisitions");
  lw_json_uint(j, lw_prof_acquisitions(&e->c));
  lw_json_key(j, "failed");
  lw_json_uint(j, e->c.failed);
  lw_json_key(j, "contended");
  lw_json_uint(j, e->c.contended);
  lw_json_key(j, "wait_ns");
  lw_json_uint(j, e->c.wait_ns);
  lw_json_key(j, "wait_max_ns");
  lw_json_uint(j, e->c.wait_max_ns);
  lw_json_key(j, "hold_ns");
  lw_json_uint(j, e->hold_ns);
  lw_json_key(j, "hold_max_ns");
  lw_json_uint(j, e->c.hold_max_ns);
  lw_json_key(j, "hold_samples");
  lw_json_uint(j, e->c.hold_samples);
  lw_json_key(j, "hold_sampled_ns");
  lw_json_uint(j, e->c.hold_sampled_ns);
  lw_json_key(j, "wait_sites");
  json_prof_sites(j, e->c.wait_sites, &e->c.wait_other);
  lw_json_key(j, "hold_sites");
  json_prof_sites(j, e->c.hold_sites, &e->c.hold_other);
  lw_json_object_end(j);
}

/* The profile section: totals, then the locks most waited for (at most LW_PROF_JSON_LOCKS). */
#define LW_PROF_JSON_LOCKS 256
static void json_profile(lw_json_t *j, const lw_prof_snapshot_t *s) {
  uint32_t n = s->n < LW_PROF_JSON_LOCKS ? s->n : LW_PROF_JSON_LOCKS;
  lw_json_object_begin(j);
  lw_json_key(j, "clock");
  lw_json_string(j, "CLOCK_MONOTONIC");
  lw_json_key(j, "sample_every");
  lw_json_uint(j, s->sample_every);
  lw_json_key(j, "lock_count");
  lw_json_uint(j, s->locks);
  lw_json_key(j, "acquisitions");
  lw_json_uint(j, s->acquisitions);
  lw_json_key(j, "contended");
  lw_json_uint(j, s->contended);
  lw_json_key(j, "wait_ns");
  lw_json_uint(j, s->wait_ns);
  lw_json_key(j, "locks_omitted");
  lw_json_uint(j, s->n - n);
  lw_json_key(j, "locks");
  lw_json_array_begin(j);
  for (uint32_t i = 0; i < n; i++) json_prof_lock(j, &s->e[i]);
  lw_json_array_end(j);
  lw_json_object_end(j);
}

void lw_report_format_json(lw_buf_t *b, const lw_report_t *reports, const lw_report_t *suppressed,
                           const lw_run_info_t *run) {
  lw_json_t j;
  lw_json_start(&j, b);
  lw_json_object_begin(&j);
  lw_json_key(&j, "tool");
  lw_json_string(&j, "lockwatch");
  lw_json_key(&j, "version");
  lw_json_string(&j, LOCKWATCH_VERSION_STRING);
  lw_json_key(&j, "schema");
  lw_json_int(&j, LW_JSON_SCHEMA);
  lw_json_key(&j, "pid");
  lw_json_int(&j, run->pid);
  lw_json_key(&j, "program");
  lw_json_string(&j, run->program);
  lw_json_key(&j, "argv");
  lw_json_array_begin(&j);
  for (const char *const *a = run->argv; a && *a; a++) lw_json_string(&j, *a);
  lw_json_array_end(&j);
  if (run->run_id && run->run_id[0]) {
    lw_json_key(&j, "run_id");
    lw_json_string(&j, run->run_id);
  }
  lw_json_key(&j, "reports");
  lw_json_array_begin(&j);
  for (const lw_report_t *r = reports; r; r = r->next) json_report(&j, r);
  lw_json_array_end(&j);
  lw_json_key(&j, "suppressed");
  lw_json_array_begin(&j);
  for (const lw_report_t *r = suppressed; r; r = r->next) json_report(&j, r);
  lw_json_array_end(&j);
  lw_json_key(&j, "class_units");
  lw_json_array_begin(&j);
  json_class_unit(&j, run);
  lw_json_array_end(&j);
  lw_json_key(&j, "stats");
  lw_json_object_begin(&j);
#define LW_STAT(name)       \
  lw_json_key(&j, #name);   \
  lw_json_uint(&j, run->stats.name);
  LW_STAT(locks)
  LW_STAT(locks_created)
  LW_STAT(edges)
  LW_STAT(acquisitions)
  LW_STAT(fast_path_hits)
  LW_STAT(threads)
  LW_STAT(cycle_searches)
  LW_STAT(stacks)
  LW_STAT(bytes)
  LW_STAT(suppressed)
  LW_STAT(graph_ns)
  LW_STAT(edges_created)
  LW_STAT(classes)
  LW_STAT(class_edges)
#undef LW_STAT
  lw_json_key(&j, "memory_exhausted");
  lw_json_bool(&j, run->stats.memory_exhausted != 0);
  lw_json_object_end(&j);
  if (run->profile) {
    lw_json_key(&j, "profile");
    json_profile(&j, run->profile);
  }
  lw_json_object_end(&j);
}
