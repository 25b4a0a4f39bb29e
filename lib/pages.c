/*
 * pages.c - a counted set of page numbers (see pages.h), on an lw_lfmap.
 */
#include "pages.h"

#include <stdatomic.h>

#include "lfmap.h"

static lw_lfmap_t pages; /* page key -> number of live locks starting there */
static _Atomic uint64_t live_pages;

/* Even and at least 2: never an lfmap's empty or tombstone key. */
static uintptr_t page_key(uintptr_t addr) { return ((addr >> LW_PAGE_SHIFT) + 1) << 1; }

void lw_pages_add(uintptr_t addr) {
  uintptr_t key = page_key(addr), n = lw_lfmap_get(&pages, key);
  if (lw_lfmap_put(&pages, key, n + 1) && n == 0)
    atomic_fetch_add_explicit(&live_pages, 1, memory_order_relaxed);
}

void lw_pages_remove(uintptr_t addr) {
  uintptr_t key = page_key(addr), n = lw_lfmap_get(&pages, key);
  if (n > 1) {
    lw_lfmap_put(&pages, key, n - 1);
  } else if (n == 1) {
    lw_lfmap_remove(&pages, key);
    atomic_fetch_sub_explicit(&live_pages, 1, memory_order_relaxed);
  }
}

uint64_t lw_pages_live(void) { return atomic_load_explicit(&live_pages, memory_order_relaxed); }

bool lw_pages_has(uintptr_t addr) { return lw_lfmap_get(&pages, page_key(addr)) != 0; }

uint64_t lw_pages_bytes(void) { return pages.bytes; }
