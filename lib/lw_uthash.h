/*
 * lw_uthash.h - uthash, configured for lockwatch: memory from lw_alloc, a
 * cheap hash function, and no abort on exhausted memory (the add fails and
 * *lw_uthash_oom is set instead).
 */
#ifndef LW_UTHASH_H
#define LW_UTHASH_H

#include "alloc.h"
#include "u64map.h"

extern _Thread_local int lw_uthash_oom;

#define uthash_malloc(sz) lw_alloc(sz)
#define uthash_free(ptr, sz) lw_free((ptr), (sz))
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (lw_uthash_oom = 1)
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = lw__hash_bytes((keyptr), (keylen)))

static inline unsigned lw__hash_bytes(const void *key, unsigned len) {
  const unsigned char *p = key;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
  for (; len >= 8; len -= 8, p += 8) {
    uint64_t w;
    __builtin_memcpy(&w, p, 8);
    h = lw_u64_mix(h ^ w);
  }
  for (; len; len--) h = lw_u64_mix(h ^ *p++);
  return (unsigned)h;
}

#include <uthash.h>

#endif
