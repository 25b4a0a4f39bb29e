/*
 * lwlock.h - lockwatch's own lock.
 *
 * A three-state futex mutex (0 free, 1 taken, 2 taken with waiters). It calls
 * no intercepted function and never allocates, so the core can use it from
 * inside any wrapper. Holders never block on anything the program owns.
 */
#ifndef LW_LWLOCK_H
#define LW_LWLOCK_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct lw_ilock {
  _Atomic int state;
} lw_ilock_t;

#define LW_ILOCK_INIT {0}

/*
 * Set in a thread that holds every lockwatch lock for a fork (from the
 * prepare handler to the parent's or child's): its own acquisitions then
 * take nothing, since nobody else can hold one.
 */
extern __thread int lw_tls_forking __attribute__((tls_model("initial-exec")));

static inline void lw__futex(_Atomic int *addr, int op, int val) {
  syscall(SYS_futex, (int *)addr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

/* Takes the lock; spins briefly, then sleeps in the kernel. */
static inline void lw_ilock_acquire(lw_ilock_t *l) {
  if (__builtin_expect(lw_tls_forking, 0)) return;
  int c = 0;
  if (atomic_compare_exchange_strong_explicit(&l->state, &c, 1, memory_order_acquire,
                                              memory_order_relaxed))
    return;
  for (int i = 0; i < 64; i++) {
    __builtin_ia32_pause();
    c = 0;
    if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong_explicit(&l->state, &c, 1, memory_order_acquire,
                                                memory_order_relaxed))
      return;
  }
  c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
  while (c != 0) {
    lw__futex(&l->state, FUTEX_WAIT, 2);
    c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
  }
}

/* Releases the lock, waking one waiter if there is any. */
static inline void lw_ilock_release(lw_ilock_t *l) {
  if (__builtin_expect(lw_tls_forking, 0)) return;
  if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2)
    lw__futex(&l->state, FUTEX_WAKE, 1);
}

/* Forces the lock free: only for a fork child, where the holder is gone. */
static inline void lw_ilock_reset(lw_ilock_t *l) {
  atomic_store_explicit(&l->state, 0, memory_order_relaxed);
}

#endif
