/*
 * alloc.c - lockwatch's own allocator: size classes carved from mmap chunks.
 *
 * Requests up to 64 KiB are rounded to a power of two (16 B .. 64 KiB) and
 * served from per-class free lists, refilled from 1 MiB chunks. Larger
 * requests are mapped on their own. One lockwatch lock protects it all; the
 * allocator is used only on slow paths.
 */
#include "alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "lwlock.h"

#define LW_MIN_SHIFT 4
#define LW_MAX_SHIFT 16
#define LW_NCLASSES (LW_MAX_SHIFT - LW_MIN_SHIFT + 1)
#define LW_CHUNK (1u << 20)

struct lw_free_block {
  struct lw_free_block *next;
};

static lw_ilock_t alloc_lock = LW_ILOCK_INIT;
__thread int lw_tls_forking __attribute__((tls_model("initial-exec")));
static struct lw_free_block *free_lists[LW_NCLASSES];
static char *chunk_cur, *chunk_end;
static _Atomic size_t mapped_bytes;
static size_t limit_bytes;
static void (*exhausted_hook)(void);
static _Atomic int exhausted;
__thread int lw_alloc_unlimited __attribute__((tls_model("initial-exec")));

void lw_alloc_set_limit(size_t bytes, void (*hook)(void)) {
  limit_bytes = bytes;
  exhausted_hook = hook;
}

int lw_alloc_exhausted(void) { return atomic_load_explicit(&exhausted, memory_order_relaxed); }

static void refused(void) {
  if (!atomic_exchange(&exhausted, 1) && exhausted_hook) exhausted_hook();
}

static size_t page_round(size_t n) { return (n + 4095) & ~(size_t)4095; }

static int class_of(size_t n) {
  int shift = LW_MIN_SHIFT;
  while (((size_t)1 << shift) < n) shift++;
  return shift - LW_MIN_SHIFT;
}

static void *map_pages(size_t n) {
  if (limit_bytes && !lw_alloc_unlimited &&
      atomic_load_explicit(&mapped_bytes, memory_order_relaxed) + n > limit_bytes) {
    refused();
    return NULL;
  }
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    refused();
    return NULL;
  }
  atomic_fetch_add_explicit(&mapped_bytes, n, memory_order_relaxed);
  return p;
}

/* Takes a block of class c from the current chunk; caller holds alloc_lock. */
static void *carve(int c) {
  size_t sz = (size_t)1 << (c + LW_MIN_SHIFT);
  if ((size_t)(chunk_end - chunk_cur) < sz) {
    char *chunk = map_pages(LW_CHUNK);
    if (!chunk) return NULL;
    chunk_cur = chunk; /* the tail of the old chunk is given up */
    chunk_end = chunk + LW_CHUNK;
  }
  void *p = chunk_cur;
  chunk_cur += sz;
  return p;
}

void *lw_alloc(size_t n) {
  if (n == 0) n = 1;
  if (n > ((size_t)1 << LW_MAX_SHIFT)) return map_pages(page_round(n));
  int c = class_of(n);
  lw_ilock_acquire(&alloc_lock);
  struct lw_free_block *b = free_lists[c];
  void *p;
  if (b) {
    free_lists[c] = b->next;
    p = b;
  } else {
    p = carve(c);
  }
  lw_ilock_release(&alloc_lock);
  if (p && b) memset(p, 0, (size_t)1 << (c + LW_MIN_SHIFT));
  return p; /* fresh chunk memory is already zero */
}

void lw_free(void *p, size_t n) {
  if (!p) return;
  if (n == 0) n = 1;
  if (n > ((size_t)1 << LW_MAX_SHIFT)) {
    size_t len = page_round(n);
    munmap(p, len);
    atomic_fetch_sub_explicit(&mapped_bytes, len, memory_order_relaxed);
    return;
  }
  int c = class_of(n);
  struct lw_free_block *b = p;
  lw_ilock_acquire(&alloc_lock);
  b->next = free_lists[c];
  free_lists[c] = b;
  lw_ilock_release(&alloc_lock);
}

void *lw_realloc(void *p, size_t old_n, size_t new_n) {
  if (!p) return lw_alloc(new_n);
  if (old_n <= ((size_t)1 << LW_MAX_SHIFT) && new_n <= ((size_t)1 << LW_MAX_SHIFT) &&
      class_of(old_n) == class_of(new_n)) {
    if (new_n > old_n) memset((char *)p + old_n, 0, new_n - old_n);
    return p;
  }
  void *q = lw_alloc(new_n);
  if (!q) return NULL;
  memcpy(q, p, old_n < new_n ? old_n : new_n);
  lw_free(p, old_n);
  return q;
}

size_t lw_alloc_mapped(void) {
  return atomic_load_explicit(&mapped_bytes, memory_order_relaxed);
}

void lw_alloc_fork_prepare(void) { lw_ilock_acquire(&alloc_lock); }
void lw_alloc_fork_parent(void) { lw_ilock_release(&alloc_lock); }
void lw_alloc_fork_child(void) { lw_ilock_reset(&alloc_lock); }
