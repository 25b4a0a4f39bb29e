/*
 * core_internal.h - what core.c and misuse.c share. Not for the preload.
 */
#ifndef LW_CORE_INTERNAL_H
#define LW_CORE_INTERNAL_H

#include "core.h"

/* A lock as reports name it: the record's facts, with its declared name and rank. */
static inline lw_rlock_t lw__rlock_of(const lw_lock_t *rec, uint64_t id) {
  int32_t rank = lw_lock_rank(rec);
  return (lw_rlock_t){id,
                      atomic_load_explicit(&rec->addr, memory_order_relaxed),
                      rec->type,
                      rec->kind,
                      rec->create_stack,
                      lw_lock_name(rec),
                      rank == LW_RANK_NONE ? 0 : rank,
                      rank != LW_RANK_NONE};
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

/* Does what on_deadlock says, after a report of a wait that never ends. */
void lw__deadlock_action(void);

/* The misuse reports (misuse.c); each reports a given problem once per run. */
void lw__report_double_lock(lw_thread_t *t, const lw_acq_t *a, const lw_held_t *h);
void lw__report_unlock_not_owner(lw_thread_t *t, uintptr_t addr, unsigned type,
                                 const lw_lockstate_t *st, uintptr_t pc);
void lw__report_destroy_locked(lw_thread_t *t, uintptr_t addr, unsigned type,
                               const lw_held_t *h, const lw_lockstate_t *st, uintptr_t pc);
void lw__report_exit_holding(lw_thread_t *t);

/* An earlier wait on a condition variable, for lw__report_cond. */
typedef struct lw_cond_earlier {
  uintptr_t mutex;
  uint64_t mutex_id;
  uint32_t thread, stack;
} lw_cond_earlier_t;

void lw__report_cond(lw_thread_t *t, const lw_acq_t *a, uintptr_t cond, unsigned detail,
                     const lw_cond_earlier_t *earlier);

#endif
