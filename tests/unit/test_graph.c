/*
 * test_graph.c - the lock-order graph (lib/graph.c) driven directly through
 * lw_graph_*, with nodes the test allocates.
 *
 * Covers: edges that respect the order (added, no search); 2- and 3-cycles
 * (steps[0] is the new edge, the rest is the path back); known edges and new
 * mode pairs on known edges; rings of 1,000 and 10,000 locks (an N-step
 * cycle); a 10,000-lock DAG built in an order that forces many Pearce-Kelly
 * reorders (order checked after every batch, reorder count predicted, no
 * false cycle, then closing edges give the shortest cycle); cycles through
 * earlier back edges (also when the new edge respects the order); the
 * reader/writer rules (read-on-read into a reader-preferring lock does not
 * block, anything else does); node removal (edges gone, table consistent,
 * cycles that needed the node gone); witnesses and other_thread; wrap-around
 * of the search epochs; and a 16,000-lock, 250,000-edge scale check.
 *
 * Every lw_graph_* call is made with g->lock held, as graph.h requires (the
 * test reads node and graph fields directly; it is single-threaded).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "types.h"

#define W LW_MODE_WRITE
#define R LW_MODE_READ

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_state;

static void rng_seed(uint64_t s) { rng_state = s ? s : 0x9e3779b97f4a7c15ULL; }

static uint64_t rng_next(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng_state = x;
}

static uint32_t rng_below(uint32_t n) { return (uint32_t)(rng_next() % n); }

static void shuffle_u32(uint32_t *a, uint32_t n) {
  for (uint32_t i = n; i > 1; i--) {
    uint32_t j = rng_below(i);
    uint32_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}

/* Allocates n fresh nodes with ids 1..n. */
static lw_node_t *make_nodes(uint32_t n, bool reader_pref) {
  lw_node_t *v = calloc(n, sizeof *v);
  ck_assert_ptr_nonnull(v);
  for (uint32_t i = 0; i < n; i++) lw_graph_node_init(&v[i], i + 1, reader_pref);
  return v;
}

/* Adds from -> to under the graph lock with a witness naming thread. */
static int add_w(lw_graph_t *g, lw_node_t *from, lw_node_t *to, unsigned fm, unsigned tm,
                 const lw_witness_t *w, lw_cycle_t *c) {
  lw_ilock_acquire(&g->lock);
  int r = lw_graph_add_edge(g, from, to, fm, tm, w, c);
  lw_ilock_release(&g->lock);
  return r;
}

static int add_m(lw_graph_t *g, lw_node_t *from, lw_node_t *to, unsigned fm, unsigned tm,
                 lw_cycle_t *c) {
  lw_witness_t w = {1, 2, 3, 0, 4, 0, 0};
  return add_w(g, from, to, fm, tm, &w, c);
}

/* Adds from -> to (write -> write); asserts the result and that no cycle is left over. */
static void add_expect(lw_graph_t *g, lw_node_t *from, lw_node_t *to, unsigned fm, unsigned tm,
                       int expected) {
  lw_cycle_t c;
  int r = add_m(g, from, to, fm, tm, &c);
  ck_assert_int_eq(r, expected);
  if (r != LW_EDGE_CYCLE) {
    ck_assert_uint_eq(c.n, 0);
    ck_assert_ptr_null(c.steps);
  } else {
    lw_ilock_acquire(&g->lock);
    lw_cycle_release(&c);
    lw_ilock_release(&g->lock);
  }
}

static void add_ok(lw_graph_t *g, lw_node_t *from, lw_node_t *to) {
  add_expect(g, from, to, W, W, LW_EDGE_ADDED);
}

static uint32_t check_order(lw_graph_t *g) {
  lw_ilock_acquire(&g->lock);
  uint32_t bad = lw_graph_check_order(g);
  lw_ilock_release(&g->lock);
  return bad;
}

static lw_edge_t *find_edge(lw_graph_t *g, const lw_node_t *a, const lw_node_t *b) {
  lw_ilock_acquire(&g->lock);
  lw_edge_t *e = lw_graph_find_edge(g, a, b);
  lw_ilock_release(&g->lock);
  return e;
}

static void release_cycle(lw_graph_t *g, lw_cycle_t *c) {
  lw_ilock_acquire(&g->lock);
  lw_cycle_release(c);
  lw_ilock_release(&g->lock);
  ck_assert_uint_eq(c->n, 0);
  ck_assert_ptr_null(c->steps);
}

/*
 * Checks that c is a closed walk that starts with the edge x -> y, that each
 * step's mode pair was recorded on its edge, and that consecutive steps meet.
 */
static void check_cycle_shape(const lw_cycle_t *c, const lw_node_t *x, const lw_node_t *y) {
  ck_assert_uint_ge(c->n, 2);
  ck_assert_ptr_nonnull(c->steps);
  ck_assert_ptr_eq(c->steps[0].edge->from, x);
  ck_assert_ptr_eq(c->steps[0].edge->to, y);
  for (uint32_t i = 0; i < c->n; i++) {
    const lw_cycle_step_t *s = &c->steps[i], *nx = &c->steps[(i + 1) % c->n];
    ck_assert_ptr_eq(s->edge->to, nx->edge->from);
    ck_assert_uint_le(s->from_mode, 1);
    ck_assert_uint_le(s->to_mode, 1);
    ck_assert_msg(s->edge->modes & (1u << LW_PAIR(s->from_mode, s->to_mode)),
                  "step %u uses a mode pair its edge never saw", i);
  }
}

/* ---- adjacency kept by the test, for independent shortest paths ----------- */

typedef struct adj {
  uint32_t **out;
  uint32_t *n, *cap;
  uint32_t nodes;
} adj_t;

static void adj_init(adj_t *a, uint32_t nodes) {
  a->nodes = nodes;
  a->out = calloc(nodes, sizeof *a->out);
  a->n = calloc(nodes, sizeof *a->n);
  a->cap = calloc(nodes, sizeof *a->cap);
  ck_assert(a->out && a->n && a->cap);
}

static void adj_add(adj_t *a, uint32_t from, uint32_t to) {
  if (a->n[from] == a->cap[from]) {
    a->cap[from] = a->cap[from] ? a->cap[from] * 2 : 4;
    a->out[from] = realloc(a->out[from], a->cap[from] * sizeof **a->out);
    ck_assert_ptr_nonnull(a->out[from]);
  }
  a->out[from][a->n[from]++] = to;
}

static void adj_free(adj_t *a) {
  for (uint32_t i = 0; i < a->nodes; i++) free(a->out[i]);
  free(a->out);
  free(a->n);
  free(a->cap);
}

/* Number of edges on a shortest path from -> to, or UINT32_MAX if none. */
static uint32_t adj_dist(const adj_t *a, uint32_t from, uint32_t to) {
  uint32_t *dist = malloc(a->nodes * sizeof *dist), *q = malloc(a->nodes * sizeof *q);
  ck_assert(dist && q);
  for (uint32_t i = 0; i < a->nodes; i++) dist[i] = UINT32_MAX;
  uint32_t head = 0, tail = 0, result = UINT32_MAX;
  dist[from] = 0;
  q[tail++] = from;
  while (head < tail) {
    uint32_t u = q[head++];
    if (u == to) {
      result = dist[u];
      break;
    }
    for (uint32_t k = 0; k < a->n[u]; k++) {
      uint32_t v = a->out[u][k];
      if (dist[v] != UINT32_MAX) continue;
      dist[v] = dist[u] + 1;
      q[tail++] = v;
    }
  }
  free(dist);
  free(q);
  return result;
}

/* ---- simple orders and cycles ---------------------------------------------- */

START_TEST(test_ordered_edges_need_no_search) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(100, false);
  for (int i = 0; i + 1 < 100; i++) add_ok(&g, &n[i], &n[i + 1]);
  /* shortcuts that follow the same order */
  for (int i = 0; i + 2 < 100; i += 2) add_ok(&g, &n[i], &n[i + 2]);
  ck_assert_uint_eq(g.nedges, 99 + 49);
  ck_assert_uint_eq(g.nnodes, 100);
  ck_assert_uint_eq(g.searches, 0);
  ck_assert_uint_eq(g.reorders, 0);
  ck_assert_uint_eq(g.nback, 0);
  ck_assert_uint_eq(check_order(&g), 0);
  for (int i = 0; i + 1 < 100; i++) {
    lw_edge_t *e = find_edge(&g, &n[i], &n[i + 1]);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_eq(e->from, &n[i]);
    ck_assert_ptr_eq(e->to, &n[i + 1]);
    ck_assert_uint_eq(e->modes, 1u << LW_PAIR(W, W));
    ck_assert_uint_eq(e->back, 0);
    ck_assert_uint_lt(n[i].ord, n[i + 1].ord);
    ck_assert_ptr_null(find_edge(&g, &n[i + 1], &n[i]));
  }
  free(n);
}
END_TEST

START_TEST(test_two_cycle) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, false);
  lw_node_t *a = &n[0], *b = &n[1];
  add_ok(&g, a, b);
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, b, a, W, W, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 2);
  check_cycle_shape(&c, b, a);
  ck_assert_ptr_eq(c.steps[0].edge, find_edge(&g, b, a));
  ck_assert_ptr_eq(c.steps[1].edge, find_edge(&g, a, b));
  for (int i = 0; i < 2; i++) {
    ck_assert_uint_eq(c.steps[i].from_mode, W);
    ck_assert_uint_eq(c.steps[i].to_mode, W);
  }
  release_cycle(&g, &c);
  /* the closing edge is kept as a back edge; the order stays valid */
  ck_assert_uint_eq(g.nedges, 2);
  ck_assert_uint_eq(g.nback, 1);
  ck_assert_uint_eq(find_edge(&g, b, a)->back, 1);
  ck_assert_uint_eq(find_edge(&g, a, b)->back, 0);
  ck_assert_uint_eq(check_order(&g), 0);
  free(n);
}
END_TEST

START_TEST(test_two_cycle_twin_independent_orders) {
  /* A -> B and C -> A and B -> D: no cycle anywhere, whatever the join order */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(4, false);
  add_ok(&g, &n[0], &n[1]);
  add_ok(&g, &n[2], &n[0]); /* reorder: C joins after A */
  add_ok(&g, &n[1], &n[3]);
  add_ok(&g, &n[2], &n[3]);
  ck_assert_uint_eq(g.nback, 0);
  ck_assert_uint_eq(g.nedges, 4);
  ck_assert_uint_eq(g.reorders, 1);
  ck_assert_uint_eq(check_order(&g), 0);
  free(n);
}
END_TEST

START_TEST(test_known_edge) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, false);
  add_ok(&g, &n[0], &n[1]);
  uint64_t searches = g.searches;
  add_expect(&g, &n[0], &n[1], W, W, LW_EDGE_KNOWN);
  ck_assert_uint_eq(g.nedges, 1);
  ck_assert_uint_eq(g.searches, searches);
  /* the closing edge, once known, is not reported again */
  add_expect(&g, &n[1], &n[0], W, W, LW_EDGE_CYCLE);
  searches = g.searches;
  add_expect(&g, &n[1], &n[0], W, W, LW_EDGE_KNOWN);
  ck_assert_uint_eq(g.searches, searches);
  ck_assert_uint_eq(g.nedges, 2);
  ck_assert_uint_eq(g.nback, 1);
  /* a new mode pair on a known edge is not "known" */
  add_expect(&g, &n[0], &n[1], R, W, LW_EDGE_CYCLE);
  lw_edge_t *e = find_edge(&g, &n[0], &n[1]);
  ck_assert_uint_eq(e->modes, (1u << LW_PAIR(W, W)) | (1u << LW_PAIR(R, W)));
  ck_assert_uint_eq(g.nedges, 2);
  add_expect(&g, &n[0], &n[1], R, W, LW_EDGE_KNOWN);
  free(n);
}
END_TEST

START_TEST(test_three_cycle) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(3, false);
  lw_node_t *a = &n[0], *b = &n[1], *c3 = &n[2];
  add_ok(&g, a, b);
  add_ok(&g, b, c3);
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, c3, a, W, W, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 3);
  check_cycle_shape(&c, c3, a);
  ck_assert_ptr_eq(c.steps[1].edge, find_edge(&g, a, b));
  ck_assert_ptr_eq(c.steps[2].edge, find_edge(&g, b, c3));
  release_cycle(&g, &c);
  ck_assert_uint_eq(check_order(&g), 0);
  free(n);
}
END_TEST

START_TEST(test_shortest_cycle_is_reported) {
  /* A->B->C->D and A->D: closing D->A must give the 2-step cycle */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(4, false);
  add_ok(&g, &n[0], &n[1]);
  add_ok(&g, &n[1], &n[2]);
  add_ok(&g, &n[2], &n[3]);
  add_ok(&g, &n[0], &n[3]);
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, &n[3], &n[0], W, W, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 2);
  check_cycle_shape(&c, &n[3], &n[0]);
  ck_assert_ptr_eq(c.steps[1].edge, find_edge(&g, &n[0], &n[3]));
  release_cycle(&g, &c);
  free(n);
}
END_TEST

/* ---- long cycles ------------------------------------------------------------ */

static const uint32_t ring_sizes[] = {1000, 10000};

START_TEST(test_ring) {
  uint32_t N = ring_sizes[_i];
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(N, false);
  for (uint32_t i = 0; i + 1 < N; i++) add_ok(&g, &n[i], &n[i + 1]);
  ck_assert_uint_eq(g.searches, 0);
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, &n[N - 1], &n[0], W, W, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, N);
  check_cycle_shape(&c, &n[N - 1], &n[0]);
  for (uint32_t i = 1; i < N; i++) {
    ck_assert_ptr_eq(c.steps[i].edge->from, &n[i - 1]);
    ck_assert_ptr_eq(c.steps[i].edge->to, &n[i]);
  }
  release_cycle(&g, &c);
  ck_assert_uint_eq(g.nback, 1);
  ck_assert_uint_eq(check_order(&g), 0);
  free(n);
}
END_TEST

/* ---- many reorders ------------------------------------------------------------ */

/*
 * A hidden total order (node index) and edges that all respect it, added so
 * that the join order of the nodes is unrelated to it: the graph must keep a
 * valid topological order, report no cycle, and reorder exactly when a new
 * edge goes against the current order. Then edges against the hidden order
 * close cycles, each the shortest one.
 */
START_TEST(test_random_dag_with_reorders) {
  enum { N = 10000, RANDOM_EDGES = 40000, BATCH = 1000 };
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(N, false);
  adj_t adj;
  adj_init(&adj, N);
  rng_seed(12345);

  /* nodes join in reverse pairs: ord runs against the hidden order */
  for (uint32_t i = N; i >= 2; i -= 2) {
    add_ok(&g, &n[i - 2], &n[i - 1]);
    adj_add(&adj, i - 2, i - 1);
  }
  ck_assert_uint_eq(g.nnodes, N);
  ck_assert_uint_eq(g.reorders, 0);

  uint64_t expected_reorders = 0;
  uint32_t added = N / 2;
  for (uint32_t k = 0; k < RANDOM_EDGES; k++) {
    uint32_t a = rng_below(N), b = rng_below(N);
    if (a == b) continue;
    if (a > b) {
      uint32_t t = a;
      a = b;
      b = t;
    }
    bool known = find_edge(&g, &n[a], &n[b]) != NULL;
    bool against = n[a].ord > n[b].ord;
    lw_cycle_t c;
    int r = add_m(&g, &n[a], &n[b], W, W, &c);
    ck_assert_int_eq(r, known ? LW_EDGE_KNOWN : LW_EDGE_ADDED);
    if (!known) {
      adj_add(&adj, a, b);
      added++;
      expected_reorders += against;
    }
    if (k % BATCH == BATCH - 1) {
      ck_assert_uint_eq(check_order(&g), 0);
      ck_assert_uint_eq(g.reorders, expected_reorders);
    }
  }
  /* the chain 0 -> 1 -> ... -> N-1, added from the top: each link fights the order */
  for (uint32_t i = N - 1; i-- > 0;) {
    bool known = find_edge(&g, &n[i], &n[i + 1]) != NULL;
    bool against = n[i].ord > n[i + 1].ord;
    add_expect(&g, &n[i], &n[i + 1], W, W, known ? LW_EDGE_KNOWN : LW_EDGE_ADDED);
    if (!known) {
      adj_add(&adj, i, i + 1);
      added++;
      expected_reorders += against;
    }
    if (i % BATCH == 0) {
      ck_assert_uint_eq(check_order(&g), 0);
      ck_assert_uint_eq(g.reorders, expected_reorders);
    }
  }
  ck_assert_uint_eq(g.nedges, added);
  ck_assert_uint_eq(g.nback, 0);
  ck_assert_uint_gt(g.reorders, 1000);
  ck_assert_uint_eq(g.reorders, expected_reorders);
  ck_assert_uint_eq(check_order(&g), 0);
  /* the order the graph keeps now agrees with the hidden one along the chain */
  for (uint32_t i = 0; i + 1 < N; i++) ck_assert_uint_lt(n[i].ord, n[i + 1].ord);

  /* edges against the hidden order close cycles: always the shortest one */
  for (int k = 0; k < 20; k++) {
    uint32_t a = rng_below(N), b = rng_below(N);
    if (a == b) continue;
    if (a < b) {
      uint32_t t = a;
      a = b;
      b = t;
    }
    if (find_edge(&g, &n[a], &n[b])) continue;
    uint32_t d = adj_dist(&adj, b, a);
    ck_assert_uint_ne(d, UINT32_MAX);
    lw_cycle_t c;
    ck_assert_int_eq(add_m(&g, &n[a], &n[b], W, W, &c), LW_EDGE_CYCLE);
    ck_assert_uint_eq(c.n, d + 1);
    check_cycle_shape(&c, &n[a], &n[b]);
    release_cycle(&g, &c);
    adj_add(&adj, a, b);
    ck_assert_uint_eq(check_order(&g), 0);
  }
  ck_assert_uint_gt(g.nback, 0);
  adj_free(&adj);
  free(n);
}
END_TEST

/* ---- cycles through back edges --------------------------------------------------- */

START_TEST(test_cycle_through_back_edge) {
  /* A->B, then B->A (back edge), then A->X and X->B closes X->B->A->X */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(3, false);
  lw_node_t *a = &n[0], *b = &n[1], *x = &n[2];
  add_ok(&g, a, b);
  add_expect(&g, b, a, W, W, LW_EDGE_CYCLE);
  ck_assert_uint_eq(find_edge(&g, b, a)->back, 1);
  add_ok(&g, a, x);
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, x, b, W, W, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 3);
  check_cycle_shape(&c, x, b);
  ck_assert_ptr_eq(c.steps[1].edge, find_edge(&g, b, a));
  ck_assert_ptr_eq(c.steps[2].edge, find_edge(&g, a, x));
  release_cycle(&g, &c);
  /* no ordered path leads from B to X: X -> B takes its place in the order */
  ck_assert_uint_eq(g.nback, 1);
  ck_assert_uint_eq(find_edge(&g, x, b)->back, 0);
  ck_assert_uint_lt(x->ord, b->ord);
  ck_assert_uint_eq(check_order(&g), 0);
  free(n);
}
END_TEST

START_TEST(test_cycle_through_back_edge_when_order_accepts) {
  /*
   * Order B < X < Y < A, with B->Y->A ordered and A->B a back edge. X->Y
   * respects the order, yet Y->A->B->X closes a cycle through the back edge.
   */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(4, false);
  lw_node_t *b = &n[0], *x = &n[1], *y = &n[2], *a = &n[3];
  add_ok(&g, b, x); /* B 1, X 2 */
  add_ok(&g, y, a); /* Y 3, A 4 */
  add_ok(&g, b, y);
  ck_assert_uint_eq(g.reorders, 0);
  add_expect(&g, a, b, W, W, LW_EDGE_CYCLE);
  ck_assert_uint_eq(find_edge(&g, a, b)->back, 1);
  ck_assert_uint_lt(x->ord, y->ord); /* the plain order accepts X -> Y */
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, x, y, W, W, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 4);
  check_cycle_shape(&c, x, y);
  ck_assert_ptr_eq(c.steps[1].edge, find_edge(&g, y, a));
  ck_assert_ptr_eq(c.steps[2].edge, find_edge(&g, a, b));
  ck_assert_ptr_eq(c.steps[3].edge, find_edge(&g, b, x));
  release_cycle(&g, &c);
  ck_assert_uint_eq(check_order(&g), 0);
  free(n);
}
END_TEST

START_TEST(test_back_edge_twin_unrelated_edge) {
  /* twin of the above without B -> X: Y -> A -> B leads nowhere near X */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(4, false);
  lw_node_t *b = &n[0], *x = &n[1], *y = &n[2], *a = &n[3];
  add_ok(&g, y, a);
  add_ok(&g, b, y);
  add_expect(&g, a, b, W, W, LW_EDGE_CYCLE);
  add_ok(&g, x, y);
  add_ok(&g, x, b);
  ck_assert_uint_eq(g.nback, 1);
  ck_assert_uint_eq(g.nedges, 5);
  ck_assert_uint_eq(check_order(&g), 0);
  free(n);
}
END_TEST

/* ---- reader / writer rules ---------------------------------------------------------- */

START_TEST(test_reader_pref_read_cycle_silent) {
  /* A(r) -> B(r) and B(r) -> A(r) on reader-preferring locks: readers never wait */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, true);
  add_expect(&g, &n[0], &n[1], R, R, LW_EDGE_ADDED);
  add_expect(&g, &n[1], &n[0], R, R, LW_EDGE_ADDED);
  /* kept outside the order, since it does close a (harmless) cycle */
  ck_assert_uint_eq(g.nback, 1);
  ck_assert_uint_eq(check_order(&g), 0);
  free(n);
}
END_TEST

START_TEST(test_writer_pref_read_cycle_reported) {
  /* the same with writer-preferring locks: a waiting writer blocks the readers */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, false);
  add_expect(&g, &n[0], &n[1], R, R, LW_EDGE_ADDED);
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, &n[1], &n[0], R, R, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 2);
  check_cycle_shape(&c, &n[1], &n[0]);
  for (int i = 0; i < 2; i++) {
    ck_assert_uint_eq(c.steps[i].from_mode, R);
    ck_assert_uint_eq(c.steps[i].to_mode, R);
  }
  release_cycle(&g, &c);
  free(n);
}
END_TEST

START_TEST(test_reader_pref_write_makes_cycle) {
  /* A(w) -> B(w) and B(r) -> A(r): B is wanted for writing, A is held for writing */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, true);
  add_expect(&g, &n[0], &n[1], W, W, LW_EDGE_ADDED);
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, &n[1], &n[0], R, R, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 2);
  check_cycle_shape(&c, &n[1], &n[0]);
  ck_assert_uint_eq(c.steps[0].from_mode, R);
  ck_assert_uint_eq(c.steps[0].to_mode, R);
  ck_assert_uint_eq(c.steps[1].from_mode, W);
  ck_assert_uint_eq(c.steps[1].to_mode, W);
  release_cycle(&g, &c);
  free(n);
}
END_TEST

START_TEST(test_reader_pref_one_read_link_breaks_cycle) {
  /*
   * A(w) -> B(r) and B(r) -> A(w): A conflicts (writes), but B is requested
   * for reading while held for reading: B never blocks, no deadlock. And the
   * mirror, where A is the read-on-read lock.
   */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, true);
  add_expect(&g, &n[0], &n[1], W, R, LW_EDGE_ADDED);
  add_expect(&g, &n[1], &n[0], R, W, LW_EDGE_ADDED);
  lw_graph_init(&g);
  free(n);
  n = make_nodes(2, true);
  add_expect(&g, &n[0], &n[1], R, W, LW_EDGE_ADDED);
  add_expect(&g, &n[1], &n[0], W, R, LW_EDGE_ADDED);
  free(n);
  /* twin: B writer-preferring, A reader-preferring: B's read-on-read can block */
  lw_graph_init(&g);
  n = make_nodes(2, true);
  n[1].reader_pref = false;
  add_expect(&g, &n[0], &n[1], W, R, LW_EDGE_ADDED);
  add_expect(&g, &n[1], &n[0], R, W, LW_EDGE_CYCLE);
  free(n);
}
END_TEST

START_TEST(test_new_write_pair_on_read_cycle) {
  /* a harmless read cycle, then a write pair on one of its edges makes it real */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, true);
  add_expect(&g, &n[0], &n[1], R, R, LW_EDGE_ADDED);
  add_expect(&g, &n[1], &n[0], R, R, LW_EDGE_ADDED);
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, &n[0], &n[1], W, W, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 2);
  check_cycle_shape(&c, &n[0], &n[1]);
  ck_assert_uint_eq(c.steps[0].from_mode, W);
  ck_assert_uint_eq(c.steps[0].to_mode, W);
  ck_assert_uint_eq(c.steps[1].from_mode, R);
  ck_assert_uint_eq(c.steps[1].to_mode, R);
  release_cycle(&g, &c);
  ck_assert_uint_eq(g.nedges, 2);
  free(n);
}
END_TEST

START_TEST(test_search_state_includes_mode) {
  /*
   * New edge X -> Y. From Y, C (reader-preferring) is reached by a read in
   * one step and by a write in two; C leaves for X only from a read. Only
   * the longer path can deadlock, and the search must not give up on C after
   * the first (read) visit.
   */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(4, false);
  lw_node_t *x = &n[0], *y = &n[1], *d = &n[2], *cc = &n[3];
  cc->reader_pref = true;
  add_expect(&g, y, cc, W, R, LW_EDGE_ADDED); /* enters C by a read */
  add_expect(&g, y, d, W, W, LW_EDGE_ADDED);
  add_expect(&g, d, cc, W, W, LW_EDGE_ADDED); /* enters C by a write */
  add_expect(&g, cc, x, R, W, LW_EDGE_ADDED); /* leaves C from a read */
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, x, y, W, W, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 4);
  check_cycle_shape(&c, x, y);
  ck_assert_ptr_eq(c.steps[1].edge, find_edge(&g, y, d));
  ck_assert_ptr_eq(c.steps[2].edge, find_edge(&g, d, cc));
  ck_assert_ptr_eq(c.steps[3].edge, find_edge(&g, cc, x));
  release_cycle(&g, &c);
  free(n);

  /* twin: without the write path, only read-on-read through C: silent */
  lw_graph_init(&g);
  n = make_nodes(4, false);
  x = &n[0], y = &n[1], d = &n[2], cc = &n[3];
  cc->reader_pref = true;
  add_expect(&g, y, cc, W, R, LW_EDGE_ADDED);
  add_expect(&g, y, d, W, W, LW_EDGE_ADDED);
  add_expect(&g, cc, x, R, W, LW_EDGE_ADDED);
  add_expect(&g, x, y, W, W, LW_EDGE_ADDED);
  free(n);
}
END_TEST

/* ---- removing nodes ------------------------------------------------------------------- */

START_TEST(test_remove_node_edges) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(4, false);
  lw_node_t *a = &n[0], *b = &n[1], *c3 = &n[2], *d = &n[3];
  add_ok(&g, a, b);
  add_ok(&g, b, c3);
  add_ok(&g, d, b);
  add_ok(&g, a, d);
  ck_assert_uint_eq(g.nedges, 4);
  ck_assert_uint_eq(g.nnodes, 4);
  lw_ilock_acquire(&g.lock);
  lw_graph_remove_node(&g, b);
  lw_ilock_release(&g.lock);
  ck_assert_uint_eq(g.nedges, 1);
  ck_assert_uint_eq(g.nnodes, 3);
  ck_assert_uint_eq(b->ord, 0);
  ck_assert_uint_eq(b->nout + b->nin, 0);
  ck_assert_ptr_null(find_edge(&g, a, b));
  ck_assert_ptr_null(find_edge(&g, b, c3));
  ck_assert_ptr_null(find_edge(&g, d, b));
  ck_assert_ptr_nonnull(find_edge(&g, a, d));
  ck_assert_uint_eq(a->nout, 1);
  ck_assert_uint_eq(c3->nin, 0);
  ck_assert_uint_eq(d->nout, 0);
  /* the cycle A -> B -> C -> A needed B: closing C -> A is fine now */
  add_ok(&g, c3, a);
  /* B comes back as a fresh lock: it inherits nothing */
  lw_graph_node_init(b, 100, false);
  add_ok(&g, c3, b);
  add_ok(&g, b, d);
  ck_assert_uint_eq(check_order(&g), 0);
  free(n);
}
END_TEST

START_TEST(test_remove_node_twin_cycle_found) {
  /* without removing B, closing C -> A is a cycle */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(3, false);
  add_ok(&g, &n[0], &n[1]);
  add_ok(&g, &n[1], &n[2]);
  add_expect(&g, &n[2], &n[0], W, W, LW_EDGE_CYCLE);
  free(n);
}
END_TEST

START_TEST(test_remove_back_edge_node) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(3, false);
  add_ok(&g, &n[0], &n[1]);
  add_expect(&g, &n[1], &n[0], W, W, LW_EDGE_CYCLE);
  ck_assert_uint_eq(g.nback, 1);
  ck_assert_uint_ne(g.max_back_ord, 0);
  lw_ilock_acquire(&g.lock);
  lw_graph_remove_node(&g, &n[0]);
  lw_ilock_release(&g.lock);
  ck_assert_uint_eq(g.nback, 0);
  ck_assert_uint_eq(g.max_back_ord, 0);
  ck_assert_uint_eq(g.nedges, 0);
  /* the re-added lock starts a new life: B -> A' is an ordinary edge */
  lw_graph_node_init(&n[0], 50, false);
  add_ok(&g, &n[1], &n[0]);
  add_ok(&g, &n[0], &n[2]);
  ck_assert_uint_eq(g.searches, 1);
  free(n);
}
END_TEST

START_TEST(test_remove_many_nodes_table_consistent) {
  /* random edges, then random removals: every remaining edge is still found */
  enum { N = 2000, E = 20000 };
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(N, false);
  uint32_t *ea = malloc(E * sizeof *ea), *eb = malloc(E * sizeof *eb);
  bool *gone = calloc(N, sizeof *gone);
  ck_assert(ea && eb && gone);
  rng_seed(777);
  uint32_t m = 0;
  while (m < E) {
    uint32_t a = rng_below(N), b = rng_below(N);
    if (a >= b) continue;
    if (find_edge(&g, &n[a], &n[b])) continue;
    add_ok(&g, &n[a], &n[b]);
    ea[m] = a;
    eb[m] = b;
    m++;
  }
  ck_assert_uint_eq(g.nedges, E);
  for (int k = 0; k < 400; k++) {
    uint32_t v = rng_below(N);
    if (gone[v]) continue;
    gone[v] = true;
    lw_ilock_acquire(&g.lock);
    lw_graph_remove_node(&g, &n[v]);
    lw_ilock_release(&g.lock);
  }
  uint32_t left = 0, nodes_left = 0;
  for (uint32_t i = 0; i < E; i++) {
    bool alive = !gone[ea[i]] && !gone[eb[i]];
    lw_edge_t *e = find_edge(&g, &n[ea[i]], &n[eb[i]]);
    if (alive) {
      ck_assert_ptr_nonnull(e);
      ck_assert_ptr_eq(e->from, &n[ea[i]]);
      ck_assert_ptr_eq(e->to, &n[eb[i]]);
      left++;
    } else {
      ck_assert_ptr_null(e);
    }
  }
  for (uint32_t v = 0; v < N; v++) nodes_left += n[v].ord != 0;
  ck_assert_uint_eq(g.nedges, left);
  ck_assert_uint_eq(g.nnodes, nodes_left);
  ck_assert_uint_eq(check_order(&g), 0);
  /* in/out arrays agree with the edges they hold */
  for (uint32_t v = 0; v < N; v++) {
    for (uint32_t k = 0; k < n[v].nout; k++) {
      ck_assert_ptr_eq(n[v].out[k]->from, &n[v]);
      ck_assert_uint_eq(n[v].out[k]->out_idx, k);
    }
    for (uint32_t k = 0; k < n[v].nin; k++) {
      ck_assert_ptr_eq(n[v].in[k]->to, &n[v]);
      ck_assert_uint_eq(n[v].in[k]->in_idx, k);
    }
  }
  free(ea);
  free(eb);
  free(gone);
  free(n);
}
END_TEST

/* ---- witnesses --------------------------------------------------------------------------- */

START_TEST(test_witness_stored) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, false);
  lw_witness_t w1 = {7, 70, 700, 0, 7000, 0, 0}, w2 = {9, 90, 900, 0, 9000, 0, 0};
  lw_cycle_t c;
  ck_assert_int_eq(add_w(&g, &n[0], &n[1], W, R, &w1, &c), LW_EDGE_ADDED);
  lw_edge_t *e = find_edge(&g, &n[0], &n[1]);
  ck_assert_ptr_nonnull(e);
  const lw_witness_t *got = lw_edge_witness(e, LW_PAIR(W, R));
  ck_assert_ptr_nonnull(got);
  ck_assert_mem_eq(got, &w1, sizeof w1);
  ck_assert_ptr_null(lw_edge_witness(e, LW_PAIR(W, W)));
  ck_assert_ptr_null(lw_edge_witness(e, LW_PAIR(R, R)));
  /* a second pair gets its own witness; the first is unchanged */
  ck_assert_int_eq(add_w(&g, &n[0], &n[1], R, R, &w2, &c), LW_EDGE_ADDED);
  ck_assert_mem_eq(lw_edge_witness(e, LW_PAIR(R, R)), &w2, sizeof w2);
  ck_assert_mem_eq(lw_edge_witness(e, LW_PAIR(W, R)), &w1, sizeof w1);
  ck_assert_ptr_null(lw_edge_witness(e, LW_PAIR(R, W)));
  /* a known pair keeps its first witness */
  lw_witness_t w3 = {7, 1, 1, 0, 1, 0, 0};
  ck_assert_int_eq(add_w(&g, &n[0], &n[1], W, R, &w3, &c), LW_EDGE_KNOWN);
  ck_assert_mem_eq(lw_edge_witness(e, LW_PAIR(W, R)), &w1, sizeof w1);
  ck_assert_uint_eq(e->other_thread, 0); /* same thread 7 */
  free(n);
}
END_TEST

/* The gate set: the first witness's locks, narrowed by later ones; only shrinks. */
START_TEST(test_gate_narrow) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, false); /* ids 1 and 2 */
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, &n[0], &n[1], W, W, &c), LW_EDGE_ADDED);
  lw_edge_t *e = find_edge(&g, &n[0], &n[1]);
  ck_assert(!e->gate_known);
  const uint64_t first[] = {1, 5, 7, 9}; /* 1 is the edge's own lock: never a gate */
  ck_assert(!lw_graph_edge_narrow(e, first, 4));
  ck_assert(e->gate_known);
  ck_assert_uint_eq(e->ngate, 3);
  ck_assert_uint_eq(e->gate[0], 5);
  ck_assert_uint_eq(e->gate[2], 9);
  const uint64_t same[] = {5, 7, 9, 11};
  ck_assert(!lw_graph_edge_narrow(e, same, 4)); /* a superset changes nothing */
  ck_assert_uint_eq(e->ngate, 3);
  const uint64_t fewer[] = {2, 7, 9};
  ck_assert(lw_graph_edge_narrow(e, fewer, 3));
  ck_assert_uint_eq(e->ngate, 2);
  ck_assert_uint_eq(e->gate[0], 7);
  ck_assert(lw_graph_edge_narrow(e, NULL, 0)); /* taken with nothing else held */
  ck_assert_uint_eq(e->ngate, 0);
  ck_assert(!lw_graph_edge_narrow(e, first, 4)); /* an empty set stays empty */
  ck_assert_uint_eq(e->ngate, 0);
  free(n);
}
END_TEST

/* An edge keeps its first threads, and counts past them. */
START_TEST(test_edge_threads) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, false);
  lw_cycle_t c;
  for (uint32_t t = 0; t < 7; t++) {
    lw_witness_t w = {.thread = t % 6}; /* thread 0 twice */
    ck_assert_int_eq(add_w(&g, &n[0], &n[1], W, W, &w, &c), t ? LW_EDGE_KNOWN : LW_EDGE_ADDED);
  }
  lw_edge_t *e = find_edge(&g, &n[0], &n[1]);
  ck_assert_uint_eq(e->threads[0], 0);
  ck_assert_uint_eq(e->threads[3], 3);
  ck_assert_uint_eq(e->nthreads, LW_EDGE_THREADS + 1);
  free(n);
}
END_TEST

START_TEST(test_other_thread) {
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(2, false);
  lw_witness_t t3 = {3, 0, 0, 0, 0, 0, 0}, t5 = {5, 0, 0, 0, 0, 0, 0}, t0 = {0, 0, 0, 0, 0, 0, 0}, t8 = {8, 0, 0, 0, 0, 0, 0};
  lw_cycle_t c;
  ck_assert_int_eq(add_w(&g, &n[0], &n[1], W, W, &t3, &c), LW_EDGE_ADDED);
  lw_edge_t *e = find_edge(&g, &n[0], &n[1]);
  ck_assert_uint_eq(e->other_thread, 0);
  ck_assert_int_eq(add_w(&g, &n[0], &n[1], W, W, &t3, &c), LW_EDGE_KNOWN);
  ck_assert_uint_eq(e->other_thread, 0);
  ck_assert_int_eq(add_w(&g, &n[0], &n[1], W, W, &t5, &c), LW_EDGE_KNOWN);
  ck_assert_uint_eq(e->other_thread, 5 + 1);
  /* the first other thread is kept */
  ck_assert_int_eq(add_w(&g, &n[0], &n[1], W, W, &t8, &c), LW_EDGE_KNOWN);
  ck_assert_uint_eq(e->other_thread, 5 + 1);
  /* thread 0 is a real thread: stored as 1 */
  ck_assert_int_eq(add_w(&g, &n[1], &n[0], W, W, &t3, &c), LW_EDGE_CYCLE);
  release_cycle(&g, &c);
  lw_edge_t *back = find_edge(&g, &n[1], &n[0]);
  ck_assert_int_eq(add_w(&g, &n[1], &n[0], W, W, &t0, &c), LW_EDGE_KNOWN);
  ck_assert_uint_eq(back->other_thread, 0 + 1);
  free(n);
}
END_TEST

/* ---- epochs wrap around ------------------------------------------------------------------- */

START_TEST(test_search_epoch_wraps) {
  /* marks left by a search must not hide nodes once the epoch counter wraps */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(3, false);
  lw_node_t *cc = &n[0], *d = &n[1], *x = &n[2];
  add_ok(&g, cc, d);
  add_ok(&g, x, cc); /* searches from C: marks C and D */
  ck_assert_uint_eq(g.searches, 1);
  g.epoch = UINT32_MAX; /* as after 2^32 - 1 searches */
  lw_cycle_t c;
  ck_assert_int_eq(add_m(&g, d, x, W, W, &c), LW_EDGE_CYCLE);
  ck_assert_uint_eq(c.n, 3);
  check_cycle_shape(&c, d, x);
  release_cycle(&g, &c);
  free(n);
}
END_TEST

START_TEST(test_order_epoch_wraps) {
  /* marks left by a reorder must not hide nodes once its epoch counter wraps */
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(5, false);
  lw_node_t *cc = &n[0], *d = &n[1], *x = &n[2], *p = &n[3], *q = &n[4];
  add_ok(&g, cc, d);
  add_ok(&g, x, cc); /* reorder visiting C, D and X */
  ck_assert_uint_eq(g.reorders, 1);
  add_ok(&g, p, q);
  g.pk_epoch = UINT32_MAX; /* as after 2^32 - 1 reorders */
  add_ok(&g, q, x); /* must move X, C and D above Q */
  ck_assert_uint_eq(g.reorders, 2);
  ck_assert_uint_eq(check_order(&g), 0);
  ck_assert_uint_lt(q->ord, x->ord);
  ck_assert_uint_lt(x->ord, cc->ord);
  ck_assert_uint_lt(cc->ord, d->ord);
  free(n);
}
END_TEST

/* ---- scale -------------------------------------------------------------------------------- */

/* A set of 64-bit keys for the test's own bookkeeping. */
typedef struct keyset {
  uint64_t *k;
  uint64_t mask;
} keyset_t;

static void keyset_init(keyset_t *s, uint64_t cap) {
  s->k = calloc(cap, sizeof *s->k);
  ck_assert_ptr_nonnull(s->k);
  s->mask = cap - 1;
}

/* Inserts key (non-zero); returns false if it was there. */
static bool keyset_add(keyset_t *s, uint64_t key) {
  uint64_t i = (key * 0x9e3779b97f4a7c15ULL) >> 20 & s->mask;
  for (; s->k[i]; i = (i + 1) & s->mask)
    if (s->k[i] == key) return false;
  s->k[i] = key;
  return true;
}

START_TEST(test_scale_16000_locks_250000_edges) {
  enum { N = 16000, E = 250000 };
  lw_graph_t g;
  lw_graph_init(&g);
  lw_node_t *n = make_nodes(N, false);
  uint32_t *rank = malloc(N * sizeof *rank);
  ck_assert_ptr_nonnull(rank);
  rng_seed(4242);
  for (uint32_t i = 0; i < N; i++) rank[i] = i;
  shuffle_u32(rank, N); /* the hidden total order: lower rank first */
  keyset_t seen;
  keyset_init(&seen, 1u << 20);
  uint32_t added = 0;
  while (added < E) {
    uint32_t a = rng_below(N), b = rng_below(N);
    if (a == b) continue;
    if (rank[a] > rank[b]) {
      uint32_t t = a;
      a = b;
      b = t;
    }
    if (!keyset_add(&seen, (uint64_t)a * N + b + 1)) continue;
    lw_cycle_t c;
    int r = add_m(&g, &n[a], &n[b], W, W, &c);
    ck_assert_int_eq(r, LW_EDGE_ADDED);
    added++;
    if (added % 25000 == 0) ck_assert_uint_eq(check_order(&g), 0);
  }
  ck_assert_uint_eq(g.nedges, E);
  ck_assert_uint_eq(g.nnodes, N);
  ck_assert_uint_eq(g.nback, 0);
  ck_assert_uint_eq(check_order(&g), 0);
  /* and an edge against the hidden order between two linked locks is a cycle */
  for (uint32_t a = 0; a < N; a++) {
    if (!n[a].nout) continue;
    lw_node_t *to = n[a].out[0]->to;
    lw_cycle_t c;
    ck_assert_int_eq(add_m(&g, to, &n[a], W, W, &c), LW_EDGE_CYCLE);
    ck_assert_uint_eq(c.n, 2);
    release_cycle(&g, &c);
    break;
  }
  free(seen.k);
  free(rank);
  free(n);
}
END_TEST

/* ---- runner ---------------------------------------------------------------------------------- */

static Suite *graph_suite(void) {
  Suite *s = suite_create("graph");
  TCase *tc = tcase_create("basic");
  tcase_add_test(tc, test_ordered_edges_need_no_search);
  tcase_add_test(tc, test_two_cycle);
  tcase_add_test(tc, test_two_cycle_twin_independent_orders);
  tcase_add_test(tc, test_known_edge);
  tcase_add_test(tc, test_three_cycle);
  tcase_add_test(tc, test_shortest_cycle_is_reported);
  tcase_add_test(tc, test_cycle_through_back_edge);
  tcase_add_test(tc, test_cycle_through_back_edge_when_order_accepts);
  tcase_add_test(tc, test_back_edge_twin_unrelated_edge);
  tcase_add_test(tc, test_witness_stored);
  tcase_add_test(tc, test_other_thread);
  tcase_add_test(tc, test_gate_narrow);
  tcase_add_test(tc, test_edge_threads);
  tcase_add_test(tc, test_search_epoch_wraps);
  tcase_add_test(tc, test_order_epoch_wraps);
  suite_add_tcase(s, tc);

  tc = tcase_create("modes");
  tcase_add_test(tc, test_reader_pref_read_cycle_silent);
  tcase_add_test(tc, test_writer_pref_read_cycle_reported);
  tcase_add_test(tc, test_reader_pref_write_makes_cycle);
  tcase_add_test(tc, test_reader_pref_one_read_link_breaks_cycle);
  tcase_add_test(tc, test_new_write_pair_on_read_cycle);
  tcase_add_test(tc, test_search_state_includes_mode);
  suite_add_tcase(s, tc);

  tc = tcase_create("remove");
  tcase_add_test(tc, test_remove_node_edges);
  tcase_add_test(tc, test_remove_node_twin_cycle_found);
  tcase_add_test(tc, test_remove_back_edge_node);
  tcase_add_test(tc, test_remove_many_nodes_table_consistent);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);

  tc = tcase_create("large");
  tcase_add_loop_test(tc, test_ring, 0, 2);
  tcase_add_test(tc, test_random_dag_with_reorders);
  tcase_add_test(tc, test_scale_16000_locks_250000_edges);
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(graph_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
