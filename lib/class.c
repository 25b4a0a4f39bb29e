/*
 * class.c - lock classes (see class.h and docs/design.md "Lock classes").
 * Only the slow path calls in here: once per new lock, and the answer for a
 * stack already seen is one table lookup.
 */
#include "class.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "depot.h"
#include "frames.h"
#include "lwlock.h"
#include "options.h"
#include "u64map.h"

static lw_ilock_t class_lock = LW_ILOCK_INIT;
static lw_class_t **by_number; /* class i at [i - 1] */
static uint32_t nclasses, cap_classes;
static lw_class_t **buckets; /* key -> class, chained */
static uint32_t bucket_mask;
static lw_u64map_t by_stack; /* (stack id, how) -> class number */
static lw_u64map_t generations; /* static lock address -> identities it had so far */
static char program_name[256];

void lw_class_set_program(const char *path) {
  const char *slash = strrchr(path, '/');
  snprintf(program_name, sizeof program_name, "%s", slash ? slash + 1 : path);
}

static uint64_t hash_text(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h;
}

/*
 * Finds the module holding addr: its path (the program's own name for the
 * main program), and addr relative to its load address. False if no module
 * holds addr (heap, stack, anonymous mappings).
 */
static bool module_of(uintptr_t addr, const char **path, uintptr_t *offset) {
  struct dl_find_object fo;
  if (_dl_find_object((void *)addr, &fo) != 0 || !fo.dlfo_link_map) return false;
  const struct link_map *lm = fo.dlfo_link_map;
  const char *name = lm->l_name && lm->l_name[0] ? lm->l_name : program_name;
  *path = name;
  *offset = addr - lm->l_addr;
  return true;
}

/* The key of a module-relative place: the module's file name and the offset. */
static uint64_t place_key(uint64_t h, uintptr_t addr) {
  const char *path;
  uintptr_t off;
  if (lw_frame_pc_is(addr)) return lw_u64_mix(h ^ lw_frame_key(addr)); /* a given frame: its text */
  if (module_of(addr, &path, &off)) {
    const char *slash = strrchr(path, '/');
    h = lw_u64_mix(h ^ hash_text(slash ? slash + 1 : path));
    return lw_u64_mix(h ^ off);
  }
  return lw_u64_mix(h ^ addr); /* code outside any module (generated): this run only */
}

static bool table_grow(void) {
  uint32_t cap = buckets ? (bucket_mask + 1) * 2 : 256;
  lw_class_t **nb = lw_alloc((size_t)cap * sizeof *nb);
  if (!nb) return false;
  for (uint32_t i = 0; i < nclasses; i++) {
    lw_class_t *c = by_number[i];
    uint32_t k = (uint32_t)c->key & (cap - 1);
    c->next = nb[k];
    nb[k] = c;
  }
  if (buckets) lw_free(buckets, (size_t)(bucket_mask + 1) * sizeof *nb);
  buckets = nb;
  bucket_mask = cap - 1;
  return true;
}

/* Finds or makes the class of key. Caller holds class_lock. */
static lw_class_t *class_get(uint64_t key, unsigned how, unsigned type, unsigned kind,
                             uint32_t stack, uintptr_t addr) {
  if (buckets)
    for (lw_class_t *c = buckets[(uint32_t)key & bucket_mask]; c; c = c->next)
      if (c->key == key) return c;
  if (nclasses == cap_classes) {
    uint32_t ncap = cap_classes ? cap_classes * 2 : 64;
    lw_class_t **p = lw_realloc(by_number, (size_t)cap_classes * sizeof *p, (size_t)ncap * sizeof *p);
    if (!p) return NULL;
    by_number = p;
    cap_classes = ncap;
  }
  if ((!buckets || nclasses >= bucket_mask) && !table_grow()) return NULL;
  lw_class_t *c = lw_alloc(sizeof *c);
  if (!c) return NULL;
  c->key = key;
  c->how = (uint8_t)how;
  c->type = (uint8_t)type;
  c->stack = stack;
  c->addr = addr;
  c->module = "";
  const char *path;
  if (how == LW_CLASS_STATIC && module_of(addr, &path, &c->offset)) {
    /* a copy: the loader frees its name of a library that dlclose unmaps */
    size_t n = strlen(path) + 1;
    char *copy = lw_alloc(n);
    if (copy) c->module = memcpy(copy, path, n);
  }
  by_number[nclasses++] = c;
  lw_graph_node_init(&c->node, nclasses, (kind & 8u /* LW_KIND_READER_PREF */) != 0);
  uint32_t b = (uint32_t)key & bucket_mask;
  c->next = buckets[b];
  buckets[b] = c;
  return c;
}

lw_class_t *lw_class_of(lw_u64map_t *cache, uintptr_t addr, unsigned type, unsigned kind,
                        uint32_t stack, bool at_init) {
  const char *path;
  uintptr_t off;
  lw_class_t *c = NULL;
  if (module_of(addr, &path, &off)) {
    /*
     * The n-th lock at a static address is a class of its own: a lock
     * destroyed and initialised again is a new lock (docs/rules.md), and
     * the count is the same in every run of the same program.
     */
    uint64_t gen = 0;
    lw_ilock_acquire(&class_lock);
    (void)lw_u64map_get(&generations, addr, &gen);
    lw_u64map_put(&generations, addr, gen + 1);
    lw_ilock_release(&class_lock);
    uint64_t key = lw_u64_mix(place_key(0x5354415449430000ULL /* "STATIC" */, addr) ^ gen) | 1;
    lw_ilock_acquire(&class_lock);
    c = class_get(key, LW_CLASS_STATIC, type, kind, 0, addr);
    lw_ilock_release(&class_lock);
  } else {
    unsigned how = at_init ? LW_CLASS_INIT : LW_CLASS_FIRST_USE;
    uint64_t memo = lw_u64_mix(((uint64_t)stack << 2 | how) + 1) | 1;
    uint64_t num = 0;
    /* classes live until exit: a thread keeps the pointers it was given */
    if (cache && lw_u64map_get(cache, memo, &num)) return (lw_class_t *)(uintptr_t)num;
    lw_ilock_acquire(&class_lock);
    if (lw_u64map_get(&by_stack, memo, &num) && num) c = by_number[num - 1];
    lw_ilock_release(&class_lock);
    if (c) goto found;
    uint32_t n = 0;
    const uintptr_t *pcs = lw_depot_get(&lw_stacks, stack, &n);
    uint64_t key = 0x494e495400000000ULL + how;
    uint32_t depth = (uint32_t)lw_opt.class_depth;
    for (uint32_t i = 0; i < n && i < depth; i++) key = place_key(key, pcs[i] - 1);
    key |= 1;
    lw_ilock_acquire(&class_lock);
    c = class_get(key, how, type, kind, stack, 0);
    if (c) lw_u64map_put(&by_stack, memo, c->node.id);
    lw_ilock_release(&class_lock);
  found:
    if (c && cache) lw_u64map_put(cache, memo, (uint64_t)(uintptr_t)c);
  }
  return c;
}

lw_class_t *lw_class_of_key(uintptr_t key_addr, unsigned type, unsigned kind, uint32_t stack) {
  uint64_t key = place_key(0x4b45594544000000ULL /* "KEYED" */, key_addr) | 1;
  lw_ilock_acquire(&class_lock);
  lw_class_t *c = class_get(key, LW_CLASS_INIT, type, kind, stack, 0);
  lw_ilock_release(&class_lock);
  return c; /* its instances are counted by the registry, as it makes the record */
}

uint64_t lw_class_stack_key(uint32_t stack) {
  uint32_t n = 0;
  const uintptr_t *pcs = lw_depot_get(&lw_stacks, stack, &n);
  uint64_t key = 0x535441434b000000ULL + n;
  for (uint32_t i = 0; i < n; i++) key = place_key(key, pcs[i] - 1);
  return key | 1;
}

uint32_t lw_class_count(void) {
  lw_ilock_acquire(&class_lock);
  uint32_t n = nclasses;
  lw_ilock_release(&class_lock);
  return n;
}

lw_class_t *lw_class_at(uint32_t i) {
  lw_ilock_acquire(&class_lock);
  lw_class_t *c = i >= 1 && i <= nclasses ? by_number[i - 1] : NULL;
  lw_ilock_release(&class_lock);
  return c;
}

void lw_class_key_text(uint64_t key, char *buf) {
  snprintf(buf, 18, "C%016llx", (unsigned long long)key);
}

const char *lw_class_how_name(unsigned how) {
  static const char *const names[] = {"static", "init", "first-use"};
  return how < 3 ? names[how] : "?";
}

void lw_class_fork_prepare(void) { lw_ilock_acquire(&class_lock); }
void lw_class_fork_parent(void) { lw_ilock_release(&class_lock); }
void lw_class_fork_child(void) { lw_ilock_reset(&class_lock); }
