/*
 * spinlock.c - a spinlock of the program's own, annotated for lockwatch.
 * Two threads take two such locks: `--inversion` in opposite orders, one
 * after the other (a potential deadlock); `--deadlock` in opposite orders at
 * the same time (a real one); no argument in the same order (correct).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <lockwatch/lockwatch.h>

typedef struct spinlock {
  atomic_int taken;
} spinlock_t;

static char spinlock_class; /* every spinlock_t is one lock class */

static void spin_init(spinlock_t *s, const char *name) {
  atomic_init(&s->taken, 0);
  lockwatch_lock_create(s, name, &spinlock_class, 0);
}

static void spin_lock(spinlock_t *s) {
  lockwatch_before_acquire(s, 0);
  while (atomic_exchange_explicit(&s->taken, 1, memory_order_acquire))
    while (atomic_load_explicit(&s->taken, memory_order_relaxed)) __builtin_ia32_pause();
  lockwatch_after_acquire(s, 0, 1);
}

static void spin_unlock(spinlock_t *s) {
  atomic_store_explicit(&s->taken, 0, memory_order_release);
  lockwatch_release(s);
}

static void spin_destroy(spinlock_t *s) { lockwatch_lock_destroy(s); }

static spinlock_t a, b;
static pthread_barrier_t both_hold_one;
static int mode; /* 0 correct, 1 inversion, 2 deadlock */

static void *first(void *arg) {
  (void)arg;
  spin_lock(&a);
  if (mode == 2) pthread_barrier_wait(&both_hold_one);
  spin_lock(&b);
  spin_unlock(&b);
  spin_unlock(&a);
  return NULL;
}

static void *second(void *arg) {
  spinlock_t *outer = mode ? &b : &a, *inner = mode ? &a : &b;
  (void)arg;
  spin_lock(outer);
  if (mode == 2) pthread_barrier_wait(&both_hold_one);
  spin_lock(inner);
  spin_unlock(inner);
  spin_unlock(outer);
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t t1, t2;
  mode = argc > 1 && strcmp(argv[1], "--inversion") == 0  ? 1
         : argc > 1 && strcmp(argv[1], "--deadlock") == 0 ? 2
                                                          : 0;
  spin_init(&a, "a");
  spin_init(&b, "b");
  pthread_barrier_init(&both_hold_one, NULL, 2);
  pthread_create(&t1, NULL, first, NULL);
  if (mode != 2) pthread_join(t1, NULL); /* one after the other: no real deadlock */
  pthread_create(&t2, NULL, second, NULL);
  if (mode == 2) pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  spin_destroy(&b);
  spin_destroy(&a);
  printf("done\n");
  return 0;
}
