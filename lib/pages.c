/*
 * pages.c - a counted set of page numbers (see pages.h), on an lw_lfmap.
 */
#include "pages.h"

#include <stdatomic.h>

#include "alloc.h"
#include "lfmap.h"

/* What a page holds: its number of live locks and which 8-byte granules they start in. */
struct page {
  uint32_t count;
  _Atomic uint64_t bits[LW_PAGE_GRANULES / 64];
};

static lw_lfmap_t pages; /* page key -> struct page */
static _Atomic uint64_t live_pages;
static uint64_t page_bytes;

/* Even and at least 2: never an lfmap's empty or tombstone key. */
static uintptr_t page_key(uintptr_t addr) { return ((addr >> LW_PAGE_SHIFT) + 1) << 1; }

static uint32_t granule(uintptr_t addr) {
  return (uint32_t)((addr & ((1u << LW_PAGE_SHIFT) - 1)) >> LW_GRANULE_SHIFT);
}

void lw_pages_add(uintptr_t addr) {
  uintptr_t key = page_key(addr);
  struct page *pg = (struct page *)lw_lfmap_get(&pages, key);
  if (!pg) {
    if (!(pg = lw_alloc(sizeof *pg))) return;
    if (!lw_lfmap_put(&pages, key, (uintptr_t)pg)) {
      lw_free(pg, sizeof *pg);
      return;
    }
    page_bytes += sizeof *pg;
    atomic_fetch_add_explicit(&live_pages, 1, memory_order_relaxed);
  }
  pg->count++;
  uint32_t g = granule(addr);
  atomic_fetch_or_explicit(&pg->bits[g / 64], 1ull << (g % 64), memory_order_release);
}

void lw_pages_remove(uintptr_t addr) {
  uintptr_t key = page_key(addr);
  struct page *pg = (struct page *)lw_lfmap_get(&pages, key);
  if (!pg) return;
  /* the granule's bit stays while another lock may start in it: cleared with the page */
  if (--pg->count == 0) {
    lw_lfmap_remove(&pages, key);
    atomic_fetch_sub_explicit(&live_pages, 1, memory_order_relaxed);
    page_bytes -= sizeof *pg;
    /* lockwatch memory is never unmapped: a reader still here reads bits, not a fault */
    lw_free(pg, sizeof *pg);
  }
}

uint32_t lw_pages_find(uintptr_t lo, uintptr_t hi, uintptr_t *out) {
  struct page *pg = (struct page *)lw_lfmap_get(&pages, page_key(lo));
  uint32_t n = 0;
  if (!pg || hi <= lo) return 0;
  uintptr_t base = lo & ~(((uintptr_t)1 << LW_PAGE_SHIFT) - 1);
  for (uint32_t w = granule(lo) / 64; w <= granule(hi - 1) / 64; w++) {
    uint64_t bits = atomic_load_explicit(&pg->bits[w], memory_order_acquire);
    while (bits) {
      uint32_t g = w * 64 + (uint32_t)__builtin_ctzll(bits);
      bits &= bits - 1;
      for (uintptr_t a = base + ((uintptr_t)g << LW_GRANULE_SHIFT), k = 0; k < 2; k++, a += 4)
        if (a >= lo && a < hi) out[n++] = a;
    }
  }
  return n;
}

uint64_t lw_pages_live(void) { return atomic_load_explicit(&live_pages, memory_order_relaxed); }

uint64_t lw_pages_bytes(void) { return pages.bytes + page_bytes; }
