/*
 * wrap_glib.c - GLib's GMutex and the GCond waits on it. GMutex is
 * futex-based on Linux: it never calls a pthread function, so the
 * program's calls to g_mutex_* are interposed here. The real functions are
 * looked up in libglib when first called (dlsym RTLD_NEXT, else the loaded
 * libglib-2.0.so.0); liblockwatch.so does not link with GLib, and a program
 * without GLib never calls these. GLib's calls inside libglib itself
 * (GAsyncQueue, GThreadPool) bind inside the library and are not seen.
 *
 * The types are GLib's (a GMutex is a union of a pointer and two guints; a
 * gboolean an int; a gint64 an int64_t), spelled here without its headers.
 */
#include <dlfcn.h>
#include <stdint.h>

#include "preload.h"

typedef void (*gm_fn)(void *);
typedef int (*gm_try_fn)(void *);
typedef void (*gc_wait_fn)(void *, void *);
typedef int (*gc_until_fn)(void *, void *, int64_t);

static struct {
  gm_fn init, clear, lock, unlock;
  gm_try_fn trylock;
  gc_wait_fn wait;
  gc_until_fn wait_until;
} real_g;

/* The real function name, from the next object, else from a libglib loaded privately. */
static void *glib_real(const char *name) {
  void *p = dlsym(RTLD_NEXT, name);
  if (!p) {
    void *h = dlopen("libglib-2.0.so.0", RTLD_LAZY | RTLD_NOLOAD);
    if (h) p = dlsym(h, name);
  }
  return p;
}

#define LW_GREAL(field, name)                                                       \
  (LW_LIKELY(real_g.field != NULL)                                                  \
       ? real_g.field                                                               \
       : (*(void **)&real_g.field = glib_real(name), real_g.field))

/*
 * Who holds a GMutex: GLib's futex word (the first guint) is 0 when it is
 * free, 1 or 2 when held; the owner is not kept.
 */
static lw_lockstate_t gmutex_state(uintptr_t addr, int self) {
  (void)self;
  unsigned v = __atomic_load_n((const unsigned *)addr, __ATOMIC_RELAXED);
  return (lw_lockstate_t){v == 0 ? LW_OWNER_NONE : LW_OWNER_HELD, 0};
}

LW_EXPORT void g_mutex_init(void *m) {
  LW_GREAL(init, "g_mutex_init")(m);
  lw_wrap_created(m, LW_TYPE_GMUTEX, 0, LW_RET_PC());
}

LW_EXPORT void g_mutex_clear(void *m) {
  lw_wrap_destroy_check(m, LW_TYPE_GMUTEX, gmutex_state, LW_RET_PC());
  LW_GREAL(clear, "g_mutex_clear")(m);
  lw_wrap_destroyed(m);
}

/*
 * A blocking lock: tried first; only a taken mutex is waited for, in GLib's
 * own g_mutex_lock (keeping its place in the futex queue), the wait
 * published for the watcher, which looks for a deadlock every
 * deadlock_check_ms.
 */
LW_EXPORT void g_mutex_lock(void *m) {
  lw_thread_t *t = lw_enter();
  if (!t) {
    LW_GREAL(lock, "g_mutex_lock")(m);
    return;
  }
  lw_acq_t a;
  lw_acquire_before(t, &a, (uintptr_t)m, LW_TYPE_GMUTEX, NULL, LW_MODE_WRITE, 0, LW_RET_PC());
  lw_leave();
  if (__libc_single_threaded || !LW_GREAL(trylock, "g_mutex_trylock")(m)) {
    bool watched = false;
    if (!__libc_single_threaded && a.rec) {
      lw_tls_guard = 1;
      watched = lw_preload_watch_begin(t, &a);
      lw_leave();
    }
    LW_GREAL(lock, "g_mutex_lock")(m);
    if (watched) {
      lw_tls_guard = 1;
      lw_wait_watch_end(t);
      lw_leave();
    }
  }
  lw_tls_guard = 1;
  lw_acquire_after(t, &a, true);
  lw_leave();
}

/* g_mutex_trylock answers TRUE when it took the lock (and sets no error). */
static inline bool gmutex_took(int rc) { return rc != 0; }

LW_EXPORT int g_mutex_trylock(void *m) {
  LW_ACQUIRE_OK(m, LW_TYPE_GMUTEX, NULL, LW_MODE_WRITE, LW_ACQ_TRY, gmutex_took,
                LW_GREAL(trylock, "g_mutex_trylock")(m))
}

/* g_mutex_unlock has no result; the release body wants one. */
static inline __attribute__((always_inline)) int gmutex_unlock(void *m) {
  LW_RELEASE(m, LW_TYPE_GMUTEX, gmutex_state, (LW_GREAL(unlock, "g_mutex_unlock")(m), 0))
}

LW_EXPORT void g_mutex_unlock(void *m) { (void)gmutex_unlock(m); }

/* A GCond wait releases the mutex and takes it again before it returns, whatever it returns. */
#define LW_GCOND_WAIT(call)                                                                \
  lw_thread_t *t = lw_enter();                                                             \
  if (!t) return call;                                                                     \
  lw_acq_t a;                                                                              \
  lw_cond_wait_before(t, &a, (uintptr_t)c, (uintptr_t)m, LW_TYPE_GMUTEX, NULL, gmutex_state, \
                      LW_RET_PC());                                                        \
  lw_leave();                                                                              \
  int rc = (call);                                                                         \
  lw_tls_guard = 1;                                                                        \
  lw_cond_wait_after(t, &a, true);                                                         \
  lw_leave();                                                                              \
  return rc;

static inline __attribute__((always_inline)) int gcond_wait(void *c, void *m) {
  LW_GCOND_WAIT((LW_GREAL(wait, "g_cond_wait")(c, m), 0))
}

LW_EXPORT void g_cond_wait(void *c, void *m) { (void)gcond_wait(c, m); }

LW_EXPORT int g_cond_wait_until(void *c, void *m, int64_t end_time) {
  LW_GCOND_WAIT(LW_GREAL(wait_until, "g_cond_wait_until")(c, m, end_time))
}

/* Registers how to read a GMutex's state (the preload's constructor). */
void lw_preload_glib_init(void) { lw_core_set_state_fn(LW_TYPE_GMUTEX, gmutex_state); }
