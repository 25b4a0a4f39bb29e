/*
 * graph.h - the global lock-order graph and its incremental cycle search.
 *
 * Nodes are locks, an edge from -> to means "to was requested while from was
 * held". The graph keeps a topological order of its acyclic part
 * (Pearce-Kelly), so an edge that respects the order costs O(1) and any other
 * edge costs a search bounded to the affected region. Edges that close a
 * cycle are kept as back edges. Cycles are searched with reader/writer modes
 * (see docs/rules.md). Every function except the init ones must be called
 * with the graph's lock held.
 */
#ifndef LW_GRAPH_H
#define LW_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "lwlock.h"

/* Index of a (held mode, requested mode) pair: 0 w->w, 1 w->r, 2 r->w, 3 r->r. */
#define LW_PAIR(from_mode, to_mode) (((from_mode) << 1) | (to_mode))

/* Who made an edge and where. */
typedef struct lw_witness {
  uint32_t thread;     /* lockwatch thread number */
  uint32_t stack_from; /* depot id of the stack where `from` was taken */
  uint32_t stack_to;   /* depot id of the stack where `to` was requested */
  uint32_t held_skip;  /* the oldest locks of held_set that were no longer held */
  uintptr_t held_set;  /* the locks held at that moment: a handle the graph's owner
                          defines (lw_graph_witness_release frees it) */
  uint64_t from_id, to_id; /* the lock instances (in the class graph: which locks of the
                              two classes made the edge) */
} lw_witness_t;

/*
 * Called for every witness the graph drops (its edge removed); NULL by
 * default. The core sets it to release held sets.
 */
extern void (*lw_graph_witness_release)(lw_witness_t *w);

typedef struct lw_edge lw_edge_t;

typedef struct lw_node {
  uint64_t id;   /* the lock's id */
  uint64_t ord;  /* topological index; 0 while the node has no edge */
  lw_edge_t **out, **in;
  uint32_t nout, cap_out, nin, cap_in;
  uint32_t mark[2]; /* cycle-search visits, per mode the path entered with */
  uint32_t pk_mark; /* order-maintenance visits */
  bool reader_pref; /* readers never block readers on this lock */
} lw_node_t;

struct lw_edge {
  lw_node_t *from, *to;
  uint32_t out_idx, in_idx; /* positions in from->out and to->in */
  uint32_t back_idx;        /* position in the back-edge list, if back */
  uint32_t other_thread;    /* 1 + a second thread that made this edge; 0 if none */
  uint8_t modes;            /* bit LW_PAIR(...) per mode pair seen */
  uint8_t back;             /* closes a cycle: outside the topological order */
  uint8_t first_pair;       /* the pair whose witness is w0 */
  uint8_t nthreads;         /* distinct threads that made it, up to LW_EDGE_THREADS + 1 */
  uint8_t gate_known;       /* gate holds the first witness's locks, narrowed since */
  lw_witness_t w0;
  lw_witness_t *extra;      /* witnesses of the other pairs, indexed by pair */
  uint32_t threads[4];      /* the first LW_EDGE_THREADS threads that made it */
  /*
   * The gate set: ids of the locks (other than from and to) held for
   * writing in every witness of this edge, of every mode pair, ascending.
   * It only shrinks (lw_graph_edge_narrow); docs/rules.md says when the
   * core narrows it.
   */
  uint64_t *gate;
  uint32_t ngate, cap_gate;
};

/* Threads an edge remembers by number; nthreads above it means "more". */
#define LW_EDGE_THREADS 4

/* One edge of a found cycle, with the modes that make it deadlock. */
typedef struct lw_cycle_step {
  lw_edge_t *edge;
  uint8_t from_mode, to_mode;
} lw_cycle_step_t;

/* A cycle: steps[0] is the new edge, then the path back to its source. */
typedef struct lw_cycle {
  lw_cycle_step_t *steps;
  uint32_t n, cap;
} lw_cycle_t;

typedef struct lw_graph {
  lw_ilock_t lock;
  uint64_t next_ord;
  lw_edge_t **slots; /* open-addressed table of all edges */
  uint32_t mask, nedges;
  uint32_t nnodes;
  lw_edge_t **back; /* the back edges */
  uint32_t nback, cap_back;
  uint64_t max_back_ord; /* largest ord of a back edge's source */
  uint32_t epoch, pk_epoch;
  /* scratch space reused by searches */
  void *queue;
  uint32_t queue_cap;
  lw_node_t **fwd, **bwd;
  uint32_t fwd_cap, bwd_cap;
  uint64_t *ords;
  uint32_t ords_cap;
  /* statistics */
  uint64_t searches, visited, reorders;
} lw_graph_t;

/* Result of lw_graph_add_edge. */
enum { LW_EDGE_ERROR = -1, LW_EDGE_KNOWN = 0, LW_EDGE_ADDED = 1, LW_EDGE_CYCLE = 2 };

/* Prepares an empty graph. */
void lw_graph_init(lw_graph_t *g);

/* Prepares a node that is not in any graph. */
void lw_graph_node_init(lw_node_t *n, uint64_t id, bool reader_pref);

/*
 * Records that `to` was requested in mode to_mode while `from` was held in
 * mode from_mode (from != to), witnessed by w. If the edge and mode pair are
 * new, searches for a cycle through it that can deadlock; on LW_EDGE_CYCLE
 * the shortest such cycle is stored in *cycle (steps[0] is this edge), which
 * the caller releases with lw_cycle_release. A known edge seen by a new
 * thread remembers that thread. Returns LW_EDGE_KNOWN, LW_EDGE_ADDED,
 * LW_EDGE_CYCLE, or LW_EDGE_ERROR when memory is exhausted (graph unchanged).
 */
int lw_graph_add_edge(lw_graph_t *g, lw_node_t *from, lw_node_t *to, unsigned from_mode,
                      unsigned to_mode, const lw_witness_t *w, lw_cycle_t *cycle);

/*
 * Narrows e's gate set to the ids it shares with ids[0..n) (ascending;
 * from's and to's ids are ignored). The first call sets it. Returns true
 * when an earlier set lost a lock. false on OOM too (set unchanged).
 */
bool lw_graph_edge_narrow(lw_edge_t *e, const uint64_t *ids, uint32_t n);

/* Returns the edge from -> to, or NULL. */
lw_edge_t *lw_graph_find_edge(lw_graph_t *g, const lw_node_t *from, const lw_node_t *to);

/* Returns the witness of a mode pair of e, or NULL if the pair was not seen. */
const lw_witness_t *lw_edge_witness(const lw_edge_t *e, unsigned pair);

/* Removes n and every edge into or out of it. The node can be reused after. */
void lw_graph_remove_node(lw_graph_t *g, lw_node_t *n);

/* Frees a cycle's steps. */
void lw_cycle_release(lw_cycle_t *c);

/* Checks the topological order of ordered edges; returns the number of violations. */
uint32_t lw_graph_check_order(const lw_graph_t *g);

#endif
