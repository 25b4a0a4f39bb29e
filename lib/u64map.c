/*
 * u64map.c - growth and insertion for the open-addressed 64-bit map.
 * The table doubles when three quarters full.
 */
#include "u64map.h"

#include "alloc.h"

void lw_u64map_init(lw_u64map_t *m, bool with_values) {
  m->keys = NULL;
  m->vals = NULL;
  m->mask = 0;
  m->count = 0;
  m->is_set = !with_values;
}

static void insert_raw(uint64_t *keys, uint64_t *vals, uint32_t mask, uint64_t key,
                       uint64_t val) {
  uint32_t i = (uint32_t)lw_u64_mix(key) & mask;
  while (keys[i] != 0 && keys[i] != key) i = (i + 1) & mask;
  keys[i] = key;
  if (vals) vals[i] = val;
}

static bool grow(lw_u64map_t *m) {
  uint32_t cap = m->keys ? (m->mask + 1) * 2 : 64;
  uint64_t *keys = lw_alloc((size_t)cap * sizeof *keys);
  uint64_t *vals = NULL;
  if (!keys) return false;
  if (!m->is_set) {
    vals = lw_alloc((size_t)cap * sizeof *vals);
    if (!vals) {
      lw_free(keys, (size_t)cap * sizeof *keys);
      return false;
    }
  }
  if (m->keys) {
    for (uint32_t i = 0; i <= m->mask; i++)
      if (m->keys[i]) insert_raw(keys, vals, cap - 1, m->keys[i], m->vals ? m->vals[i] : 0);
    size_t old = (size_t)(m->mask + 1) * sizeof(uint64_t);
    lw_free(m->keys, old);
    lw_free(m->vals, old);
  }
  m->keys = keys;
  m->vals = vals;
  m->mask = cap - 1;
  return true;
}

bool lw_u64map_put(lw_u64map_t *m, uint64_t key, uint64_t val) {
  if (!m->keys || (uint64_t)(m->count + 1) * 4 > (uint64_t)(m->mask + 1) * 3)
    if (!grow(m)) return false;
  uint32_t i = (uint32_t)lw_u64_mix(key) & m->mask;
  while (m->keys[i] != 0 && m->keys[i] != key) i = (i + 1) & m->mask;
  if (m->keys[i] == 0) m->count++;
  m->keys[i] = key;
  if (m->vals) m->vals[i] = val;
  return true;
}

void lw_u64map_clear(lw_u64map_t *m) {
  if (m->keys) {
    size_t sz = (size_t)(m->mask + 1) * sizeof(uint64_t);
    lw_free(m->keys, sz);
    lw_free(m->vals, sz);
  }
  bool set = m->is_set;
  lw_u64map_init(m, !set);
}

uint64_t lw_u64map_bytes(const lw_u64map_t *m) {
  if (!m->keys) return 0;
  return (uint64_t)(m->mask + 1) * sizeof(uint64_t) * (m->is_set ? 1 : 2);
}
