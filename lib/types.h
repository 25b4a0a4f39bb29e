/*
 * types.h - vocabulary shared by the whole core: lock types, kinds, modes.
 */
#ifndef LW_TYPES_H
#define LW_TYPES_H

#include <stdint.h>

/* What kind of object a lock is. */
enum lw_type {
  LW_TYPE_MUTEX = 0, /* pthread_mutex_t */
  LW_TYPE_RWLOCK,    /* pthread_rwlock_t */
  LW_TYPE_SPIN,      /* pthread_spinlock_t */
  LW_TYPE_C11,       /* mtx_t */
  LW_TYPE_SEM,       /* sem_t used as a lock (see docs/rules.md, "Semaphores") */
  LW_TYPE_CUSTOM,    /* a lock the program declares through lockwatch.h (lockwatch_lock_create) */
  LW_TYPE_GMUTEX,    /* GLib's GMutex */
  LW_TYPE_COUNT
};

/* Kind flags of a lock record. */
enum {
  LW_KIND_RECURSIVE = 1u << 0,  /* the owner may re-lock it */
  LW_KIND_ERRORCHECK = 1u << 1, /* a re-lock by the owner fails with EDEADLK */
  LW_KIND_ROBUST = 1u << 2,     /* robust mutex (EOWNERDEAD) */
  LW_KIND_READER_PREF = 1u << 3 /* rwlock on which readers never wait for readers */
};

/* Mode of an acquisition. */
enum lw_mode { LW_MODE_WRITE = 0, LW_MODE_READ = 1 };

/* Flags of an acquisition. */
enum {
  LW_ACQ_TRY = 1u << 0,  /* cannot block: adds no edge into the lock */
  LW_ACQ_TIMED = 1u << 1, /* blocks with a timeout: counts like a lock */
  LW_ACQ_REENTER = 1u << 2, /* the owner may take it again this time (a recursive acquisition) */
  /*
   * Held-stack only: a lock below this one was released while this one was
   * held, so the edges recorded when this one was taken no longer connect
   * the locks below it to it (the released lock may be destroyed): new
   * orders must be recorded from below it too.
   */
  LW_HELD_REBRIDGE = 1u << 7
};

/*
 * Who holds a lock, as the lock's own memory tells (the preload reads it:
 * glibc keeps the owner's tid in a mutex and the writer's in an rwlock).
 * Used to tell misuse from a lock taken before lockwatch started watching.
 */
enum lw_owner {
  LW_OWNER_UNKNOWN = 0, /* cannot tell */
  LW_OWNER_NONE,        /* not locked */
  LW_OWNER_SELF,        /* held by the calling thread */
  LW_OWNER_OTHER,       /* held by another thread, whose tid is known */
  LW_OWNER_HELD         /* locked, owner unknown (readers, spinlocks) */
};

typedef struct lw_lockstate {
  uint8_t owner; /* enum lw_owner */
  int tid;       /* the owner's tid for LW_OWNER_OTHER */
} lw_lockstate_t;

/*
 * Reads the state of the lock at addr as seen by the thread with kernel tid
 * self. Supplied by the caller of the core, which alone knows the lock's
 * layout; the core calls it only when it suspects misuse. May be NULL.
 */
typedef lw_lockstate_t (*lw_state_fn)(uintptr_t addr, int self);

/*
 * Reads the kind (LW_KIND_*) of the lock at addr from the lock itself. The
 * core calls it only when it meets the lock for the first time: the fast
 * path must not touch a contended lock's cache line before the real lock
 * does. NULL means kind 0.
 */
typedef unsigned (*lw_kind_fn)(uintptr_t addr);

/* Names used in reports. */
const char *lw_type_name(unsigned type);
const char *lw_mode_name(unsigned mode);

#endif
