/*
 * output.c - writing text and files without losing the program's output or
 * ours (see output.h).
 */
#include "output.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwlock.h"
#include "options.h"

static int err_fd = -1;
static dev_t err_dev;
static ino_t err_ino;
static int log_fd = -1;
static dev_t log_dev;
static ino_t log_ino;
static int log_failed;
static lw_ilock_t out_lock = LW_ILOCK_INIT;

void lw_output_init(void) {
  struct stat st;
  if (fstat(2, &st) != 0) return;
  err_fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
  err_dev = st.st_dev;
  err_ino = st.st_ino;
}

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

/* Returns an fd that still is the program's original stderr, or -1. */
static int stderr_fd(void) {
  struct stat st;
  if (err_fd >= 0 && fstat(err_fd, &st) == 0 && st.st_dev == err_dev && st.st_ino == err_ino)
    return err_fd;
  if (fstat(2, &st) == 0 && st.st_dev == err_dev && st.st_ino == err_ino) return 2;
  return -1;
}

char *lw_output_expand(const char *pattern, char *out, size_t n) {
  size_t k = 0;
  for (const char *p = pattern; *p && k + 1 < n; p++) {
    if (p[0] == '%' && p[1] == 'p') {
      k += (size_t)snprintf(out + k, n - k, "%d", (int)getpid());
      if (k >= n) k = n - 1;
      p++;
    } else if (p[0] == '%' && p[1] == '%') {
      out[k++] = '%';
      p++;
    } else {
      out[k++] = *p;
    }
  }
  out[k] = 0;
  return out;
}

static void message_locked(const char *msg) {
  int fd = stderr_fd();
  if (fd < 0) return;
  char line[1024];
  int n = snprintf(line, sizeof line, "lockwatch: %s\n", msg);
  if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
  write_all(fd, line, (size_t)n);
}

void lw_output_message(const char *msg) {
  lw_ilock_acquire(&out_lock);
  message_locked(msg);
  lw_ilock_release(&out_lock);
}

void lw_output_stderr(const char *s, size_t n) {
  lw_ilock_acquire(&out_lock);
  int fd = stderr_fd();
  if (fd >= 0) write_all(fd, s, n);
  lw_ilock_release(&out_lock);
}

/* Is log_fd still the log file we opened? A program may close every fd and reuse the number. */
static bool log_fd_ours(void) {
  struct stat st;
  return log_fd >= 0 && fstat(log_fd, &st) == 0 && st.st_dev == log_dev && st.st_ino == log_ino;
}

void lw_output_text(const char *s, size_t n) {
  lw_ilock_acquire(&out_lock);
  if (log_fd >= 0 && !log_fd_ours()) log_fd = -1; /* not ours any more: never close it, reopen */
  if (lw_opt.log_path && lw_opt.log_path[0] && log_fd < 0 && !log_failed) {
    char path[4096];
    snprintf(path, sizeof path, "%s.%d", lw_opt.log_path, (int)getpid());
    log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (log_fd >= 0 && log_fd < 100) { /* out of the way of a program that counts its fds */
      int high = fcntl(log_fd, F_DUPFD_CLOEXEC, 100);
      if (high >= 0) {
        close(log_fd);
        log_fd = high;
      }
    }
    struct stat st;
    if (log_fd >= 0 && fstat(log_fd, &st) == 0) {
      log_dev = st.st_dev;
      log_ino = st.st_ino;
    }
    if (log_fd < 0) {
      char msg[4200];
      snprintf(msg, sizeof msg, "cannot open log_path file %s: %s; reports go to stderr", path,
               strerror(errno));
      message_locked(msg);
      log_failed = 1;
    }
  }
  int fd = log_fd >= 0 ? log_fd : stderr_fd();
  if (fd >= 0) write_all(fd, s, n);
  lw_ilock_release(&out_lock);
}

/*
 * Writes data to a path that is not a regular file (a device such as
 * /dev/null, a FIFO): directly, since renaming a file over it would replace
 * the device for every process on the machine. Returns 0, or -1 with err.
 */
static int write_special(const char *path, const char *data, size_t n, char *err, size_t errlen) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  for (size_t done = 0; done < n;) {
    ssize_t w = write(fd, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      snprintf(err, errlen, "cannot write %s: %s", path, w < 0 ? strerror(errno) : "short write");
      close(fd);
      return -1;
    }
    done += (size_t)w;
  }
  close(fd);
  return 0;
}

int lw_output_file(const char *path, const char *data, size_t n, char *err, size_t errlen) {
  char tmp[4200];
  struct stat st;
  if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) &&
      !S_ISDIR(st.st_mode))
    return write_special(path, data, n, err, errlen);
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_EXCL, 0644);
  if (fd < 0 && errno == EEXIST) {
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_EXCL, 0644);
  }
  if (fd < 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  const char *p = data;
  size_t left = n;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      snprintf(err, errlen, "cannot write %s: %s", path, w < 0 ? strerror(errno) : "short write");
      close(fd);
      unlink(tmp);
      return -1;
    }
    p += w;
    left -= (size_t)w;
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}

void lw_output_fork_prepare(void) { lw_ilock_acquire(&out_lock); }
void lw_output_fork_parent(void) { lw_ilock_release(&out_lock); }

void lw_output_fork_child(void) {
  lw_ilock_reset(&out_lock);
  if (log_fd_ours()) close(log_fd);
  log_fd = -1;
  log_failed = 0;
}
