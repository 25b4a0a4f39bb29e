/*
 * u64map.h - a growable open-addressed map from non-zero 64-bit keys to
 * 64-bit values, for the per-thread caches on the fast path.
 *
 * Lookups touch only the key array (one or two cache lines); values live in
 * a parallel array that a set never allocates. There is no deletion: the
 * caches are cleared whole.
 */
#ifndef LW_U64MAP_H
#define LW_U64MAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct lw_u64map {
  uint64_t *keys;   /* 0 marks an empty slot */
  uint64_t *vals;   /* NULL for a set */
  uint32_t mask;    /* capacity - 1; capacity is a power of two */
  uint32_t count;
  bool is_set;
} lw_u64map_t;

/* Prepares an empty map (with_values false makes a set). Allocates nothing. */
void lw_u64map_init(lw_u64map_t *m, bool with_values);

static inline uint64_t lw_u64_mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/*
 * Finds key (non-zero). Returns true and stores its value in *val (when val
 * is not NULL and the map has values) if present, false otherwise.
 */
static inline bool lw_u64map_get(const lw_u64map_t *m, uint64_t key, uint64_t *val) {
  if (!m->keys) return false;
  uint32_t i = (uint32_t)lw_u64_mix(key) & m->mask;
  for (;;) {
    uint64_t k = m->keys[i];
    if (k == key) {
      if (val && m->vals) *val = m->vals[i];
      return true;
    }
    if (k == 0) return false;
    i = (i + 1) & m->mask;
  }
}

/*
 * Inserts or overwrites key (non-zero). Returns false only when memory for
 * growing the table is exhausted (the map is unchanged then).
 */
bool lw_u64map_put(lw_u64map_t *m, uint64_t key, uint64_t val);

/* Frees the arrays and leaves an empty map. */
void lw_u64map_clear(lw_u64map_t *m);

/* Returns the bytes the map occupies. */
uint64_t lw_u64map_bytes(const lw_u64map_t *m);

#endif
