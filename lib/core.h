/*
 * core.h - what happens on each lock event. The preload's wrappers call
 * these; the core knows nothing of how the events were intercepted.
 *
 * Contract for callers: set lw_tls_guard around every call (so locks taken
 * by lockwatch's own callees are not tracked), and never hold a lockwatch
 * lock when calling.
 */
#ifndef LW_CORE_H
#define LW_CORE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "heldset.h"
#include "options.h"
#include "profile.h"
#include "report.h"
#include "thread.h"
#include "types.h"

/* An acquisition in progress, between lw_acquire_before and lw_acquire_after. */
typedef struct lw_acq {
  uintptr_t addr;
  lw_lock_t *rec; /* NULL: not tracked (memory exhausted) */
  uint64_t id;
  uintptr_t pc;
  uint32_t stack; /* depot id of the stack at the first acquisition from pc */
  uint8_t mode, flags, type;
  uint8_t relock; /* LW_ACQ_RELOCK, LW_ACQ_SAMPLED or 0 */
} lw_acq_t;

/* Values of lw_acq_t.relock: both send lw_acquire_after to its slow path. */
enum {
  LW_ACQ_RELOCK = 1, /* the owner takes a lock it already holds, and may: count only */
  LW_ACQ_SAMPLED = 2 /* profile=1: the hold that begins is timed */
};

/* Prepares the graph; call once after the options are set. */
void lw_core_init(void);

/*
 * Tells the core how to read the state of locks of a type (who holds it),
 * for telling a real re-lock from a new lock at the address of one the
 * thread abandoned locked. Without it, a re-lock is taken at its word.
 */
void lw_core_set_state_fn(unsigned type, lw_state_fn fn);

/* Remembers the program's path and command line for the JSON document (at start-up, and in an exec'd child). */
void lw_core_capture_program(void);

/*
 * Returns the calling thread's state, creating it (as a thread of unknown
 * creator) if needed. NULL when memory is exhausted.
 */
lw_thread_t *lw_core_thread(void);

/*
 * In a thread about to create another: numbers the new thread and records
 * where it is created. Returns the number for lw_core_thread_start.
 */
uint32_t lw_core_thread_spawn(lw_thread_t *parent);

/* In a new thread: creates its state under the number lw_core_thread_spawn gave. */
lw_thread_t *lw_core_thread_start(uint32_t seq);

/* The calling thread's join of the thread whose pthread_t is handle returned. */
void lw_core_thread_joined(lw_thread_t *t, uintptr_t handle);

/*
 * At the exit of the calling thread: reports the locks it still holds
 * (thread-exit-holding-lock; robust mutexes excepted, as their recovery is
 * the point) and releases its state.
 */
void lw_core_thread_exit(lw_thread_t *t);

/*
 * Before the real acquisition of the lock at addr: identifies it, and for a
 * blocking acquisition records the orders held -> addr and checks them for
 * cycles (reporting any) before the caller blocks. A re-lock by the owner
 * that the lock's kind does not allow is reported as double-lock; if the call
 * would then wait forever, on_deadlock decides what happens next. kind is
 * called only when the lock is seen for the first time. pc is the caller's
 * return address.
 */
static inline __attribute__((always_inline)) void lw_acquire_before(
    lw_thread_t *t, lw_acq_t *a, uintptr_t addr, unsigned type, lw_kind_fn kind, unsigned mode,
    unsigned flags, uintptr_t pc);

/* After the real acquisition: pushes the lock on the held stack if acquired. */
static inline __attribute__((always_inline)) void lw_acquire_after(lw_thread_t *t,
                                                                   const lw_acq_t *a,
                                                                   bool acquired);

/*
 * The calling thread releases the lock at addr (of this type). If the thread
 * does not hold it and state (may be NULL) shows that nobody or another thread
 * does, reports unlock-not-owner at return address pc and returns true: the
 * caller then calls lw_foreign_unlock if the real unlock succeeds.
 */
static inline __attribute__((always_inline)) bool lw_release(lw_thread_t *t, uintptr_t addr,
                                                             unsigned type, lw_state_fn state,
                                                             uintptr_t pc);

/*
 * A thread that did not hold the lock at addr unlocked it, and the real
 * unlock succeeded: the holder's entry for it is stale (it notices at its
 * next use of the lock, or at its exit).
 */
void lw_foreign_unlock(lw_thread_t *t, uintptr_t addr);

/*
 * Before waiting on the condition variable cond with the mutex at mutex:
 * the mutex is released for the wait and requested again after it, so the
 * orders held -> mutex are recorded now, before the thread can block.
 * Reports cond-wait-unheld if the thread does not hold the mutex (and state,
 * which may be NULL, confirms it), or if cond was used with another mutex
 * that is still alive.
 */
void lw_cond_wait_before(lw_thread_t *t, lw_acq_t *a, uintptr_t cond, uintptr_t mutex,
                         unsigned type, lw_kind_fn kind, lw_state_fn state, uintptr_t pc);

/* After the wait: the mutex is held again if reacquired. */
void lw_cond_wait_after(lw_thread_t *t, const lw_acq_t *a, bool reacquired);

/* The condition variable at cond was initialised or destroyed. */
void lw_cond_forget(lw_thread_t *t, uintptr_t cond);

/* What kind of call failed, for lw_call_failed: the failures that are normal for it. */
enum {
  LW_CALL_TRY = 1u << 0,     /* a trylock: EBUSY and EAGAIN are its answer "taken" */
  LW_CALL_TIMED = 1u << 1,   /* a timed wait: ETIMEDOUT is its answer "too late" */
  LW_CALL_INIT = 1u << 2,    /* an initialisation: EAGAIN and ENOMEM are lack of resources */
  LW_CALL_DESTROY = 1u << 3, /* a destruction */
};

/* Is err what a call with these flags may return in a correct program (a busy trylock...)? */
static inline bool lw_call_normal_failure(int err, unsigned flags) {
  switch (err) {
  case EOWNERDEAD: /* a robust mutex is recovered: success */
  case EINTR:      /* a signal handler interrupted a semaphore wait */
  case ENOMEM:     /* resources, not misuse */
    return true;
  case EBUSY: return (flags & LW_CALL_TRY) != 0;
  case EAGAIN: return (flags & (LW_CALL_TRY | LW_CALL_INIT)) != 0;
  case ETIMEDOUT: return (flags & LW_CALL_TIMED) != 0;
  default: return false;
  }
}

/*
 * The barrier at addr was initialised with count (0: destroyed). Returns the
 * count it had been initialised with before (0: never seen, or destroyed).
 */
uint32_t lw_barrier_swap(uintptr_t addr, uint32_t count);

/* The count the barrier at addr was last initialised with (0: not seen, or destroyed). */
uint32_t lw_barrier_count(uintptr_t addr);

/*
 * The call (its function's name, a static string) on the object at obj
 * returned the error err. Unless err is normal for such a call (flags), or
 * a misuse report was made during the call (t->misuse_seen is no longer
 * mark), reports call-failed, saying why the call fails. type is the lock
 * type of obj when it is a lock (the report names it), else LW_TYPE_COUNT.
 */
void lw_call_failed(lw_thread_t *t, uint32_t mark, const char *call, int err, unsigned flags,
                    uintptr_t obj, unsigned type);

/*
 * The process exits (exit, or a return from main) on the calling thread:
 * reports exit-holding-lock, a warning that fails nothing, if it still
 * holds locks (robust mutexes and semaphores excepted, as at thread exit).
 */
void lw_exit_check(lw_thread_t *t);

/*
 * Reports a misuse of the condition variable, semaphore or barrier at obj
 * (kind, detail: LW_REPORT_*, LW_DETAIL_*) by the call, with waiters threads
 * still waiting on it, once per place.
 */
void lw_object_misuse(lw_thread_t *t, unsigned kind, unsigned detail, const char *call,
                      uintptr_t obj, uint32_t waiters);

/* A lock is initialised at addr: it gets a new identity. */
void lw_lock_created(lw_thread_t *t, uintptr_t addr, unsigned type, unsigned kind, uintptr_t pc);

/*
 * A custom lock (lockwatch_lock_create) is created at addr, of kind (LW_KIND_*):
 * a new identity of type LW_TYPE_CUSTOM, of the class class_key names
 * (lw_class_of_key), or if it is 0, of its place as for other locks.
 */
void lw_custom_created(lw_thread_t *t, uintptr_t addr, unsigned kind, uintptr_t pc,
                       uintptr_t class_key);

/*
 * Who holds the lock at addr, by the threads' held stacks (an lw_state_fn
 * for locks whose memory lockwatch cannot read). Takes the threads lock:
 * for slow paths only.
 */
lw_lockstate_t lw_held_state(uintptr_t addr, int self);

/*
 * Before destroying the lock at addr: reports destroy-locked if the calling
 * thread holds it, or state (may be NULL) shows that someone does.
 */
void lw_lock_destroy_check(lw_thread_t *t, uintptr_t addr, unsigned type, lw_state_fn state,
                           uintptr_t pc);

/* The lock at addr is destroyed: its identity and its orders end. */
void lw_lock_destroyed(lw_thread_t *t, uintptr_t addr);

/*
 * Semaphores (sem.c; docs/rules.md, "Semaphores"). The acquisitions and the
 * post of a semaphore that is a lock go through lw_acquire_before/after and
 * lw_release with LW_TYPE_SEM; a semaphore is tracked only from these:
 */

/* sem_init at addr with value: a lock candidate if value is 1, else a new untracked identity. */
void lw_sem_created(lw_thread_t *t, uintptr_t addr, unsigned value, uintptr_t pc);

/* sem_open returned addr, with value then: as lw_sem_created, unless addr is known already. */
void lw_sem_opened(lw_thread_t *t, uintptr_t addr, unsigned value, uintptr_t pc);

/*
 * sem_destroy or sem_close of the semaphore at addr, whose value was free
 * (1) or not: not free, it may still be waiting for a post and is taken as
 * a signal (its held reports are dropped); free, it ended its life as a lock.
 */
void lw_sem_destroyed(lw_thread_t *t, uintptr_t addr, bool free);

/*
 * A post of the semaphore at addr that is not the release of the top of t's
 * held stack: a release further down, or a post by a thread that does not
 * hold it, which makes it a signal (semaphores=auto) or releases it for its
 * holder (semaphores=all).
 */
void lw_sem_post_slow(lw_thread_t *t, uintptr_t addr, uintptr_t pc);

/* The value of the semaphore at addr was seen above 1: it is no lock. */
void lw_sem_overflow(lw_thread_t *t, uintptr_t addr);

void lw__sem_note_user(lw_thread_t *t, const lw_acq_t *a);

/*
 * When a semaphore is requested by a blocking or timed wait, or taken by a
 * trywait (acquisition a): remembers whether more than one thread ever asked
 * for it. A cycle through a lock that only one thread ever asked for cannot
 * deadlock; for semaphores such cycles are not reported
 * (Python's Condition.wait(0) nests a private waiter lock both ways).
 */
static inline void lw_sem_note_user(lw_thread_t *t, const lw_acq_t *a) {
  if (!a->rec) return;
  uint32_t u = atomic_load_explicit(&a->rec->users, memory_order_relaxed);
  if (__builtin_expect(u == LW_USERS_SHARED || u == t->seq + 1, 1)) return;
  lw__sem_note_user(t, a);
}

/* Is the semaphore of acquisition a still tracked (not found to be a signal since)? */
static inline bool lw_sem_tracked(const lw_acq_t *a) {
  return a->rec && atomic_load_explicit(&a->rec->id, memory_order_relaxed) == a->id;
}

/*
 * The n bytes at p are given back (free, realloc, munmap): every lock that
 * lived there ends, as if destroyed, so a new lock at a reused address is
 * a new lock. Costs one page-table lookup per page when no lock lives
 * in the range.
 */
void lw_memory_released(lw_thread_t *t, uintptr_t p, size_t n);

/*
 * Blocked waits (deadlock.c). A blocking acquisition that finds the lock
 * taken calls lw_wait_begin, waits in slices of lw_wait_slice_ns, calls
 * lw_wait_check after each slice that ends without the lock (waited_ns so
 * far), and lw_wait_end once it has the lock or an error.
 */
void lw_wait_begin(lw_thread_t *t, const lw_acq_t *a);
void lw_wait_check(lw_thread_t *t, const lw_acq_t *a, uint64_t waited_ns);
void lw_wait_end(lw_thread_t *t);
uint64_t lw_wait_slice_ns(void);

/*
 * Waits that their thread cannot check itself (a custom lock waited for in
 * the program's own code): lw_wait_watch_begin publishes the wait, as
 * lw_wait_begin does, and marks it for a watcher; lw_wait_watch_end ends it.
 * lw_wait_watch, called by the watcher every slice, checks each such wait
 * that began at least a slice before now (CLOCK_MONOTONIC ns).
 */
bool lw_wait_watch_begin(lw_thread_t *t, const lw_acq_t *a, uint64_t now);
void lw_wait_watch(uint64_t now);
/*
 * Ends a watched wait. lw_wait_watch_begin returns whether it published one
 * (false inside a watched wait, which stays); while one lasts, lw_wait_begin
 * and lw_wait_end leave it alone.
 */
void lw_wait_watch_end(lw_thread_t *t);

/*
 * What a program declares through lockwatch.h (api.c; docs/api.md). Bad
 * input (a NULL lock, a NULL, empty or overlong name, a rank out of range)
 * is said in one line on stderr (the first few times) and ignored.
 */
#define LW_NAME_MAX 255 /* bytes of a lock name */
enum { LW_API_EINVAL = 22, LW_API_ENOMEM = 12 }; /* the errno values */

/*
 * Names the lock at addr (the name is copied). The name belongs to the
 * lock's identity; for an address where no lock lives yet, it waits for
 * the first lock created there. Returns 0, LW_API_EINVAL or LW_API_ENOMEM.
 */
int lw_lock_set_name(lw_thread_t *t, uintptr_t addr, const char *name);

/*
 * Declares the rank of the lock at addr (0 to LW_RANK_MAX; flags
 * LW_RANK_NESTABLE lets locks of the same rank, both so declared, be held
 * together). Kept as names are. Returns 0, LW_API_EINVAL or LW_API_ENOMEM.
 */
int lw_lock_set_rank(lw_thread_t *t, uintptr_t addr, long rank, unsigned flags);

/*
 * Says bad input to lockwatch.h in one line on stderr (fmt with one %s and
 * one %ld), the first eight times; then nothing.
 */
void lw_api_complain(const char *fmt, const char *a, long b);
/* The same for a message already made. */
void lw_api_say(const char *msg);

/* The function that reads the state of a lock of a type (NULL if none can). */
typedef lw_state_fn (*lw_state_for_fn)(unsigned type);

/*
 * The calling thread asserts that it holds the lock at addr, in mode
 * (LW_MODE_WRITE: exclusively; LW_MODE_READ: in any mode). Reports not-held
 * when it does not (once per place). state_for (may be NULL) confirms a
 * lock held since before lockwatch watched.
 */
void lw_assert_held(lw_thread_t *t, uintptr_t addr, unsigned mode, lw_state_for_fn state_for);

/* Writes every thread's held and awaited locks, saying why (dump_at_exit, a signal). */
void lw_core_dump(const char *why);

/* Fills the run statistics. */
void lw_core_stats(lw_stats_t *s);

/*
 * Ends the run's bookkeeping: writes the JSON document and the summary.
 * status is the program's exit status (status_known false if it is not
 * known). Returns the exit status the process should end with. Only the
 * first call does anything; later calls return status unchanged.
 */
int lw_core_finish(int status, bool status_known);

/*
 * Renders the JSON document of the run as it stands (reports so far, stats
 * now) and keeps it, with its path, for lw_core_write_json_now. Called after
 * every report, outside any signal handler; does nothing without json_path
 * or once lw_core_finish ran.
 */
void lw_core_json_prepare(void);

/*
 * Async-signal-safe (open, write, close, rename): writes the document last
 * prepared, for a process about to die of a signal. Returns false when
 * there is none (no report), it belongs to another process (a fork or
 * vfork child), lw_core_finish already wrote it, or the write failed.
 */
bool lw_core_write_json_now(void);

/* Called after each report once its document is prepared (set by the preload; may be NULL). */
extern void (*lw_core_on_report)(void);

/*
 * A caveat printed after the summary at exit when anything was reported
 * (NULL: none). Set at start-up by the preload.
 */
extern const char *lw_core_caveat;

/*
 * Before this process image is replaced (exec): writes the JSON document as
 * it stands, so that the reports made so far are not lost; the new image
 * merges its own into it (docmerge.h).
 */
void lw_core_save_document(void);

/* Number of reports made so far. */
uint32_t lw_core_report_count(void);

/* Fork hooks: take every lockwatch lock before fork, release them after. */
void lw_core_fork_prepare(void);
void lw_core_fork_parent(void);
void lw_core_fork_child(void);

#include "core_fast.h"

#endif
