/*
 * glib_pair.c - the cost of one uncontended lock + unlock pair of a GLib
 * GMutex (g_mutex_lock/g_mutex_unlock) or, with -p, of a pthread mutex, in
 * one thread (not the main one: the C library skips atomics while a
 * process has only one thread, GLib does not), with nothing else held. bench/glib_pair.sh runs both natively
 * and under lockwatch and prints the ratios: a GMutex pair must cost no
 * more over native than a pthread pair does.
 *
 *   glib_pair [-p] [-n PAIRS]
 *
 * Prints one line: bench=glib_pair lock=GMutex|pthread pairs=N ns_per_op=X
 */
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static GMutex gm;
static pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long counter;
static int use_pthread;
static unsigned long pairs = 20000000;
static double ns;

static unsigned long long cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* The timed loop, in a thread of its own; stores the cost of a pair in ns. */
static void *run(void *arg) {
  (void)arg;
  for (unsigned long i = 0; i < 10000; i++) { /* warm up: the first pairs take the slow path */
    g_mutex_lock(&gm);
    g_mutex_unlock(&gm);
    pthread_mutex_lock(&pm);
    pthread_mutex_unlock(&pm);
  }
  unsigned long long start = cpu_ns();
  if (use_pthread) {
    for (unsigned long i = 0; i < pairs; i++) {
      pthread_mutex_lock(&pm);
      counter++;
      pthread_mutex_unlock(&pm);
    }
  } else {
    for (unsigned long i = 0; i < pairs; i++) {
      g_mutex_lock(&gm);
      counter++;
      g_mutex_unlock(&gm);
    }
  }
  ns = (double)(cpu_ns() - start) / (double)pairs;
  return NULL;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-p") == 0) use_pthread = 1;
    else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) pairs = strtoul(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "glib_pair: unknown argument '%s' (accepted: -p, -n PAIRS)\n", argv[i]);
      return 2;
    }
  }
  g_mutex_init(&gm);
  pthread_t t;
  pthread_create(&t, NULL, run, NULL);
  pthread_join(t, NULL);
  printf("bench=glib_pair lock=%s pairs=%lu ns_per_op=%.2f\n", use_pthread ? "pthread" : "GMutex",
         pairs, ns);
  g_mutex_clear(&gm);
  return 0;
}
