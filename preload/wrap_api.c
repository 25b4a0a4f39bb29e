/*
 * wrap_api.c - the entry points of the public header (lockwatch.h): a
 * program compiled with it looks these up at run time (dlsym), so it runs
 * unchanged without lockwatch. Each is: enter, the core's declaration or
 * check, leave. docs/api.md describes them.
 */
#include "../lib/types.h"
#include "preload.h"

/* The reader of a lock's own state, by lock type (for "held since before we watched"). */
static lw_state_fn state_for(unsigned type) {
  switch (type) {
  case LW_TYPE_MUTEX:
  case LW_TYPE_C11:
    return lw_mutex_state;
  case LW_TYPE_RWLOCK:
    return lw_rwlock_state;
  case LW_TYPE_SPIN:
    return lw_spin_state;
  default:
    return NULL;
  }
}

LW_EXPORT int lw_api_name(const void *lock, const char *name) {
  lw_thread_t *t = lw_enter();
  if (!t) return 0;
  int rc = lw_lock_set_name(t, (uintptr_t)lock, name);
  lw_leave();
  return rc;
}

LW_EXPORT int lw_api_rank(const void *lock, long rank, unsigned flags) {
  lw_thread_t *t = lw_enter();
  if (!t) return 0;
  int rc = lw_lock_set_rank(t, (uintptr_t)lock, rank, flags);
  lw_leave();
  return rc;
}

LW_EXPORT void lw_api_assert_held(const void *lock, int read) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  lw_assert_held(t, (uintptr_t)lock, read ? LW_MODE_READ : LW_MODE_WRITE, state_for);
  lw_leave();
}
