/*
 * symbolize.c - libdw-based symbolization of the live process (see
 * symbolize.h). libdw is opened with dlopen the first time something is
 * symbolized, so a run without reports never loads it (nor its five
 * compression libraries). Without libdw, frames still get their module and
 * nearest exported symbol from dladdr. libdw is not thread-safe: one
 * lockwatch lock serializes it. Modules loaded after the first report are
 * found by reporting the process's mappings again when an address has no
 * module.
 */
#include "symbolize.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "lwlock.h"
#include "u64map.h"

/* The libdw functions lockwatch uses, looked up in libdw.so.1 at first use. */
#define LW_DW_FUNCTIONS(X)           \
  X(dwfl_begin)                      \
  X(dwfl_report_begin)               \
  X(dwfl_report_end)                 \
  X(dwfl_linux_proc_report)          \
  X(dwfl_linux_proc_find_elf)        \
  X(dwfl_standard_find_debuginfo)    \
  X(dwfl_addrmodule)                 \
  X(dwfl_module_info)                \
  X(dwfl_module_addrinfo)            \
  X(dwfl_module_getsrc)              \
  X(dwfl_lineinfo)

static struct {
#define LW_DW_FIELD(name) __typeof__(name) *name;
  LW_DW_FUNCTIONS(LW_DW_FIELD)
#undef LW_DW_FIELD
} dw;

static lw_ilock_t sym_lock = LW_ILOCK_INIT;
static int dw_state; /* 0 not tried, 1 loaded, -1 unavailable */
static Dwfl *dwfl;
static char *debuginfo_path;
static Dwfl_Callbacks callbacks = {.debuginfo_path = &debuginfo_path};
static lw_u64map_t cache; /* pc -> 1 + index into frames */
static lw_frame_t *frames;
static uint32_t nframes, cap_frames;

/* Opens libdw once; returns true if it is usable. Caller holds sym_lock. */
static bool load_libdw(void) {
  if (dw_state) return dw_state > 0;
  dw_state = -1;
  void *h = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) return false;
#define LW_DW_LOAD(name) \
  if (!(dw.name = (__typeof__(name) *)dlsym(h, #name))) return false;
  LW_DW_FUNCTIONS(LW_DW_LOAD)
#undef LW_DW_LOAD
  callbacks.find_elf = dw.dwfl_linux_proc_find_elf;
  callbacks.find_debuginfo = dw.dwfl_standard_find_debuginfo;
  dw_state = 1;
  return true;
}

static void report_modules(void) {
  dw.dwfl_report_begin(dwfl);
  dw.dwfl_linux_proc_report(dwfl, getpid());
  dw.dwfl_report_end(dwfl, NULL, NULL);
}

/* Returns the module of addr, re-reading the mappings once if needed. */
static Dwfl_Module *module_of(uintptr_t addr) {
  if (!load_libdw()) return NULL;
  if (!dwfl) {
    dwfl = dw.dwfl_begin(&callbacks);
    if (!dwfl) return NULL;
    report_modules();
  }
  Dwfl_Module *m = dw.dwfl_addrmodule(dwfl, addr);
  if (!m) {
    report_modules();
    m = dw.dwfl_addrmodule(dwfl, addr);
  }
  return m;
}

static const char *keep(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *p = lw_alloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

/* Demangles a C++ name when the program has the C++ runtime loaded. */
static const char *demangle(const char *name) {
  typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);
  static demangle_fn fn;
  static int looked;
  char plain[512];
  const char *at = name ? strchr(name, '@') : NULL;
  if (at && (size_t)(at - name) < sizeof plain) { /* "__libc_start_main@@GLIBC_2.34" */
    memcpy(plain, name, (size_t)(at - name));
    plain[at - name] = 0;
    name = plain;
  }
  if (!name || name[0] != '_' || name[1] != 'Z') return keep(name);
  if (!looked) {
    looked = 1;
    fn = (demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
  }
  if (!fn) return keep(name);
  int status = -1;
  char *d = fn(name, NULL, NULL, &status);
  const char *r = keep(status == 0 && d ? d : name);
  free(d);
  return r;
}

static void resolve(uintptr_t pc, lw_frame_t *f) {
  memset(f, 0, sizeof *f);
  f->pc = pc;
  uintptr_t at = pc ? pc - 1 : 0; /* the call instruction, not the one after it */
  Dwfl_Module *m = module_of(at);
  if (!m) {
    Dl_info info;
    if (dladdr((void *)at, &info) && info.dli_fname) {
      f->module = keep(info.dli_fname);
      f->offset = pc - (uintptr_t)info.dli_fbase;
      f->function = demangle(info.dli_sname);
    }
    return;
  }
  Dwarf_Addr start = 0;
  /* libdw's strings die when the mappings are re-read (report_modules): copy them */
  f->module = keep(dw.dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL));
  f->offset = pc - (uintptr_t)start;
  GElf_Off off;
  GElf_Sym sym;
  f->function = demangle(dw.dwfl_module_addrinfo(m, at, &off, &sym, NULL, NULL, NULL));
  Dwfl_Line *line = dw.dwfl_module_getsrc(m, at);
  if (line) {
    int lineno = 0, col = 0;
    f->file = keep(dw.dwfl_lineinfo(line, NULL, &lineno, &col, NULL, NULL));
    f->line = lineno;
    f->column = col;
  }
}

void lw_symbolize_pc(uintptr_t pc, lw_frame_t *f) {
  uint64_t idx = 0;
  lw_ilock_acquire(&sym_lock);
  if (lw_u64map_get(&cache, (uint64_t)pc | (1ULL << 63), &idx)) {
    *f = frames[idx - 1];
    lw_ilock_release(&sym_lock);
    return;
  }
  resolve(pc, f);
  if (nframes == cap_frames) {
    uint32_t cap = cap_frames ? cap_frames * 2 : 256;
    void *p = lw_realloc(frames, cap_frames * sizeof *frames, cap * sizeof *frames);
    if (p) {
      frames = p;
      cap_frames = cap;
    }
  }
  if (nframes < cap_frames) {
    frames[nframes++] = *f;
    lw_u64map_put(&cache, (uint64_t)pc | (1ULL << 63), nframes);
  }
  lw_ilock_release(&sym_lock);
}

bool lw_symbolize_data(uintptr_t addr, char *buf, unsigned len) {
  bool ok = false;
  buf[0] = 0;
  lw_ilock_acquire(&sym_lock);
  Dwfl_Module *m = module_of(addr);
  GElf_Off off;
  GElf_Sym sym;
  const char *name = m ? dw.dwfl_module_addrinfo(m, addr, &off, &sym, NULL, NULL, NULL) : NULL;
  if (name && GELF_ST_TYPE(sym.st_info) == STT_OBJECT &&
      (off < sym.st_size || (sym.st_size == 0 && off == 0))) {
    const char *shown = demangle(name);
    if (!shown) shown = name;
    if (off) snprintf(buf, len, "%s+%llu", shown, (unsigned long long)off);
    else snprintf(buf, len, "%s", shown);
    ok = true;
  }
  lw_ilock_release(&sym_lock);
  return ok;
}

const char *lw_basename(const char *path) {
  if (!path) return NULL;
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

void lw_symbolize_fork_child(void) {
  /* a thread lost in the fork may have been inside libdw: start afresh */
  lw_ilock_reset(&sym_lock);
  dwfl = NULL;
}
