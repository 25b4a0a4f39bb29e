/*
 * wrap_thread.c - pthread_create: a new thread learns its creator and the
 * stack it was created at, for the "Thread T1 created by T0 at" part of
 * reports. Its state is released at exit by the thread key destructor.
 * pthread_join and thrd_join record who joined whom, for the create/join
 * order of threads that labels cycles (docs/rules.md).
 */
#include "../lib/alloc.h"
#include "preload.h"

struct lw_start {
  void *(*fn)(void *);
  void *arg;
  uint32_t seq;
};

static void *lw_thread_start(void *p) {
  struct lw_start s = *(struct lw_start *)p;
  lw_tls_guard++;
  lw_free(p, sizeof s);
  lw_preload_thread_begin(s.seq);
  lw_tls_guard--;
  return s.fn(s.arg);
}

LW_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                             void *arg) {
  lw_thread_t *t = lw_enter();
  if (!t) return LW_REAL(pthread_create)(th, attr, fn, arg);
  struct lw_start *s = lw_alloc(sizeof *s);
  if (s) *s = (struct lw_start){fn, arg, lw_core_thread_spawn(t)};
  lw_leave();
  if (!s) return LW_REAL(pthread_create)(th, attr, fn, arg);
  int rc = LW_REAL(pthread_create)(th, attr, lw_thread_start, s);
  if (rc != 0) {
    lw_tls_guard++;
    lw_free(s, sizeof *s);
    lw_tls_guard--;
  }
  return rc;
}

LW_EXPORT int pthread_join(pthread_t th, void **ret) {
  int rc = LW_REAL(pthread_join)(th, ret);
  if (rc != 0) return rc;
  lw_thread_t *t = lw_enter();
  if (!t) return rc;
  lw_core_thread_joined(t, (uintptr_t)th);
  lw_leave();
  return rc;
}

LW_EXPORT int thrd_join(thrd_t th, int *res) {
  int rc = LW_REAL(thrd_join)(th, res);
  if (rc != thrd_success) return rc;
  lw_thread_t *t = lw_enter();
  if (!t) return rc;
  lw_core_thread_joined(t, (uintptr_t)th);
  lw_leave();
  return rc;
}
