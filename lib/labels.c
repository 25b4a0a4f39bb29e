/*
 * labels.c - what a found cycle looks like beyond its edges: whether a gate
 * lock guards it, how many threads its edges came from, and whether those
 * threads were ordered by create and join (docs/rules.md, "Cycles that
 * cannot deadlock, and labels"). Pure functions of the report's data and
 * the threads' create/join facts; called under the graph lock (they take
 * only the leaf lock of those facts).
 */
#include <stdbool.h>
#include <string.h>

#include "alloc.h"
#include "core_internal.h"
#include "options.h"

/* The threads known to have made edge e; *wild when more made it than are named. */
static uint32_t edge_threads(const lw_redge_t *e, const uint32_t **list, bool *wild) {
  *list = e->threads;
  *wild = e->nthreads > LW_EDGE_THREADS;
  return e->nthreads < LW_EDGE_THREADS ? e->nthreads : LW_EDGE_THREADS;
}

/* Kuhn's augmenting path: can edge i get a thread, moving others? owner[] maps slots to edges. */
struct matching {
  const lw_report_t *r;
  uint32_t *threads; /* distinct thread numbers */
  uint32_t nthreads;
  int32_t *owner;    /* per distinct thread: the edge it serves, or -1 */
  uint32_t *seen;    /* per distinct thread: the round it was tried in */
  uint32_t round;
};

static uint32_t slot_of(const struct matching *m, uint32_t thread) {
  for (uint32_t k = 0; k < m->nthreads; k++)
    if (m->threads[k] == thread) return k;
  return UINT32_MAX;
}

static bool augment(struct matching *m, uint32_t i, uint32_t depth) {
  const uint32_t *list;
  bool wild;
  uint32_t n = edge_threads(&m->r->edges[i], &list, &wild);
  if (depth > 256) return false;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t s = slot_of(m, list[k]);
    if (s == UINT32_MAX || m->seen[s] == m->round) continue;
    m->seen[s] = m->round;
    if (m->owner[s] < 0 || augment(m, (uint32_t)m->owner[s], depth + 1)) {
      m->owner[s] = (int32_t)i;
      return true;
    }
  }
  return false;
}

/*
 * The most edges of r that distinct threads of this run made (a maximum
 * matching of edges to the threads that made them). An edge made by more
 * threads than it names can always have one of its own.
 */
static uint32_t threads_had(const lw_report_t *r) {
  uint32_t n = r->nedges, cap = 0, wild_edges = 0;
  for (uint32_t i = 0; i < n; i++) {
    const uint32_t *list;
    bool wild;
    cap += edge_threads(&r->edges[i], &list, &wild);
    wild_edges += wild;
  }
  if (wild_edges == n) return n;
  struct matching m = {r, NULL, 0, NULL, NULL, 0};
  m.threads = lw_alloc((cap + 1) * sizeof *m.threads);
  m.owner = lw_alloc((cap + 1) * sizeof *m.owner);
  m.seen = lw_alloc((cap + 1) * sizeof *m.seen);
  uint32_t had = n; /* without memory, no label */
  if (m.threads && m.owner && m.seen) {
    for (uint32_t i = 0; i < n; i++) {
      const uint32_t *list;
      bool wild;
      uint32_t k = edge_threads(&r->edges[i], &list, &wild);
      for (uint32_t j = 0; j < k; j++)
        if (slot_of(&m, list[j]) == UINT32_MAX) m.threads[m.nthreads++] = list[j];
    }
    for (uint32_t s = 0; s < m.nthreads; s++) m.owner[s] = -1;
    had = 0;
    for (uint32_t i = 0; i < n; i++) {
      const uint32_t *list;
      bool wild;
      (void)edge_threads(&r->edges[i], &list, &wild);
      if (wild) {
        had++;
        continue;
      }
      m.round++;
      had += augment(&m, i, 0);
    }
  }
  lw_free(m.threads, (cap + 1) * sizeof *m.threads);
  lw_free(m.owner, (cap + 1) * sizeof *m.owner);
  lw_free(m.seen, (cap + 1) * sizeof *m.seen);
  return had;
}

/* Could threads a and b (distinct) run at the same time, as far as create and join tell? */
static bool concurrent(uint32_t a, uint32_t b) {
  return !lw_thread_before(a, b) && !lw_thread_before(b, a);
}

#define LW_ORDER_SEARCH_MAX 100000 /* steps of the search below before giving up (no label) */
#define LW_ORDER_EDGES_MAX 16      /* longer cycles are not searched (no label) */

/*
 * Backtracking: gives edges i.. a thread each, distinct from and able to
 * run at the same time as those of edges 0..i-1 (pick[]). Returns 1 when an
 * assignment exists, 0 when none does, -1 when the search was cut short.
 */
static int assign(const lw_report_t *r, uint32_t i, uint32_t *pick, bool *pick_wild,
                  uint32_t *steps) {
  if (i == r->nedges) return 1;
  const uint32_t *list;
  bool wild;
  uint32_t n = edge_threads(&r->edges[i], &list, &wild);
  if (wild) { /* a thread this run had but we did not keep: assume it could run alongside */
    pick_wild[i] = true;
    return assign(r, i + 1, pick, pick_wild, steps);
  }
  for (uint32_t k = 0; k < n; k++) {
    if (++*steps > LW_ORDER_SEARCH_MAX) return -1;
    bool ok = true;
    for (uint32_t j = 0; j < i && ok; j++)
      ok = pick_wild[j] || (pick[j] != list[k] && concurrent(pick[j], list[k]));
    if (!ok) continue;
    pick[i] = list[k];
    pick_wild[i] = false;
    int got = assign(r, i + 1, pick, pick_wild, steps);
    if (got != 0) return got;
  }
  return 0;
}

/* Did the threads that made r's edges never run at the same time, in every choice? */
static bool ordered(const lw_report_t *r) {
  uint32_t pick[LW_ORDER_EDGES_MAX];
  bool pick_wild[LW_ORDER_EDGES_MAX];
  uint32_t steps = 0;
  if (r->nedges > LW_ORDER_EDGES_MAX) return false;
  return assign(r, 0, pick, pick_wild, &steps) == 0;
}

void lw__label_cycle(lw_report_t *r) {
  lw_rlabels_t *l = &r->labels;
  l->guarded = lw_opt.gate_locks && l->ngate > 0;
  l->threads_needed = r->nedges;
  l->threads_had = lw_opt.label_threads ? threads_had(r) : r->nedges;
  l->ordered = lw_opt.label_threads && l->threads_had == r->nedges && ordered(r);
  r->passes = (l->guarded && !lw_opt.report_guarded) || (l->ordered && !lw_opt.report_ordered);
}
