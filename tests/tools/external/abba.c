/*
 * abba.c - two threads take locks A and B: in opposite orders (a lock-order
 * inversion that lockwatch reports, though this run never deadlocks: the
 * threads run one after the other), or in the same order with --ordered.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void take_two(pthread_mutex_t *first, pthread_mutex_t *second) {
  pthread_mutex_lock(first);
  pthread_mutex_lock(second);
  pthread_mutex_unlock(second);
  pthread_mutex_unlock(first);
}

static void *a_then_b(void *arg) {
  (void)arg;
  take_two(&lock_a, &lock_b);
  return NULL;
}

static void *b_then_a(void *arg) {
  (void)arg;
  take_two(&lock_b, &lock_a);
  return NULL;
}

int main(int argc, char **argv) {
  /* one order only: a test of a suite that is clean alone */
  if (argc > 1 && strcmp(argv[1], "--only-ab") == 0) return a_then_b(NULL), 0;
  if (argc > 1 && strcmp(argv[1], "--only-ba") == 0) return b_then_a(NULL), 0;
  int ordered = argc > 1 && strcmp(argv[1], "--ordered") == 0;
  void *(*second)(void *) = ordered ? a_then_b : b_then_a;
  pthread_t t;
  if (pthread_create(&t, NULL, a_then_b, NULL) != 0 || pthread_join(t, NULL) != 0) return 99;
  if (pthread_create(&t, NULL, second, NULL) != 0 || pthread_join(t, NULL) != 0) return 99;
  printf("abba: done (%s)\n", ordered ? "ordered" : "inverted");
  return 0;
}
