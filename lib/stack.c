/*
 * stack.c - stack capture with glibc's backtrace (DWARF unwinding through
 * libgcc_s, which finds unwind tables with _dl_find_object and so takes no
 * loader lock on glibc 2.35 and later).
 */
#include "stack.h"

#include <execinfo.h>

#define LW_MAX_FRAMES 256
#define LW_SELF_MARGIN 16

static uintptr_t self_lo, self_hi;

static __thread struct {
  const uintptr_t *pcs;
  uint32_t n;
  int only;
  lw_lead_fn fn;
  void *arg;
} lead __attribute__((tls_model("initial-exec")));

void lw_stack_set_lead(const uintptr_t *pcs, uint32_t n, int only) {
  lead.pcs = pcs;
  lead.n = n;
  lead.only = only;
}

void lw_stack_set_lead_fn(lw_lead_fn fn, void *arg, int only) {
  lead.fn = fn;
  lead.arg = arg;
  lead.only = only;
}

/* Makes the lazy lead frames (once), then captures as with them given. */
static uint32_t capture_lazy(lw_depot_t *d, int depth) {
  uintptr_t pcs[64];
  lw_lead_fn fn = lead.fn;
  lead.fn = NULL; /* the capture below must not call it again */
  uint32_t n = fn(lead.arg, pcs, 64);
  const uintptr_t *saved_pcs = lead.pcs;
  uint32_t saved_n = lead.n;
  lead.pcs = pcs;
  lead.n = n;
  uint32_t id = lw_stack_capture(d, depth);
  lead.pcs = saved_pcs;
  lead.n = saved_n;
  lead.fn = fn;
  return id;
}

void lw_stack_warm_up(void) {
  void *buf[4];
  (void)backtrace(buf, 4);
}

void lw_stack_set_self(uintptr_t lo, uintptr_t hi) {
  self_lo = lo;
  self_hi = hi;
}

int lw_stack_is_self(uintptr_t pc) { return pc >= self_lo && pc < self_hi; }

static uint32_t capture_led(lw_depot_t *d, int depth);

uint32_t lw_stack_capture(lw_depot_t *d, int depth) {
  void *buf[LW_MAX_FRAMES + LW_SELF_MARGIN];
  if (depth > LW_MAX_FRAMES) depth = LW_MAX_FRAMES;
  if (depth < 1) depth = 1;
  if (lead.fn && !lead.n) return capture_lazy(d, depth);
  if (lead.n) return capture_led(d, depth);
  int n = backtrace(buf, depth + LW_SELF_MARGIN);
  int skip = 1; /* this function */
  if (self_hi) {
    /* an interceptor of backtrace (a sanitizer's) may come before our frames */
    skip = 0;
    while (skip < n && skip < 4 && !lw_stack_is_self((uintptr_t)buf[skip])) skip++;
    if (skip == n || skip == 4) skip = 0;
    while (skip < n && lw_stack_is_self((uintptr_t)buf[skip])) skip++;
  }
  if (skip >= n) return 0;
  int keep = n - skip;
  if (keep > depth) keep = depth;
  return lw_depot_put(d, (const uintptr_t *)(buf + skip), (uint32_t)keep);
}

/* The lead frames, then (unless they are the whole stack) the machine's. */
static uint32_t capture_led(lw_depot_t *d, int depth) {
  uintptr_t buf[LW_MAX_FRAMES];
  uint32_t n = lead.n < (uint32_t)depth ? lead.n : (uint32_t)depth;
  for (uint32_t i = 0; i < n; i++) buf[i] = lead.pcs[i];
  if (!lead.only && n < (uint32_t)depth) {
    uint32_t rest = 0;
    const uintptr_t *more = NULL;
    uint32_t saved = lead.n;
    lead.n = 0; /* the machine's own capture, without the lead */
    uint32_t id = lw_stack_capture(d, depth - (int)n);
    lead.n = saved;
    more = lw_depot_get(d, id, &rest);
    for (uint32_t i = 0; i < rest && n < (uint32_t)depth; i++) buf[n++] = more[i];
  }
  return lw_depot_put(d, buf, n);
}
