/*
 * wrap_sem.c - the sem_* wrappers. A POSIX semaphore initialised to 1 is a
 * lock while it behaves as one (lib/sem.c; docs/rules.md, "Semaphores"):
 * sem_wait is an acquisition that is tried first and then waits in slices,
 * as pthread_mutex_lock does; a successful sem_trywait is an acquisition
 * that can close a cycle (CPython's blocking acquire begins with one);
 * sem_post is the release. Other semaphores cost a lookup. errno, EINTR and
 * the values returned are those of the real functions.
 *
 * glibc has two versions of most of these (GLIBC_2.2.5 and GLIBC_2.34 on
 * x86-64, GLIBC_2.30 and 2.34 for sem_clockwait), with the same code: the
 * default one is looked up.
 */
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>

#include "../lib/options.h"
#include "../lib/types.h"
#include "preload.h"

static inline bool sems_off(void) { return lw_opt.semaphores == LW_SEMAPHORES_OFF; }

/*
 * The value of a semaphore, read from glibc's struct new_sem: on 64-bit
 * targets the low 32 bits of its first word (the high ones count waiters).
 */
static inline int sem_value(sem_t *s) {
#if __WORDSIZE == 64
  uint64_t data = __atomic_load_n((const uint64_t *)(void *)s, __ATOMIC_RELAXED);
  return (int)(uint32_t)data;
#else
  int v = 0;
  sem_getvalue(s, &v);
  return v;
#endif
}

/*
 * After a timed wait failed with EINTR: would the real sem_wait have
 * failed too? The kernel restarts an untimed wait after a handler installed
 * with SA_RESTART, never a timed one; which signal came is not known here,
 * so the wait goes on only if every handler installed restarts.
 */
static bool sem_wait_restarts(void) {
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) != 0) continue;
    bool handled = (sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
    if (handled && !(sa.sa_flags & SA_RESTART)) return false;
  }
  return true;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The contended half of sem_wait on a lock: waits in slices of
 * deadlock_check_ms, looking for a deadlock between slices, as
 * lw_wait_slices does for mutexes. If the semaphore is found to be a signal
 * meanwhile, waits as without lockwatch. Returns 0 or -1 with errno set
 * (EINTR when a signal handler interrupted the wait, as sem_wait does).
 */
static int sem_wait_slices(lw_thread_t *t, lw_acq_t *a, sem_t *s) {
  uint64_t slice = lw_wait_slice_ns(), start = now_ns();
  bool published = false;
  int rc;
  for (;;) {
    if (published && !lw_sem_tracked(a)) {
      lw_wait_mark(t, a, false);
      return LW_REAL(sem_wait)(s);
    }
    uint64_t until = now_ns() + slice;
    struct timespec abs = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
    rc = LW_REAL(sem_clockwait)(s, CLOCK_MONOTONIC, &abs);
    if (rc != 0 && errno == EINTR && sem_wait_restarts()) continue;
    if (rc == 0 || errno != ETIMEDOUT) break;
    lw_tls_guard = 1;
    if (!published) {
      lw_wait_begin(t, a);
      published = true;
    }
    lw_wait_check(t, a, now_ns() - start);
    lw_leave();
  }
  if (published) {
    int err = errno;
    lw_wait_mark(t, a, false);
    errno = err;
  }
  return rc;
}

/*
 * After a semaphore call returned -1: reports call-failed unless errno is
 * normal for it (flags: LW_CALL_*). Returns -1 with errno kept.
 */
static int sem_failed(const char *call, unsigned flags, sem_t *s) {
  int err = errno;
  lw_wrap_failed(lw_misuse_mark(), call, err, flags, s, LW_TYPE_COUNT);
  errno = err;
  return -1;
}

/* The result of a semaphore call made straight (rc: 0 or -1). */
#define SEM_RESULT(call, flags, s, rc) (LW_LIKELY((rc) == 0) ? 0 : sem_failed(call, flags, s))

LW_EXPORT int sem_wait(sem_t *s) {
  if (LW_UNLIKELY(sems_off())) return SEM_RESULT(__func__, 0, s, LW_REAL(sem_wait)(s));
  lw_thread_t *t = lw_enter();
  if (!t) return LW_REAL(sem_wait)(s);
  lw_acq_t a; /* (the core's slow paths leave errno as it was) */
  lw_acquire_before(t, &a, (uintptr_t)s, LW_TYPE_SEM, NULL, LW_MODE_WRITE, 0, LW_RET_PC());
  lw_leave();
  if (!a.rec) return SEM_RESULT(__func__, 0, s, LW_REAL(sem_wait)(s)); /* not a lock */
  lw_sem_note_user(t, &a); /* a thread that asks for it counts as a user */
  int rc;
  if (__libc_single_threaded || !real_sem_clockwait) /* nobody to wait for */
    rc = LW_REAL(sem_wait)(s);
  else if ((rc = LW_REAL(sem_trywait)(s)) != 0 && errno == EAGAIN)
    rc = sem_wait_slices(t, &a, s);
  else if (rc != 0)
    return sem_failed(__func__, 0, s); /* EINVAL */
  lw_tls_guard = 1;
  lw_acquire_after(t, &a, rc == 0); /* on failure, does nothing */
  lw_leave();
  return rc ? sem_failed(__func__, 0, s) : 0;
}

LW_EXPORT int sem_trywait(sem_t *s) {
  int rc = LW_REAL(sem_trywait)(s);
  if (rc != 0) return sem_failed(__func__, LW_CALL_TRY, s);
  if (LW_UNLIKELY(sems_off())) return rc;
  lw_thread_t *t = lw_enter();
  if (!t) return rc;
  /* taken: an acquisition with its orders (no LW_ACQ_TRY; see rules.md) */
  lw_acq_t a;
  lw_acquire_before(t, &a, (uintptr_t)s, LW_TYPE_SEM, NULL, LW_MODE_WRITE, 0, LW_RET_PC());
  lw_acquire_after(t, &a, true);
  lw_sem_note_user(t, &a);
  lw_leave();
  return 0;
}

/* The body of the timed waits: orders recorded first, then the real call (an expression). */
#define LW_SEM_TIMED(s, call)                                                                 \
  if (LW_UNLIKELY(sems_off())) return SEM_RESULT(__func__, LW_CALL_TIMED, s, call);            \
  lw_thread_t *t = lw_enter();                                                                 \
  if (!t) return call;                                                                         \
  lw_acq_t a;                                                                                  \
  lw_acquire_before(t, &a, (uintptr_t)(s), LW_TYPE_SEM, NULL, LW_MODE_WRITE, LW_ACQ_TIMED,     \
                    LW_RET_PC());                                                              \
  lw_leave();                                                                                  \
  if (!a.rec) return SEM_RESULT(__func__, LW_CALL_TIMED, s, call);                            \
  lw_sem_note_user(t, &a);                                                                     \
  int rc = call;                                                                               \
  lw_tls_guard = 1;                                                                            \
  lw_acquire_after(t, &a, rc == 0);                                                            \
  lw_leave();                                                                                  \
  return SEM_RESULT(__func__, LW_CALL_TIMED, s, rc);

LW_EXPORT int sem_timedwait(sem_t *restrict s, const struct timespec *restrict abs) {
  LW_SEM_TIMED(s, LW_REAL(sem_timedwait)(s, abs))
}

LW_EXPORT int sem_clockwait(sem_t *restrict s, clockid_t clock, const struct timespec *restrict abs) {
  LW_SEM_TIMED(s, LW_REAL(sem_clockwait)(s, clock, abs))
}

LW_EXPORT int sem_post(sem_t *s) {
  if (LW_UNLIKELY(sems_off())) return SEM_RESULT(__func__, 0, s, LW_REAL(sem_post)(s));
  lw_thread_t *t = lw_enter();
  if (!t) return LW_REAL(sem_post)(s);
  uintptr_t addr = (uintptr_t)s;
  if (LW_LIKELY(lw_release_top_is(t, addr))) {
    /* its holder releases it: post first, then pop, as for a mutex */
    int rc = LW_REAL(sem_post)(s);
    lw_release(t, addr, LW_TYPE_SEM, NULL, 0);
    if (LW_UNLIKELY(rc == 0 && sem_value(s) > 1)) { /* posted where lockwatch did not see */
      int err = errno;
      lw_sem_overflow(t, addr);
      errno = err;
    }
    lw_leave();
    return SEM_RESULT(__func__, 0, s, rc);
  }
  int saved = errno;
  lw_sem_post_slow(t, addr, LW_RET_PC());
  lw_leave();
  errno = saved;
  return SEM_RESULT(__func__, 0, s, LW_REAL(sem_post)(s));
}

LW_EXPORT int sem_init(sem_t *s, int pshared, unsigned value) {
  int rc = LW_REAL(sem_init)(s, pshared, value);
  if (rc != 0) return sem_failed(__func__, LW_CALL_INIT, s);
  if (sems_off()) return rc;
  int saved = errno;
  lw_thread_t *t = lw_enter();
  if (t) {
    lw_sem_created(t, (uintptr_t)s, value, LW_RET_PC());
    lw_leave();
  }
  errno = saved;
  return rc;
}

/* The end of a semaphore's identity; its value (read before the real call) tells its fate. */
static void sem_ended(sem_t *s) {
  int saved = errno;
  lw_thread_t *t = lw_enter();
  if (t) {
    lw_sem_destroyed(t, (uintptr_t)s, sem_value(s) == 1);
    lw_leave();
  }
  errno = saved;
}

/*
 * Threads blocked on s, from glibc's struct new_sem: the waiters counted in
 * its high 32 bits (64-bit targets) that its value cannot release. A waiter
 * that was posted takes the value and leaves the count in one step.
 */
static unsigned sem_blocked(sem_t *s) {
#if __WORDSIZE == 64
  uint64_t data = __atomic_load_n((const uint64_t *)(void *)s, __ATOMIC_ACQUIRE);
  uint32_t value = (uint32_t)data & 0x7fffffffu, nwaiters = (uint32_t)(data >> 32);
  return nwaiters > value ? nwaiters - value : 0;
#else
  (void)s;
  return 0;
#endif
}

LW_EXPORT int sem_destroy(sem_t *s) {
  unsigned blocked = lw_active && !lw_tls_guard ? sem_blocked(s) : 0;
  if (LW_UNLIKELY(blocked)) {
    int saved = errno;
    lw_thread_t *t = lw_enter();
    if (t) {
      lw_object_misuse(t, LW_REPORT_SEM_DESTROY_WAITING, LW_DETAIL_NONE, __func__, (uintptr_t)s,
                       blocked);
      lw_leave();
    }
    errno = saved;
  }
  uint32_t mark = lw_misuse_mark();
  if (!sems_off()) sem_ended(s); /* before: its memory may be reused right after */
  int rc = LW_REAL(sem_destroy)(s);
  if (rc != 0) {
    int err = errno;
    lw_wrap_failed(mark, __func__, err, LW_CALL_DESTROY, s, LW_TYPE_COUNT);
    errno = err;
  }
  return rc;
}

LW_EXPORT sem_t *sem_open(const char *name, int oflag, ...) {
  mode_t mode = 0;
  unsigned value = 0;
  sem_t *s;
  if (oflag & O_CREAT) {
    va_list ap;
    va_start(ap, oflag);
    mode = va_arg(ap, mode_t);
    value = va_arg(ap, unsigned);
    va_end(ap);
    s = LW_REAL(sem_open)(name, oflag, mode, value);
  } else {
    s = LW_REAL(sem_open)(name, oflag);
  }
  if (s == SEM_FAILED || sems_off()) return s;
  int saved = errno;
  lw_thread_t *t = lw_enter();
  if (t) {
    /* a lock if it is 1 now (and was created with 1, when it could have been created here) */
    int now = sem_value(s);
    lw_sem_opened(t, (uintptr_t)s, now == 1 && (!(oflag & O_CREAT) || value == 1) ? 1 : 0,
                  LW_RET_PC());
    lw_leave();
  }
  errno = saved;
  return s;
}

LW_EXPORT int sem_close(sem_t *s) {
  if (!sems_off()) sem_ended(s); /* before the mapping goes (and its address may be reused) */
  return LW_REAL(sem_close)(s);
}
