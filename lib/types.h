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
  LW_ACQ_TIMED = 1u << 1 /* blocks with a timeout: counts like a lock */
};

/* Names used in reports. */
const char *lw_type_name(unsigned type);
const char *lw_mode_name(unsigned mode);

#endif
