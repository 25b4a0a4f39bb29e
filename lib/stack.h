/*
 * stack.h - capturing the current stack into the depot.
 *
 * Captures happen only on slow paths. Frames that belong to lockwatch itself
 * (the range set by the preload at start-up) are dropped from the top.
 */
#ifndef LW_STACK_H
#define LW_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "depot.h"

/* Calls backtrace once so that its first real use does not load libgcc_s. */
void lw_stack_warm_up(void);

/* Frames whose address lies in [lo, hi) are lockwatch's own. */
void lw_stack_set_self(uintptr_t lo, uintptr_t hi);

/* Returns true if pc lies in lockwatch's own code. */
int lw_stack_is_self(uintptr_t pc);

/*
 * Frames the calling thread's next captures start with (frames.h
 * addresses, innermost first), until set again; n 0 ends them. With only,
 * they are the whole stack: no machine frames follow. The array must stay
 * valid until then.
 */
void lw_stack_set_lead(const uintptr_t *pcs, uint32_t n, int only);

/*
 * The lead frames made only when a capture needs them: fn(arg, pcs, max)
 * fills pcs (frames.h addresses) and returns their number. Until set again
 * with fn NULL; lw_stack_set_lead's frames, if any, come first.
 */
typedef uint32_t (*lw_lead_fn)(void *arg, uintptr_t *pcs, uint32_t max);
void lw_stack_set_lead_fn(lw_lead_fn fn, void *arg, int only);

/*
 * Captures up to depth frames of the caller's stack (lockwatch's frames
 * removed), after the lead frames if any, into d. Returns the depot id, or 0 if nothing could be captured.
 */
uint32_t lw_stack_capture(lw_depot_t *d, int depth);

#endif
