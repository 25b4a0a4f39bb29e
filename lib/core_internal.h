/*
 * core_internal.h - what core.c and misuse.c share. Not for the preload.
 */
#ifndef LW_CORE_INTERNAL_H
#define LW_CORE_INTERNAL_H

#include "core.h"

/* A lock as reports name it: the record's facts, with its declared name and rank. */
static inline lw_rlock_t lw__rlock_of(const lw_lock_t *rec, uint64_t id) {
  int32_t rank = lw_lock_rank(rec);
  return (lw_rlock_t){.id = id,
                      .addr = atomic_load_explicit(&rec->addr, memory_order_relaxed),
                      .type = rec->type,
                      .kind = rec->kind,
                      .create_stack = rec->create_stack,
                      .cls = rec->cls,
                      .name = lw_lock_name(rec),
                      .rank = rank == LW_RANK_NONE ? 0 : rank,
                      .has_rank = rank != LW_RANK_NONE};
}

/*
 * Labels an inversion from its data (labels.c): guarded (from labels.gate),
 * threads_had, ordered; and sets r->passes from the options.
 */
void lw__label_cycle(lw_report_t *r);

/* Checks a blocking acquisition of a ranked lock against the ranked locks t holds (api.c). */
void lw__check_rank(lw_thread_t *t, const lw_acq_t *a);

/* Returns the stack of the first acquisition by t at return address pc. */
uint32_t lw__site_stack(lw_thread_t *t, uintptr_t pc);

/* Finds or makes the record of addr as a lock of this type (NULL on OOM). */
lw_lock_t *lw__record_for(lw_thread_t *t, uintptr_t addr, unsigned type, lw_kind_fn kind,
                          uintptr_t pc, uint64_t *id);

/*
 * Ends the identity of the lock at addr (if any). For a semaphore, signal
 * tells that it showed signalling use rather than ended its life as a lock.
 */
void lw__retire(uintptr_t addr, bool signal);

/* Removes t's held entry i, recomputing the entries above it. */

/* ---- semaphores (sem.c) ---- */

/* The semaphore at addr showed signalling use: it leaves the graph with its edges and reports. */
void lw__sem_signal(lw_thread_t *t, uintptr_t addr);

/* Drops t's held entries of semaphores whose identity ended (signal, destroy). */
void lw__sem_purge(lw_thread_t *t);

/*
 * A cycle report r was just made (graph lock held): if one of its locks is
 * a semaphore, keeps it until every semaphore of it is known to be a lock
 * (destroyed as one, or the run ends) and returns true.
 */
bool lw__sem_hold(lw_report_t *r);

/*
 * The semaphore id ended (graph lock held): signal drops the reports held
 * for it; otherwise it is a lock for good. Returns the reports now ready,
 * linked by next, for lw__sem_submit once the graph lock is released.
 */
lw_report_t *lw__sem_settle(uint64_t id, bool signal);

/* Submits reports that lw__sem_settle returned (NULL: none). */
void lw__sem_submit(lw_report_t *ready);

/* Submits every report still held (the end of the run). */
void lw__sem_flush(void);

/* Fork hooks for the held reports (inside the graph lock). */
void lw__sem_fork_prepare(void);
void lw__sem_fork_parent(void);
void lw__sem_fork_child(void);

/* Does what on_deadlock says, after a report of a wait that never ends. */
void lw__deadlock_action(void);

/* The misuse reports (misuse.c); each reports a given problem once per run. */
void lw__report_double_lock(lw_thread_t *t, const lw_acq_t *a, const lw_held_t *h);
void lw__report_unlock_not_owner(lw_thread_t *t, uintptr_t addr, unsigned type,
                                 const lw_lockstate_t *st, uintptr_t pc);
void lw__report_destroy_locked(lw_thread_t *t, uintptr_t addr, unsigned type,
                               const lw_held_t *h, const lw_lockstate_t *st, uintptr_t pc);
void lw__report_exit_holding(lw_thread_t *t);
void lw__report_abandoned(lw_thread_t *t, const lw_acq_t *a, const lw_held_t *h);

/* An earlier wait on a condition variable, for lw__report_cond. */
typedef struct lw_cond_earlier {
  uintptr_t mutex;
  uint64_t mutex_id;
  uint32_t thread, stack;
} lw_cond_earlier_t;

void lw__report_cond(lw_thread_t *t, const lw_acq_t *a, uintptr_t cond, unsigned detail,
                     const lw_cond_earlier_t *earlier);

#endif
