/*
 * preload.h - what the wrappers share: pointers to the real functions, the
 * re-entry guard, and the switch that says whether lockwatch is watching.
 */
#ifndef LW_PRELOAD_H
#define LW_PRELOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../lib/core.h"

#define LW_EXPORT __attribute__((visibility("default")))
#define LW_RET_PC() ((uintptr_t)__builtin_return_address(0))
#define LW_LIKELY(x) __builtin_expect(!!(x), 1)
#define LW_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define LW_INTERCEPT(ret, name, params, version, fallback) extern ret(*real_##name) params;
#include "intercepts.inc"
#undef LW_INTERCEPT

/* Non-zero between the end of our constructor and the start of our destructor. */
extern int lw_active;

/* Resolves every real function; safe to call from any wrapper, any number of times. */
void lw_preload_resolve(void);

/* Makes sure real_<name> is set before it is called. */
#define LW_REAL(name) \
  (LW_LIKELY(real_##name != NULL) ? real_##name : (lw_preload_resolve(), real_##name))

/* Registers a newly made thread state for release at thread exit. */
void lw_preload_adopt(lw_thread_t *t);

/*
 * Enters lockwatch: returns the calling thread's state with the guard set, or
 * NULL (guard untouched) when the call must go straight to the real function.
 */
static inline lw_thread_t *lw_enter(void) {
  if (LW_UNLIKELY(lw_tls_guard || !lw_active)) return NULL;
  lw_tls_guard = 1;
  lw_thread_t *t = lw_tls_self;
  if (LW_UNLIKELY(!t)) {
    t = lw_core_thread();
    if (t) lw_preload_adopt(t);
    else lw_tls_guard = 0;
  }
  return t;
}

/* Leaves lockwatch. */
static inline void lw_leave(void) { lw_tls_guard = 0; }

#endif
