/*
 * wrap_process.c - the ends of a process that skip exit(): _exit, _Exit and
 * quick_exit (stress-ng's workers leave with _exit), and dlclose, which
 * unmaps a library whose static locks must then end; and exec, before which
 * the document is written, since the new image starts with no reports.
 */
#include <link.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "../lib/alloc.h"
#include "preload.h"

/*
 * Writes the JSON document and returns the status to exit with. Does nothing
 * in a vfork child, which shares the parent's memory until it execs.
 */
static int finish_now(int status) {
  if (!lw_active || lw_tls_guard || getpid() != lw_preload_pid) return status;
  lw_tls_guard++;
  lw_active = 0;
  status = lw_core_finish(status, true);
  lw_tls_guard--;
  return status;
}

LW_EXPORT void _exit(int status) {
  status = finish_now(status);
  LW_REAL(_exit)(status);
  __builtin_unreachable();
}

LW_EXPORT void _Exit(int status) {
  status = finish_now(status);
  LW_REAL(_Exit)(status);
  __builtin_unreachable();
}

/* The at_quick_exit handlers run first: lockwatch's own, registered first, ends the run. */
LW_EXPORT void quick_exit(int status) {
  lw_quick_exit_status = status;
  LW_REAL(quick_exit)(status);
  __builtin_unreachable();
}

/* The writable segments of loaded objects, to see which ones dlclose unmapped. */
struct segment {
  uintptr_t base, lo, hi;
};
struct segments {
  struct segment *v;
  size_t n, cap;
};

static int collect(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct segments *s = data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W)) continue;
    if (s->n == s->cap) {
      size_t cap = s->cap ? s->cap * 2 : 64;
      void *p = lw_realloc(s->v, s->cap * sizeof *s->v, cap * sizeof *s->v);
      if (!p) return 1;
      s->v = p;
      s->cap = cap;
    }
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    s->v[s->n++] = (struct segment){info->dlpi_addr, lo, lo + ph->p_memsz};
  }
  return 0;
}

LW_EXPORT int dlclose(void *handle) {
  lw_thread_t *t = lw_enter();
  if (!t) return LW_REAL(dlclose)(handle);
  struct segments before = {0}, after = {0};
  dl_iterate_phdr(collect, &before);
  lw_leave();
  int rc = LW_REAL(dlclose)(handle);
  lw_tls_guard = 1;
  dl_iterate_phdr(collect, &after);
  for (size_t i = 0; i < before.n; i++) {
    bool kept = false;
    for (size_t k = 0; k < after.n && !kept; k++)
      kept = after.v[k].base == before.v[i].base && after.v[k].lo == before.v[i].lo;
    if (!kept) lw_memory_released(t, before.v[i].lo, before.v[i].hi - before.v[i].lo);
  }
  lw_free(before.v, before.cap * sizeof *before.v);
  lw_free(after.v, after.cap * sizeof *after.v);
  lw_leave();
  return rc;
}

/* ---- exec ------------------------------------------------------------------------ */

/* Writes the document as it stands (not in a vfork child: its memory is the parent's). */
static void before_exec(void) {
  if (!lw_active || lw_tls_guard || getpid() != lw_preload_pid) return;
  int saved = errno;
  lw_tls_guard++;
  lw_core_save_document();
  lw_tls_guard--;
  errno = saved;
}

/* lockwatch run waits for the child even if this parent exits before the child starts. */
LW_EXPORT pid_t fork(void) {
  pid_t pid = LW_REAL(fork)();
  if (pid > 0) lw_preload_live_child(pid);
  return pid;
}

LW_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  before_exec();
  return LW_REAL(execve)(path, argv, envp);
}

LW_EXPORT int execv(const char *path, char *const argv[]) {
  before_exec();
  return LW_REAL(execv)(path, argv);
}

LW_EXPORT int execvp(const char *file, char *const argv[]) {
  before_exec();
  return LW_REAL(execvp)(file, argv);
}

LW_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  before_exec();
  return LW_REAL(execvpe)(file, argv, envp);
}

LW_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  before_exec();
  return LW_REAL(fexecve)(fd, argv, envp);
}

/* The number of arguments in ap up to the NULL that ends them (ap itself is not used up). */
static size_t count_args(va_list ap) {
  va_list c;
  size_t n = 0;
  va_copy(c, ap);
  while (va_arg(c, char *)) n++;
  va_end(c);
  return n;
}

/* argv for an execl-style call: arg0, the n arguments after it in ap, then NULL. */
static void fill_args(char **argv, const char *arg0, va_list ap, size_t n) {
  argv[0] = (char *)arg0;
  for (size_t i = 1; i <= n; i++) argv[i] = va_arg(ap, char *);
  argv[n + 1] = NULL;
}

LW_EXPORT int execl(const char *path, const char *arg0, ...) {
  va_list ap;
  va_start(ap, arg0);
  size_t n = count_args(ap);
  char *argv[n + 2];
  fill_args(argv, arg0, ap, n);
  va_end(ap);
  before_exec();
  return LW_REAL(execv)(path, argv);
}

LW_EXPORT int execlp(const char *file, const char *arg0, ...) {
  va_list ap;
  va_start(ap, arg0);
  size_t n = count_args(ap);
  char *argv[n + 2];
  fill_args(argv, arg0, ap, n);
  va_end(ap);
  before_exec();
  return LW_REAL(execvp)(file, argv);
}

LW_EXPORT int execle(const char *path, const char *arg0, ...) {
  va_list ap;
  va_start(ap, arg0);
  size_t n = count_args(ap);
  char *argv[n + 2];
  fill_args(argv, arg0, ap, n);
  (void)va_arg(ap, char *); /* the NULL after the arguments; the environment follows */
  char *const *envp = va_arg(ap, char *const *);
  va_end(ap);
  before_exec();
  return LW_REAL(execve)(path, argv, envp);
}
