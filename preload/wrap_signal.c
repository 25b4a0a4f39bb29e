/*
 * wrap_signal.c - the JSON document survives a death by signal.
 *
 * A program that reports and then dies of a signal (an assert's SIGABRT, a
 * crash, a CI timeout's SIGTERM, a Ctrl-C) never reaches exit, where the
 * document is written. So once there is something to write (the first
 * report), lockwatch puts its own handler under every signal whose default
 * action ends the process. The handler only writes the document the core
 * keeps rendered after each report (open, write, close, rename: all
 * async-signal-safe), then lets the signal do what it would have done.
 *
 * The program keeps its signals: sigaction and signal are wrapped, so it
 * sees and sets its own dispositions. Its handler runs from ours with its
 * own mask and flags (SA_RESETHAND emulated); a handler that returns
 * carries on as before; SIG_IGN is installed for real. Only a signal whose
 * disposition is SIG_DFL writes the document, then dies of the same signal
 * with the kernel's default action (core dump included): a fault returns
 * to the faulting instruction with SIG_DFL installed, anything else is
 * raised again, pending until our handler returns.
 */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/lwlock.h"
#include "../lib/options.h"
#include "preload.h"

/* The signals whose default action ends the process. */
static const int fatal_signals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE,  SIGILL,  SIGSYS,
                                    SIGTRAP, SIGTERM, SIGINT, SIGHUP,  SIGQUIT, SIGXCPU,
                                    SIGXFSZ, SIGALRM, SIGPIPE, SIGUSR1, SIGUSR2, SIGVTALRM,
                                    SIGPROF};
#define LW_NSIG 65

/* The program's view of a watched signal, once armed. */
struct disposition {
  struct sigaction act;          /* what the program set (or found); under table_lock */
  _Atomic uintptr_t handler;     /* act's handler, for our handler to read without a lock */
  _Atomic int flags;             /* act's flags, likewise */
};
static struct disposition table[LW_NSIG];
static bool watched[LW_NSIG];
static _Atomic int armed; /* 0: the wrappers pass through; 1: the table is the program's view */
static lw_ilock_t table_lock = LW_ILOCK_INIT;

typedef void (*lw_sa_handler_fn)(int);
typedef void (*lw_sa_action_fn)(int, siginfo_t *, void *);

static void on_signal(int sig, siginfo_t *info, void *uc);

/* Is sig one lockwatch watches (dump_signal excepted: the dump thread owns it)? */
static bool is_watched(int sig) { return sig > 0 && sig < LW_NSIG && watched[sig]; }

/* Puts the kernel's disposition of sig in line with the program's act. Caller holds table_lock. */
static int install(int sig, const struct sigaction *act) {
  if (act->sa_handler == SIG_IGN) return LW_REAL(sigaction)(sig, act, NULL);
  struct sigaction ours;
  memset(&ours, 0, sizeof ours);
  ours.sa_sigaction = on_signal;
  if (act->sa_handler == SIG_DFL) {
    sigemptyset(&ours.sa_mask);
    ours.sa_flags = SA_SIGINFO | SA_RESTART;
  } else { /* the program's handler runs from ours, under the mask and flags it asked for */
    ours.sa_mask = act->sa_mask;
    ours.sa_flags = (act->sa_flags | SA_SIGINFO) & ~(int)SA_RESETHAND;
  }
  return LW_REAL(sigaction)(sig, &ours, NULL);
}

static void record(int sig, const struct sigaction *act) {
  table[sig].act = *act;
  atomic_store(&table[sig].flags, act->sa_flags);
  atomic_store(&table[sig].handler, (uintptr_t)act->sa_handler);
}

/* Blocks every signal in this thread (so no handler of ours interrupts table_lock). */
static void block_all(sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, old);
}

/* The first report: lockwatch's handler goes under every watched signal the program does not ignore. */
static void arm(void) {
  if (atomic_load(&armed) || !lw_opt.json_path || !lw_opt.json_path[0]) return;
  sigset_t old;
  block_all(&old);
  lw_ilock_acquire(&table_lock);
  if (!atomic_load(&armed)) {
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++) {
      int sig = fatal_signals[i];
      struct sigaction cur;
      if (!watched[sig] || LW_REAL(sigaction)(sig, NULL, &cur) != 0) continue;
      record(sig, &cur);
      install(sig, &cur);
    }
    atomic_store(&armed, 1);
  }
  lw_ilock_release(&table_lock);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Set up at start-up: which signals to watch; the handler is installed at the first report. */
void lw_preload_signals_init(int dump_signal) {
  for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
    watched[fatal_signals[i]] = fatal_signals[i] != dump_signal;
  lw_core_on_report = arm;
}

/* Does the kernel restart the instruction that raised sig, so that returning repeats the fault? */
static bool is_fault(int sig, const siginfo_t *info) {
  return info && info->si_code > 0 &&
         (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL);
}

static void on_signal(int sig, siginfo_t *info, void *uc) {
  int saved = errno;
  uintptr_t h = atomic_load(&table[sig].handler);
  if (h != (uintptr_t)SIG_DFL && h != (uintptr_t)SIG_IGN) { /* the program's own handler */
    int flags = atomic_load(&table[sig].flags);
    if (flags & SA_RESETHAND) { /* a one-shot handler: SIG_DFL from now on */
      atomic_store(&table[sig].handler, (uintptr_t)SIG_DFL);
      struct sigaction dfl;
      memset(&dfl, 0, sizeof dfl);
      dfl.sa_handler = SIG_DFL;
      table[sig].act.sa_handler = SIG_DFL;
      install(sig, &dfl);
    }
    errno = saved;
    if (flags & SA_SIGINFO) ((lw_sa_action_fn)h)(sig, info, uc);
    else ((lw_sa_handler_fn)h)(sig);
    return;
  }
  if (h == (uintptr_t)SIG_IGN) return; /* set meanwhile: ignored, as the program asked */
  /* the default action: the process ends; write the document first */
  lw_core_write_json_now();
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  LW_REAL(sigaction)(sig, &dfl, NULL);
  if (!is_fault(sig, info)) /* blocked while we run: delivered as we return */
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
  errno = saved;
}

LW_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  if (!is_watched(sig) || !atomic_load(&armed)) return LW_REAL(sigaction)(sig, act, old);
  sigset_t mask;
  block_all(&mask);
  lw_ilock_acquire(&table_lock);
  int rc = 0;
  struct sigaction prev = table[sig].act;
  if (act && (rc = install(sig, act)) == 0) record(sig, act);
  lw_ilock_release(&table_lock);
  pthread_sigmask(SIG_SETMASK, &mask, NULL);
  if (rc == 0 && old) *old = prev;
  return rc;
}

/* signal() as glibc's: BSD semantics (SA_RESTART, the signal blocked in its handler). */
static sighandler_t set_handler(int sig, sighandler_t handler, int flags, bool mask_self) {
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  if (mask_self) sigaddset(&act.sa_mask, sig);
  act.sa_flags = flags;
  if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

LW_EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  if (!is_watched(sig) || !atomic_load(&armed)) return LW_REAL(signal)(sig, handler);
  if (handler == SIG_ERR) {
    errno = EINVAL;
    return SIG_ERR;
  }
  return set_handler(sig, handler, SA_RESTART, true);
}

LW_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) { return signal(sig, handler); }

/* System V semantics: a one-shot handler, the signal not blocked in it, no restart. */
LW_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler) {
  if (!is_watched(sig) || !atomic_load(&armed)) return LW_REAL(sysv_signal)(sig, handler);
  if (handler == SIG_ERR) {
    errno = EINVAL;
    return SIG_ERR;
  }
  return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}
