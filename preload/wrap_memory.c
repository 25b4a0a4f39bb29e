/*
 * wrap_memory.c - free, realloc and munmap. Memory given back may hold locks
 * that were never destroyed (a heap std::mutex never is): their identities
 * end here, so a new lock at the same address inherits none of their orders.
 * While no page holds a lock this costs one load per call.
 */
#include <malloc.h>
#include <sys/mman.h>

#include "preload.h"

/*
 * Ends the identities of the locks in [p, p + n), if any page there holds
 * one. Needs no thread state, so makes none: memory is also given back by
 * threads lockwatch has said goodbye to (a thread-specific data destructor
 * runs after the thread's exit was seen).
 */
static void released(void *p, size_t n) {
  if (lw_tls_guard || !lw_active) return;
  lw_tls_guard = 1;
  lw_memory_released(lw_tls_self, (uintptr_t)p, n);
  lw_leave();
}

static bool watching_memory(void *p) {
  return p && LW_UNLIKELY(lw_active) && lw_pages_live() && !lw_tls_guard;
}

LW_EXPORT void free(void *p) {
  if (watching_memory(p) && real_malloc_usable_size) released(p, real_malloc_usable_size(p));
  if (LW_UNLIKELY(!real_free)) {
    lw_preload_resolve();
    if (!real_free) return; /* asked for while looking it up: leaking is the safe answer */
  }
  real_free(p);
}

LW_EXPORT void *realloc(void *p, size_t n) {
  size_t old = watching_memory(p) && real_malloc_usable_size ? real_malloc_usable_size(p) : 0;
  void *q = LW_REAL(realloc)(p, n);
  /* moved (or freed by a zero size): locks in the old block are gone */
  if (old && q != p) released(p, old);
  return q;
}

LW_EXPORT int munmap(void *p, size_t n) {
  if (watching_memory(p)) released(p, n);
  return LW_REAL(munmap)(p, n);
}
