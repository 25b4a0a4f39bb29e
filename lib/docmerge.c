/*
 * docmerge.c - merging a process's JSON document into the one another
 * process of the same run wrote at the same path (see docmerge.h). Nothing
 * here allocates but through lw_buf_t; the inputs are only read.
 */
#include "docmerge.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "jscan.h"
#include "output.h"

static bool space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* ---- members and elements of a valid document ---------------------------------------- */

typedef struct span {
  const char *p;
  size_t n;
} span_t;

/* The value of member key of the object at obj (valid JSON), or an empty span. */
static span_t member(span_t obj, const char *key) {
  lw_jscan_t s = {obj.p, obj.p + obj.n, NULL, NULL, 0};
  size_t klen = strlen(key);
  lw_jscan_ws(&s);
  if (s.p >= s.end || *s.p != '{') return (span_t){NULL, 0};
  s.p++;
  for (;;) {
    lw_jscan_ws(&s);
    if (s.p >= s.end || *s.p != '"') return (span_t){NULL, 0};
    const char *k = s.p + 1;
    if (!lw_jscan_string(&s)) return (span_t){NULL, 0};
    bool match = (size_t)(s.p - 1 - k) == klen && memcmp(k, key, klen) == 0;
    lw_jscan_ws(&s);
    s.p++; /* ':' */
    lw_jscan_ws(&s);
    const char *v = s.p;
    if (!lw_jscan_value(&s)) return (span_t){NULL, 0};
    if (match) return (span_t){v, (size_t)(s.p - v)};
    lw_jscan_ws(&s);
    if (s.p >= s.end || *s.p != ',') return (span_t){NULL, 0};
    s.p++;
  }
}

/* Calls fn for each element of the array at arr (valid JSON); nothing if it is not one. */
static void elements(span_t arr, void (*fn)(span_t e, void *ctx), void *ctx) {
  lw_jscan_t s = {arr.p, arr.p + arr.n, NULL, NULL, 0};
  lw_jscan_ws(&s);
  if (!arr.p || s.p >= s.end || *s.p != '[') return;
  s.p++;
  for (;;) {
    lw_jscan_ws(&s);
    if (s.p >= s.end || *s.p == ']') return;
    const char *v = s.p;
    if (!lw_jscan_value(&s)) return;
    fn((span_t){v, (size_t)(s.p - v)}, ctx);
    lw_jscan_ws(&s);
    if (s.p >= s.end || *s.p != ',') return;
    s.p++;
  }
}

static bool span_is(span_t a, span_t b) { return a.p && b.p && a.n == b.n && !memcmp(a.p, b.p, a.n); }

/* ---- judging and merging ------------------------------------------------------------- */

enum lw_doc_verdict lw_doc_judge(const char *old, size_t n, const char *ours, size_t ours_n,
                                 char *why, size_t len) {
  size_t k = 0;
  while (k < n && space(old[k])) k++;
  if (k == n) return LW_DOC_REPLACE; /* empty */
  size_t at = 0;
  const char *err = lw_json_check(old, n, &at);
  if (err) {
    snprintf(why, len, "not valid JSON (%s at byte %zu)", err, at);
    return LW_DOC_FOREIGN;
  }
  span_t doc = {old, n};
  span_t tool = member(doc, "tool");
  if (!span_is(tool, (span_t){"\"lockwatch\"", 11}) || !member(doc, "reports").p) {
    snprintf(why, len, "not a lockwatch document");
    return LW_DOC_FOREIGN;
  }
  span_t run = member(doc, "run_id"), mine = member((span_t){ours, ours_n}, "run_id");
  return span_is(run, mine) ? LW_DOC_MERGE : LW_DOC_REPLACE;
}

struct out {
  lw_buf_t *b;
  bool first;
  span_t pid; /* added to elements that have none; empty: copy as is */
};

/* Writes element e, with "pid" first when o->pid is set. */
static void put_element(span_t e, void *ctx) {
  struct out *o = ctx;
  lw_buf_puts(o->b, o->first ? "\n    " : ",\n    ");
  o->first = false;
  if (!o->pid.p || e.n < 2 || e.p[0] != '{') {
    lw_buf_add(o->b, e.p, e.n);
    return;
  }
  size_t k = 1;
  while (k < e.n && space(e.p[k])) k++;
  lw_buf_puts(o->b, "{\"pid\": ");
  lw_buf_add(o->b, o->pid.p, o->pid.n);
  lw_buf_puts(o->b, e.p[k] == '}' ? "" : ", ");
  lw_buf_add(o->b, e.p + 1, e.n - 1);
}

/* Writes "key": [old elements..., our elements...], each with its pid. */
static void join_array(lw_buf_t *b, const char *key, span_t old, bool old_merged, span_t ours,
                       bool with_pid) {
  struct out o = {b, true, {NULL, 0}};
  lw_buf_printf(b, ",\n  \"%s\": [", key);
  o.pid = old_merged || !with_pid ? (span_t){NULL, 0} : member(old, "pid");
  elements(member(old, key), put_element, &o);
  o.pid = with_pid ? member(ours, "pid") : (span_t){NULL, 0};
  elements(member(ours, key), put_element, &o);
  lw_buf_puts(b, o.first ? "]" : "\n  ]");
}

/* The process entry of a single-process document: {pid, program, argv}. */
static void put_process(lw_buf_t *b, span_t doc, bool first) {
  static const char *const keys[] = {"pid", "program", "argv", "run_id"};
  lw_buf_puts(b, first ? "\n    {" : ",\n    {");
  for (int i = 0; i < 4; i++) {
    span_t v = member(doc, keys[i]);
    if (!v.p) continue;
    lw_buf_printf(b, "%s\"%s\": ", i ? ", " : "", keys[i]);
    lw_buf_add(b, v.p, v.n);
  }
  lw_buf_puts(b, "}");
}

struct stat_sum {
  char name[64][48];
  long long value[64];
  int is_bool[64];
  int n;
};

static void add_stat(struct stat_sum *st, const char *name, size_t nlen, span_t v) {
  if (nlen >= sizeof st->name[0]) return;
  int i = 0;
  while (i < st->n && (strlen(st->name[i]) != nlen || memcmp(st->name[i], name, nlen))) i++;
  if (i == st->n) {
    if (st->n == 64) return;
    memcpy(st->name[i], name, nlen);
    st->name[i][nlen] = 0;
    st->value[i] = 0;
    st->is_bool[i] = v.n && (v.p[0] == 't' || v.p[0] == 'f');
    st->n++;
  }
  if (st->is_bool[i]) st->value[i] |= v.n && v.p[0] == 't';
  else st->value[i] += strtoll(v.p, NULL, 10);
}

/* Adds every member of the stats object of doc to st. */
static void sum_stats(struct stat_sum *st, span_t doc) {
  span_t obj = member(doc, "stats");
  lw_jscan_t s = {obj.p, obj.p + obj.n, NULL, NULL, 0};
  if (!obj.p) return;
  lw_jscan_ws(&s);
  s.p++;
  for (;;) {
    lw_jscan_ws(&s);
    if (s.p >= s.end || *s.p != '"') return;
    const char *k = s.p + 1;
    if (!lw_jscan_string(&s)) return;
    size_t klen = (size_t)(s.p - 1 - k);
    lw_jscan_ws(&s);
    s.p++;
    lw_jscan_ws(&s);
    const char *v = s.p;
    if (!lw_jscan_value(&s)) return;
    add_stat(st, k, klen, (span_t){v, (size_t)(s.p - v)});
    lw_jscan_ws(&s);
    if (s.p >= s.end || *s.p != ',') return;
    s.p++;
  }
}

static void copy_member(lw_buf_t *b, span_t doc, const char *key, bool first) {
  span_t v = member(doc, key);
  if (!v.p) return;
  lw_buf_printf(b, "%s\n  \"%s\": ", first ? "" : ",", key);
  lw_buf_add(b, v.p, v.n);
}

bool lw_doc_merge(const char *old_text, size_t old_n, const char *ours_text, size_t ours_n,
                  lw_buf_t *b) {
  span_t old = {old_text, old_n}, ours = {ours_text, ours_n};
  size_t at;
  if (lw_json_check(old_text, old_n, &at) || lw_json_check(ours_text, ours_n, &at)) return false;
  span_t procs = member(old, "processes");
  bool merged = procs.p != NULL;
  lw_buf_puts(b, "{");
  copy_member(b, old, "tool", true);
  copy_member(b, old, "version", false);
  copy_member(b, ours, "schema", false);
  /* the first process of the run, or the image that replaced it by exec */
  span_t top = span_is(member(old, "pid"), member(ours, "pid")) ? ours : old;
  copy_member(b, top, "pid", false);
  copy_member(b, top, "program", false);
  copy_member(b, top, "argv", false);
  copy_member(b, ours, "run_id", false);
  /* the processes: the old document's (or the old process), then ours */
  lw_buf_puts(b, ",\n  \"processes\": [");
  struct out o = {b, true, {NULL, 0}};
  if (merged) elements(procs, put_element, &o);
  else put_process(b, old, true), o.first = false;
  put_process(b, ours, o.first);
  lw_buf_puts(b, "\n  ]");
  join_array(b, "reports", old, merged, ours, true);
  join_array(b, "suppressed", old, merged, ours, true);
  /* each process's class unit names its pid and indexes only its own tables: joined as is */
  join_array(b, "class_units", old, merged, ours, false);
  struct stat_sum st = {.n = 0};
  sum_stats(&st, old);
  sum_stats(&st, ours);
  lw_buf_puts(b, ",\n  \"stats\": {");
  for (int i = 0; i < st.n; i++) {
    lw_buf_printf(b, "%s\n    \"%s\": ", i ? "," : "", st.name[i]);
    if (st.is_bool[i]) lw_buf_puts(b, st.value[i] ? "true" : "false");
    else lw_buf_printf(b, "%lld", st.value[i]);
  }
  lw_buf_puts(b, "\n  }\n}\n");
  return true;
}

/* ---- the file --------------------------------------------------------------------- */

/* Reads the regular file at path (not through a symlink) into lockwatch memory; *n its size. */
static char *read_file(const char *path, size_t *n, size_t *cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  *n = *cap = 0;
  if (fd < 0) return NULL;
  size_t c = 65536;
  char *p = lw_alloc(c);
  while (p) {
    if (*n == c) {
      char *q = lw_realloc(p, c, c * 2);
      if (!q) break;
      p = q;
      c *= 2;
    }
    ssize_t r = read(fd, p + *n, c - *n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    *n += (size_t)r;
  }
  close(fd);
  *cap = c;
  return p;
}

struct count_pid {
  span_t pid; /* count only elements with this pid; empty: count all */
  unsigned n;
};

static void count_if_pid(span_t e, void *ctx) {
  struct count_pid *c = ctx;
  c->n += !c->pid.p || span_is(member(e, "pid"), c->pid);
}

/* Reports in document old made by the process whose pid is ours's (an earlier image). */
static unsigned reports_of(span_t old, span_t ours) {
  struct count_pid c = {member(ours, "pid"), 0};
  if (!member(old, "processes").p) { /* a one-process document: all or none are ours */
    if (!span_is(member(old, "pid"), c.pid)) return 0;
    c.pid = (span_t){NULL, 0};
  }
  elements(member(old, "reports"), count_if_pid, &c);
  return c.n;
}

int lw_doc_write(const char *path, const char *data, size_t n, char *err, size_t errlen,
                 unsigned *inherited) {
  struct stat st;
  if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) /* a device, a FIFO: nothing to merge */
    return lw_output_file(path, data, n, err, errlen);
  /* one writer at a time in the directory: the lock is on the directory itself */
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == dir) dir[1] = 0;
  else if (slash) *slash = 0;
  else snprintf(dir, sizeof dir, ".");
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    while (flock(dfd, LOCK_EX) != 0 && errno == EINTR) {}
  size_t old_n, cap;
  char *old = read_file(path, &old_n, &cap);
  int rc;
  char why[200];
  switch (old ? lw_doc_judge(old, old_n, data, n, why, sizeof why) : LW_DOC_REPLACE) {
  case LW_DOC_MERGE: {
    lw_buf_t b = LW_BUF_INIT;
    if (inherited) *inherited = reports_of((span_t){old, old_n}, (span_t){data, n});
    if (lw_doc_merge(old, old_n, data, n, &b) && !b.oom) {
      rc = lw_output_file(path, lw_buf_str(&b), b.n, err, errlen);
    } else {
      snprintf(err, errlen, "cannot merge into %s; it is replaced by this process's document",
               path);
      lw_output_message(err);
      rc = lw_output_file(path, data, n, err, errlen);
    }
    lw_buf_free(&b);
    break;
  }
  case LW_DOC_FOREIGN: {
    char aside[4300], msg[4700];
    snprintf(aside, sizeof aside, "%s.corrupt.%d", path, (int)getpid());
    if (rename(path, aside) == 0)
      snprintf(msg, sizeof msg, "%s held %s: kept as %s, and a new document written", path, why,
               aside);
    else
      snprintf(msg, sizeof msg, "%s held %s and could not be kept aside (%s)", path, why,
               strerror(errno));
    lw_output_message(msg);
    rc = lw_output_file(path, data, n, err, errlen);
    break;
  }
  default:
    rc = lw_output_file(path, data, n, err, errlen);
  }
  if (old) lw_free(old, cap);
  if (dfd >= 0) close(dfd); /* and the lock with it */
  return rc;
}
