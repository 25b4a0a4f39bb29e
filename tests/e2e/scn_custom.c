/*
 * scn_custom.c - custom locks (lockwatch.h) whose events carry the caller's
 * own frames, as an interpreter gives its script's, and their misuse.
 *
 *   frames [--ordered] [--only]  two threads, one after the other: "transfer"
 *                 takes A then B, "refund" B then A (--ordered: A then B),
 *                 each event carrying bank.py frames (--only: nothing but
 *                 them, LOCKWATCH_FRAMES_ONLY).
 *   try           the second thread try-takes A under B: no order, silent.
 *   recursive     a recursive lock and a recursive acquisition taken twice: silent.
 *   misuse        calls on a never-created address, contradictory and unknown
 *                 flags, an after without a before (one line each); a release
 *                 of a lock not held (unlock-not-owner) and the destroy of a
 *                 held one (destroy-locked).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <lockwatch/lockwatch.h>

static int lock_a, lock_b; /* the words that name the locks */
static int ordered, only, try_mode;

static unsigned fl(void) { return only ? LOCKWATCH_FRAMES_ONLY : 0; }

static void take(int *lock, const lockwatch_frame_t *f, unsigned n, unsigned flags) {
  lockwatch_before_acquire_at(lock, flags | fl(), f, n);
  lockwatch_after_acquire(lock, flags, 1);
}

static void put(int *lock, const lockwatch_frame_t *f, unsigned n) {
  lockwatch_release_at(lock, fl(), f, n);
}

static void *transfer(void *arg) {
  (void)arg;
  lockwatch_frame_t outer[] = {{"bank.py", 23, "transfer"}, {"bank.py", 40, "worker"}};
  lockwatch_frame_t inner[] = {{"bank.py", 24, "transfer"}, {"bank.py", 40, "worker"}};
  take(&lock_a, outer, 2, 0);
  take(&lock_b, inner, 2, 0);
  put(&lock_b, inner, 2);
  put(&lock_a, outer, 2);
  return NULL;
}

static void *refund(void *arg) {
  (void)arg;
  lockwatch_frame_t outer[] = {{"bank.py", 31, "refund"}, {"bank.py", 44, "worker"}};
  lockwatch_frame_t inner[] = {{"bank.py", 32, "refund"}, {"bank.py", 44, "worker"}};
  int *first = ordered ? &lock_a : &lock_b, *second = ordered ? &lock_b : &lock_a;
  take(first, outer, 2, 0);
  take(second, inner, 2, try_mode ? LOCKWATCH_ACQ_TRY : 0);
  put(second, inner, 2);
  put(first, outer, 2);
  return NULL;
}

static void create_both(void) {
  lockwatch_frame_t at[] = {{"bank.py", 10, "__init__"}};
  lockwatch_lock_create_at(&lock_a, "account A", NULL, fl(), at, 1);
  lockwatch_lock_create_at(&lock_b, "account B", NULL, fl(), at, 1);
}

static void two_threads(void) {
  pthread_t t;
  create_both();
  pthread_create(&t, NULL, transfer, NULL);
  pthread_join(t, NULL);
  pthread_create(&t, NULL, refund, NULL);
  pthread_join(t, NULL);
}

static void recursive(void) {
  static int rec, plain;
  lockwatch_lock_create(&rec, "recursive", NULL, LOCKWATCH_LOCK_RECURSIVE);
  lockwatch_lock_create(&plain, "plain", NULL, 0);
  for (int i = 0; i < 2; i++) {
    lockwatch_before_acquire(&rec, 0);
    lockwatch_after_acquire(&rec, 0, 1);
  }
  lockwatch_before_acquire(&plain, 0);
  lockwatch_after_acquire(&plain, 0, 1);
  lockwatch_before_acquire(&plain, LOCKWATCH_ACQ_RECURSIVE);
  lockwatch_after_acquire(&plain, LOCKWATCH_ACQ_RECURSIVE, 1);
  lockwatch_release(&plain);
  lockwatch_release(&plain);
  lockwatch_release(&rec);
  lockwatch_release(&rec);
}

static void misuse(void) {
  static int never, held, unheld;
  lockwatch_before_acquire(&never, 0);
  lockwatch_after_acquire(&never, 0, 1);
  lockwatch_release(&never);
  lockwatch_lock_create(&held, "held", NULL, 0x80);             /* unknown flag */
  lockwatch_lock_create(&held, "held", NULL, 0);
  lockwatch_before_acquire(&held, LOCKWATCH_ACQ_TRY | LOCKWATCH_ACQ_TIMED); /* contradictory */
  lockwatch_after_acquire(&held, 0, 1);                         /* its before was refused */
  lockwatch_after_acquire(&unheld, 0, 1);                       /* no before at all */
  lockwatch_lock_create(&unheld, "unheld", NULL, 0);
  lockwatch_release(&unheld);                                   /* not held: unlock-not-owner */
  lockwatch_before_acquire(&held, 0);
  lockwatch_after_acquire(&held, 0, 1);
  lockwatch_lock_destroy(&held);                                /* held: destroy-locked */
  lockwatch_lock_create(NULL, "null", NULL, 0);
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  for (int i = 2; i < argc; i++) {
    ordered |= strcmp(argv[i], "--ordered") == 0;
    only |= strcmp(argv[i], "--only") == 0;
  }
  if (strcmp(what, "frames") == 0) {
    two_threads();
  } else if (strcmp(what, "try") == 0) {
    try_mode = 1;
    two_threads();
  } else if (strcmp(what, "recursive") == 0) {
    recursive();
  } else if (strcmp(what, "misuse") == 0) {
    misuse();
  } else {
    fprintf(stderr, "scn_custom: unknown scenario '%s' (frames, try, recursive, misuse)\n", what);
    return 2;
  }
  printf("done\n");
  return 0;
}
