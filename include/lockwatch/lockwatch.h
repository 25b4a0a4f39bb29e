/*
 * lockwatch.h - the public header of lockwatch.
 *
 * A program needs no header to be checked: lockwatch is loaded with
 * LD_PRELOAD into unmodified programs. This header tells code and build
 * scripts which version of lockwatch they have, and lets a program say what
 * it means about its locks (docs/api.md):
 *
 *   LOCKWATCH_NAME(&lock, "accounts")      reports call the lock so
 *   LOCKWATCH_RANK(&lock, 10)              a declared lock hierarchy
 *   LOCKWATCH_RANK_NESTABLE(&lock, 10)     ... whose equal ranks may nest
 *   LOCKWATCH_ASSERT_HELD(&lock)           "this thread holds it (exclusively)"
 *   LOCKWATCH_ASSERT_READ_HELD(&lock)      "this thread holds it, in any mode"
 *
 * and lets a lock lockwatch cannot see (a spinlock of the program's own, a
 * lock of another runtime) go through the same checks as a pthread mutex:
 *
 *   lockwatch_lock_create(&lock, "name", &class_key, flags)
 *   lockwatch_before_acquire(&lock, flags)  ... take the lock ...
 *   lockwatch_after_acquire(&lock, flags, acquired)
 *   lockwatch_release(&lock)                ... then release it
 *   lockwatch_lock_destroy(&lock)
 *
 * The *_at forms carry the caller's own frames (file, line, function: a
 * script's, say), which then lead the report's stacks.
 *
 * The header is all there is: a program using it links with nothing but
 * -pthread and runs unchanged without lockwatch, every call then a check of
 * one cached pointer. Under lockwatch the calls reach its entry points,
 * looked up once per translation unit with dlsym (in the C library itself
 * since glibc 2.34). Weak symbols are not used: in a non-PIE executable an
 * undefined weak function resolves to 0 at link time and LD_PRELOAD cannot
 * bind it later.
 *
 * Define LOCKWATCH_DISABLE before including it to compile every call away.
 *
 * The numbers follow the project's version (CMake's project(VERSION)); the
 * build checks that they do.
 */
#ifndef LOCKWATCH_LOCKWATCH_H
#define LOCKWATCH_LOCKWATCH_H

#define LOCKWATCH_VERSION_MAJOR 0
#define LOCKWATCH_VERSION_MINOR 1
#define LOCKWATCH_VERSION_PATCH 0
#define LOCKWATCH_VERSION_STRING "0.1.0"

/* One number for comparisons: 10000 * major + 100 * minor + patch. */
#define LOCKWATCH_VERSION \
  (LOCKWATCH_VERSION_MAJOR * 10000 + LOCKWATCH_VERSION_MINOR * 100 + LOCKWATCH_VERSION_PATCH)

/* Longest lock name, in bytes; a longer one is refused (and said so). */
#define LOCKWATCH_NAME_MAX 255
/* Ranks are 0 to this; a rank out of range is refused (and said so). */
#define LOCKWATCH_RANK_MAX 1000000000L

#ifndef __ASSEMBLER__
/*
 * A frame of the caller's own, given to the *_at calls: where the lock is
 * used in the caller's terms (a Python file, line and function). Frames
 * are given innermost first; the strings are copied (up to 1023 bytes).
 */
typedef struct lockwatch_frame {
  const char *file;
  int line;
  const char *function;
} lockwatch_frame_t;
#endif

/* Flags of lockwatch_lock_create: what the lock is. */
#define LOCKWATCH_LOCK_RECURSIVE 0x1u /* its owner may take it again (each take counted) */
#define LOCKWATCH_LOCK_RW 0x2u        /* a read-write lock: readers do not wait for readers */
/* Flags of lockwatch_before_acquire and lockwatch_after_acquire: what this acquisition is. */
#define LOCKWATCH_ACQ_TRY 0x100u       /* cannot block (a trylock): adds no order into the lock */
#define LOCKWATCH_ACQ_READ 0x200u      /* for reading (a LOCKWATCH_LOCK_RW lock only) */
#define LOCKWATCH_ACQ_RECURSIVE 0x400u /* this time the owner may take it again */
#define LOCKWATCH_ACQ_TIMED 0x800u     /* blocks, with a timeout */
/* Flag of any *_at call: the frames given are the whole stack (none of the machine's follow). */
#define LOCKWATCH_FRAMES_ONLY 0x10000u
/* Most frames an event keeps (more are dropped from the outer end). */
#define LOCKWATCH_FRAMES_MAX 64

#if !defined(LOCKWATCH_NO_API) && !defined(__ASSEMBLER__)

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

#ifdef RTLD_DEFAULT
#define LOCKWATCH__RTLD_DEFAULT RTLD_DEFAULT
#else
#define LOCKWATCH__RTLD_DEFAULT ((void *)0) /* glibc's value; defined only with _GNU_SOURCE */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The entry points of liblockwatch.so (all NULL without it). Internal. */
struct lockwatch__api {
  int (*name)(const void *lock, const char *name);
  int (*rank)(const void *lock, long rank, unsigned flags);
  void (*assert_held)(const void *lock, int read);
  int (*lock_create)(const void *lock, const char *name, const void *class_key, unsigned flags,
                     const lockwatch_frame_t *frames, unsigned nframes);
  void (*lock_destroy)(const void *lock, unsigned flags, const lockwatch_frame_t *frames,
                       unsigned nframes);
  void (*before_acquire)(const void *lock, unsigned flags, const lockwatch_frame_t *frames,
                         unsigned nframes);
  void (*after_acquire)(const void *lock, unsigned flags, int acquired);
  void (*release)(const void *lock, unsigned flags, const lockwatch_frame_t *frames,
                  unsigned nframes);
};

/* Looks the entry points up once, into *slot; returns them. Internal. */
static inline const struct lockwatch__api *lockwatch__resolve(
    const struct lockwatch__api **slot) {
  static struct lockwatch__api api;
  void *p;
  p = dlsym(LOCKWATCH__RTLD_DEFAULT, "lw_api_name");
  __builtin_memcpy(&api.name, &p, sizeof p);
  p = dlsym(LOCKWATCH__RTLD_DEFAULT, "lw_api_rank");
  __builtin_memcpy(&api.rank, &p, sizeof p);
  p = dlsym(LOCKWATCH__RTLD_DEFAULT, "lw_api_assert_held");
  __builtin_memcpy(&api.assert_held, &p, sizeof p);
  p = dlsym(LOCKWATCH__RTLD_DEFAULT, "lw_api_lock_create");
  __builtin_memcpy(&api.lock_create, &p, sizeof p);
  p = dlsym(LOCKWATCH__RTLD_DEFAULT, "lw_api_lock_destroy");
  __builtin_memcpy(&api.lock_destroy, &p, sizeof p);
  p = dlsym(LOCKWATCH__RTLD_DEFAULT, "lw_api_before_acquire");
  __builtin_memcpy(&api.before_acquire, &p, sizeof p);
  p = dlsym(LOCKWATCH__RTLD_DEFAULT, "lw_api_after_acquire");
  __builtin_memcpy(&api.after_acquire, &p, sizeof p);
  p = dlsym(LOCKWATCH__RTLD_DEFAULT, "lw_api_release");
  __builtin_memcpy(&api.release, &p, sizeof p);
  __atomic_store_n(slot, &api, __ATOMIC_RELEASE);
  return &api;
}

/* The entry points, looked up at the first call. Internal. */
static inline const struct lockwatch__api *lockwatch__api(void) {
  static const struct lockwatch__api *cached;
  const struct lockwatch__api *a = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
  if (__builtin_expect(a != 0, 1)) return a;
  return lockwatch__resolve(&cached);
}

/* Non-zero when the program runs under lockwatch. */
static inline int lockwatch_active(void) { return lockwatch__api()->name != 0; }

/*
 * Names a lock in every report (text, JSON, SARIF, graph). The name is
 * copied (at most LOCKWATCH_NAME_MAX bytes). It belongs to the lock until
 * the lock is destroyed, re-initialised or its memory freed; named before
 * it is initialised or first used, the lock takes the name when it is.
 * Returns 0, or an errno value (EINVAL: a NULL lock, a NULL, empty or
 * overlong name); always 0 without lockwatch.
 */
static inline int lockwatch_name(const volatile void *lock, const char *name) {
  const struct lockwatch__api *a = lockwatch__api();
  return a->name ? a->name((const void *)lock, name) : 0;
}

/* lockwatch_name with a printf format ("accounts[%d]"); formats nothing without lockwatch. */
__attribute__((format(printf, 2, 3))) static inline int lockwatch_namef(const volatile void *lock,
                                                                        const char *fmt, ...) {
  const struct lockwatch__api *a = lockwatch__api();
  char buf[LOCKWATCH_NAME_MAX + 1]; /* a longer name is cut */
  va_list ap;
  if (!a->name) return 0;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return a->name((const void *)lock, buf);
}

/*
 * Declares the rank of a lock (0 to LOCKWATCH_RANK_MAX). A lock may only be
 * taken, blocking, while every ranked lock the thread holds has a strictly
 * lower rank; the first acquisition that breaks this is a rank-violation
 * report, cycle or not. Returns 0 or an errno value (EINVAL: NULL lock, rank
 * out of range).
 */
static inline int lockwatch_rank(const volatile void *lock, long rank) {
  const struct lockwatch__api *a = lockwatch__api();
  return a->rank ? a->rank((const void *)lock, rank, 0) : 0;
}

/* lockwatch_rank, and locks of this rank so declared may be held together. */
static inline int lockwatch_rank_nestable(const volatile void *lock, long rank) {
  const struct lockwatch__api *a = lockwatch__api();
  return a->rank ? a->rank((const void *)lock, rank, 1) : 0;
}

/*
 * Reports not-held unless the calling thread holds the lock (an rwlock: for
 * writing). The report's stack starts in this function when the compiler
 * did not inline it: the macro LOCKWATCH_ASSERT_HELD starts it at its line.
 */
static inline void lockwatch_assert_held(const volatile void *lock) {
  const struct lockwatch__api *a = lockwatch__api();
  if (a->assert_held) a->assert_held((const void *)lock, 0);
}

/* Reports not-held unless the calling thread holds the lock, for reading or writing. */
static inline void lockwatch_assert_read_held(const volatile void *lock) {
  const struct lockwatch__api *a = lockwatch__api();
  if (a->assert_held) a->assert_held((const void *)lock, 1);
}

/* Always inlined, so that reports start in the caller's function, at the line of the call. */
#define LOCKWATCH__INLINE static inline __attribute__((always_inline))

/*
 * Custom locks: a lock lockwatch cannot see (its code never calls the C
 * library's lock functions) announces itself. Every call takes the
 * address that names the lock (usually the lock object's).
 *
 * lockwatch_lock_create: a new lock at lock, named name (may be NULL), of
 * the class class_key names (the address of an object of the program's,
 * the same for every lock of the class: lockdep's lock_class_key), or NULL
 * for the class of its creation site, as for pthread locks. flags:
 * LOCKWATCH_LOCK_*. A lock created again at the same address is a new
 * lock. Returns 0 or an errno value (EINVAL: bad input, said on stderr);
 * always 0 without lockwatch.
 */
LOCKWATCH__INLINE int lockwatch_lock_create(const volatile void *lock, const char *name,
                                        const void *class_key, unsigned flags) {
  const struct lockwatch__api *a = lockwatch__api();
  return a->lock_create ? a->lock_create((const void *)lock, name, class_key, flags, 0, 0) : 0;
}

/* lockwatch_lock_create with the caller's own frames (nframes of them, innermost first). */
LOCKWATCH__INLINE int lockwatch_lock_create_at(const volatile void *lock, const char *name,
                                           const void *class_key, unsigned flags,
                                           const lockwatch_frame_t *frames, unsigned nframes) {
  const struct lockwatch__api *a = lockwatch__api();
  return a->lock_create
             ? a->lock_create((const void *)lock, name, class_key, flags, frames, nframes)
             : 0;
}

/* The lock at lock ends (its orders too); reports destroy-locked if it is held. */
LOCKWATCH__INLINE void lockwatch_lock_destroy(const volatile void *lock) {
  const struct lockwatch__api *a = lockwatch__api();
  if (a->lock_destroy) a->lock_destroy((const void *)lock, 0, 0, 0);
}

LOCKWATCH__INLINE void lockwatch_lock_destroy_at(const volatile void *lock, unsigned flags,
                                             const lockwatch_frame_t *frames, unsigned nframes) {
  const struct lockwatch__api *a = lockwatch__api();
  if (a->lock_destroy) a->lock_destroy((const void *)lock, flags, frames, nframes);
}

/*
 * Call right before trying to take the lock (flags: LOCKWATCH_ACQ_*). The
 * orders it makes are checked here, before the thread can block; until
 * lockwatch_after_acquire the thread counts as waiting for the lock, and a
 * real deadlock among waiting threads is reported (on_deadlock decides
 * what follows, as for mutexes).
 */
LOCKWATCH__INLINE void lockwatch_before_acquire(const volatile void *lock, unsigned flags) {
  const struct lockwatch__api *a = lockwatch__api();
  if (a->before_acquire) a->before_acquire((const void *)lock, flags, 0, 0);
}

LOCKWATCH__INLINE void lockwatch_before_acquire_at(const volatile void *lock, unsigned flags,
                                               const lockwatch_frame_t *frames,
                                               unsigned nframes) {
  const struct lockwatch__api *a = lockwatch__api();
  if (a->before_acquire) a->before_acquire((const void *)lock, flags, frames, nframes);
}

/* Call once the attempt ended: acquired non-zero if the thread now holds the lock. */
LOCKWATCH__INLINE void lockwatch_after_acquire(const volatile void *lock, unsigned flags,
                                           int acquired) {
  const struct lockwatch__api *a = lockwatch__api();
  if (a->after_acquire) a->after_acquire((const void *)lock, flags, acquired);
}

/* Call right after releasing the lock; reports unlock-not-owner if the thread did not hold it. */
LOCKWATCH__INLINE void lockwatch_release(const volatile void *lock) {
  const struct lockwatch__api *a = lockwatch__api();
  if (a->release) a->release((const void *)lock, 0, 0, 0);
}

LOCKWATCH__INLINE void lockwatch_release_at(const volatile void *lock, unsigned flags,
                                        const lockwatch_frame_t *frames, unsigned nframes) {
  const struct lockwatch__api *a = lockwatch__api();
  if (a->release) a->release((const void *)lock, flags, frames, nframes);
}

#ifdef __cplusplus
}
#endif

#endif /* !LOCKWATCH_NO_API */

#if defined(LOCKWATCH_DISABLE) || defined(LOCKWATCH_NO_API)
#define LOCKWATCH_NAME(lock, name) ((void)0)
#define LOCKWATCH_RANK(lock, rank) ((void)0)
#define LOCKWATCH_RANK_NESTABLE(lock, rank) ((void)0)
#define LOCKWATCH_ASSERT_HELD(lock) ((void)0)
#define LOCKWATCH_ASSERT_READ_HELD(lock) ((void)0)
#else
#define LOCKWATCH_NAME(lock, name) ((void)lockwatch_name((lock), (name)))
#define LOCKWATCH_RANK(lock, rank) ((void)lockwatch_rank((lock), (rank)))
#define LOCKWATCH_RANK_NESTABLE(lock, rank) ((void)lockwatch_rank_nestable((lock), (rank)))
/* The assertions call lockwatch from the line they are on, so that line tops the report's stack. */
#define LOCKWATCH__ASSERT(lock, read)                                               \
  do {                                                                              \
    const struct lockwatch__api *lockwatch__a = lockwatch__api();                   \
    if (lockwatch__a->assert_held) lockwatch__a->assert_held((const void *)(lock), read); \
  } while (0)
#define LOCKWATCH_ASSERT_HELD(lock) LOCKWATCH__ASSERT(lock, 0)
#define LOCKWATCH_ASSERT_READ_HELD(lock) LOCKWATCH__ASSERT(lock, 1)
#endif

#endif
