/*
 * sem.c - POSIX semaphores used as locks: when a semaphore stops being one,
 * and the reports that wait until a semaphore's fate is known.
 *
 * A semaphore initialised to 1 is a lock for lockwatch (LW_TYPE_SEM) while
 * it behaves as one: waited, then posted by the same thread. The first sign
 * of signalling use (a post by a thread that does not hold it, a wait by
 * the thread that holds it, a value above 1) ends its identity: its node
 * and every edge it took part in leave the graph, and it is not tracked
 * again until sem_init or sem_open gives the address a new identity.
 *
 * That sign may come after the semaphore closed a cycle. So a cycle report
 * with a semaphore in it is held here, not made, until each of its
 * semaphores is known to be a lock: destroyed (or freed) without having
 * shown signalling use, or the run ends. A semaphore that turns out to be a
 * signal takes its held reports with it. The rules are in docs/rules.md
 * ("Semaphores"), the design in docs/design.md.
 */
#include <stdatomic.h>

#include "alloc.h"
#include "core_internal.h"
#include "lwlock.h"
#include "options.h"
#include "registry.h"
#include "types.h"

/*
 * A held report and the ids of its semaphores not yet known to be locks (0:
 * known), with their addresses.
 */
typedef struct pending {
  lw_report_t *r;
  uint64_t *sems;
  uintptr_t *addrs;
  uint32_t nsems;
  struct pending *next;
} pending_t;

/* Nested inside the graph lock when both are taken. */
static lw_ilock_t pending_lock = LW_ILOCK_INIT;
static pending_t *pending;

static void pending_free(pending_t *p) {
  lw_free(p->sems, p->nsems * sizeof *p->sems);
  lw_free(p->addrs, p->nsems * sizeof *p->addrs);
  lw_free(p, sizeof *p);
}

bool lw__sem_hold(lw_report_t *r) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < r->nlocks; i++) n += r->locks[i].type == LW_TYPE_SEM;
  if (!n) return false;
  int unlimited = lw_alloc_unlimited;
  lw_alloc_unlimited = 1; /* like the report itself: made even at the memory limit */
  pending_t *p = lw_alloc(sizeof *p);
  uint64_t *sems = lw_alloc(n * sizeof *sems);
  uintptr_t *addrs = lw_alloc(n * sizeof *addrs);
  lw_alloc_unlimited = unlimited;
  if (!p || !sems || !addrs) { /* cannot wait for the semaphores' fate: say nothing */
    lw_free(p, sizeof *p);
    lw_free(sems, n * sizeof *sems);
    lw_free(addrs, n * sizeof *addrs);
    lw_report_free(r);
    return true;
  }
  uint32_t k = 0;
  for (uint32_t i = 0; i < r->nlocks; i++)
    if (r->locks[i].type == LW_TYPE_SEM) {
      sems[k] = r->locks[i].id;
      addrs[k++] = r->locks[i].addr;
    }
  *p = (pending_t){r, sems, addrs, n, NULL};
  lw_ilock_acquire(&pending_lock);
  p->next = pending;
  pending = p;
  lw_ilock_release(&pending_lock);
  return true;
}

lw_report_t *lw__sem_settle(uint64_t id, bool signal) {
  lw_report_t *ready = NULL, **tail = &ready;
  pending_t *dropped = NULL;
  lw_ilock_acquire(&pending_lock);
  for (pending_t **pp = &pending; *pp;) {
    pending_t *p = *pp;
    bool named = false, open = false;
    for (uint32_t i = 0; i < p->nsems; i++) {
      if (p->sems[i] == id) {
        named = true;
        p->sems[i] = 0;
      }
      open |= p->sems[i] != 0;
    }
    if (!named || (!signal && open)) {
      pp = &p->next;
      continue;
    }
    *pp = p->next; /* dropped (a signal) or ready (every semaphore a lock) */
    if (signal) {
      p->next = dropped;
      dropped = p;
    } else {
      *tail = p->r;
      tail = &p->r->next;
      p->r = NULL;
      p->next = dropped;
      dropped = p;
    }
  }
  lw_ilock_release(&pending_lock);
  while (dropped) {
    pending_t *next = dropped->next;
    if (dropped->r) lw_report_free(dropped->r);
    pending_free(dropped);
    dropped = next;
  }
  *tail = NULL;
  return ready;
}

void lw__sem_submit(lw_report_t *ready) {
  while (ready) {
    lw_report_t *next = ready->next;
    ready->next = NULL;
    lw_report_submit(ready);
    ready = next;
  }
}

/* Is every semaphore still open in p a lock taken by more than one thread now? */
static bool shared_now(const pending_t *p) {
  for (uint32_t i = 0; i < p->nsems; i++) {
    uint64_t id;
    const lw_lock_t *rec;
    if (!p->sems[i]) continue;
    rec = lw_registry_find(p->addrs[i], &id);
    if (rec && id == p->sems[i] &&
        atomic_load_explicit(&rec->users, memory_order_relaxed) != LW_USERS_SHARED)
      return false;
  }
  return true;
}

void lw__sem_flush(void) {
  lw_ilock_acquire(&pending_lock);
  pending_t *p = pending;
  pending = NULL;
  lw_ilock_release(&pending_lock);
  /* the oldest first, as they were found */
  pending_t *rev = NULL;
  while (p) {
    pending_t *next = p->next;
    p->next = rev;
    rev = p;
    p = next;
  }
  /* the run is ending: halt_on_error has nothing left to stop */
  void (*halt)(void) = lw_report_halt;
  lw_report_halt = NULL;
  while (rev) {
    pending_t *next = rev->next;
    if (shared_now(rev)) lw_report_submit(rev->r);
    else lw_report_free(rev->r); /* a semaphore only one thread took: no deadlock */
    pending_free(rev);
    rev = next;
  }
  lw_report_halt = halt;
}

void lw__sem_fork_prepare(void) { lw_ilock_acquire(&pending_lock); }
void lw__sem_fork_parent(void) { lw_ilock_release(&pending_lock); }

void lw__sem_fork_child(void) {
  lw_ilock_reset(&pending_lock);
  pending = NULL; /* the parent's reports are the parent's (their memory is left) */
}

/* ---- a semaphore's life ---------------------------------------------------- */

void lw__sem_note_user(lw_thread_t *t, const lw_acq_t *a) {
  uint32_t me = t->seq + 1, u = 0;
  if (atomic_load_explicit(&a->rec->id, memory_order_acquire) != a->id) return; /* gone since */
  if (!atomic_compare_exchange_strong(&a->rec->users, &u, me) && u != me)
    atomic_store_explicit(&a->rec->users, LW_USERS_SHARED, memory_order_relaxed);
}

void lw__sem_purge(lw_thread_t *t) {
  for (uint32_t i = t->nheld; i-- > 0;) {
    const lw_held_t *h = &t->held[i];
    if (h->addr && h->type == LW_TYPE_SEM &&
        atomic_load_explicit(&h->rec->id, memory_order_relaxed) != h->id)
      lw_held_remove(t, i);
  }
}

void lw__sem_signal(lw_thread_t *t, uintptr_t addr) {
  lw__retire(addr, true);
  lw__sem_purge(t);
}

void lw_sem_created(lw_thread_t *t, uintptr_t addr, unsigned value, uintptr_t pc) {
  if (value != 1) {
    lw_lock_destroyed(t, addr); /* counting or signalling: a new identity, not a lock */
    return;
  }
  lw_lock_created(t, addr, LW_TYPE_SEM, 0, pc);
  uint64_t id;
  lw_lock_t *rec = lw_registry_find(addr, &id);
  /* its maker counts as its first user: a lock made by one thread and used by another is shared */
  if (rec && rec->type == LW_TYPE_SEM)
    atomic_store_explicit(&rec->users, t->seq + 1, memory_order_relaxed);
}

void lw_sem_opened(lw_thread_t *t, uintptr_t addr, unsigned value, uintptr_t pc) {
  uint64_t id;
  const lw_lock_t *rec = lw_registry_find(addr, &id);
  if (rec && rec->type == LW_TYPE_SEM) return; /* opened again: the same semaphore */
  lw_sem_created(t, addr, value, pc);
}

void lw_sem_destroyed(lw_thread_t *t, uintptr_t addr, bool free) {
  (void)t;
  /*
   * A lock-like semaphore is free (1) when nobody holds it. Destroyed at 0,
   * its last wait was never matched by its holder's post: a waiter left
   * behind (Python's Condition.wait(0)), not a lock shown to be one.
   */
  lw__retire(addr, !free);
}

void lw_sem_post_slow(lw_thread_t *t, uintptr_t addr, uintptr_t pc) {
  for (uint32_t i = t->nheld; i-- > 0;)
    if (addr && t->held[i].addr == addr && t->held[i].type == LW_TYPE_SEM) {
      lw_held_remove(t, i); /* posted by its holder, out of order */
      lw__sem_purge(t);
      return;
    }
  (void)pc;
  uint64_t id;
  const lw_lock_t *rec = lw_registry_find(addr, &id);
  if (!rec || rec->type != LW_TYPE_SEM) return; /* not a lock: nothing to do */
  if (lw_opt.semaphores == LW_SEMAPHORES_ALL)
    lw_foreign_unlock(t, addr); /* taken as a lock anyway: the holder's entry is stale */
  else lw__sem_signal(t, addr); /* posted by a thread that does not hold it: a signal */
}

void lw_sem_overflow(lw_thread_t *t, uintptr_t addr) {
  uint64_t id;
  const lw_lock_t *rec = lw_registry_find(addr, &id);
  if (rec && rec->type == LW_TYPE_SEM) lw__sem_signal(t, addr);
}
