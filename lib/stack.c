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

void lw_stack_warm_up(void) {
  void *buf[4];
  (void)backtrace(buf, 4);
}

void lw_stack_set_self(uintptr_t lo, uintptr_t hi) {
  self_lo = lo;
  self_hi = hi;
}

int lw_stack_is_self(uintptr_t pc) { return pc >= self_lo && pc < self_hi; }

uint32_t lw_stack_capture(lw_depot_t *d, int depth) {
  void *buf[LW_MAX_FRAMES + LW_SELF_MARGIN];
  if (depth > LW_MAX_FRAMES) depth = LW_MAX_FRAMES;
  if (depth < 1) depth = 1;
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
