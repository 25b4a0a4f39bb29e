/*
 * bootstrap.c - bringing lockwatch up and down inside a program: resolving
 * the real functions, the constructor (options, output, stack warm-up, exit
 * and fork hooks), thread-exit release, and the destructor that writes the
 * JSON document and sets the exit status.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/alloc.h"
#include "../lib/options.h"
#include "../lib/output.h"
#include "../lib/stack.h"
#include "../lib/suppress.h"
#include "preload.h"

/*
 * glibc's old internal names for the mutex functions, kept as compatibility
 * symbols of version GLIBC_2.2.5; nobody interposes these.
 */
#define LW_GLIBC_ALIAS(ret, name, params)                          \
  extern ret name params;                                          \
  __asm__(".symver " #name ", " #name "@GLIBC_2.2.5");
LW_GLIBC_ALIAS(int, __pthread_mutex_lock, (pthread_mutex_t *))
LW_GLIBC_ALIAS(int, __pthread_mutex_trylock, (pthread_mutex_t *))
LW_GLIBC_ALIAS(int, __pthread_mutex_unlock, (pthread_mutex_t *))
LW_GLIBC_ALIAS(int, __pthread_mutex_init, (pthread_mutex_t *, const pthread_mutexattr_t *))
LW_GLIBC_ALIAS(int, __pthread_mutex_destroy, (pthread_mutex_t *))

#define LW_INTERCEPT(ret, name, params, version, fallback) ret(*real_##name) params;
#include "intercepts.inc"
#undef LW_INTERCEPT

int lw_active;
pid_t lw_preload_pid;

static _Atomic int resolve_state; /* 0 not yet, 1 in progress, 2 done */
static __thread int resolving __attribute__((tls_model("initial-exec")));
static pthread_key_t thread_key;

void lw_preload_resolve(void) {
  if (atomic_load_explicit(&resolve_state, memory_order_acquire) == 2 || resolving) return;
  int expected = 0;
  if (!atomic_compare_exchange_strong(&resolve_state, &expected, 1)) {
    while (atomic_load_explicit(&resolve_state, memory_order_acquire) != 2) sched_yield();
    return;
  }
  resolving = 1;
  lw_tls_guard++;
#define LW_INTERCEPT(ret, name, params, version, fallback) \
  if (!real_##name) real_##name = (ret(*) params)(fallback);
#include "intercepts.inc"
#undef LW_INTERCEPT
#define LW_INTERCEPT(ret, name, params, version, fallback)                              \
  {                                                                                     \
    const char *v = version;                                                            \
    void *p = v ? dlvsym(RTLD_NEXT, #name, v ? v : "") : dlsym(RTLD_NEXT, #name);       \
    if (p) real_##name = (ret(*) params)p;                                              \
  }
#include "intercepts.inc"
#undef LW_INTERCEPT
  lw_tls_guard--;
  resolving = 0;
  atomic_store_explicit(&resolve_state, 2, memory_order_release);
}

/* ---- blocked waits -------------------------------------------------------- */

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int lw_wait_slices(lw_thread_t *t, lw_acq_t *a, void *lock, lw_timed_fn timed, clockid_t clock) {
  /*
   * Most contended waits end within the first slice: the thread publishes
   * that it waits only once a slice has passed (no atomics per contended
   * acquisition). A deadlock is then found at the second check at the latest.
   */
  uint64_t slice = lw_wait_slice_ns(), start = now_ns(CLOCK_MONOTONIC);
  bool published = false;
  int rc;
  for (;;) {
    uint64_t until = now_ns(clock) + slice;
    struct timespec abs = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
    rc = timed(lock, &abs);
    if (rc != ETIMEDOUT) break;
    lw_tls_guard = 1;
    if (!published) {
      lw_wait_begin(t, a);
      published = true;
    }
    lw_wait_check(t, a, now_ns(CLOCK_MONOTONIC) - start);
    lw_leave();
  }
  if (published) {
    lw_tls_guard = 1;
    lw_wait_end(t);
    lw_leave();
  }
  return rc;
}

/* ---- threads -------------------------------------------------------------- */

static void thread_key_destructor(void *p) {
  lw_thread_t *t = p;
  lw_tls_guard++;
  lw_core_thread_exit(t);
  lw_tls_guard--;
}

void lw_preload_adopt(lw_thread_t *t) { pthread_setspecific(thread_key, t); }

void lw_preload_thread_begin(uint32_t seq) {
  lw_thread_hb_start(seq, (uintptr_t)pthread_self());
  if (!lw_active || lw_tls_self) return;
  lw_thread_t *t = lw_core_thread_start(seq);
  if (t) lw_preload_adopt(t);
}

/* ---- dump_signal: a thread that dumps the lock state when asked --------------- */

static int dump_pipe[2] = {-1, -1};
static ino_t dump_pipe_ino; /* both ends of a pipe share an inode */
static _Atomic int dumps_pending; /* asked for by the signal, not yet written */

/* Is fd still our pipe? A program may close every fd and reuse the numbers. */
static bool dump_fd_ours(int fd) {
  struct stat st;
  return fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_ino == dump_pipe_ino;
}

/* Async-signal-safe (fstat and write are): wakes the dump thread and returns. */
static void dump_signal_handler(int sig) {
  (void)sig;
  int saved = errno;
  char c = 'd';
  if (dump_fd_ours(dump_pipe[1])) {
    if (write(dump_pipe[1], &c, 1) == 1) atomic_fetch_add(&dumps_pending, 1);
    /* else the pipe is full: a dump is pending already */
  }
  errno = saved;
}

static void *dump_thread(void *arg) {
  (void)arg;
  lw_tls_guard = 1; /* this thread's own locks are lockwatch's, never the program's */
  char c;
  for (;;) {
    if (!dump_fd_ours(dump_pipe[0])) return NULL; /* the program took the fd: step aside */
    ssize_t r = read(dump_pipe[0], &c, 1);
    if (r == 1) {
      lw_core_dump("signal");
      atomic_fetch_sub(&dumps_pending, 1);
    } else if (r == 0 || (r < 0 && errno != EINTR)) return NULL;
  }
}

/* Moves fd to 100 or above, out of the way of programs that count their fds. */
static int high_fd(int fd) {
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);
  if (high < 0) return fd;
  close(fd);
  return high;
}

int lw_preload_start_thread(void *(*fn)(void *)) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits a mask blocking every signal */
  pthread_t th;
  int rc = LW_REAL(pthread_create)(&th, &attr, fn, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  return rc;
}

/* Starts the dump thread (detached: it never keeps the process alive). */
static const int dump_signals[] = {0, SIGUSR1, SIGUSR2, SIGHUP, SIGQUIT, SIGWINCH, SIGPWR};

static void start_dump_thread(void) {
  int sig = dump_signals[lw_opt.dump_signal];
  if (!sig) return;
  if (dump_fd_ours(dump_pipe[0])) close(dump_pipe[0]);
  if (dump_fd_ours(dump_pipe[1])) close(dump_pipe[1]);
  if (pipe2(dump_pipe, O_CLOEXEC) != 0) return;
  dump_pipe[0] = high_fd(dump_pipe[0]);
  dump_pipe[1] = high_fd(dump_pipe[1]);
  struct stat st;
  if (fstat(dump_pipe[0], &st) == 0) dump_pipe_ino = st.st_ino;
  fcntl(dump_pipe[1], F_SETFL, O_NONBLOCK);
  if (lw_preload_start_thread(dump_thread) != 0) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = dump_signal_handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/*
 * live_dir: this process's lw.<pid>.live, locked until the process ends (the
 * kernel drops an flock lock then, however the process ends), so that
 * lockwatch run can wait for every process it started. -1: none.
 */
static int live_fd = -1;

/* Makes and locks this process's live file, holding its program's path. */
static void live_begin(void) {
  if (!lw_opt.live_dir[0]) return;
  char path[4096], exe[4096];
  int n = snprintf(path, sizeof path, "%s/lw.%d.live", lw_opt.live_dir, (int)getpid());
  if (n < 0 || (size_t)n >= sizeof path) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return;
  }
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len > 0 && write(fd, exe, (size_t)len) < 0) { /* the name is only for messages */
  }
  live_fd = fd;
}

/*
 * In the parent, as fork returns: the child's live file, unlocked, made
 * before the parent can exit, so that lockwatch run, seeing no live file
 * locked any more, still finds the child's and asks the kernel about its
 * pid (a daemon's parent exits at once, maybe before the child runs at
 * all). The child then truncates and locks it itself.
 */
void lw_preload_live_child(pid_t pid) {
  if (live_fd < 0 || pid <= 0) return;
  char path[4096], exe[4096];
  int n = snprintf(path, sizeof path, "%s/lw.%d.live", lw_opt.live_dir, (int)pid);
  if (n < 0 || (size_t)n >= sizeof path) return;
  int saved = errno;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0 && write(fd, exe, (size_t)len) < 0) { /* the name is only for messages */
    }
    close(fd);
  }
  errno = saved;
}

static void fork_child(void) {
  lw_preload_pid = getpid();
  if (live_fd >= 0) { /* the parent's, shared: the child gets its own */
    close(live_fd);
    live_fd = -1;
    live_begin();
  }
  lw_core_fork_child();
  start_dump_thread(); /* threads do not survive fork */
}

/* follow_exec=0: programs this one executes run without lockwatch. */
static void stop_following_exec(void) {
  Dl_info self;
  const char *preload = getenv("LD_PRELOAD");
  if (!preload || !dladdr((void *)stop_following_exec, &self) || !self.dli_fname) return;
  const char *me = strrchr(self.dli_fname, '/');
  me = me ? me + 1 : self.dli_fname;
  size_t n = strlen(preload);
  char *kept = lw_alloc(n + 1);
  if (!kept) return;
  size_t k = 0;
  for (const char *p = preload; *p;) { /* entries are separated by ':' or spaces */
    size_t len = strcspn(p, ": ");
    const char *base = p;
    for (size_t i = 0; i < len; i++)
      if (p[i] == '/') base = p + i + 1;
    size_t blen = len - (size_t)(base - p);
    if (len && !(blen == strlen(me) && strncmp(base, me, blen) == 0)) {
      if (k) kept[k++] = ':';
      memcpy(kept + k, p, len);
      k += len;
    }
    p += len;
    while (*p == ':' || *p == ' ') p++;
  }
  kept[k] = 0;
  if (k) setenv("LD_PRELOAD", kept, 1);
  else unsetenv("LD_PRELOAD");
  lw_free(kept, n + 1);
}

/* ---- start and end -------------------------------------------------------- */

/* Finds the address range of lockwatch's own code, to drop its frames from stacks. */
static int find_self(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  uintptr_t base = (uintptr_t)data;
  if ((uintptr_t)info->dlpi_addr != base) return 0;
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t s = info->dlpi_addr + ph->p_vaddr;
    if (s < lo) lo = s;
    if (s + ph->p_memsz > hi) hi = s + ph->p_memsz;
  }
  if (hi) lw_stack_set_self(lo, hi);
  return 1;
}

/*
 * The end of the run. Registered by our constructor, which the loader runs
 * before the program's entry point registers the loader's own finalizer, so
 * this handler runs last: after the program's atexit handlers and after every
 * destructor (the program's, its libraries', ours). Only stdio's final flush
 * and _exit remain, so when the status must change we flush and _exit here.
 */
/* quick_exit's status, for the handler below (set by the quick_exit wrapper). */
int lw_quick_exit_status;

/*
 * Registered first, so run last of the at_quick_exit handlers (which may lock
 * and make reports): the end of a run that leaves by quick_exit.
 */
/*
 * A dump asked for just before the end (a signal, then exit) is still
 * written: the end waits for the dump thread, 5 s at most.
 */
static void wait_for_dumps(void) {
  for (int ms = 0; ms < 5000 && atomic_load(&dumps_pending) > 0 && dump_fd_ours(dump_pipe[0]);
       ms++) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
}

static void quick_exit_handler(void) {
  if (!lw_active || getpid() != lw_preload_pid) return;
  lw_tls_guard++;
  lw_active = 0;
  wait_for_dumps();
  int result = lw_core_finish(lw_quick_exit_status, true);
  if (result != lw_quick_exit_status) _exit(result); /* quick_exit flushes nothing either */
  lw_tls_guard--;
}

static void on_exit_handler(int status, void *arg) {
  (void)arg;
  if (!lw_active) return;
  lw_tls_guard++;
  /* the thread that ends the process (exit, or a return from main) may still hold locks */
  if (lw_tls_self && getpid() == lw_preload_pid) lw_exit_check(lw_tls_self);
  lw_active = 0; /* from now on every wrapper passes straight through */
  wait_for_dumps();
  int result = lw_core_finish(status, true);
  if (result != status) {
    fflush(NULL);
    _exit(result);
  }
  lw_tls_guard--;
}

static void help_line(const char *line, void *ctx) {
  (void)ctx;
  lw_output_text(line, strlen(line));
  lw_output_text("\n", 1);
}

/* Writes what stdio still buffers, without waiting for a stream another thread holds. */
static void flush_std_streams(void) {
  FILE *streams[2] = {stdout, stderr};
  for (int i = 0; i < 2; i++) {
    if (ftrylockfile(streams[i]) != 0) continue;
    fflush_unlocked(streams[i]);
    funlockfile(streams[i]);
  }
}

/* halt_on_error: end the program now, with the report written. */
static void halt_now(void) {
  lw_tls_guard++;
  int status = lw_core_finish(0, true);
  lw_active = 0;
  flush_std_streams();
  _exit(status);
}

/*
 * A process that writes a document and belongs to no run yet starts one:
 * its run_id goes into LOCKWATCH_OPTIONS (lockwatch's own variable) for the
 * processes it starts, so that a fixed json_path ends holding all of their
 * reports (docmerge.h).
 */
static void start_run(void) {
  static char id[64];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(id, sizeof id, "%d-%llx", (int)getpid(),
           (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
  lw_opt.run_id = id;
  const char *old = getenv("LOCKWATCH_OPTIONS");
  size_t n = (old ? strlen(old) : 0) + sizeof id + 16;
  char *opts = lw_alloc(n);
  if (!opts) return;
  snprintf(opts, n, "%s%srun_id=%s", old ? old : "", old && old[0] ? ":" : "", id);
  setenv("LOCKWATCH_OPTIONS", opts, 1);
  lw_free(opts, n);
}

/*
 * A CPython whose locks the wrappers cannot see (3.13.1 and later take
 * them without the C library) and no Python layer asked for (lockwatch run sets LOCKWATCH_PYTHON): says so, once.
 * The interpreter is known by the Py_Version it exports (3.11 and later).
 */
static void python_check(void) {
  const unsigned long *version = dlsym(RTLD_DEFAULT, "Py_Version");
  if (!version || getenv("LOCKWATCH_PYTHON")) return;
  unsigned long v = *version;
  if ((v >> 8) < 0x030D01) return;
  char msg[400];
  snprintf(msg, sizeof msg,
           "this Python (%lu.%lu.%lu) takes its locks without the C library calls lockwatch "
           "wraps, so its threading locks are not checked; run it as 'lockwatch run -- python3 "
           "...' (or 'python3 -m lockwatch ...') to check them",
           v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff);
  lw_output_message(msg);
}

__attribute__((constructor)) static void lockwatch_init(void) {
  char err[512];
  lw_preload_resolve();
  lw_tls_guard++;
  lw_output_init();
  lw_options_defaults(&lw_opt);
  if (lw_options_parse(&lw_opt, secure_getenv("LOCKWATCH_OPTIONS"), err, sizeof err) != 0) {
    lw_output_message(err);
    lw_output_message("the program was not started; see help=1");
    _exit(1);
  }
  if (lw_opt.help) lw_options_help(help_line, NULL);
  if (lw_opt.suppressions[0] && lw_suppress_load(lw_opt.suppressions, err, sizeof err) < 0) {
    lw_output_message(err);
    lw_output_message("the program was not started; fix the suppressions file or the option");
    _exit(1);
  }
  Dl_info self = {0};
  if (dladdr((void *)lockwatch_init, &self) && self.dli_fbase)
    dl_iterate_phdr(find_self, self.dli_fbase);
  lw_stack_warm_up();
  lw_core_init();
  lw_core_set_state_fn(LW_TYPE_MUTEX, lw_mutex_state);
  lw_core_set_state_fn(LW_TYPE_C11, lw_mutex_state);
  lw_core_set_state_fn(LW_TYPE_RWLOCK, lw_rwlock_state);
  lw_core_set_state_fn(LW_TYPE_SPIN, lw_spin_state);
  lw_preload_glib_init();
  lw_core_capture_program();
  lw_report_halt = halt_now;
  pthread_key_create(&thread_key, thread_key_destructor);
  on_exit(on_exit_handler, NULL);
  at_quick_exit(quick_exit_handler);
  pthread_atfork(lw_core_fork_prepare, lw_core_fork_parent, fork_child);
  start_dump_thread();
  lw_preload_signals_init(dump_signals[lw_opt.dump_signal]);
  lw_thread_t *t = lw_core_thread();
  (void)t; /* the main thread keeps its state until exit */
  lw_preload_pid = getpid();
  if (getauxval(AT_SECURE)) { /* setuid or setgid: write no file, whatever the options say */
    lw_opt.log_path = lw_opt.json_path = "";
  }
  live_begin();
  if (!lw_opt.follow_exec) stop_following_exec();
  else if (lw_opt.json_path[0] && !lw_opt.run_id[0]) start_run();
  /* free() is another preloaded library's (an allocator before us in LD_PRELOAD)? */
  Dl_info owner;
  void *global_free = dlsym(RTLD_DEFAULT, "free");
  if (global_free && dladdr(global_free, &owner) && owner.dli_fbase != self.dli_fbase)
    lw_core_caveat = "note: free() belongs to a library loaded before lockwatch in LD_PRELOAD, "
                     "so memory given back is not seen and a new lock at a freed lock's address "
                     "may inherit its orders; list liblockwatch.so first to avoid that";
  if (lw_opt.verbosity >= 3) {
    snprintf(err, sizeof err, "watching pid %d", (int)getpid());
    lw_output_message(err);
  }
  python_check();
  lw_tls_guard--;
  lw_active = 1;
}
