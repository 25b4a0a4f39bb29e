/*
 * util.c - the small things every subcommand of the lockwatch command needs:
 * one-line messages, memory that never comes back NULL, growable strings,
 * number parsing and writing an output file completely or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

void lwt_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("lockwatch: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int lwt_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "lockwatch: %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "; see 'lockwatch %s --help'\n", cmd);
  va_end(ap);
  return LWT_EXIT_USAGE;
}

int lwt_bad_option(const char *cmd, int c, char **argv) {
  /* optind was advanced past the offending word. */
  const char *word = optind > 0 ? argv[optind - 1] : "";
  bool is_long = strncmp(word, "--", 2) == 0;
  if (c == ':') {
    if (is_long) return lwt_usage_error(cmd, "option '%s' needs a value", word);
    return lwt_usage_error(cmd, "option '-%c' needs a value", optopt);
  }
  if (!is_long && optopt) return lwt_usage_error(cmd, "unknown option '-%c'", optopt);
  return lwt_usage_error(cmd, "unknown option '%s'", word);
}

/* Ends the command: there is no sensible way on without memory. */
static void out_of_memory(void) {
  fputs("lockwatch: out of memory\n", stderr);
  exit(LWT_EXIT_ERROR);
}

void *lwt_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) out_of_memory();
  return p;
}

void *lwt_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) out_of_memory();
  return q;
}

char *lwt_xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) out_of_memory();
  return p;
}

char *lwt_xasprintf(const char *fmt, ...) {
  va_list ap;
  char *p;
  va_start(ap, fmt);
  int n = vasprintf(&p, fmt, ap);
  va_end(ap);
  if (n < 0) out_of_memory();
  return p;
}

/* Makes room for n more bytes and the NUL. */
static void str_reserve(lwt_str_t *s, size_t n) {
  if (n >= SIZE_MAX / 2 - s->n) out_of_memory();
  if (s->n + n + 1 <= s->cap) return;
  size_t cap = s->cap ? s->cap : 256;
  while (cap < s->n + n + 1) cap *= 2;
  s->p = lwt_xrealloc(s->p, cap);
  s->cap = cap;
}

void lwt_str_add(lwt_str_t *s, const char *p, size_t n) {
  str_reserve(s, n);
  memcpy(s->p + s->n, p, n);
  s->n += n;
  s->p[s->n] = 0;
}

void lwt_str_puts(lwt_str_t *s, const char *p) { lwt_str_add(s, p, strlen(p)); }

void lwt_str_printf(lwt_str_t *s, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) out_of_memory(); /* only an encoding error; never for our formats */
  str_reserve(s, (size_t)n);
  vsnprintf(s->p + s->n, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  s->n += (size_t)n;
}

const char *lwt_str_get(lwt_str_t *s) { return s->p ? s->p : ""; }

void lwt_str_free(lwt_str_t *s) {
  free(s->p);
  *s = (lwt_str_t)LWT_STR_INIT;
}

const char *lwt_basename(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

bool lwt_parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  /* strtol would skip leading white space and take a '+'; a number here is digits only. */
  if (!(*s == '-' || (*s >= '0' && *s <= '9'))) return false;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool lwt_write_all(int fd, const char *data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    data += w;
    n -= (size_t)w;
  }
  return true;
}

int lwt_write_output(const char *path, const char *data, size_t n) {
  if (!path || strcmp(path, "-") == 0) {
    if (fflush(stdout) != 0 || !lwt_write_all(STDOUT_FILENO, data, n)) {
      lwt_error("cannot write to standard output: %s", strerror(errno));
      return -1;
    }
    return 0;
  }
  /* The temporary file goes beside path, so that rename replaces it in one step. */
  char *tmp = lwt_xasprintf("%s.tmp.XXXXXX", path);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    lwt_error("cannot write %s: %s", path, strerror(errno));
    free(tmp);
    return -1;
  }
  /* mkostemp makes the file 0600; give it the mode a new file would get. */
  mode_t mask = umask(0);
  umask(mask);
  bool ok = fchmod(fd, 0666 & ~mask) == 0 && lwt_write_all(fd, data, n);
  int saved = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    unlink(tmp);
    lwt_error("cannot write %s: %s", path, strerror(saved));
  }
  free(tmp);
  return ok ? 0 : -1;
}

void lwt_count(lwt_str_t *out, size_t n, const char *one, const char *many) {
  lwt_str_printf(out, "%zu %s", n, n == 1 ? one : many);
}

/* ---- a string -> index map ---------------------------------------------------- */

/* FNV-1a of a string. */
static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The slot of key: where it is, or where it would go. */
static size_t map_slot(const lwt_map_t *m, const char *key) {
  size_t i = (size_t)hash_str(key) & (m->cap - 1);
  while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & (m->cap - 1);
  return i;
}

bool lwt_map_get(const lwt_map_t *m, const char *key, size_t *val) {
  if (!m->cap) return false;
  size_t i = map_slot(m, key);
  if (!m->keys[i]) return false;
  *val = m->vals[i];
  return true;
}

void lwt_map_put(lwt_map_t *m, const char *key, size_t val) {
  if ((m->n + 1) * 2 > m->cap) {
    lwt_map_t big = {NULL, NULL, m->cap ? m->cap * 2 : 64, 0};
    big.keys = lwt_xmalloc(big.cap * sizeof *big.keys);
    big.vals = lwt_xmalloc(big.cap * sizeof *big.vals);
    memset(big.keys, 0, big.cap * sizeof *big.keys);
    for (size_t i = 0; i < m->cap; i++) {
      if (!m->keys[i]) continue;
      size_t j = map_slot(&big, m->keys[i]);
      big.keys[j] = m->keys[i];
      big.vals[j] = m->vals[i];
      big.n++;
    }
    free(m->keys);
    free(m->vals);
    *m = big;
  }
  size_t i = map_slot(m, key);
  m->keys[i] = lwt_xstrdup(key);
  m->vals[i] = val;
  m->n++;
}

void lwt_map_free(lwt_map_t *m) {
  for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
  free(m->keys);
  free(m->vals);
}
