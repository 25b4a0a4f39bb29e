/*
 * scn_class.c - lock classes: inversions that no two instances show, and
 * nesting within one class that is no inversion.
 *
 *   pool          a pool lock and 8 space locks made by one function; one
 *                 thread takes pool -> space[even], another space[odd] -> pool
 *                 (a class-level inversion: no instance pair meets twice)
 *   pool-ordered  the same, both threads pool -> space (silent)
 *   list          hand-over-hand over 32 nodes of one class, and parent ->
 *                 child of one class, in two threads (silent)
 *   alpha-beta    static alpha then beta (silent alone)
 *   beta-alpha    static beta then alpha (silent alone)
 *   wrapped       pigz's shape: every lock made by new_lock() and taken by
 *                 possess(); get_space takes pool -> space, drop_space takes
 *                 space -> pool, on recycled spaces, 12 times each
 *   wrapped-fixed the same with drop_space releasing the space first (silent)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_util.h"

/* ---- pool and spaces ------------------------------------------------------ */

static pthread_mutex_t *make_lock(void) {
  pthread_mutex_t *m = malloc(sizeof *m);
  pthread_mutex_init(m, NULL);
  return m;
}

static pthread_mutex_t *pool_lock, *spaces[8];
static int ordered;

static void *even_user(void *arg) {
  (void)arg;
  for (int i = 0; i < 8; i += 2) {
    pthread_mutex_lock(pool_lock);
    pthread_mutex_lock(spaces[i]);
    pthread_mutex_unlock(spaces[i]);
    pthread_mutex_unlock(pool_lock);
  }
  return NULL;
}

static void *odd_user(void *arg) {
  (void)arg;
  for (int i = 1; i < 8; i += 2) {
    pthread_mutex_t *first = ordered ? pool_lock : spaces[i];
    pthread_mutex_t *second = ordered ? spaces[i] : pool_lock;
    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
  }
  return NULL;
}

static void run_pool(void) {
  pool_lock = malloc(sizeof *pool_lock);
  pthread_mutex_init(pool_lock, NULL);
  for (int i = 0; i < 8; i++) spaces[i] = make_lock();
  pthread_t a, b;
  pthread_create(&a, NULL, even_user, NULL);
  pthread_join(a, NULL);
  pthread_create(&b, NULL, odd_user, NULL);
  pthread_join(b, NULL);
}

/* ---- a list of one class ---------------------------------------------------- */

struct node {
  pthread_mutex_t lock;
  struct node *next;
  int value;
};

static struct node *new_node(int value, struct node *next) {
  struct node *n = calloc(1, sizeof *n);
  pthread_mutex_init(&n->lock, NULL);
  n->value = value;
  n->next = next;
  return n;
}

static struct node *head;

/* Hand over hand: hold a node while taking the next. */
static void *walk(void *arg) {
  long sum = 0;
  (void)arg;
  for (int round = 0; round < 50; round++) {
    struct node *n = head;
    pthread_mutex_lock(&n->lock);
    while (n->next) {
      struct node *next = n->next;
      pthread_mutex_lock(&next->lock);
      sum += next->value;
      pthread_mutex_unlock(&n->lock);
      n = next;
    }
    pthread_mutex_unlock(&n->lock);
  }
  return (void *)sum;
}

static void run_list(void) {
  for (int i = 0; i < 32; i++) head = new_node(i, head);
  pthread_t a, b;
  pthread_create(&a, NULL, walk, NULL);
  pthread_create(&b, NULL, walk, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  /* parent then child, of one class */
  struct node *parent = new_node(1, NULL), *child = new_node(2, NULL);
  pthread_mutex_lock(&parent->lock);
  pthread_mutex_lock(&child->lock);
  pthread_mutex_unlock(&child->lock);
  pthread_mutex_unlock(&parent->lock);
}

/* ---- two static locks, one order per run -------------------------------------- */

static pthread_mutex_t alpha = PTHREAD_MUTEX_INITIALIZER, beta = PTHREAD_MUTEX_INITIALIZER;

static void take_two(pthread_mutex_t *first, pthread_mutex_t *second) {
  pthread_mutex_lock(first);
  pthread_mutex_lock(second);
  pthread_mutex_unlock(second);
  pthread_mutex_unlock(first);
}

/* ---- pigz's shape: wrapped locks, recycled spaces ------------------------------ */

typedef struct lock {
  pthread_mutex_t mutex;
} lock;

static lock *new_lock(void) {
  lock *l = malloc(sizeof *l);
  pthread_mutex_init(&l->mutex, NULL);
  return l;
}

static void possess(lock *l) { pthread_mutex_lock(&l->mutex); }
static void release(lock *l) { pthread_mutex_unlock(&l->mutex); }

struct space {
  lock *use;
  struct space *next;
};

struct pool {
  lock *have;
  struct space *free_list;
};

static struct pool *new_pool(void) {
  struct pool *p = calloc(1, sizeof *p);
  p->have = new_lock();
  return p;
}

static struct space *new_space(void) {
  struct space *s = calloc(1, sizeof *s);
  s->use = new_lock();
  return s;
}

static int fixed;

/* Takes a space from the pool: pool, then the space. */
static struct space *get_space(struct pool *p) {
  possess(p->have);
  struct space *s = p->free_list;
  if (s) p->free_list = s->next;
  else s = new_space();
  possess(s->use);
  release(s->use);
  release(p->have);
  return s;
}

/* Gives a space back: the space, then the pool (the bug); fixed: one at a time. */
static void drop_space(struct pool *p, struct space *s) {
  possess(s->use);
  if (fixed) release(s->use);
  possess(p->have);
  s->next = p->free_list;
  p->free_list = s;
  release(p->have);
  if (!fixed) release(s->use);
}

static struct pool *the_pool;

static void *compressor(void *arg) {
  (void)arg;
  struct space *held[4];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 4; i++) held[i] = get_space(the_pool);
    for (int i = 0; i < 4; i++) drop_space(the_pool, held[i]);
  }
  return NULL;
}

static void run_wrapped(void) {
  the_pool = new_pool();
  pthread_t a, b;
  pthread_create(&a, NULL, compressor, NULL);
  pthread_join(a, NULL);
  pthread_create(&b, NULL, compressor, NULL);
  pthread_join(b, NULL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "pool";
  if (!strcmp(mode, "pool")) {
    run_pool();
  } else if (!strcmp(mode, "pool-ordered")) {
    ordered = 1;
    run_pool();
  } else if (!strcmp(mode, "list")) {
    run_list();
  } else if (!strcmp(mode, "alpha-beta")) {
    take_two(&alpha, &beta);
  } else if (!strcmp(mode, "beta-alpha")) {
    take_two(&beta, &alpha);
  } else if (!strcmp(mode, "wrapped")) {
    run_wrapped();
  } else if (!strcmp(mode, "wrapped-fixed")) {
    fixed = 1;
    run_wrapped();
  } else {
    fprintf(stderr, "usage: %s pool|pool-ordered|list|alpha-beta|beta-alpha|wrapped|wrapped-fixed\n",
            argv[0]);
    return 2;
  }
  printf("done %s\n", mode);
  return 0;
}
