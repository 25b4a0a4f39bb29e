/*
 * misuse.c - a plain pthread program that makes one report of most kinds
 * lockwatch has, so that the tests of the lockwatch command can compare
 * `lockwatch report` with the text the runtime printed, kind by kind.
 *
 *   --stall   also hold a lock 600 ms while another thread waits for it
 *             (run with LOCKWATCH_OPTIONS=stall_ms=100 to get a stall report)
 *
 * Every call used here returns an error instead of misbehaving (error-checking
 * mutexes, rwlock re-locks that fail with EDEADLK), so the program never
 * hangs. Threads are sequenced with joins. Exits 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Global locks: reports name them with their symbol. */
static pthread_mutex_t g_errcheck;
static pthread_mutex_t g_held_at_exit = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_stall = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;

/* Heap rwlocks: reports show where they were created. */
static pthread_rwlock_t *rw_a, *rw_b;

static void run_thread(void *(*fn)(void *)) {
  pthread_t t;
  if (pthread_create(&t, NULL, fn, NULL) != 0 || pthread_join(t, NULL) != 0) {
    fprintf(stderr, "misuse: cannot run a thread\n");
    exit(99);
  }
}

/* Writer of A, then B. */
static void *rw_forward(void *arg) {
  (void)arg;
  pthread_rwlock_wrlock(rw_a);
  pthread_rwlock_wrlock(rw_b);
  pthread_rwlock_unlock(rw_b);
  pthread_rwlock_unlock(rw_a);
  return NULL;
}

/* Reader of B, then writer of A: the reverse order. */
static void *rw_backward(void *arg) {
  (void)arg;
  pthread_rwlock_rdlock(rw_b);
  pthread_rwlock_wrlock(rw_a);
  pthread_rwlock_unlock(rw_a);
  pthread_rwlock_unlock(rw_b);
  return NULL;
}

/* Ends holding a lock. */
static void *exit_holding(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_held_at_exit);
  return NULL;
}

static void *wait_for_stall(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_stall);
  pthread_mutex_unlock(&g_stall);
  return NULL;
}

int main(int argc, char **argv) {
  int stall = argc > 1 && strcmp(argv[1], "--stall") == 0;
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&g_errcheck, &attr);

  /* double-lock (fails): an error-checking mutex locked twice. */
  pthread_mutex_lock(&g_errcheck);
  int r = pthread_mutex_lock(&g_errcheck);
  printf("relock: %s\n", strerror(r));
  pthread_mutex_unlock(&g_errcheck);

  /* unlock-not-owner (not-locked). */
  r = pthread_mutex_unlock(&g_errcheck);
  printf("unlock unlocked: %s\n", strerror(r));

  /* cond-wait-unheld (not-held): glibc refuses with EPERM at once. */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 1;
  r = pthread_cond_timedwait(&g_cond, &g_errcheck, &ts);
  printf("cond wait unheld: %s\n", strerror(r));

  /* double-lock on an rwlock: read after write fails with EDEADLK. */
  rw_a = malloc(sizeof *rw_a);
  rw_b = malloc(sizeof *rw_b);
  if (!rw_a || !rw_b) return 99;
  pthread_rwlock_init(rw_a, NULL);
  pthread_rwlock_init(rw_b, NULL);
  pthread_rwlock_wrlock(rw_a);
  r = pthread_rwlock_rdlock(rw_a);
  printf("rwlock read after write: %s\n", strerror(r));
  pthread_rwlock_unlock(rw_a);

  /* lock-order-inversion through rwlocks, modes shown. */
  run_thread(rw_forward);
  run_thread(rw_backward);

  /* thread-exit-holding-lock. */
  run_thread(exit_holding);

  /* destroy-locked (self-owner). */
  pthread_mutex_lock(&g_errcheck);
  r = pthread_mutex_destroy(&g_errcheck);
  printf("destroy locked: %s\n", strerror(r));
  pthread_mutex_unlock(&g_errcheck);

  if (stall) {
    pthread_t t;
    pthread_mutex_lock(&g_stall);
    if (pthread_create(&t, NULL, wait_for_stall, NULL) != 0) return 99;
    struct timespec pause = {0, 600 * 1000 * 1000};
    nanosleep(&pause, NULL);
    pthread_mutex_unlock(&g_stall);
    pthread_join(t, NULL);
  }
  printf("done\n");
  return 0;
}
