/*
 * alloc.h - lockwatch's own allocator.
 *
 * All memory of the core comes from here, never from malloc: an allocator that
 * locks pthread mutexes (jemalloc, tcmalloc) must never wait on lockwatch
 * while lockwatch waits on it. Callers pass the size back when freeing.
 */
#ifndef LW_ALLOC_H
#define LW_ALLOC_H

#include <stddef.h>

/* Returns n zeroed bytes aligned to 16, or NULL when memory is exhausted. */
void *lw_alloc(size_t n);

/* Frees p, which lw_alloc returned for a request of n bytes. NULL is fine. */
void lw_free(void *p, size_t n);

/*
 * Resizes p from old_n to new_n bytes; the new tail is zeroed. Returns NULL
 * (and leaves p untouched) when memory is exhausted.
 */
void *lw_realloc(void *p, size_t old_n, size_t new_n);

/* Returns the number of bytes lockwatch has mapped from the kernel. */
size_t lw_alloc_mapped(void);

/*
 * Sets a limit on the bytes mapped (0: none). Past it, lw_alloc returns
 * NULL, except in a thread that has set lw_alloc_unlimited (reports and the
 * final JSON document must still be written). The first time memory is
 * refused, exhausted_hook is called (once per process).
 */
void lw_alloc_set_limit(size_t bytes, void (*exhausted_hook)(void));
extern __thread int lw_alloc_unlimited __attribute__((tls_model("initial-exec")));

/* True once memory was refused (the limit, or the kernel). */
int lw_alloc_exhausted(void);

/* Fork hooks: hold the allocator lock across fork, reset it in the child. */
void lw_alloc_fork_prepare(void);
void lw_alloc_fork_parent(void);
void lw_alloc_fork_child(void);

#endif
