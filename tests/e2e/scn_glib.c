/*
 * scn_glib.c - GLib's own locks, as GTK and GStreamer programs take them.
 *
 *   abba [--ordered]  two GMutexes (one static and never initialised, one
 *                     g_mutex_init'ed), taken a->b by one thread and b->a by
 *                     a second one started after the first ended.
 *   deadlock          the same two threads at the same time: a real deadlock.
 *   correct           a GCond producer/consumer, G_LOCK, a GAsyncQueue and a
 *                     GThreadPool: nothing to report; prints what it computed.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

static GMutex first_lock; /* static, zeroed: never initialised */
static GMutex *second_lock;
static gboolean ordered, together;
static GMutex both_mu; /* a rendezvous for the deadlock: both hold their first lock */
static GCond both_cv;
static int holding;

static void meet(void) {
  if (!together) return;
  g_mutex_lock(&both_mu);
  holding++;
  g_cond_broadcast(&both_cv);
  while (holding < 2) g_cond_wait(&both_cv, &both_mu);
  g_mutex_unlock(&both_mu);
}

static gpointer forward(gpointer arg) {
  (void)arg;
  g_mutex_lock(&first_lock); /* LW:glib-fwd-first */
  meet();
  g_mutex_lock(second_lock); /* LW:glib-fwd-second */
  g_mutex_unlock(second_lock);
  g_mutex_unlock(&first_lock);
  return NULL;
}

static gpointer backward(gpointer arg) {
  (void)arg;
  GMutex *outer = ordered ? &first_lock : second_lock, *inner = ordered ? second_lock : &first_lock;
  g_mutex_lock(outer); /* LW:glib-back-first */
  meet();
  g_mutex_lock(inner); /* LW:glib-back-second */
  g_mutex_unlock(inner);
  g_mutex_unlock(outer);
  return NULL;
}

static int abba(void) {
  GMutex second;
  g_mutex_init(&second);
  second_lock = &second;
  GThread *a = g_thread_new("forward", forward, NULL);
  if (!together) g_thread_join(a);
  GThread *b = g_thread_new("backward", backward, NULL);
  if (together) g_thread_join(a);
  g_thread_join(b);
  g_mutex_clear(&second);
  printf("abba done\n");
  return 0;
}

/* ---- a correct program ------------------------------------------------------ */

G_LOCK_DEFINE_STATIC(total);
static long total;

static GMutex queue_mu;
static GCond queue_cv;
static int queue[16], head, tail, count, produced_all;

static gpointer producer(gpointer arg) {
  (void)arg;
  for (int i = 1; i <= 2000; i++) {
    g_mutex_lock(&queue_mu);
    while (count == 16) g_cond_wait(&queue_cv, &queue_mu);
    queue[tail] = i;
    tail = (tail + 1) % 16;
    count++;
    g_cond_broadcast(&queue_cv);
    g_mutex_unlock(&queue_mu);
  }
  g_mutex_lock(&queue_mu);
  produced_all = 1;
  g_cond_broadcast(&queue_cv);
  g_mutex_unlock(&queue_mu);
  return NULL;
}

static gpointer consumer(gpointer arg) {
  (void)arg;
  for (;;) {
    g_mutex_lock(&queue_mu);
    while (count == 0 && !produced_all) {
      gint64 until = g_get_monotonic_time() + G_TIME_SPAN_SECOND;
      g_cond_wait_until(&queue_cv, &queue_mu, until);
    }
    if (count == 0) {
      g_mutex_unlock(&queue_mu);
      return NULL;
    }
    int v = queue[head];
    head = (head + 1) % 16;
    count--;
    g_cond_broadcast(&queue_cv);
    g_mutex_unlock(&queue_mu);
    G_LOCK(total);
    total += v;
    G_UNLOCK(total);
  }
}

static void pool_job(gpointer data, gpointer user) {
  GAsyncQueue *results = user;
  G_LOCK(total);
  total += GPOINTER_TO_INT(data);
  G_UNLOCK(total);
  g_async_queue_push(results, GINT_TO_POINTER(GPOINTER_TO_INT(data) * 2));
}

static int correct(void) {
  GThread *p = g_thread_new("producer", producer, NULL);
  GThread *c1 = g_thread_new("consumer", consumer, NULL);
  GThread *c2 = g_thread_new("consumer", consumer, NULL);
  g_thread_join(p);
  g_thread_join(c1);
  g_thread_join(c2);
  GAsyncQueue *results = g_async_queue_new();
  GThreadPool *pool = g_thread_pool_new(pool_job, results, 3, FALSE, NULL);
  for (int i = 1; i <= 100; i++) g_thread_pool_push(pool, GINT_TO_POINTER(i), NULL);
  long doubled = 0;
  for (int i = 0; i < 100; i++) doubled += GPOINTER_TO_INT(g_async_queue_pop(results));
  g_thread_pool_free(pool, FALSE, TRUE);
  g_async_queue_unref(results);
  G_LOCK(total);
  printf("total %ld, doubled %ld\n", total, doubled);
  G_UNLOCK(total);
  return 0;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  ordered = argc > 2 && strcmp(argv[2], "--ordered") == 0;
  if (strcmp(what, "abba") == 0) return abba();
  if (strcmp(what, "deadlock") == 0) {
    together = TRUE;
    return abba();
  }
  if (strcmp(what, "correct") == 0) return correct();
  fprintf(stderr, "scn_glib: unknown scenario '%s' (abba, deadlock, correct)\n", what);
  return 2;
}
