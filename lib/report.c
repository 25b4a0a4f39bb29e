/*
 * report.c - the report model, numbering, storage and the default sink.
 */
#include "report.h"

#include <stdatomic.h>

#include "alloc.h"
#include "lwlock.h"
#include "options.h"
#include "output.h"

static const char *const kind_names[LW_REPORT_KIND_COUNT] = {
    [LW_REPORT_LOCK_ORDER_INVERSION] = "lock-order-inversion",
};

const char *lw_report_kind_name(unsigned kind) {
  return kind < LW_REPORT_KIND_COUNT ? kind_names[kind] : "unknown";
}

lw_report_t *lw_report_new(unsigned kind, uint32_t nlocks, uint32_t nedges) {
  lw_report_t *r = lw_alloc(sizeof *r);
  if (!r) return NULL;
  r->kind = kind;
  r->locks = nlocks ? lw_alloc(nlocks * sizeof *r->locks) : NULL;
  r->edges = nedges ? lw_alloc(nedges * sizeof *r->edges) : NULL;
  if ((nlocks && !r->locks) || (nedges && !r->edges)) {
    lw_report_free(r);
    return NULL;
  }
  r->nlocks = nlocks;
  r->nedges = nedges;
  return r;
}

void lw_report_free(lw_report_t *r) {
  if (!r) return;
  lw_free(r->locks, r->nlocks * sizeof *r->locks);
  lw_free(r->edges, r->nedges * sizeof *r->edges);
  lw_free(r, sizeof *r);
}

lw_report_sink_fn lw_report_sink = lw_report_default_sink;
void (*lw_report_halt)(void);

static lw_ilock_t store_lock = LW_ILOCK_INIT;
static lw_report_t *first, *last;
static uint32_t nstored;
static _Atomic uint32_t next_seq = 1;

void lw_report_submit(lw_report_t *r) {
  r->seq = atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed);
  lw_report_sink(r);
}

void lw_report_default_sink(lw_report_t *r) {
  lw_buf_t b = LW_BUF_INIT;
  lw_report_format_text(r, &b);
  lw_output_text(lw_buf_str(&b), b.n);
  lw_buf_free(&b);
  lw_ilock_acquire(&store_lock);
  if (last) last->next = r;
  else first = r;
  last = r;
  nstored++;
  lw_ilock_release(&store_lock);
  if (lw_opt.halt_on_error && lw_report_halt) lw_report_halt();
}

const lw_report_t *lw_report_stored(uint32_t *n) {
  lw_ilock_acquire(&store_lock);
  const lw_report_t *r = first;
  *n = nstored;
  lw_ilock_release(&store_lock);
  return r;
}

void lw_report_fork_child(void) { lw_ilock_reset(&store_lock); }
