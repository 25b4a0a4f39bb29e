/*
 * stack.c - stack capture: libunwind's unw_backtrace when libunwind.so.8 is
 * installed (unwinder=auto), else glibc's backtrace (DWARF unwinding through
 * libgcc_s, which finds unwind tables with _dl_find_object and so takes no
 * loader lock on glibc 2.35 and later). Both give the same return addresses;
 * libunwind keeps, per thread, what it learned of each address's frame, so
 * a stack through code it has seen costs it a few nanoseconds a frame where
 * libgcc interprets the unwind tables again every time (about 15 times as
 * much: docs/benchmarks.md).
 */
#include "stack.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>

#define LW_MAX_FRAMES 256
#define LW_SELF_MARGIN 16

static uintptr_t self_lo, self_hi;
static int (*fast_backtrace)(void **, int); /* libunwind's unw_backtrace, or NULL */

/* libunwind's per-thread cache of what it learned (UNW_CACHE_PER_THREAD). */
#define LW_UNW_CACHE_PER_THREAD 2

/* libunwind's own data (its locks are lockwatch's, never the program's): [own_lo, own_hi). */
static uintptr_t own_lo, own_hi;

struct own_find {
  uintptr_t base, lo, hi;
};

static int find_own(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct own_find *f = arg;
  if (info->dlpi_addr != f->base) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W)) continue;
    uintptr_t lo = f->base + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (!f->lo || lo < f->lo) f->lo = lo;
    if (hi > f->hi) f->hi = hi;
  }
  return 1;
}

bool lw_stack_owns(uintptr_t addr) { return addr >= own_lo && addr < own_hi; }

bool lw_stack_use_libunwind(void) {
  void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!h) return false;
  int (*set_policy)(void *, int) = (int (*)(void *, int))dlsym(h, "_ULx86_64_set_caching_policy");
  void **local = (void **)dlsym(h, "_ULx86_64_local_addr_space");
  int (*bt)(void **, int) = (int (*)(void **, int))dlsym(h, "unw_backtrace");
  if (!bt) return false;
  struct link_map *map = NULL;
  if (dlinfo(h, RTLD_DI_LINKMAP, &map) == 0 && map) {
    struct own_find f = {map->l_addr, 0, 0};
    dl_iterate_phdr(find_own, &f);
    own_lo = f.lo;
    own_hi = f.hi;
  }
  if (set_policy && local) (void)set_policy(*local, LW_UNW_CACHE_PER_THREAD);
  fast_backtrace = bt;
  return true;
}


const char *lw_stack_unwinder(void) { return fast_backtrace ? "libunwind" : "glibc"; }

static __thread struct {
  const uintptr_t *pcs;
  uint32_t n;
  int only;
} lead __attribute__((tls_model("initial-exec")));

void lw_stack_set_lead(const uintptr_t *pcs, uint32_t n, int only) {
  lead.pcs = pcs;
  lead.n = n;
  lead.only = only;
}

void lw_stack_warm_up(void) {
  void *buf[4];
  if (fast_backtrace) (void)fast_backtrace(buf, 4);
  (void)backtrace(buf, 4);
}

void lw_stack_set_self(uintptr_t lo, uintptr_t hi) {
  self_lo = lo;
  self_hi = hi;
}

int lw_stack_is_self(uintptr_t pc) { return pc >= self_lo && pc < self_hi; }

static uint32_t capture_led(lw_depot_t *d, int depth);

uint32_t lw_stack_capture(lw_depot_t *d, int depth) {
  void *buf[LW_MAX_FRAMES + LW_SELF_MARGIN];
  if (depth > LW_MAX_FRAMES) depth = LW_MAX_FRAMES;
  if (depth < 1) depth = 1;
  if (lead.n) return capture_led(d, depth);
  int n = fast_backtrace ? fast_backtrace(buf, depth + LW_SELF_MARGIN)
                         : backtrace(buf, depth + LW_SELF_MARGIN);
  int skip = 1; /* this function */
  if (self_hi) {
    /* an interceptor of backtrace (a sanitizer's) may come before our frames */
    skip = 0;
    while (skip < n && skip < 4 && !lw_stack_is_self((uintptr_t)buf[skip])) skip++;
    if (skip == n || skip == 4) skip = 0;
    while (skip < n && lw_stack_is_self((uintptr_t)buf[skip])) skip++;
  }
  if (skip >= n) return 0;
  int keep = n - skip;
  if (keep > depth) keep = depth;
  return lw_depot_put(d, (const uintptr_t *)(buf + skip), (uint32_t)keep);
}

/* The lead frames, then (unless they are the whole stack) the machine's. */
static uint32_t capture_led(lw_depot_t *d, int depth) {
  uintptr_t buf[LW_MAX_FRAMES];
  uint32_t n = lead.n < (uint32_t)depth ? lead.n : (uint32_t)depth;
  for (uint32_t i = 0; i < n; i++) buf[i] = lead.pcs[i];
  if (!lead.only && n < (uint32_t)depth) {
    uint32_t rest = 0;
    const uintptr_t *more = NULL;
    uint32_t saved = lead.n;
    lead.n = 0; /* the machine's own capture, without the lead */
    uint32_t id = lw_stack_capture(d, depth - (int)n);
    lead.n = saved;
    more = lw_depot_get(d, id, &rest);
    for (uint32_t i = 0; i < rest && n < (uint32_t)depth; i++) buf[n++] = more[i];
  }
  return lw_depot_put(d, buf, n);
}
