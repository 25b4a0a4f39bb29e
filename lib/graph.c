/*
 * graph.c - the lock-order graph: edge storage, the Pearce-Kelly
 * topological order, and the mode-aware cycle search (see graph.h and
 * docs/design.md). Nothing here allocates through malloc or sorts through
 * libc: a caller holds the graph lock, and an allocator that locks must not
 * be entered then.
 */
#include "graph.h"

#include <string.h>

#include "alloc.h"
#include "types.h"
#include "u64map.h"

/* ---- small growable arrays ---------------------------------------------- */

/* Makes room for want elements of size sz in *arr of capacity *cap. */
static bool reserve(void **arr, uint32_t *cap, uint32_t want, size_t sz) {
  if (want <= *cap) return true;
  uint32_t ncap = *cap ? *cap : 8;
  while (ncap < want) ncap *= 2;
  void *p = lw_realloc(*arr, (size_t)*cap * sz, (size_t)ncap * sz);
  if (!p) return false;
  *arr = p;
  *cap = ncap;
  return true;
}

/* ---- the edge table ------------------------------------------------------ */

static uint32_t edge_hash(uint64_t from_id, uint64_t to_id) {
  return (uint32_t)lw_u64_mix(from_id * 0x9e3779b97f4a7c15ULL ^ to_id);
}

static bool table_grow(lw_graph_t *g) {
  uint32_t cap = g->slots ? (g->mask + 1) * 2 : 1024;
  lw_edge_t **slots = lw_alloc((size_t)cap * sizeof *slots);
  if (!slots) return false;
  for (uint32_t i = 0; g->slots && i <= g->mask; i++) {
    lw_edge_t *e = g->slots[i];
    if (!e) continue;
    uint32_t j = edge_hash(e->from->id, e->to->id) & (cap - 1);
    while (slots[j]) j = (j + 1) & (cap - 1);
    slots[j] = e;
  }
  if (g->slots) lw_free(g->slots, (size_t)(g->mask + 1) * sizeof *slots);
  g->slots = slots;
  g->mask = cap - 1;
  return true;
}

lw_edge_t *lw_graph_find_edge(lw_graph_t *g, const lw_node_t *from, const lw_node_t *to) {
  if (!g->slots) return NULL;
  for (uint32_t i = edge_hash(from->id, to->id) & g->mask; g->slots[i]; i = (i + 1) & g->mask)
    if (g->slots[i]->from == from && g->slots[i]->to == to) return g->slots[i];
  return NULL;
}

static void table_insert(lw_graph_t *g, lw_edge_t *e) {
  uint32_t i = edge_hash(e->from->id, e->to->id) & g->mask;
  while (g->slots[i]) i = (i + 1) & g->mask;
  g->slots[i] = e;
  g->nedges++;
}

/* Removes e with backward-shift deletion (linear probing, no tombstones). */
static void table_remove(lw_graph_t *g, lw_edge_t *e) {
  uint32_t i = edge_hash(e->from->id, e->to->id) & g->mask;
  while (g->slots[i] != e) i = (i + 1) & g->mask;
  g->slots[i] = NULL;
  g->nedges--;
  for (uint32_t j = (i + 1) & g->mask; g->slots[j]; j = (j + 1) & g->mask) {
    lw_edge_t *m = g->slots[j];
    uint32_t home = edge_hash(m->from->id, m->to->id) & g->mask;
    /* move m into the hole if its home is not in (i, j] cyclically */
    bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!between) {
      g->slots[i] = m;
      g->slots[j] = NULL;
      i = j;
    }
  }
}

/* ---- nodes and edges ----------------------------------------------------- */

void lw_graph_init(lw_graph_t *g) {
  memset(g, 0, sizeof *g);
  g->next_ord = 1;
}

void lw_graph_node_init(lw_node_t *n, uint64_t id, bool reader_pref) {
  memset(n, 0, sizeof *n);
  n->id = id;
  n->reader_pref = reader_pref;
}

const lw_witness_t *lw_edge_witness(const lw_edge_t *e, unsigned pair) {
  if (!(e->modes & (1u << pair))) return NULL;
  if (pair == e->first_pair) return &e->w0;
  return &e->extra[pair];
}

static void join_graph(lw_graph_t *g, lw_node_t *n) {
  if (n->ord) return;
  n->ord = g->next_ord++;
  g->nnodes++;
}

static void update_max_back(lw_graph_t *g) {
  g->max_back_ord = 0;
  for (uint32_t i = 0; i < g->nback; i++)
    if (g->back[i]->from->ord > g->max_back_ord) g->max_back_ord = g->back[i]->from->ord;
}

static bool back_add(lw_graph_t *g, lw_edge_t *e) {
  if (!reserve((void **)&g->back, &g->cap_back, g->nback + 1, sizeof *g->back)) return false;
  e->back = 1;
  e->back_idx = g->nback;
  g->back[g->nback++] = e;
  if (e->from->ord > g->max_back_ord) g->max_back_ord = e->from->ord;
  return true;
}

static void back_remove(lw_graph_t *g, lw_edge_t *e) {
  lw_edge_t *last = g->back[--g->nback];
  g->back[e->back_idx] = last;
  last->back_idx = e->back_idx;
  e->back = 0;
}

/* ---- cycle search -------------------------------------------------------- */

/*
 * An epoch counter wrapped: clears the marks of every node that a search can
 * reach (all are endpoints of edges), so no stale mark equals a new epoch.
 */
static void clear_marks(lw_graph_t *g, bool pk) {
  for (uint32_t i = 0; g->slots && i <= g->mask; i++) {
    lw_edge_t *e = g->slots[i];
    if (!e) continue;
    if (pk) {
      e->from->pk_mark = e->to->pk_mark = 0;
    } else {
      e->from->mark[0] = e->from->mark[1] = 0;
      e->to->mark[0] = e->to->mark[1] = 0;
    }
  }
}

/* Can a thread requesting `lock` in mode req wait for one holding it in held? */
static bool conflicts(unsigned req, unsigned held, const lw_node_t *lock) {
  return !(req == LW_MODE_READ && held == LW_MODE_READ && lock->reader_pref);
}

struct bfs_item {
  lw_node_t *node;
  lw_edge_t *via; /* edge from the parent's node to node */
  uint32_t parent;
  uint8_t in_mode;  /* mode node was requested in along via */
  uint8_t out_mode; /* mode the parent's node was held in along via */
};

/* Fills c with the new edge and the path that q[last] ends; false on OOM. */
static bool build_cycle(const struct bfs_item *q, uint32_t last, lw_edge_t *e_new,
                        unsigned fm, unsigned tm, lw_cycle_t *c) {
  uint32_t len = 1;
  for (uint32_t i = last; q[i].via; i = q[i].parent) len++;
  c->steps = lw_alloc((size_t)len * sizeof *c->steps);
  if (!c->steps) return false;
  c->n = c->cap = len;
  c->steps[0] = (lw_cycle_step_t){e_new, (uint8_t)fm, (uint8_t)tm};
  uint32_t k = len;
  for (uint32_t i = last; q[i].via; i = q[i].parent)
    c->steps[--k] = (lw_cycle_step_t){q[i].via, q[i].out_mode, q[i].in_mode};
  return true;
}

/*
 * Breadth-first search for the shortest path from y (requested in mode tm)
 * back to x that, closed by x -> y (x held in fm), can deadlock. Only nodes
 * with ord <= bound are visited. Returns 1 (cycle stored), 0 (none) or -1.
 */
static int find_cycle(lw_graph_t *g, lw_edge_t *e_new, unsigned fm, unsigned tm,
                      uint64_t bound, lw_cycle_t *c) {
  lw_node_t *x = e_new->from, *y = e_new->to;
  uint32_t head = 0, tail = 0;
  struct bfs_item *q;
  if (++g->epoch == 0) { /* wrapped: no node may keep a stale mark */
    clear_marks(g, false);
    g->epoch = 1;
  }
  g->searches++;
  if (!reserve(&g->queue, &g->queue_cap, 1, sizeof *q)) return -1;
  q = g->queue;
  q[tail++] = (struct bfs_item){y, NULL, 0, (uint8_t)tm, 0};
  y->mark[tm] = g->epoch;
  while (head < tail) {
    q = g->queue;
    uint32_t cur = head++;
    lw_node_t *u = q[cur].node;
    unsigned in = q[cur].in_mode;
    g->visited++;
    for (uint32_t k = 0; k < u->nout; k++) {
      lw_edge_t *e = u->out[k];
      lw_node_t *v = e->to;
      if (v->ord > bound || e == e_new) continue;
      for (unsigned pair = 0; pair < 4; pair++) {
        if (!(e->modes & (1u << pair))) continue;
        unsigned held = pair >> 1, req = pair & 1;
        if (!conflicts(in, held, u)) continue;
        if (v == x) {
          if (!conflicts(req, fm, x)) continue;
          if (!reserve(&g->queue, &g->queue_cap, tail + 1, sizeof *q)) return -1;
          q = g->queue;
          q[tail] = (struct bfs_item){v, e, cur, (uint8_t)req, (uint8_t)held};
          return build_cycle(q, tail, e_new, fm, tm, c) ? 1 : -1;
        }
        if (v->mark[req] == g->epoch) continue;
        v->mark[req] = g->epoch;
        if (!reserve(&g->queue, &g->queue_cap, tail + 1, sizeof *q)) return -1;
        q = g->queue;
        q[tail++] = (struct bfs_item){v, e, cur, (uint8_t)req, (uint8_t)held};
      }
    }
  }
  return 0;
}

/* ---- Pearce-Kelly order maintenance ---------------------------------------- */

/* Sorts nodes by ord (heap sort: no recursion, no allocation). */
static void sort_nodes(lw_node_t **a, uint32_t n) {
  for (uint32_t start = n / 2; n > 1;) {
    uint32_t root;
    lw_node_t *t;
    if (start > 0) {
      root = --start;
    } else {
      n--;
      t = a[0], a[0] = a[n], a[n] = t;
      root = 0;
    }
    for (uint32_t child; (child = 2 * root + 1) < n; root = child) {
      if (child + 1 < n && a[child + 1]->ord > a[child]->ord) child++;
      if (a[root]->ord >= a[child]->ord) break;
      t = a[root], a[root] = a[child], a[child] = t;
    }
  }
}

/*
 * Depth-first search over ordered edges from start, forward (out-edges, ord
 * below limit) or backward (in-edges, ord above limit). Visited nodes are
 * appended to *set. Returns 1 if a forward search reached `target`, 0 if not,
 * -1 on OOM.
 */
static int pk_search(lw_graph_t *g, lw_node_t *start, bool forward, uint64_t limit,
                     const lw_node_t *target, lw_node_t ***set, uint32_t *cap, uint32_t *n) {
  /* the set doubles as the DFS stack: nodes at [done, n) are unexpanded */
  *n = 0;
  if (!reserve((void **)set, cap, 1, sizeof **set)) return -1;
  (*set)[(*n)++] = start;
  start->pk_mark = g->pk_epoch;
  for (uint32_t done = 0; done < *n; done++) {
    lw_node_t *u = (*set)[done];
    g->visited++;
    uint32_t deg = forward ? u->nout : u->nin;
    for (uint32_t k = 0; k < deg; k++) {
      lw_edge_t *e = forward ? u->out[k] : u->in[k];
      if (e->back) continue;
      lw_node_t *v = forward ? e->to : e->from;
      if (forward && v == target) return 1;
      if (forward ? v->ord >= limit : v->ord <= limit) continue;
      if (v->pk_mark == g->pk_epoch) continue;
      v->pk_mark = g->pk_epoch;
      if (!reserve((void **)set, cap, *n + 1, sizeof **set)) return -1;
      (*set)[(*n)++] = v;
    }
  }
  return 0;
}

/*
 * Restores the order after adding x -> y with ord(x) > ord(y). Returns 1 if
 * the order was repaired, 0 if ordered edges already lead from y to x (the
 * new edge must be a back edge), -1 on OOM.
 */
static int pk_reorder(lw_graph_t *g, lw_node_t *x, lw_node_t *y) {
  uint32_t nf, nb;
  if (++g->pk_epoch == 0) { /* wrapped: as in find_cycle */
    clear_marks(g, true);
    g->pk_epoch = 1;
  }
  int r = pk_search(g, y, true, x->ord, x, &g->fwd, &g->fwd_cap, &nf);
  if (r != 0) return r < 0 ? -1 : 0;
  r = pk_search(g, x, false, y->ord, NULL, &g->bwd, &g->bwd_cap, &nb);
  if (r < 0) return -1;
  if (!reserve((void **)&g->ords, &g->ords_cap, nf + nb, sizeof *g->ords)) return -1;
  sort_nodes(g->fwd, nf);
  sort_nodes(g->bwd, nb);
  /* merge the two sorted ord lists into the pool of positions to reuse */
  uint32_t i = 0, j = 0, k = 0;
  while (i < nb || j < nf) {
    if (j >= nf || (i < nb && g->bwd[i]->ord < g->fwd[j]->ord))
      g->ords[k++] = g->bwd[i++]->ord;
    else
      g->ords[k++] = g->fwd[j++]->ord;
  }
  /* nodes that reach x come first, then nodes reachable from y */
  for (i = 0; i < nb; i++) g->bwd[i]->ord = g->ords[i];
  for (j = 0; j < nf; j++) g->fwd[j]->ord = g->ords[nb + j];
  g->reorders++;
  return 1;
}

/* ---- adding and removing ------------------------------------------------- */

static lw_edge_t *edge_create(lw_graph_t *g, lw_node_t *x, lw_node_t *y) {
  if ((g->nedges + 1) * 2 > (g->slots ? g->mask + 1 : 0) && !table_grow(g)) return NULL;
  if (!reserve((void **)&x->out, &x->cap_out, x->nout + 1, sizeof *x->out)) return NULL;
  if (!reserve((void **)&y->in, &y->cap_in, y->nin + 1, sizeof *y->in)) return NULL;
  lw_edge_t *e = lw_alloc(sizeof *e);
  if (!e) return NULL;
  e->from = x;
  e->to = y;
  e->out_idx = x->nout;
  e->in_idx = y->nin;
  x->out[x->nout++] = e;
  y->in[y->nin++] = e;
  table_insert(g, e);
  return e;
}

/* Records witness w for pair on e. Returns false on OOM. */
static bool witness_add(lw_edge_t *e, unsigned pair, const lw_witness_t *w) {
  if (e->modes == 0) {
    e->first_pair = (uint8_t)pair;
    e->w0 = *w;
  } else {
    if (!e->extra && !(e->extra = lw_alloc(4 * sizeof *e->extra))) return false;
    e->extra[pair] = *w;
  }
  e->modes |= (uint8_t)(1u << pair);
  return true;
}

/* Remembers that thread made e (the first LW_EDGE_THREADS distinct ones by number). */
static void note_thread(lw_edge_t *e, uint32_t thread) {
  uint32_t n = e->nthreads < LW_EDGE_THREADS ? e->nthreads : LW_EDGE_THREADS;
  for (uint32_t i = 0; i < n; i++)
    if (e->threads[i] == thread) return;
  if (e->nthreads < LW_EDGE_THREADS) e->threads[e->nthreads] = thread;
  if (e->nthreads <= LW_EDGE_THREADS) e->nthreads++;
}

bool lw_graph_edge_narrow(lw_edge_t *e, const uint64_t *ids, uint32_t n) {
  if (!e->gate_known) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) k += ids[i] != e->from->id && ids[i] != e->to->id;
    if (k && !reserve((void **)&e->gate, &e->cap_gate, k, sizeof *e->gate)) return false;
    k = 0;
    for (uint32_t i = 0; i < n; i++)
      if (ids[i] != e->from->id && ids[i] != e->to->id) e->gate[k++] = ids[i];
    e->ngate = k;
    e->gate_known = 1;
    return false;
  }
  uint32_t k = 0, j = 0;
  for (uint32_t i = 0; i < e->ngate; i++) {
    while (j < n && ids[j] < e->gate[i]) j++;
    if (j < n && ids[j] == e->gate[i]) e->gate[k++] = e->gate[i];
  }
  bool changed = k != e->ngate;
  e->ngate = k;
  return changed;
}

int lw_graph_add_edge(lw_graph_t *g, lw_node_t *x, lw_node_t *y, unsigned fm, unsigned tm,
                      const lw_witness_t *w, lw_cycle_t *cycle) {
  unsigned pair = LW_PAIR(fm, tm);
  cycle->steps = NULL;
  cycle->n = cycle->cap = 0;
  join_graph(g, x);
  join_graph(g, y);
  lw_edge_t *e = lw_graph_find_edge(g, x, y);
  bool is_new = e == NULL;
  if (e && (e->modes & (1u << pair))) {
    const lw_witness_t *first = lw_edge_witness(e, pair);
    if (!e->other_thread && first->thread != w->thread) e->other_thread = w->thread + 1;
    note_thread(e, w->thread);
    return LW_EDGE_KNOWN;
  }
  if (is_new && !(e = edge_create(g, x, y))) return LW_EDGE_ERROR;
  if (!witness_add(e, pair, w)) return LW_EDGE_ERROR;
  note_thread(e, w->thread);

  /* a cycle through this edge needs a path y ~> x; nodes above the bound reach neither */
  int found = 0;
  uint64_t bound = x->ord > g->max_back_ord ? x->ord : g->max_back_ord;
  if (y->ord <= bound) found = find_cycle(g, e, fm, tm, bound, cycle);
  if (found < 0) return LW_EDGE_ERROR;

  if (is_new && x->ord > y->ord) {
    int r = pk_reorder(g, x, y);
    if (r < 0) return LW_EDGE_ERROR;
    if (r == 0) {
      if (!back_add(g, e)) return LW_EDGE_ERROR;
    } else if (g->nback) {
      update_max_back(g);
    }
  }
  return found ? LW_EDGE_CYCLE : LW_EDGE_ADDED;
}

void (*lw_graph_witness_release)(lw_witness_t *w);

static void edge_destroy(lw_graph_t *g, lw_edge_t *e) {
  if (lw_graph_witness_release)
    for (unsigned pair = 0; pair < 4; pair++)
      if (e->modes & (1u << pair))
        lw_graph_witness_release(pair == e->first_pair ? &e->w0 : &e->extra[pair]);
  lw_node_t *x = e->from, *y = e->to;
  lw_edge_t *m = x->out[--x->nout];
  x->out[e->out_idx] = m;
  m->out_idx = e->out_idx;
  m = y->in[--y->nin];
  y->in[e->in_idx] = m;
  m->in_idx = e->in_idx;
  table_remove(g, e);
  if (e->back) back_remove(g, e);
  if (e->extra) lw_free(e->extra, 4 * sizeof *e->extra);
  lw_free(e->gate, (size_t)e->cap_gate * sizeof *e->gate);
  lw_free(e, sizeof *e);
}

void lw_graph_remove_node(lw_graph_t *g, lw_node_t *n) {
  if (!n->ord) return;
  uint32_t nback = g->nback;
  while (n->nout) edge_destroy(g, n->out[n->nout - 1]);
  while (n->nin) edge_destroy(g, n->in[n->nin - 1]);
  lw_free(n->out, (size_t)n->cap_out * sizeof *n->out);
  lw_free(n->in, (size_t)n->cap_in * sizeof *n->in);
  n->out = n->in = NULL;
  n->cap_out = n->cap_in = 0;
  n->ord = 0;
  n->mark[0] = n->mark[1] = n->pk_mark = 0; /* a later wrap of the epochs cannot see it */
  g->nnodes--;
  if (g->nback != nback) update_max_back(g);
}

void lw_cycle_release(lw_cycle_t *c) {
  lw_free(c->steps, (size_t)c->cap * sizeof *c->steps);
  c->steps = NULL;
  c->n = c->cap = 0;
}

uint32_t lw_graph_check_order(const lw_graph_t *g) {
  uint32_t bad = 0;
  for (uint32_t i = 0; g->slots && i <= g->mask; i++) {
    const lw_edge_t *e = g->slots[i];
    if (e && !e->back && e->from->ord >= e->to->ord) bad++;
  }
  return bad;
}
