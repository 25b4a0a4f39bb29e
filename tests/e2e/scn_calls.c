/*
 * scn_calls.c - calls that fail, objects destroyed with waiters, and the
 * process ending with locks held: each mode does one wrong thing, and its
 * twin flag does the right thing instead.
 *
 *   timedlock-einval  T1 holds M; main calls pthread_mutex_timedlock(M) with
 *                     tv_nsec out of range: EINVAL. --valid: a valid timeout
 *                     in the past: ETIMEDOUT, a normal answer.
 *   sem-overflow      posts a semaphore at SEM_VALUE_MAX: EOVERFLOW.
 *                     --room: one below, so the post succeeds.
 *   sem-init-einval   sem_init with a value above SEM_VALUE_MAX: EINVAL.
 *                     --valid: a valid value.
 *   exit-held         T1 locks and unlocks M; main locks M and returns from
 *                     main holding it. --exit: calls exit(0) instead.
 *                     --unlock: unlocks first. --alone: no T1 (only main
 *                     ever takes M: nobody else can wait for it).
 *   cond-destroy      T1 waits on C (a 2 s timed wait); main destroys C while
 *                     T1 waits (glibc's destroy waits until T1 times out).
 *                     --signalled: main signals C first, then destroys it at
 *                     once, while T1 may still be leaving the wait.
 *   sem-destroy       T1 waits on S (value 0); main destroys S, then posts it
 *                     (glibc's destroy does nothing, so T1 goes on).
 *                     --posted: main posts S, then destroys it at once.
 *   barrier-zero      pthread_barrier_init with a count of 0: EINVAL.
 *                     --one: a count of 1.
 *   barrier-destroy   T1 waits on a barrier of 2; T2 destroys it (glibc's
 *                     destroy then waits forever); main ends the process.
 *                     --released: main waits on it too, and destroys it as
 *                     soon as its own wait returns.
 *   barrier-reinit    T1 waits on a barrier of 2; main initialises it again,
 *                     then ends the process. --released: main waits on it
 *                     too first, and joins T1 before initialising it again.
 *
 * "T1 waits" is known from a semaphore T1 posts just before it waits, and a
 * pause of 100 ms (the program cannot see inside the wait). Exit status 0;
 * 3 if a call does not return what glibc documents; 99 if a call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scn_util.h"

static pthread_mutex_t mu_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t bar;
static sem_t sem_ready, sem_s;
static int flag;

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int expect(int got, int want, const char *what) {
  if (got == want) return 0;
  fprintf(stderr, "%s: got %d (%s), expected %d\n", what, got, strerror(got), want);
  exit(3);
}

static void *hold_m(void *arg) {
  (void)arg;
  SCN_CHECK(pthread_mutex_lock(&mu_m));
  sem_post(&sem_ready);
  sem_wait(&sem_s);
  SCN_CHECK(pthread_mutex_unlock(&mu_m));
  return NULL;
}

static void timedlock(int valid) {
  pthread_t t;
  sem_init(&sem_ready, 0, 0);
  sem_init(&sem_s, 0, 0);
  SCN_CHECK(pthread_create(&t, NULL, hold_m, NULL));
  sem_wait(&sem_ready);
  struct timespec ts = {0, valid ? 0 : 2000000000L};
  int rc = pthread_mutex_timedlock(&mu_m, &ts); /* LW:calls-timedlock */
  expect(rc, valid ? ETIMEDOUT : EINVAL, "pthread_mutex_timedlock");
  sem_post(&sem_s);
  SCN_CHECK(pthread_join(t, NULL));
  printf("timedlock: %s\n", strerror(rc));
}

static void sem_overflow(int room) {
  sem_t s;
  if (sem_init(&s, 0, room ? SEM_VALUE_MAX - 1 : SEM_VALUE_MAX) != 0) exit(SCN_FAILED);
  int rc = sem_post(&s); /* LW:calls-sem-post */
  expect(rc ? errno : 0, room ? 0 : EOVERFLOW, "sem_post");
  sem_destroy(&s);
  printf("sem_post: %d\n", rc);
}

static void sem_init_einval(int valid) {
  sem_t s;
  int rc = sem_init(&s, 0, valid ? 1u : (unsigned)SEM_VALUE_MAX + 1u); /* LW:calls-sem-init */
  expect(rc ? errno : 0, valid ? 0 : EINVAL, "sem_init");
  if (rc == 0) sem_destroy(&s);
  printf("sem_init: %d\n", rc);
}

static void *lock_unlock_m(void *arg) {
  (void)arg;
  SCN_CHECK(pthread_mutex_lock(&mu_m));
  SCN_CHECK(pthread_mutex_unlock(&mu_m));
  return NULL;
}

static void exit_held(int argc, char **argv) {
  if (!scn_flag(argc, argv, "--alone")) scn_run_thread(lock_unlock_m, NULL); /* M is shared */
  SCN_CHECK(pthread_mutex_lock(&mu_m)); /* LW:calls-exit-lock */
  if (scn_flag(argc, argv, "--unlock")) SCN_CHECK(pthread_mutex_unlock(&mu_m));
  printf("exit-held\n");
  if (scn_flag(argc, argv, "--exit")) exit(0); /* LW:calls-exit */
}

static void *cond_waiter(void *arg) {
  (void)arg;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 2;
  SCN_CHECK(pthread_mutex_lock(&mu_m));
  sem_post(&sem_ready);
  while (!flag)
    if (pthread_cond_timedwait(&cv, &mu_m, &until) == ETIMEDOUT) break;
  SCN_CHECK(pthread_mutex_unlock(&mu_m));
  return NULL;
}

static void cond_destroy(int signalled) {
  pthread_t t;
  sem_init(&sem_ready, 0, 0);
  SCN_CHECK(pthread_create(&t, NULL, cond_waiter, NULL));
  sem_wait(&sem_ready);
  SCN_CHECK(pthread_mutex_lock(&mu_m)); /* T1 is in the wait once it let the mutex go */
  if (signalled) {
    flag = 1;
    SCN_CHECK(pthread_cond_signal(&cv));
  }
  SCN_CHECK(pthread_mutex_unlock(&mu_m));
  SCN_CHECK(pthread_cond_destroy(&cv)); /* LW:calls-cond-destroy */
  SCN_CHECK(pthread_join(t, NULL));
  printf("cond-destroy\n");
}

static void *sem_waiter(void *arg) {
  (void)arg;
  sem_post(&sem_ready);
  while (sem_wait(&sem_s) != 0 && errno == EINTR) {
  }
  return NULL;
}

static void sem_destroy_waiting(int posted) {
  pthread_t t;
  sem_init(&sem_ready, 0, 0);
  sem_init(&sem_s, 0, 0);
  SCN_CHECK(pthread_create(&t, NULL, sem_waiter, NULL));
  sem_wait(&sem_ready);
  pause_ms(100);
  if (posted) sem_post(&sem_s);
  sem_destroy(&sem_s); /* LW:calls-sem-destroy */
  if (!posted) sem_post(&sem_s);
  SCN_CHECK(pthread_join(t, NULL));
  printf("sem-destroy\n");
}

static void *barrier_waiter(void *arg) {
  (void)arg;
  sem_post(&sem_ready);
  pthread_barrier_wait(&bar);
  return NULL;
}

static void *barrier_destroyer(void *arg) {
  (void)arg;
  pthread_barrier_destroy(&bar); /* LW:calls-barrier-destroy */
  return NULL;
}

static void barrier(const char *mode, int released) {
  pthread_t t, d;
  sem_init(&sem_ready, 0, 0);
  SCN_CHECK(pthread_barrier_init(&bar, NULL, 2));
  SCN_CHECK(pthread_create(&t, NULL, barrier_waiter, NULL));
  sem_wait(&sem_ready);
  if (released) {
    pthread_barrier_wait(&bar);
  } else {
    pause_ms(100);
  }
  if (strcmp(mode, "barrier-destroy") == 0) {
    if (released) {
      SCN_CHECK(pthread_barrier_destroy(&bar));
    } else {
      SCN_CHECK(pthread_create(&d, NULL, barrier_destroyer, NULL));
      pause_ms(1000); /* T2's destroy is reported before it blocks */
      printf("barrier-destroy\n");
      fflush(stdout);
      exit(0); /* T1 and T2 wait forever */
    }
  } else {
    if (released) SCN_CHECK(pthread_join(t, NULL)); /* T1 has left the barrier too */
    SCN_CHECK(pthread_barrier_init(&bar, NULL, 2)); /* LW:calls-barrier-reinit */
    if (!released) {
      printf("barrier-reinit\n");
      fflush(stdout);
      exit(0); /* T1 waits forever */
    }
    SCN_CHECK(pthread_barrier_destroy(&bar));
    printf("%s\n", mode);
    return;
  }
  SCN_CHECK(pthread_join(t, NULL));
  printf("%s\n", mode);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "timedlock-einval") == 0) timedlock(scn_flag(argc, argv, "--valid"));
  else if (strcmp(mode, "sem-overflow") == 0) sem_overflow(scn_flag(argc, argv, "--room"));
  else if (strcmp(mode, "sem-init-einval") == 0) sem_init_einval(scn_flag(argc, argv, "--valid"));
  else if (strcmp(mode, "exit-held") == 0) exit_held(argc, argv);
  else if (strcmp(mode, "cond-destroy") == 0) cond_destroy(scn_flag(argc, argv, "--signalled"));
  else if (strcmp(mode, "sem-destroy") == 0) sem_destroy_waiting(scn_flag(argc, argv, "--posted"));
  else if (strcmp(mode, "barrier-zero") == 0) {
    int one = scn_flag(argc, argv, "--one");
    int rc = pthread_barrier_init(&bar, NULL, one ? 1 : 0); /* LW:calls-barrier-zero */
    expect(rc, one ? 0 : EINVAL, "pthread_barrier_init");
    if (rc == 0) SCN_CHECK(pthread_barrier_destroy(&bar));
    printf("barrier-zero\n");
  } else if (strcmp(mode, "barrier-destroy") == 0 || strcmp(mode, "barrier-reinit") == 0)
    barrier(mode, scn_flag(argc, argv, "--released"));
  else {
    fprintf(stderr, "usage: scn_calls MODE [flag]\n");
    return 2;
  }
  return 0; /* LW:calls-return */
}
