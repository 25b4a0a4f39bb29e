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
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "depot.h"
#include "frames.h"
#include "lwlock.h"
#include "u64map.h"

/* The libdw functions lockwatch uses, looked up in libdw.so.1 at first use. */
#define LW_DW_FUNCTIONS(X)           \
  X(dwfl_begin)                      \
  X(dwfl_report_begin)               \
  X(dwfl_report_end)                 \
  X(dwfl_linux_proc_report)          \
  X(dwfl_linux_proc_find_elf)        \
  X(dwfl_build_id_find_debuginfo)    \
  X(dwfl_addrmodule)                 \
  X(dwfl_module_info)                \
  X(dwfl_module_addrinfo)            \
  X(dwfl_module_getsrc)              \
  X(dwfl_lineinfo)                   \
  X(dwfl_module_addrdie)             \
  X(dwarf_getscopes)                 \
  X(dwarf_getscopes_die)             \
  X(dwarf_tag)                       \
  X(dwarf_attr)                      \
  X(dwarf_attr_integrate)            \
  X(dwarf_formstring)                \
  X(dwarf_formudata)                 \
  X(dwarf_getsrcfiles)               \
  X(dwarf_filesrc)

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
static lw_u64map_t cache; /* pc -> (index into frames) << 8 | number of frames */
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
  /*
   * Separate debug information by build id, on this machine only: libdw's
   * standard search ends in its debuginfod client, which starts curl (and
   * through it libssh2 and the program's own libcrypto, already torn down
   * when the document is written at exit: openssl crashed there) and may
   * reach the network.
   */
  callbacks.find_debuginfo = dw.dwfl_build_id_find_debuginfo;
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

/*
 * Demangles a C++ name with the C++ runtime's __cxa_demangle: the program's
 * if it has one loaded, else libstdc++ opened for the purpose (a C++
 * program that uses nothing of its library does not load it, yet its
 * functions have C++ names). Without either, the name stays as it is. The
 * caller holds sym_lock and the re-entry guard: the runtime's malloc goes
 * straight to the real allocator.
 */
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
    void *h = fn ? NULL : dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
    if (h) fn = (demangle_fn)dlsym(h, "__cxa_demangle");
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

/* The name of a function's DIE, following abstract origins; C++ names demangled. */
static const char *die_name(Dwarf_Die *die) {
  Dwarf_Attribute attr;
  const char *name = NULL;
  if (dw.dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
      dw.dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
    name = dw.dwarf_formstring(&attr);
  if (!name && dw.dwarf_attr_integrate(die, DW_AT_name, &attr)) name = dw.dwarf_formstring(&attr);
  return name ? demangle(name) : NULL;
}

/* Where an inlined call was made: the caller's file and line, from the DIE. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, lw_frame_t *f) {
  Dwarf_Attribute attr;
  Dwarf_Word v;
  Dwarf_Files *files;
  size_t nfiles;
  if (dw.dwarf_attr(inl, DW_AT_call_file, &attr) && dw.dwarf_formudata(&attr, &v) == 0 &&
      dw.dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && v < nfiles)
    f->file = keep(dw.dwarf_filesrc(files, v, NULL, NULL));
  f->line = dw.dwarf_attr(inl, DW_AT_call_line, &attr) && dw.dwarf_formudata(&attr, &v) == 0 ? (int)v : 0;
  f->column = dw.dwarf_attr(inl, DW_AT_call_column, &attr) && dw.dwarf_formudata(&attr, &v) == 0 ? (int)v : 0;
}

/*
 * Expands pc into the functions inlined at it, innermost first, then the
 * function that contains them; out[0] is already resolve()d. Returns the
 * number of frames (>= 1). Caller holds sym_lock.
 */
static uint32_t expand_inlined(uintptr_t pc, lw_frame_t *out, uint32_t max) {
  uintptr_t at = pc ? pc - 1 : 0;
  Dwfl_Module *m = dw_state > 0 && dwfl ? dw.dwfl_addrmodule(dwfl, at) : NULL;
  Dwarf_Addr bias = 0;
  Dwarf_Die *cu = m ? dw.dwfl_module_addrdie(m, at, &bias) : NULL;
  Dwarf_Die *scopes = NULL, *chain = NULL;
  int n = cu ? dw.dwarf_getscopes(cu, at - bias, &scopes) : 0;
  /* the scopes of the innermost one's DIE, up its parents: every inlined level */
  if (n > 0) {
    int nc = dw.dwarf_getscopes_die(&scopes[0], &chain);
    if (nc > 0) {
      free(scopes);
      scopes = chain;
      n = nc;
    }
  }
  uint32_t k = 0;
  const char *symbol = out[0].function; /* the symbol table's name of the outer function */
  for (int i = 0; i < n; i++) {
    int tag = dw.dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_inlined_subroutine && k + 1 < max) {
      out[k].function = die_name(&scopes[i]);
      out[k].inlined = true;
      out[k + 1] = out[k]; /* same pc, module and offset */
      out[k + 1].inlined = false;
      out[k + 1].function = NULL;
      out[k + 1].file = NULL;
      call_site(cu, &scopes[i], &out[k + 1]);
      k++;
    } else if (tag == DW_TAG_subprogram) {
      break;
    }
  }
  if (k) out[k].function = symbol ? symbol : die_name(&scopes[n - 1]);
  free(scopes);
  return k + 1;
}

#define LW_MAX_INLINED 16

uint32_t lw_symbolize_pc_frames(uintptr_t pc, lw_frame_t *out, uint32_t max) {
  uint64_t v = 0;
  if (lw_frame_pc_is(pc) && max) { /* a frame the program gave (lockwatch.h) */
    memset(&out[0], 0, sizeof out[0]);
    out[0].pc = pc;
    if (!lw_frame_lookup(pc, &out[0].file, &out[0].line, &out[0].function)) out[0].function = "?";
    return 1;
  }
  lw_frame_t tmp[LW_MAX_INLINED];
  uint32_t n;
  lw_ilock_acquire(&sym_lock);
  if (lw_u64map_get(&cache, (uint64_t)pc | (1ULL << 63), &v)) {
    n = (uint32_t)(v & 0xff);
    for (uint32_t i = 0; i < n && i < max; i++) out[i] = frames[(v >> 8) + i];
    lw_ilock_release(&sym_lock);
    return n < max ? n : max;
  }
  resolve(pc, &tmp[0]);
  n = expand_inlined(pc, tmp, LW_MAX_INLINED);
  if (nframes + n > cap_frames) {
    uint32_t cap = cap_frames ? cap_frames * 2 : 256;
    while (cap < nframes + n) cap *= 2;
    void *p = lw_realloc(frames, cap_frames * sizeof *frames, cap * sizeof *frames);
    if (p) {
      frames = p;
      cap_frames = cap;
    }
  }
  if (nframes + n <= cap_frames) {
    for (uint32_t i = 0; i < n; i++) frames[nframes + i] = tmp[i];
    lw_u64map_put(&cache, (uint64_t)pc | (1ULL << 63), (uint64_t)nframes << 8 | n);
    nframes += n;
  }
  lw_ilock_release(&sym_lock);
  for (uint32_t i = 0; i < n && i < max; i++) out[i] = tmp[i];
  return n < max ? n : max;
}

uint32_t lw_symbolize_stack(uint32_t stack, lw_frame_fn fn, void *ctx) {
  uint32_t n, k = 0;
  const uintptr_t *pcs = lw_depot_get(&lw_stacks, stack, &n);
  for (uint32_t i = 0; i < n; i++) {
    lw_frame_t f[LW_MAX_INLINED];
    uint32_t m = lw_symbolize_pc_frames(pcs[i], f, LW_MAX_INLINED);
    for (uint32_t j = 0; j < m; j++) fn(&f[j], k++, ctx);
  }
  return k;
}

/* Code of the system, not of the program: C library internals and installed headers. */
static bool system_frame(const lw_frame_t *f) {
  if (f->file) /* a sanitizer runtime's interceptors count as system code too */
    return strncmp(f->file, "/usr/include/", 13) == 0 || strncmp(f->file, "../sysdeps/", 11) == 0 ||
           strncmp(f->file, "./nptl/", 7) == 0 || strstr(f->file, "/libsanitizer/") != NULL ||
           strstr(f->file, "lockwatch/lockwatch.h") != NULL; /* the header's calls into us */
  return !f->module || strncmp(f->module, "/lib", 4) == 0 || strncmp(f->module, "/usr/lib", 8) == 0;
}

struct user_search {
  lw_frame_t first, user, past;
  uintptr_t caller; /* the pc of the frame that called the user frame's function */
  bool have_first, have_user, have_past;
  const char *const *skip;
  uint32_t nskip;
};

static bool skipped(const struct user_search *s, const char *function) {
  for (uint32_t i = 0; function && i < s->nskip; i++)
    if (strcmp(function, s->skip[i]) == 0) return true;
  return false;
}

static void find_user(const lw_frame_t *f, uint32_t index, void *ctx) {
  struct user_search *s = ctx;
  (void)index;
  if (!s->have_first) s->first = *f, s->have_first = true;
  if (s->have_user && !s->caller && f->pc != s->user.pc) s->caller = f->pc;
  if (!s->have_user && !system_frame(f)) s->user = *f, s->have_user = true;
  if (!s->have_past && !system_frame(f) && !skipped(s, f->function))
    s->past = *f, s->have_past = true;
}

/*
 * Runs find_user over the frames of stack, symbolizing them one return
 * address at a time, and stops once the search has what it needs: the frames
 * further out are never symbolized (the debug information of the C library's
 * thread start, say, is not read for a table that names the program's own
 * call sites).
 */
static void user_search_run(uint32_t stack, struct user_search *s, bool need_caller) {
  uint32_t n, k = 0;
  const uintptr_t *pcs = lw_depot_get(&lw_stacks, stack, &n);
  for (uint32_t i = 0; i < n; i++) {
    lw_frame_t f[LW_MAX_INLINED];
    uint32_t m = lw_symbolize_pc_frames(pcs[i], f, LW_MAX_INLINED);
    for (uint32_t j = 0; j < m; j++) find_user(&f[j], k++, s);
    if (s->have_past && (!need_caller || s->caller)) return;
  }
}

bool lw_symbolize_user_frame_past(uint32_t stack, const char *const *skip, uint32_t n,
                                  lw_frame_t *out) {
  struct user_search s = {.skip = skip, .nskip = n};
  user_search_run(stack, &s, false);
  if (s.have_past) *out = s.past;
  else if (s.have_user) *out = s.user;
  else if (s.have_first) *out = s.first;
  return s.have_first;
}

bool lw_symbolize_user_frame(uint32_t stack, lw_frame_t *out) {
  return lw_symbolize_user_frame_past(stack, NULL, 0, out);
}

bool lw_symbolize_user_frame_caller(uint32_t stack, lw_frame_t *out, uintptr_t *caller) {
  struct user_search s = {.skip = NULL};
  user_search_run(stack, &s, true);
  if (s.have_user) *out = s.user;
  else if (s.have_first) *out = s.first;
  *caller = s.have_user ? s.caller : 0;
  return s.have_first;
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

void lw_symbolize_fork_prepare(void) { lw_ilock_acquire(&sym_lock); }
void lw_symbolize_fork_parent(void) { lw_ilock_release(&sym_lock); }

void lw_symbolize_fork_child(void) {
  /* a thread lost in the fork may have been inside libdw: start afresh */
  lw_ilock_reset(&sym_lock);
  dwfl = NULL;
}
