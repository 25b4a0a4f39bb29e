/*
 * frames.c - the frames a program gives (see frames.h). A table of entries,
 * each a (file, line, function) triple, numbered in the order first seen;
 * the number is the low part of the frame's address. A thread remembers
 * the entries it used last, so giving the same frames again takes no lock.
 */
#include "frames.h"

#include <string.h>

#include "alloc.h"
#include "lwlock.h"
#include "u64map.h"

typedef struct frame_entry {
  uint64_t hash;
  int line;
  const char *file, *function; /* both inside text */
  uint32_t number;             /* 1, 2, ... */
  char text[];
} frame_entry_t;

static lw_ilock_t frames_lock = LW_ILOCK_INIT;
static lw_u64map_t by_hash;     /* hash (probed on collision) -> number of the entry */
static frame_entry_t **entries; /* entry of number i at [i - 1]; under frames_lock */
static uint32_t nentries, cap_entries;

/* A frame's address: spaced so that pc - 1 names the same frame as pc. */
#define PC_OF(number) ((uintptr_t)LW_FRAME_PC_BASE + ((uintptr_t)(number) << 4))

#define CACHE 64
static __thread struct {
  uint64_t hash;
  const frame_entry_t *e;
} cache[CACHE] __attribute__((tls_model("initial-exec")));

static uint64_t hash_of(const char *file, int line, const char *function) {
  uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(unsigned)line;
  for (const char *s = file; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  h = (h ^ 0xff) * 0x100000001b3ULL;
  for (const char *s = function; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h ? h : 1;
}

/* Does e hold this frame (as cut to LW_FRAME_TEXT_MAX)? */
static bool same(const frame_entry_t *e, const char *file, int line, const char *function) {
  return e->line == line && strncmp(e->file, file, LW_FRAME_TEXT_MAX) == 0 &&
         strncmp(e->function, function, LW_FRAME_TEXT_MAX) == 0;
}

/* Stores a new entry; caller holds frames_lock. NULL on OOM. */
static const frame_entry_t *add(uint64_t hash, const char *file, int line, const char *function) {
  if (nentries == cap_entries) {
    uint32_t cap = cap_entries ? cap_entries * 2 : 256;
    frame_entry_t **p = lw_realloc(entries, cap_entries * sizeof *p, cap * sizeof *p);
    if (!p) return NULL;
    entries = p;
    cap_entries = cap;
  }
  size_t nf = strnlen(file, LW_FRAME_TEXT_MAX), nfn = strnlen(function, LW_FRAME_TEXT_MAX);
  frame_entry_t *e = lw_alloc(sizeof *e + nf + nfn + 2);
  if (!e) return NULL;
  e->hash = hash;
  e->line = line;
  memcpy(e->text, file, nf);
  e->text[nf] = 0;
  memcpy(e->text + nf + 1, function, nfn);
  e->text[nf + 1 + nfn] = 0;
  e->file = e->text;
  e->function = e->text + nf + 1;
  entries[nentries++] = e;
  e->number = nentries;
  return e;
}

uintptr_t lw_frame_intern(const char *file, int line, const char *function) {
  if (!file || !*file) file = "?";
  if (!function || !*function) function = "?";
  uint64_t h = hash_of(file, line, function);
  unsigned slot = (unsigned)(h ^ h >> 29) & (CACHE - 1);
  const frame_entry_t *e = cache[slot].e;
  if (cache[slot].hash == h && e && same(e, file, line, function))
    return PC_OF(e->number);
  e = NULL;
  lw_ilock_acquire(&frames_lock);
  uint64_t number = 0;
  /* equal hashes of different frames: probe the next keys */
  for (uint64_t k = h; lw_u64map_get(&by_hash, k, &number); k = k * 0x9e3779b97f4a7c15ULL + 1) {
    const frame_entry_t *c = entries[number - 1];
    if (same(c, file, line, function)) {
      e = c;
      break;
    }
  }
  if (!e) {
    uint64_t k = h;
    while (lw_u64map_get(&by_hash, k, NULL)) k = k * 0x9e3779b97f4a7c15ULL + 1;
    e = add(h, file, line, function);
    if (e) lw_u64map_put(&by_hash, k, e->number);
  }
  lw_ilock_release(&frames_lock);
  if (!e) return 0;
  cache[slot].hash = h;
  cache[slot].e = e;
  return PC_OF(e->number);
}

/* The entry of pc or pc - 1. */
static const frame_entry_t *of_pc(uintptr_t pc) {
  if (!lw_frame_pc_is(pc)) return NULL;
  const frame_entry_t *e = NULL;
  uint64_t n = (pc - LW_FRAME_PC_BASE + 8) >> 4;
  lw_ilock_acquire(&frames_lock);
  if (n >= 1 && n <= nentries) e = entries[n - 1];
  lw_ilock_release(&frames_lock);
  return e;
}

bool lw_frame_lookup(uintptr_t pc, const char **file, int *line, const char **function) {
  const frame_entry_t *e = of_pc(pc);
  if (!e) return false;
  *file = e->file;
  *line = e->line;
  *function = e->function;
  return true;
}

uint64_t lw_frame_key(uintptr_t pc) {
  const frame_entry_t *e = of_pc(pc);
  return e ? e->hash : 0;
}
