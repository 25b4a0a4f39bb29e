/*
 * wrap_api.c - the entry points of the public header (lockwatch.h): a
 * program compiled with it looks these up at run time (dlsym), so it runs
 * unchanged without lockwatch. Each is: enter, the core's declaration or
 * check, leave. docs/api.md describes them.
 */
#include "../lib/types.h"
#include "preload.h"

/* The reader of a lock's own state, by lock type (for "held since before we watched"). */
static lw_state_fn state_for(unsigned type) {
  switch (type) {
  case LW_TYPE_MUTEX:
  case LW_TYPE_C11:
    return lw_mutex_state;
  case LW_TYPE_RWLOCK:
    return lw_rwlock_state;
  case LW_TYPE_SPIN:
    return lw_spin_state;
  default:
    return NULL;
  }
}

LW_EXPORT int lw_api_name(const void *lock, const char *name) {
  lw_thread_t *t = lw_enter();
  if (!t) return 0;
  int rc = lw_lock_set_name(t, (uintptr_t)lock, name);
  lw_leave();
  return rc;
}

LW_EXPORT int lw_api_rank(const void *lock, long rank, unsigned flags) {
  lw_thread_t *t = lw_enter();
  if (!t) return 0;
  int rc = lw_lock_set_rank(t, (uintptr_t)lock, rank, flags);
  lw_leave();
  return rc;
}

LW_EXPORT void lw_api_assert_held(const void *lock, int read) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  lw_assert_held(t, (uintptr_t)lock, read ? LW_MODE_READ : LW_MODE_WRITE, state_for);
  lw_leave();
}

/* ---- custom locks (lockwatch_lock_create and the acquisition calls) ---------- */

#include <lockwatch/lockwatch.h>
#include <stdio.h>
#include <string.h>

#include "../lib/frames.h"
#include "../lib/registry.h"
#include "../lib/stack.h"

#define LW_CREATE_FLAGS (LOCKWATCH_LOCK_RECURSIVE | LOCKWATCH_LOCK_RW | LOCKWATCH_FRAMES_ONLY)
#define LW_ACQ_FLAGS                                                                   \
  (LOCKWATCH_ACQ_TRY | LOCKWATCH_ACQ_READ | LOCKWATCH_ACQ_RECURSIVE | LOCKWATCH_ACQ_TIMED | \
   LOCKWATCH_FRAMES_ONLY)

/* An acquisition between lockwatch_before_acquire and lockwatch_after_acquire. */
#define LW_PENDING_MAX 8
static __thread struct {
  lw_acq_t a[LW_PENDING_MAX];
  bool waiting[LW_PENDING_MAX];
  uint32_t n;
} pending __attribute__((tls_model("initial-exec")));

/*
 * The caller's frames as frame addresses into pcs (at most
 * LOCKWATCH_FRAMES_MAX); returns their number and in *key a word that
 * tells these frames apart (0 for none).
 */
static uint32_t lead_of(const lockwatch_frame_t *frames, unsigned nframes, uintptr_t *pcs,
                        uintptr_t *key) {
  uint32_t n = 0;
  uintptr_t k = 0;
  if (!frames) nframes = 0;
  for (unsigned i = 0; i < nframes && n < LOCKWATCH_FRAMES_MAX; i++) {
    uintptr_t pc = lw_frame_intern(frames[i].file, frames[i].line, frames[i].function);
    if (!pc) break;
    pcs[n++] = pc;
    k = (k ^ pc) * 0x9e3779b97f4a7c15ULL + 1;
  }
  *key = k;
  return n;
}

/*
 * The call site an event is cached under: the caller's return address (and
 * frame depth) and its frames; only the frames when they are the whole stack.
 */
static uintptr_t site_of(uintptr_t ret_pc, uintptr_t key, uint32_t nlead, unsigned flags) {
  if (!nlead) return ret_pc;
  uintptr_t s = (flags & LOCKWATCH_FRAMES_ONLY) ? key : ret_pc ^ (key * 0xbf58476d1ce4e5b9ULL);
  return s < 4096 ? s + 4096 : s;
}

/* Says that a call on a custom lock was wrong: "misuse of a custom lock: call(addr...): why". */
static void misuse(const char *call, uintptr_t addr, const char *args, const char *why) {
  char msg[400];
  snprintf(msg, sizeof msg, "misuse of a custom lock: %s(0x%lx%s): %s", call, (unsigned long)addr,
           args, why);
  lw_api_say(msg);
}

/* Is there a lock made by lockwatch_lock_create at addr? Says so if not. */
static bool custom_known(const char *call, uintptr_t addr) {
  uint64_t id;
  if (addr < 4096) {
    misuse(call, addr, "", "not a lock address (NULL or near it); ignored");
    return false;
  }
  lw_lock_t *rec = lw_registry_find(addr, &id);
  if (rec && rec->type == LW_TYPE_CUSTOM) return true;
  misuse(call, addr, "",
         "no lock was created at this address with lockwatch_lock_create (or it was "
         "destroyed since); ignored");
  return false;
}

/* Flags outside allowed, or contradictory: says which; false then. */
static bool flags_ok(const char *call, uintptr_t addr, unsigned flags, unsigned allowed) {
  const char *why = NULL;
  char args[32];
  if (flags & ~allowed)
    why = allowed == LW_CREATE_FLAGS
              ? "unknown flags (accepted: LOCKWATCH_LOCK_RECURSIVE, LOCKWATCH_LOCK_RW, "
                "LOCKWATCH_FRAMES_ONLY); ignored"
          : allowed == LW_ACQ_FLAGS
              ? "unknown flags (accepted: LOCKWATCH_ACQ_TRY, LOCKWATCH_ACQ_READ, "
                "LOCKWATCH_ACQ_RECURSIVE, LOCKWATCH_ACQ_TIMED, LOCKWATCH_FRAMES_ONLY); ignored"
              : "unknown flags (accepted: LOCKWATCH_FRAMES_ONLY); ignored";
  else if ((flags & LOCKWATCH_ACQ_TRY) && (flags & LOCKWATCH_ACQ_TIMED))
    why = "contradictory flags: LOCKWATCH_ACQ_TRY never blocks, LOCKWATCH_ACQ_TIMED does; ignored";
  if (!why) return true;
  snprintf(args, sizeof args, ", 0x%x", flags);
  misuse(call, addr, args, why);
  return false;
}

LW_EXPORT int lw_api_lock_create(const void *lock, const char *name, const void *class_key,
                                 unsigned flags, const lockwatch_frame_t *frames,
                                 unsigned nframes) {
  uintptr_t ret = LW_RET_PC();
  lw_thread_t *t = lw_enter();
  if (!t) return 0;
  uintptr_t addr = (uintptr_t)lock, pcs[LOCKWATCH_FRAMES_MAX], key;
  int rc = LW_API_EINVAL;
  if (addr < 4096) {
    misuse("lockwatch_lock_create", addr, "", "not a lock address (NULL or near it); ignored");
  } else if (flags_ok("lockwatch_lock_create", addr, flags, LW_CREATE_FLAGS)) {
    uint32_t n = lead_of(frames, nframes, pcs, &key);
    unsigned kind = ((flags & LOCKWATCH_LOCK_RECURSIVE) ? LW_KIND_RECURSIVE : 0) |
                    ((flags & LOCKWATCH_LOCK_RW) ? LW_KIND_READER_PREF : 0);
    lw_stack_set_lead(pcs, n, (flags & LOCKWATCH_FRAMES_ONLY) != 0);
    lw_custom_created(t, addr, kind, site_of(ret, key, n, flags), (uintptr_t)class_key);
    lw_stack_set_lead(NULL, 0, 0);
    rc = name ? lw_lock_set_name(t, addr, name) : 0;
  }
  lw_leave();
  return rc;
}

LW_EXPORT void lw_api_lock_destroy(const void *lock, unsigned flags,
                                   const lockwatch_frame_t *frames, unsigned nframes) {
  uintptr_t ret = LW_RET_PC();
  lw_thread_t *t = lw_enter();
  if (!t) return;
  uintptr_t addr = (uintptr_t)lock, pcs[LOCKWATCH_FRAMES_MAX], key;
  if (flags_ok("lockwatch_lock_destroy", addr, flags, LOCKWATCH_FRAMES_ONLY) &&
      custom_known("lockwatch_lock_destroy", addr)) {
    uint32_t n = lead_of(frames, nframes, pcs, &key);
    lw_stack_set_lead(pcs, n, (flags & LOCKWATCH_FRAMES_ONLY) != 0);
    lw_lock_destroy_check(t, addr, LW_TYPE_CUSTOM, lw_held_state, site_of(ret, key, n, flags));
    lw_lock_destroyed(t, addr);
    lw_stack_set_lead(NULL, 0, 0);
  }
  lw_leave();
}

/* ---- the watcher: checks the waits of custom locks for deadlocks ------------- */

static _Atomic pid_t watcher_pid; /* the process whose watcher runs */

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *watcher(void *arg) {
  (void)arg;
  lw_tls_guard = 1; /* this thread's own locks are lockwatch's, never the program's */
  uint64_t slice = lw_wait_slice_ns();
  struct timespec pause = {(time_t)(slice / 1000000000u), (long)(slice % 1000000000u)};
  for (;;) {
    nanosleep(&pause, NULL);
    if (lw_active) lw_wait_watch(mono_ns());
  }
  return NULL;
}

/* Starts the watcher once per process, at the first wait it must check. */
static void watcher_start(void) {
  pid_t was = atomic_load_explicit(&watcher_pid, memory_order_acquire);
  if (__builtin_expect(was == lw_preload_pid, 1)) return;
  if (!atomic_compare_exchange_strong(&watcher_pid, &was, lw_preload_pid)) return;
  (void)lw_preload_start_thread(watcher);
}

bool lw_preload_watch_begin(lw_thread_t *t, const lw_acq_t *a) {
  watcher_start();
  return lw_wait_watch_begin(t, a, mono_ns());
}

/*
 * The start of a custom acquisition: its slot among the thread's pending
 * ones (*a, *waiting), or NULL when there is none or the flags are wrong
 * (said; the slot then stays, empty, for lockwatch_after_acquire).
 */
static lw_acq_t *pending_push(uintptr_t addr, unsigned flags, bool **waiting) {
  if (pending.n == LW_PENDING_MAX) {
    misuse("lockwatch_before_acquire", addr, "",
           "more than 8 acquisitions under way in one thread (each needs its "
           "lockwatch_after_acquire); ignored");
    return NULL;
  }
  lw_acq_t *a = &pending.a[pending.n];
  *waiting = &pending.waiting[pending.n];
  pending.n++;
  a->rec = NULL;
  a->addr = addr;
  **waiting = false;
  return flags_ok("lockwatch_before_acquire", addr, flags, LW_ACQ_FLAGS) ? a : NULL;
}

/* The core's acquisition flags of lockwatch.h's. */
static unsigned acq_flags(unsigned flags) {
  return ((flags & LOCKWATCH_ACQ_TRY) ? LW_ACQ_TRY : 0) |
         ((flags & LOCKWATCH_ACQ_TIMED) ? LW_ACQ_TIMED : 0) |
         ((flags & LOCKWATCH_ACQ_RECURSIVE) ? LW_ACQ_REENTER : 0);
}

/* After the core's before-hook: a blocking acquisition, taken in the program's own code, is watched. */
static void watch_if_blocking(lw_thread_t *t, lw_acq_t *a, unsigned flags, bool *waiting) {
  if (!a->rec) (void)custom_known("lockwatch_before_acquire", a->addr);
  else if (!(flags & LOCKWATCH_ACQ_TRY) && !__libc_single_threaded)
    *waiting = lw_preload_watch_begin(t, a);
}

LW_EXPORT void lw_api_before_acquire(const void *lock, unsigned flags,
                                     const lockwatch_frame_t *frames, unsigned nframes) {
  uintptr_t ret = LW_RET_PC();
  lw_thread_t *t = lw_enter();
  if (!t) return;
  uintptr_t addr = (uintptr_t)lock, pcs[LOCKWATCH_FRAMES_MAX], key;
  bool *waiting;
  lw_acq_t *a = pending_push(addr, flags, &waiting);
  if (!a) {
    lw_leave();
    return;
  }
  uint32_t n = lead_of(frames, nframes, pcs, &key);
  unsigned mode = (flags & LOCKWATCH_ACQ_READ) ? LW_MODE_READ : LW_MODE_WRITE;
  lw_stack_set_lead(pcs, n, (flags & LOCKWATCH_FRAMES_ONLY) != 0);
  lw_acquire_before(t, a, addr, LW_TYPE_CUSTOM, NULL, mode, acq_flags(flags),
                    site_of(ret, key, n, flags));
  lw_stack_set_lead(NULL, 0, 0);
  a->addr = addr;
  if (a->rec && mode == LW_MODE_READ && !(a->rec->kind & LW_KIND_READER_PREF))
    misuse("lockwatch_before_acquire", addr, ", LOCKWATCH_ACQ_READ",
           "contradictory flags: the lock was not created LOCKWATCH_LOCK_RW; taken as for "
           "writing");
  watch_if_blocking(t, a, flags, waiting);
  lw_leave();
}

LW_EXPORT void lw_api_after_acquire(const void *lock, unsigned flags, int acquired) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  uintptr_t addr = (uintptr_t)lock;
  uint32_t i = pending.n;
  while (i > 0 && pending.a[i - 1].addr != addr) i--;
  if (i == 0) {
    misuse("lockwatch_after_acquire", addr, "",
           "no lockwatch_before_acquire of this lock in this thread came before; ignored");
    lw_leave();
    return;
  }
  (void)flags;
  lw_acq_t a = pending.a[i - 1];
  bool waiting = pending.waiting[i - 1];
  for (uint32_t k = i; k < pending.n; k++) { /* the usual case: the top one, nothing moves */
    pending.a[k - 1] = pending.a[k];
    pending.waiting[k - 1] = pending.waiting[k];
  }
  pending.n--;
  if (waiting) lw_wait_watch_end(t);
  lw_acquire_after(t, &a, acquired != 0);
  lw_leave();
}

LW_EXPORT void lw_api_release(const void *lock, unsigned flags, const lockwatch_frame_t *frames,
                              unsigned nframes) {
  uintptr_t ret = LW_RET_PC();
  lw_thread_t *t = lw_enter();
  if (!t) return;
  uintptr_t addr = (uintptr_t)lock;
  if (LW_LIKELY(lw_release_top_is(t, addr))) { /* the fast release: no check needed */
    lw_release(t, addr, LW_TYPE_CUSTOM, NULL, 0);
    lw_leave();
    return;
  }
  uintptr_t pcs[LOCKWATCH_FRAMES_MAX], key;
  if (flags_ok("lockwatch_release", addr, flags, LOCKWATCH_FRAMES_ONLY) &&
      custom_known("lockwatch_release", addr)) {
    uint32_t n = lead_of(frames, nframes, pcs, &key);
    lw_stack_set_lead(pcs, n, (flags & LOCKWATCH_FRAMES_ONLY) != 0);
    bool foreign =
        lw_release(t, addr, LW_TYPE_CUSTOM, lw_held_state, site_of(ret, key, n, flags));
    lw_stack_set_lead(NULL, 0, 0);
    if (foreign) lw_foreign_unlock(t, addr);
  }
  lw_leave();
}

/* ---- language layers: frames made only when needed, a lock that became a signal ---- */

/*
 * A layer (the Python one) calls lw_api_before_acquire_lazy with a word
 * naming its call site (site) instead of frames; fn(arg, out, max) makes
 * the frames, innermost first, and is called only when lockwatch needs the
 * stack: the first time the thread meets the site, or for a report. The
 * frames are the whole stack (as with LOCKWATCH_FRAMES_ONLY).
 */
typedef unsigned (*lw_api_frames_fn)(void *arg, lockwatch_frame_t *out, unsigned max);

struct lazy_frames {
  lw_api_frames_fn fn;
  void *arg;
};

static uint32_t lazy_lead(void *arg, uintptr_t *pcs, uint32_t max) {
  const struct lazy_frames *z = arg;
  lockwatch_frame_t f[LOCKWATCH_FRAMES_MAX];
  unsigned n = z->fn(z->arg, f, max < LOCKWATCH_FRAMES_MAX ? max : LOCKWATCH_FRAMES_MAX);
  uintptr_t key;
  return lead_of(f, n, pcs, &key);
}

/* A site word of a layer as a site of the core: never a real code address nor a frame's. */
static uintptr_t lazy_site(uintptr_t site) {
  site = (site * 0x9e3779b97f4a7c15ULL) & 0x7fffffffffffffffULL;
  return site < 4096 ? site + 4096 : site;
}

LW_EXPORT void lw_api_before_acquire_lazy(const void *lock, unsigned flags, uintptr_t site,
                                          lw_api_frames_fn fn, void *arg) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  uintptr_t addr = (uintptr_t)lock;
  bool *waiting;
  lw_acq_t *a = pending_push(addr, flags, &waiting);
  if (!a) {
    lw_leave();
    return;
  }
  struct lazy_frames z = {fn, arg};
  if (fn) lw_stack_set_lead_fn(lazy_lead, &z, 1);
  lw_acquire_before(t, a, addr, LW_TYPE_CUSTOM, NULL, LW_MODE_WRITE, acq_flags(flags),
                    lazy_site(site));
  if (fn) lw_stack_set_lead_fn(NULL, NULL, 0);
  a->addr = addr;
  watch_if_blocking(t, a, flags, waiting);
  lw_leave();
}

/*
 * The lock at lock turned out not to be a lock (a Python Lock released by a
 * thread that did not take it is a signal): its identity ends, with its
 * orders, and no report names it; the layer does not announce it again.
 */
LW_EXPORT void lw_api_lock_forget(const void *lock) {
  lw_thread_t *t = lw_enter();
  if (!t) return;
  lw_lock_destroyed(t, (uintptr_t)lock);
  lw_leave();
}

/*
 * Suspends (on non-zero) or resumes lockwatch's interception in the calling
 * thread (the calls nest): a layer's own inner lock (the semaphore under a
 * Python lock) is then never seen. Returns whether it was suspended before.
 */
LW_EXPORT int lw_api_suspend(int on) {
  int was = lw_tls_guard != 0;
  if (on) lw_tls_guard++;
  else if (lw_tls_guard) lw_tls_guard--;
  return was;
}
