/*
 * report.h - reports as data, the sink they go through, and the writers
 * that format them without any logic of their own.
 *
 * A report is built (with lw_alloc) where a problem is found, holding only
 * ids: lock ids and addresses, thread numbers, depot ids of stacks and lock
 * sets. Symbolization happens in the writers. Unit tests replace
 * lw_report_sink to look at the data.
 */
#ifndef LW_REPORT_H
#define LW_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "graph.h"

enum lw_report_kind {
  LW_REPORT_LOCK_ORDER_INVERSION = 0,
  LW_REPORT_KIND_COUNT
};

/* "lock-order-inversion", as in JSON `kind`. */
const char *lw_report_kind_name(unsigned kind);

/* A lock as a report names it. */
typedef struct lw_rlock {
  uint64_t id;
  uintptr_t addr;
  uint8_t type, kind;
  uint32_t create_stack;
} lw_rlock_t;

/* An edge of a reported cycle: locks[to] requested while locks[from] was held. */
typedef struct lw_redge {
  uint32_t from, to; /* indices into locks */
  uint8_t from_mode, to_mode;
  lw_witness_t w;
  uint32_t other_thread; /* 1 + another thread that made the same edge; 0 if none */
} lw_redge_t;

typedef struct lw_report {
  uint32_t kind;
  uint32_t seq; /* 1, 2, ... in the order reports were made */
  uint32_t nlocks, nedges;
  lw_rlock_t *locks;
  lw_redge_t *edges;
  uint32_t closing_edge; /* index of the edge whose arrival revealed the cycle */
  struct lw_report *next;
} lw_report_t;

/* Allocates a zeroed report with room for the given numbers. NULL on OOM. */
lw_report_t *lw_report_new(unsigned kind, uint32_t nlocks, uint32_t nedges);

/* Frees a report made by lw_report_new. */
void lw_report_free(lw_report_t *r);

/* Where submitted reports go; the default stores, prints and honours halt_on_error. */
typedef void (*lw_report_sink_fn)(lw_report_t *r);
extern lw_report_sink_fn lw_report_sink;

/* Numbers r and hands it to lw_report_sink, which owns it afterwards. */
void lw_report_submit(lw_report_t *r);

/* The default sink: keeps r for the JSON document and prints its text. */
void lw_report_default_sink(lw_report_t *r);

/* The stored reports, oldest first, and their number. */
const lw_report_t *lw_report_stored(uint32_t *n);

/* Run-wide facts for the JSON document. */
typedef struct lw_stats {
  uint64_t locks;         /* live locks now */
  uint64_t locks_created; /* identities ever created */
  uint64_t edges;         /* edges in the graph now */
  uint64_t acquisitions;
  uint64_t fast_path_hits;
  uint64_t threads;
  uint64_t cycle_searches;
  uint64_t stacks;
  uint64_t bytes; /* mapped by lockwatch */
} lw_stats_t;

typedef struct lw_run_info {
  int pid;
  const char *program;
  const char *const *argv; /* NULL-terminated; may be NULL */
  lw_stats_t stats;
} lw_run_info_t;

/* Appends the text of r (see docs/report-format.md) to b. */
void lw_report_format_text(const lw_report_t *r, lw_buf_t *b);

/* Appends the JSON document of a run with reports (a linked list) to b. */
void lw_report_format_json(lw_buf_t *b, const lw_report_t *reports, const lw_run_info_t *run);

/* Fork hook: the child may find the store's lock held by a thread it lost. */
void lw_report_fork_child(void);

/* Called by the default sink after a report when halt_on_error is set. */
extern void (*lw_report_halt)(void);

#endif
