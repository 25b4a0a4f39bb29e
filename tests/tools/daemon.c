/*
 * daemon.c - a program that goes into the background: it forks, the child
 * calls setsid, points its standard streams at /dev/null and goes on alone
 * while the parent exits 0 at once.
 *
 *   daemon abba     the child waits 300 ms, then takes A then B, and B then
 *                   A (two threads, one after the other), and exits 0.
 *   daemon ordered  the same, A then B both times.
 *   daemon killed   the child waits 300 ms and kills itself with SIGKILL.
 *   daemon linger   the child sleeps 60 s (longer than any wait).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER, lock_b = PTHREAD_MUTEX_INITIALIZER;
static int reversed;

static void *take_two(void *arg) {
  pthread_mutex_t *first = arg ? &lock_b : &lock_a, *second = arg ? &lock_a : &lock_b;
  pthread_mutex_lock(first);
  pthread_mutex_lock(second);
  pthread_mutex_unlock(second);
  pthread_mutex_unlock(first);
  return NULL;
}

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "abba";
  pid_t pid = fork();
  if (pid < 0) return 99;
  if (pid > 0) return 0; /* the parent leaves the child running */
  setsid();
  int null = open("/dev/null", O_RDWR); /* a daemon lets go of its terminal and pipes */
  for (int fd = 0; fd < 3 && null >= 0; fd++) dup2(null, fd);
  if (strcmp(mode, "linger") == 0) {
    pause_ms(60000);
    return 0;
  }
  pause_ms(300);
  if (strcmp(mode, "killed") == 0) kill(getpid(), SIGKILL);
  reversed = strcmp(mode, "abba") == 0;
  pthread_t t;
  pthread_create(&t, NULL, take_two, NULL);
  pthread_join(t, NULL);
  pthread_create(&t, NULL, take_two, reversed ? (void *)1 : NULL);
  pthread_join(t, NULL);
  return 0;
}
