/*
 * pages.c - a counted set of page numbers (see pages.h), on an lw_lfmap,
 * and the summary tree above it: the node of level k (1 to LW_LEVELS) with
 * prefix p covers the pages whose number shifted right by 9 k is p, and its
 * bitmap says which of its 512 children (nodes of level k - 1, pages at
 * level 0) hold a lock. The top level has a single node (prefix 0).
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

#define LW_FANOUT_SHIFT 9
#define LW_FANOUT (1u << LW_FANOUT_SHIFT)
/* Levels above the pages: 6 x 9 bits cover every page number of 64-bit addresses. */
#define LW_LEVELS 6

/* A summary node: which of its children hold a lock, and how many do. */
struct node {
  uint32_t count;
  _Atomic uint64_t bits[LW_FANOUT / 64];
};

static lw_lfmap_t nodes; /* node key -> struct node */
static uint64_t node_bytes;
/* A summary node could not be made (memory exhausted): scans walk page by page. */
static _Atomic int summary_broken;

/* Even and at least 2, as page keys, in a map of their own. */
static uintptr_t node_key(unsigned level, uint64_t prefix) {
  return (uintptr_t)(((prefix << 3 | level) + 1) << 1);
}

static struct node *node_get(unsigned level, uint64_t prefix) {
  return (struct node *)lw_lfmap_get(&nodes, node_key(level, prefix));
}

/* Marks the page numbered pg populated in every level that did not know it. */
static void summary_add(uint64_t pg) {
  for (unsigned k = 1; k <= LW_LEVELS; k++) {
    uint64_t prefix = pg >> (LW_FANOUT_SHIFT * k);
    uint32_t child = (uint32_t)(pg >> (LW_FANOUT_SHIFT * (k - 1))) & (LW_FANOUT - 1);
    struct node *nd = node_get(k, prefix);
    if (!nd) {
      if (!(nd = lw_alloc(sizeof *nd)) || !lw_lfmap_put(&nodes, node_key(k, prefix), (uintptr_t)nd)) {
        if (nd) lw_free(nd, sizeof *nd);
        atomic_store_explicit(&summary_broken, 1, memory_order_relaxed);
        return;
      }
      node_bytes += sizeof *nd;
    }
    bool was_empty = nd->count == 0;
    uint64_t w = atomic_load_explicit(&nd->bits[child / 64], memory_order_relaxed);
    if (!(w & (1ull << (child % 64)))) {
      atomic_store_explicit(&nd->bits[child / 64], w | 1ull << (child % 64), memory_order_release);
      nd->count++;
    }
    if (!was_empty) return; /* the levels above know this node already */
  }
}

/* The page numbered pg holds no lock any more: clears it, and the nodes it empties. */
static void summary_remove(uint64_t pg) {
  for (unsigned k = 1; k <= LW_LEVELS; k++) {
    uint64_t prefix = pg >> (LW_FANOUT_SHIFT * k);
    uint32_t child = (uint32_t)(pg >> (LW_FANOUT_SHIFT * (k - 1))) & (LW_FANOUT - 1);
    struct node *nd = node_get(k, prefix);
    if (!nd) return;
    uint64_t w = atomic_load_explicit(&nd->bits[child / 64], memory_order_relaxed);
    if (!(w & (1ull << (child % 64)))) return;
    atomic_store_explicit(&nd->bits[child / 64], w & ~(1ull << (child % 64)), memory_order_release);
    if (--nd->count) return;
    lw_lfmap_remove(&nodes, node_key(k, prefix));
    node_bytes -= sizeof *nd;
    lw_free(nd, sizeof *nd); /* as pages: a reader still here reads bits, not a fault */
  }
}

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
    summary_add(addr >> LW_PAGE_SHIFT);
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
    summary_remove(addr >> LW_PAGE_SHIFT);
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

/* The candidates of the page numbered pg within [lo, hi), given to fn. */
static void scan_page(uint64_t pg, uintptr_t lo, uintptr_t hi, void (*fn)(void *, uintptr_t),
                      void *arg) {
  uintptr_t start = (uintptr_t)pg << LW_PAGE_SHIFT, end = start + ((uintptr_t)1 << LW_PAGE_SHIFT);
  uintptr_t found[LW_PAGE_GRANULES * 2];
  uint32_t n = lw_pages_find(start > lo ? start : lo, end - 1 < hi - 1 ? end : hi, found);
  for (uint32_t i = 0; i < n; i++) fn(arg, found[i]);
}

/* Visits the populated children of the level-k node `prefix` within pages [first, last]. */
static void scan_node(unsigned k, uint64_t prefix, uint64_t first, uint64_t last, uintptr_t lo,
                      uintptr_t hi, void (*fn)(void *, uintptr_t), void *arg) {
  const struct node *nd = node_get(k, prefix);
  if (!nd) return;
  unsigned shift = LW_FANOUT_SHIFT * (k - 1);
  uint64_t base = prefix << LW_FANOUT_SHIFT; /* the first child's prefix */
  uint64_t c0 = first >> shift, c1 = last >> shift;
  uint32_t from = c0 > base ? (uint32_t)(c0 - base) : 0;
  uint32_t to = c1 < base + LW_FANOUT - 1 ? (uint32_t)(c1 - base) : LW_FANOUT - 1;
  for (uint32_t w = from / 64; w <= to / 64; w++) {
    uint64_t bits = atomic_load_explicit(&nd->bits[w], memory_order_acquire);
    if (w == from / 64) bits &= ~0ull << (from % 64);
    if (w == to / 64 && to % 64 != 63) bits &= (2ull << (to % 64)) - 1;
    while (bits) {
      uint64_t child = base + w * 64 + (uint32_t)__builtin_ctzll(bits);
      bits &= bits - 1;
      if (k == 1) scan_page(child, lo, hi, fn, arg);
      else scan_node(k - 1, child, first, last, lo, hi, fn, arg);
    }
  }
}

void lw_pages_scan(uintptr_t lo, uintptr_t hi, void (*fn)(void *arg, uintptr_t addr), void *arg) {
  if (hi <= lo || !lw_pages_live()) return;
  uint64_t first = lo >> LW_PAGE_SHIFT, last = (hi - 1) >> LW_PAGE_SHIFT;
  /* a few pages: looked up one by one, as cheap as the descent and without its levels */
  if (last - first < 8 || atomic_load_explicit(&summary_broken, memory_order_relaxed)) {
    for (uint64_t pg = first;; pg++) {
      scan_page(pg, lo, hi, fn, arg);
      if (pg == last) break;
    }
    return;
  }
  scan_node(LW_LEVELS, 0, first, last, lo, hi, fn, arg);
}

uint64_t lw_pages_live(void) { return atomic_load_explicit(&live_pages, memory_order_relaxed); }

uint64_t lw_pages_bytes(void) { return pages.bytes + page_bytes + nodes.bytes + node_bytes; }
