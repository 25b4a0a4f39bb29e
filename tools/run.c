/*
 * run.c - lockwatch run: runs a program under the preload, with every
 * process it forks or execs, then merges the JSON document each process
 * wrote, prints one line per report and the counts, writes the merged
 * document, SARIF and the HTML page if asked, and exits with a status a CI job can gate on.
 *
 * The program gets LD_PRELOAD (the user's own kept, ours appended) and
 * LOCKWATCH_OPTIONS (the user's, then --options, then ours, last one wins):
 * json_path points into a private directory made with mkdtemp, with %p so
 * that each process writes its own document.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.h"
#include "suppress.h"
#include "tool.h"

/*
 * Where the preload is, set by the build: the library in the build tree (used
 * only by the command in the build tree) and its place relative to the
 * installed command.
 */
#ifndef LWT_BUILD_BINDIR
#define LWT_BUILD_BINDIR ""
#endif
#ifndef LWT_BUILD_PRELOAD
#define LWT_BUILD_PRELOAD ""
#endif
#ifndef LWT_BUILD_PYDIR
#define LWT_BUILD_PYDIR ""
#endif
#ifndef LWT_INSTALL_PRELOAD
#define LWT_INSTALL_PRELOAD "../lib/liblockwatch.so"
#endif

/* How long run waits by default for processes that outlive the program (daemons), in seconds. */
#define LWT_WAIT_DAEMONS_DEFAULT 10

/* Exit statuses of a program that could not be started, as a shell gives. */
enum { EXIT_NOT_FOUND = 127, EXIT_NOT_EXECUTABLE = 126 };

/* ---- finding the preload ----------------------------------------------------------- */

/* The directory of the running executable (resolved), or NULL. */
static char *self_dir(void) {
  char *exe = realpath("/proc/self/exe", NULL);
  if (!exe) return NULL;
  char *slash = strrchr(exe, '/');
  if (slash && slash != exe) *slash = 0;
  return exe;
}

/* Is the file at path readable? Then its resolved path, else NULL. */
static char *usable(const char *path) {
  if (!*path || access(path, R_OK) != 0) return NULL;
  return realpath(path, NULL);
}

char *lwt_preload_find(char **why) {
  const char *env = getenv("LOCKWATCH_PRELOAD");
  *why = NULL;
  if (env && *env) {
    char *p = usable(env);
    if (!p) *why = lwt_xasprintf("LOCKWATCH_PRELOAD=%s: %s", env, strerror(errno));
    return p;
  }
  char *dir = self_dir();
  if (!dir) {
    *why = lwt_xasprintf("cannot find where the lockwatch command is (/proc/self/exe: %s); set "
                         "LOCKWATCH_PRELOAD to the library's path", strerror(errno));
    return NULL;
  }
  char *build_dir = *LWT_BUILD_BINDIR ? realpath(LWT_BUILD_BINDIR, NULL) : NULL;
  char *installed = LWT_INSTALL_PRELOAD[0] == '/'
                        ? lwt_xstrdup(LWT_INSTALL_PRELOAD)
                        : lwt_xasprintf("%s/%s", dir, LWT_INSTALL_PRELOAD);
  char *found = NULL;
  if (build_dir && strcmp(build_dir, dir) == 0) found = usable(LWT_BUILD_PRELOAD);
  if (!found) found = usable(installed);
  if (!found)
    *why = lwt_xasprintf("cannot find liblockwatch.so (looked at %s%s%s); set LOCKWATCH_PRELOAD "
                         "to the library's path", installed,
                         build_dir && strcmp(build_dir, dir) == 0 ? " and " : "",
                         build_dir && strcmp(build_dir, dir) == 0 ? LWT_BUILD_PRELOAD : "");
  free(installed);
  free(build_dir);
  free(dir);
  return found;
}

/* ---- LOCKWATCH_OPTIONS --------------------------------------------------------------- */

/* The runtime's messages start with this; ours say where the options came from instead. */
static const char *strip_prefix(const char *err) {
  static const char prefix[] = "LOCKWATCH_OPTIONS: ";
  return strncmp(err, prefix, sizeof prefix - 1) == 0 ? err + sizeof prefix - 1 : err;
}

/* Room for any message of the options and suppressions parsers (values are < 4 KiB). */
#define ERR_LEN 16384

/*
 * Parses s (from `where`) over o. Returns 0, or prints the problem as a
 * usage error and returns -1.
 */
static int parse_options(lw_options_t *o, const char *s, const char *where) {
  static char err[ERR_LEN];
  if (lw_options_parse(o, s, err, sizeof err) == 0) return 0;
  lwt_usage_error("run", "%s: %s", where, strip_prefix(err));
  return -1;
}

/*
 * Appends " key=value", quoted so that the runtime reads value back whole.
 * Returns false if value holds both kinds of quote (it cannot be written).
 */
static bool add_option(lwt_str_t *s, const char *key, const char *value) {
  char q = strchr(value, '\'') ? '"' : '\'';
  if (strchr(value, q)) return false;
  lwt_str_printf(s, " %s=%c%s%c", key, q, value, q);
  return true;
}

/* ---- the child ----------------------------------------------------------------------- */

static volatile sig_atomic_t child_pid;

/* The dispositions lockwatch was started with, which the program gets. */
static struct sigaction saved_int, saved_quit, saved_term, saved_hup;

/* SIGTERM and SIGHUP sent to lockwatch are meant for the program. */
static void forward_signal(int sig) {
  if (child_pid > 0) kill((pid_t)child_pid, sig);
}

/*
 * While the program runs, Ctrl-C and Ctrl-\ reach it (same process group)
 * and lockwatch ignores them, to report what it did; SIGTERM and SIGHUP are
 * passed on. restore puts the saved dispositions back.
 */
static void handle_signals(bool restore) {
  if (restore) {
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGQUIT, &saved_quit, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    sigaction(SIGHUP, &saved_hup, NULL);
    return;
  }
  struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward_signal};
  sigemptyset(&ign.sa_mask);
  sigemptyset(&fwd.sa_mask);
  sigaction(SIGINT, &ign, &saved_int);
  sigaction(SIGQUIT, &ign, &saved_quit);
  sigaction(SIGTERM, &fwd, &saved_term);
  sigaction(SIGHUP, &fwd, &saved_hup);
}

/*
 * Starts argv[0] (searched in PATH). Returns its pid, or -1 with *exec_errno
 * set if it could not be started (errors printed).
 */
static pid_t start(char **argv, int *exec_errno) {
  int status_pipe[2];
  *exec_errno = 0;
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    *exec_errno = errno;
    lwt_error("run: cannot make a pipe: %s", strerror(errno));
    return -1;
  }
  /* No SIGTERM handler may run before child_pid is set. */
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &old_mask);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    handle_signals(true);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    execvp(argv[0], argv);
    int e = errno;
    ssize_t w = write(status_pipe[1], &e, sizeof e);
    (void)w; /* nothing more to do: the parent then sees only the exit status */
    _exit(EXIT_NOT_FOUND);
  }
  if (pid > 0) child_pid = pid;
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  close(status_pipe[1]);
  if (pid < 0) {
    *exec_errno = errno;
    lwt_error("run: cannot start %s: %s", argv[0], strerror(errno));
    close(status_pipe[0]);
    return -1;
  }
  ssize_t got;
  do got = read(status_pipe[0], exec_errno, sizeof *exec_errno);
  while (got < 0 && errno == EINTR);
  close(status_pipe[0]);
  if (got > 0) {
    lwt_error("run: cannot run '%s': %s", argv[0], strerror(*exec_errno));
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return -1;
  }
  *exec_errno = 0;
  return pid;
}

/* ---- processes that outlive the program -------------------------------------------- */

/* Is pid a process that runs (not ended, not a zombie)? */
static bool pid_runs(long long pid) {
  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return false;
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%lld/stat", pid);
  FILE *f = fopen(path, "re");
  if (!f) return errno != ENOENT;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *paren = strrchr(buf, ')'); /* "pid (comm) S ..." */
  return !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

/* Is name "lw.<digits>.live"? Then its pid. */
static bool live_name(const char *name, long long *pid) {
  if (strncmp(name, "lw.", 3) != 0) return false;
  char *end;
  errno = 0;
  long long v = strtoll(name + 3, &end, 10);
  if (errno || end == name + 3 || strcmp(end, ".live") != 0 || v <= 0) return false;
  *pid = v;
  return true;
}

/*
 * Does the process of the live file at path still run? Its lock is held
 * until it ends; a process that closed it, or is between exec and its new
 * image's start, is asked the kernel.
 */
static bool live_runs(const char *path, long long pid) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return locked || pid_runs(pid);
}

/* The program's path written in a live file, into buf ("?" if none). */
static void live_program(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) snprintf(buf, len, "?");
  else buf[n] = 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Waits, at most seconds, until every process that made a live file in dir
 * has ended; then prints one line naming those that wrote no document (pid
 * and program; still running, or ended without one). Returns their number.
 */
static int wait_processes(const char *dir, long seconds) {
  double deadline = now_s() + (double)seconds;
  lwt_str_t missing = LWT_STR_INIT;
  int nmissing = 0;
  for (;;) {
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    bool running = false, last = now_s() >= deadline;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
      long long pid;
      if (!live_name(e->d_name, &pid)) continue;
      char *path = lwt_xasprintf("%s/%s", dir, e->d_name);
      bool runs = live_runs(path, pid);
      running |= runs;
      if (last || !runs) {
        char *doc = lwt_xasprintf("%s/lw.%lld.json", dir, pid);
        if ((runs || access(doc, F_OK) != 0) && last) {
          char prog[4096];
          live_program(path, prog, sizeof prog);
          lwt_str_printf(&missing, "%spid %lld (%s%s)", nmissing ? ", " : "", pid,
                         lwt_basename(prog), runs ? ", still running" : "");
          nmissing++;
        }
        free(doc);
      }
      free(path);
    }
    closedir(dp);
    if (last) break;
    if (!running) deadline = 0; /* one more pass, to name the ones without a document */
    else {
      struct timespec pause = {0, 20000000L};
      nanosleep(&pause, NULL);
    }
  }
  if (nmissing)
    lwt_error("run: %d process%s wrote no document: %s", nmissing, nmissing == 1 ? "" : "es",
              lwt_str_get(&missing));
  lwt_str_free(&missing);
  return nmissing;
}

/* ---- the documents ------------------------------------------------------------------- */

typedef struct found {
  char *path;
  long long pid;
  struct timespec mtime;
} found_t;

static long long main_pid_for_sort;

/* The program's own document first, then in the order they were written. */
static int cmp_found(const void *pa, const void *pb) {
  const found_t *a = pa, *b = pb;
  if ((a->pid == main_pid_for_sort) != (b->pid == main_pid_for_sort))
    return a->pid == main_pid_for_sort ? -1 : 1;
  if (a->mtime.tv_sec != b->mtime.tv_sec) return a->mtime.tv_sec < b->mtime.tv_sec ? -1 : 1;
  if (a->mtime.tv_nsec != b->mtime.tv_nsec) return a->mtime.tv_nsec < b->mtime.tv_nsec ? -1 : 1;
  return a->pid < b->pid ? -1 : a->pid > b->pid;
}

/* Is name "lw.<digits>.json"? Then its pid. */
static bool doc_name(const char *name, long long *pid) {
  if (strncmp(name, "lw.", 3) != 0) return false;
  const char *p = name + 3, *digits = p;
  long long v = 0;
  while (*p >= '0' && *p <= '9') {
    if (v > 1000000000000LL) return false;
    v = v * 10 + (*p++ - '0');
  }
  if (p == digits || strcmp(p, ".json") != 0) return false;
  *pid = v;
  return true;
}

/*
 * Loads the documents in dir into d (the program's first) and removes dir.
 * Returns the number that could not be read (their errors printed).
 */
static int collect(const char *dir, lwt_docs_t *d, long long main_pid) {
  DIR *dp = opendir(dir);
  if (!dp) {
    lwt_error("run: cannot read %s: %s", dir, strerror(errno));
    return 1;
  }
  found_t *found = NULL;
  size_t n = 0, cap = 0;
  char **others = NULL; /* everything else in dir, to remove */
  size_t nothers = 0, cap_others = 0;
  struct dirent *e;
  while ((errno = 0, e = readdir(dp)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *path = lwt_xasprintf("%s/%s", dir, e->d_name);
    long long pid;
    struct stat st;
    if (doc_name(e->d_name, &pid) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      if (n == cap) {
        cap = cap ? cap * 2 : 16;
        found = lwt_xrealloc(found, cap * sizeof *found);
      }
      found[n++] = (found_t){path, pid, st.st_mtim};
    } else {
      if (nothers == cap_others) {
        cap_others = cap_others ? cap_others * 2 : 16;
        others = lwt_xrealloc(others, cap_others * sizeof *others);
      }
      others[nothers++] = path;
    }
  }
  int failed = 0;
  if (errno) {
    lwt_error("run: cannot read %s: %s", dir, strerror(errno));
    failed++;
  }
  closedir(dp);
  main_pid_for_sort = main_pid;
  if (n) qsort(found, n, sizeof *found, cmp_found);
  for (size_t i = 0; i < n; i++) {
    if (lwt_docs_add(d, found[i].path) != 0) failed++;
    if (unlink(found[i].path) != 0)
      lwt_error("run: cannot remove %s: %s", found[i].path, strerror(errno));
    free(found[i].path);
  }
  for (size_t i = 0; i < nothers; i++) {
    /* Temporary files of documents a process did not finish writing. */
    if (unlink(others[i]) != 0) lwt_error("run: cannot remove %s: %s", others[i], strerror(errno));
    free(others[i]);
  }
  free(found);
  free(others);
  if (rmdir(dir) != 0) lwt_error("run: cannot remove %s: %s", dir, strerror(errno));
  return failed;
}

/* Checks that path could be written later: its directory exists and is writable. */
static int check_writable(const char *opt, const char *path) {
  if (strcmp(path, "-") == 0) return 0;
  char *copy = lwt_xstrdup(path);
  char *slash = strrchr(copy, '/');
  const char *dir = slash ? (slash == copy ? "/" : (*slash = 0, copy)) : ".";
  int r = 0;
  if (access(dir, W_OK | X_OK) != 0)
    r = lwt_usage_error("run", "%s %s: cannot write in directory %s: %s", opt, path, dir,
                        strerror(errno));
  free(copy);
  return r ? -1 : 0;
}

/* ---- the command ------------------------------------------------------------------------ */

static const char run_usage[] =
    "usage: lockwatch run [options] [--] PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with the lockwatch preload (every process it forks or execs\n"
    "too), then prints one line per report and the counts, and exits with\n"
    "PROGRAM's status if it is not 0, else with the exit code if anything was\n"
    "reported, else 0. A program killed by a signal gives 128 + the signal.\n"
    "\n"
    "  --json FILE          write every process's reports as one JSON document\n"
    "  --sarif FILE         write the reports as SARIF 2.1.0 (for code scanning)\n"
    "  --html FILE          write the reports as one self-contained HTML page\n"
    "  --srcroot DIR        with --sarif: paths under DIR become relative to it;\n"
    "                       with --html: relative source paths are read under DIR\n"
    "  --exitcode N         exit status when reports were made (0-255; default 66)\n"
    "  --suppressions FILE  suppression rules, one kind:pattern per line\n"
    "  --options 'k=v:...'  more LOCKWATCH_OPTIONS for the runtime (below)\n"
    "  --wait-daemons S     after PROGRAM ends, wait up to S seconds (0-3600; default\n"
    "                       10) for the processes it started that still run (daemons)\n"
    "  -h, --help           print this help\n"
    "\n"
    "Environment: LOCKWATCH_PRELOAD overrides the library used; LD_PRELOAD and\n"
    "LOCKWATCH_OPTIONS already set are kept (the latter before --options).\n"
    "\n";

/* Prints one line of the runtime's options help (lw_options_help). */
static void help_line(const char *line, void *ctx) {
  (void)ctx;
  puts(line);
}

/* What lockwatch run was asked to do. */
typedef struct run_args {
  const char *json, *sarif, *html, *srcroot, *suppressions, *options;
  long exitcode; /* -1: not given */
  long wait_daemons; /* seconds */
  char **argv;
} run_args_t;

/*
 * Reads the command line into a. Returns 0, -2 after printing the help, or
 * an exit status after printing what is wrong.
 */
static int parse_args(int argc, char **argv, run_args_t *a) {
  static const struct option opts[] = {{"json", required_argument, NULL, 'j'},
                                       {"sarif", required_argument, NULL, 's'},
                                       {"html", required_argument, NULL, 'H'},
                                       {"srcroot", required_argument, NULL, 'r'},
                                       {"exitcode", required_argument, NULL, 'e'},
                                       {"suppressions", required_argument, NULL, 'S'},
                                       {"options", required_argument, NULL, 'o'},
                                       {"wait-daemons", required_argument, NULL, 'w'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c;
  *a = (run_args_t){NULL, NULL, NULL, NULL, NULL, NULL, -1, LWT_WAIT_DAEMONS_DEFAULT, NULL};
  opterr = 0;
  /* '+': the first word that is not an option is the program; its options are its own. */
  while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(run_usage, stdout);
      lw_options_help(help_line, NULL);
      return -2;
    case 'j': a->json = optarg; break;
    case 's': a->sarif = optarg; break;
    case 'H': a->html = optarg; break;
    case 'r': a->srcroot = optarg; break;
    case 'S': a->suppressions = optarg; break;
    case 'o': a->options = optarg; break;
    case 'w':
      if (!lwt_parse_long(optarg, 0, 3600, &a->wait_daemons))
        return lwt_usage_error("run", "--wait-daemons %s: expected a number of seconds from 0 to "
                               "3600", optarg);
      break;
    case 'e':
      if (!lwt_parse_long(optarg, 0, 255, &a->exitcode))
        return lwt_usage_error("run", "--exitcode %s: expected an integer from 0 to 255", optarg);
      break;
    default: return lwt_bad_option("run", c, argv);
    }
  }
  if (optind >= argc) return lwt_usage_error("run", "no program to run");
  if (a->srcroot && !a->sarif && !a->html)
    return lwt_usage_error("run", "--srcroot needs --sarif or --html");
  if (a->srcroot && !*a->srcroot) return lwt_usage_error("run", "--srcroot is empty");
  if ((a->json && check_writable("--json", a->json)) ||
      (a->sarif && check_writable("--sarif", a->sarif)) ||
      (a->html && check_writable("--html", a->html)))
    return LWT_EXIT_USAGE;
  a->argv = argv + optind;
  return 0;
}

/*
 * Builds LOCKWATCH_OPTIONS for the program into out, checking every part the
 * way the runtime will. *exitcode gets the exit code in force. Returns 0, or
 * an exit status after printing why.
 */
static int build_options(const run_args_t *a, const char *docs_dir, lwt_str_t *out,
                         long *exitcode) {
  lw_options_t o;
  const char *env = getenv("LOCKWATCH_OPTIONS");
  lw_options_defaults(&o);
  if (env && parse_options(&o, env, "LOCKWATCH_OPTIONS in the environment") != 0)
    return LWT_EXIT_USAGE;
  lw_options_defaults(&o);
  if (a->options && parse_options(&o, a->options, "--options") != 0) return LWT_EXIT_USAGE;
  if (a->options && o.live_dir[0])
    return lwt_usage_error("run", "--options may not set live_dir: lockwatch run sets it to wait "
                           "for every process (see --wait-daemons)");
  if (a->options && o.json_path[0])
    return lwt_usage_error("run", "--options may not set json_path: lockwatch run collects every "
                           "process's document itself; use --json FILE for the merged one");
  if (env) lwt_str_puts(out, env);
  if (a->options) lwt_str_printf(out, " %s", a->options);
  if (a->exitcode >= 0) lwt_str_printf(out, " exitcode=%ld", a->exitcode);
  if (a->suppressions) {
    /* Checked as named, so that errors name the file as the user did. */
    static char err[ERR_LEN];
    if (lw_suppress_load(a->suppressions, err, sizeof err) < 0) {
      lwt_error("run: %s", err);
      return LWT_EXIT_USAGE;
    }
    /* Absolute, so that a process that changes directory still finds it. */
    char *abs = realpath(a->suppressions, NULL);
    if (!abs)
      return lwt_usage_error("run", "--suppressions %s: %s", a->suppressions, strerror(errno));
    bool ok = add_option(out, "suppressions", abs);
    free(abs);
    if (!ok)
      return lwt_usage_error("run", "--suppressions %s: the path holds both ' and \"",
                             a->suppressions);
  }
  /* json_path: the directory with every '%' doubled, then the pid pattern. */
  lwt_str_t path = LWT_STR_INIT;
  for (const char *p = docs_dir; *p; p++) lwt_str_puts(&path, *p == '%' ? "%%" : (char[]){*p, 0});
  lwt_str_puts(&path, "/lw.%p.json");
  bool ok = add_option(out, "json_path", lwt_str_get(&path));
  lwt_str_free(&path);
  ok = ok && add_option(out, "live_dir", docs_dir);
  if (!ok) {
    lwt_error("run: the temporary directory %s holds both ' and \"; set TMPDIR elsewhere",
              docs_dir);
    return LWT_EXIT_ERROR;
  }
  lw_options_defaults(&o);
  if (parse_options(&o, lwt_str_get(out), "the options") != 0) return LWT_EXIT_USAGE;
  if (o.suppressions[0]) {
    static char err[ERR_LEN];
    if (lw_suppress_load(o.suppressions, err, sizeof err) < 0) {
      lwt_error("run: %s", err);
      return LWT_EXIT_USAGE;
    }
  }
  *exitcode = o.exitcode;
  return 0;
}

/* Sets LD_PRELOAD to the user's list with the preload appended (unless already in it). */
static int set_preload(const char *preload) {
  if (strpbrk(preload, ": \t")) {
    lwt_error("run: the preload path %s holds ':' or white space, which LD_PRELOAD cannot "
              "express; set LOCKWATCH_PRELOAD to a path without them", preload);
    return -1;
  }
  const char *old = getenv("LD_PRELOAD");
  char *value;
  if (!old || !*old) {
    value = lwt_xstrdup(preload);
  } else {
    char *copy = lwt_xstrdup(old), *save = NULL;
    bool present = false;
    for (char *item = strtok_r(copy, ": \t", &save); item; item = strtok_r(NULL, ": \t", &save))
      present |= strcmp(item, preload) == 0;
    free(copy);
    value = present ? lwt_xstrdup(old) : lwt_xasprintf("%s:%s", old, preload);
  }
  int r = setenv("LD_PRELOAD", value, 1);
  if (r != 0) lwt_error("run: cannot set LD_PRELOAD: %s", strerror(errno));
  free(value);
  return r;
}

/*
 * The Python layer (docs/python.md): the directory holding sitecustomize.py
 * and the lockwatch package, in the build tree (for the command there) or
 * next to the preload once installed (lib/lockwatch/python). Put first on
 * PYTHONPATH, with LOCKWATCH_PYTHON naming it, so every Python the program
 * starts checks its threading locks; without it, nothing is set (the
 * preload then says, on a Python it cannot see, how to check it).
 */
static void set_python_layer(const char *preload) {
  char *dir = NULL;
  char *self = self_dir();
  char *build_dir = *LWT_BUILD_BINDIR ? realpath(LWT_BUILD_BINDIR, NULL) : NULL;
  const char *build_pydir = LWT_BUILD_PYDIR; /* empty when not built */
  if (self && build_dir && strcmp(self, build_dir) == 0 && strlen(build_pydir) > 0)
    dir = lwt_xstrdup(build_pydir);
  else {
    const char *slash = strrchr(preload, '/');
    dir = lwt_xasprintf("%.*s/lockwatch/python", slash ? (int)(slash - preload) : 1,
                        slash ? preload : ".");
  }
  free(self);
  free(build_dir);
  char *boot = lwt_xasprintf("%s/sitecustomize.py", dir);
  if (access(boot, R_OK) == 0 && !strchr(dir, ':')) {
    const char *old = getenv("PYTHONPATH");
    char *value = old && *old ? lwt_xasprintf("%s:%s", dir, old) : lwt_xstrdup(dir);
    if (setenv("PYTHONPATH", value, 1) == 0) setenv("LOCKWATCH_PYTHON", dir, 1);
    free(value);
  }
  free(boot);
  free(dir);
}

/* Prints the line of each report and the counts. */
static void print_summary(const lwt_docs_t *d, int status, const char *why) {
  lwt_str_t s = LWT_STR_INIT;
  for (size_t k = 0; k < 2; k++) {
    const lwt_report_t *list = k ? d->suppressed : d->reports;
    size_t n = k ? d->nsuppressed : d->nreports;
    for (size_t i = 0; i < n; i++) {
      const lwt_report_t *r = &list[i];
      const char *summary = lwt_get_str(r->obj, "summary");
      lwt_str_printf(&s, "lockwatch: %s%s (pid %lld", k ? "suppressed: " : "",
                     summary ? summary : lwt_get_str(r->obj, "kind"), r->pid);
      if (r->program) lwt_str_printf(&s, ", %s", lwt_basename(r->program));
      lwt_str_puts(&s, ")");
      const char *by = lwt_get_str(r->obj, "suppressed_by");
      if (k && by) lwt_str_printf(&s, " by %s", by);
      lwt_str_puts(&s, "\n");
    }
  }
  lwt_str_puts(&s, "lockwatch: ");
  size_t failing = lwt_docs_failing(d);
  lwt_count(&s, failing, "report", "reports");
  lwt_str_printf(&s, ", %zu suppressed, from ", d->nsuppressed);
  lwt_count(&s, d->nprocs, "process", "processes");
  lwt_str_printf(&s, "; exit status %d%s", status, why);
  if (failing < d->nreports)
    lwt_str_printf(&s, "; and %zu listed that change nothing", d->nreports - failing);
  lwt_str_puts(&s, "\n");
  fflush(stdout);
  fputs(lwt_str_get(&s), stderr);
  fflush(stderr);
  lwt_str_free(&s);
}

int lwt_cmd_run(int argc, char **argv) {
  run_args_t a;
  int r = parse_args(argc, argv, &a);
  if (r == -2) return LWT_EXIT_OK;
  if (r != 0) return r;

  char *why;
  char *preload = lwt_preload_find(&why);
  if (!preload) {
    lwt_error("run: %s", why);
    free(why);
    return LWT_EXIT_ERROR;
  }
  char *srcroot = a.srcroot ? lwt_srcroot_normalize(a.srcroot) : NULL;
  if (a.srcroot && !srcroot) {
    free(preload);
    return LWT_EXIT_ERROR;
  }
  const char *tmp = getenv("TMPDIR");
  char *docs_dir = lwt_xasprintf("%s/lockwatch.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
  if (!mkdtemp(docs_dir)) {
    lwt_error("run: cannot make a temporary directory %s: %s", docs_dir, strerror(errno));
    free(docs_dir);
    free(preload);
    free(srcroot);
    return LWT_EXIT_ERROR;
  }
  lwt_str_t options = LWT_STR_INIT;
  long exitcode = 66;
  int status = build_options(&a, docs_dir, &options, &exitcode);
  if (status == 0 && set_preload(preload) != 0) status = LWT_EXIT_ERROR;
  if (status == 0) set_python_layer(preload);
  if (status == 0 && setenv("LOCKWATCH_OPTIONS", lwt_str_get(&options), 1) != 0) {
    lwt_error("run: cannot set LOCKWATCH_OPTIONS: %s", strerror(errno));
    status = LWT_EXIT_ERROR;
  }
  lwt_str_free(&options);
  free(preload);
  if (status != 0) {
    if (rmdir(docs_dir) != 0) lwt_error("run: cannot remove %s: %s", docs_dir, strerror(errno));
    free(docs_dir);
    free(srcroot);
    return status;
  }

  handle_signals(false);
  int exec_errno;
  pid_t pid = start(a.argv, &exec_errno);
  int wstatus = 0;
  bool waited = true;
  while (pid > 0 && waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) {
      lwt_error("run: cannot wait for %s: %s", a.argv[0], strerror(errno));
      waited = false;
      break;
    }
  }
  if (pid > 0 && waited) wait_processes(docs_dir, a.wait_daemons);
  handle_signals(true);

  lwt_docs_t d = LWT_DOCS_INIT;
  int unreadable = collect(docs_dir, &d, pid);
  free(docs_dir);
  /*
   * One document for the run: the processes' reports, one per bug, and the
   * cycles of their joined class graphs. Verdict and outputs come from it.
   */
  lwt_str_t merged_text = LWT_STR_INIT;
  if (d.ndocs) {
    json_object *merged = lwt_docs_merge(&d, pid, a.argv);
    lwt_docs_t one = LWT_DOCS_INIT;
    if (lwt_json_format(merged, &merged_text) &&
        lwt_docs_add_buffer(&one, "merged", merged_text.p, merged_text.n) == 0) {
      lwt_docs_free(&d);
      d = one;
    }
    json_object_put(merged);
  }
  if (pid < 0) {
    lwt_docs_free(&d);
    free(srcroot);
    return exec_errno == ENOENT ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
  }

  char why_buf[160] = "";
  if (!waited) {
    status = LWT_EXIT_ERROR;
    snprintf(why_buf, sizeof why_buf, " (the program's status is unknown)");
  } else if (WIFSIGNALED(wstatus)) {
    int sig = WTERMSIG(wstatus);
    status = 128 + sig;
    lwt_error("run: %s was killed by signal %d (%s)", a.argv[0], sig, strsignal(sig));
    snprintf(why_buf, sizeof why_buf, " (killed by signal %d)", sig);
  } else if (WEXITSTATUS(wstatus) != 0) {
    status = WEXITSTATUS(wstatus);
    snprintf(why_buf, sizeof why_buf, " (the program's)");
  } else if (unreadable) {
    status = LWT_EXIT_ERROR;
    snprintf(why_buf, sizeof why_buf, " (a report document could not be read)");
  } else if (d.ndocs == 0) {
    lwt_error("run: no process wrote a report document, so nothing was checked (LD_PRELOAD has "
              "no effect on statically linked and setuid programs)");
    status = LWT_EXIT_ERROR;
  } else if (lwt_docs_failing(&d) > 0) {
    status = (int)exitcode;
    snprintf(why_buf, sizeof why_buf, " (exitcode)");
  } else {
    status = 0;
  }
  bool written = true;
  if (a.json) {
    if (!merged_text.n) {
      json_object *merged = lwt_docs_merge(&d, pid, a.argv);
      if (!lwt_json_format(merged, &merged_text)) lwt_error("run: cannot format the merged document");
      json_object_put(merged);
    }
    if (!merged_text.n || lwt_write_output(a.json, merged_text.p, merged_text.n) != 0) written = false;
  }
  lwt_str_free(&merged_text);
  if (a.sarif) {
    json_object *log = lwt_sarif_build(&d, srcroot);
    lwt_str_t text = LWT_STR_INIT;
    if (!lwt_json_format(log, &text)) {
      lwt_error("run: cannot format the SARIF log");
      written = false;
    } else if (lwt_write_output(a.sarif, text.p, text.n) != 0) {
      written = false;
    }
    lwt_str_free(&text);
    json_object_put(log);
  }
  if (a.html) {
    /* The page states the status the run ends with (unless the page itself fails). */
    lwt_str_t from = LWT_STR_INIT;
    lwt_str_puts(&from, "lockwatch run");
    if (a.json) lwt_str_printf(&from, " --json %s", a.json);
    lwt_html_opts_t o = {srcroot, status, why_buf, lwt_str_get(&from)};
    if (lwt_html_write(&d, a.html, &o) != 0) written = false;
    lwt_str_free(&from);
  }
  if (!written && status == 0) {
    status = LWT_EXIT_ERROR;
    snprintf(why_buf, sizeof why_buf, " (an output could not be written)");
  }
  print_summary(&d, status, why_buf);
  lwt_docs_free(&d);
  free(srcroot);
  return status;
}
