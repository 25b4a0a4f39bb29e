/*
 * suppress.c - parsing suppression rules and matching them against reports
 * (see suppress.h).
 */
#include "suppress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "depot.h"
#include "lwlock.h"
#include "symbolize.h"

typedef struct rule {
  char *text; /* "kind:pattern", as written */
  int kind;   /* -1 for '*' */
  const char *pattern;
} rule_t;

static rule_t *rules;
static unsigned nrules, cap_rules;
static lw_ilock_t supp_lock = LW_ILOCK_INIT;

bool lw_glob_match(const char *p, const char *s) {
  const char *star = NULL, *resume = NULL;
  while (*s) {
    if (*p == '*') {
      star = ++p;
      resume = s;
    } else if (*p == *s) {
      p++;
      s++;
    } else if (star) {
      p = star;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (*p == '*') p++;
  return *p == 0;
}

static int kind_of(const char *k, size_t n) {
  if (n == 1 && k[0] == '*') return -1;
  for (int i = 0; i < LW_REPORT_KIND_COUNT; i++) {
    const char *name = lw_report_kind_name((unsigned)i);
    if (strlen(name) == n && strncmp(name, k, n) == 0) return i;
  }
  return -2;
}

static void accepted_kinds(char *buf, size_t len) {
  size_t k = (size_t)snprintf(buf, len, "*");
  for (int i = 0; i < LW_REPORT_KIND_COUNT && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, ", %s", lw_report_kind_name((unsigned)i));
}

int lw_suppress_parse(const char *text, const char *name, char *err, size_t errlen) {
  rule_t *added = NULL;
  unsigned nadded = 0, cap = 0, lineno = 0;
  for (const char *line = text; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    lineno++;
    /* trim */
    const char *a = line, *z = line + len;
    while (a < z && (*a == ' ' || *a == '\t' || *a == '\r')) a++;
    while (z > a && (z[-1] == ' ' || z[-1] == '\t' || z[-1] == '\r')) z--;
    line = end ? end + 1 : NULL;
    if (a == z || *a == '#') continue;
    const char *colon = memchr(a, ':', (size_t)(z - a));
    char accepted[512], shown[96];
    if (!colon) {
      snprintf(err, errlen, "%s:%u: '%s' is not kind:pattern", name, lineno,
               lw_printable(a, (size_t)(z - a), shown, sizeof shown));
      goto fail;
    }
    int kind = kind_of(a, (size_t)(colon - a));
    if (kind == -2) {
      accepted_kinds(accepted, sizeof accepted);
      snprintf(err, errlen, "%s:%u: unknown report kind '%s' (accepted: %s)", name, lineno,
               lw_printable(a, (size_t)(colon - a), shown, sizeof shown), accepted);
      goto fail;
    }
    if (colon + 1 == z || (z - colon - 1 == (long)sizeof LW_SUPPRESS_LOCK - 1 &&
                           strncmp(colon + 1, LW_SUPPRESS_LOCK, sizeof LW_SUPPRESS_LOCK - 1) == 0)) {
      snprintf(err, errlen, "%s:%u: empty pattern after '%s:'", name, lineno,
               lw_printable(a, (size_t)(colon - a), shown, sizeof shown));
      goto fail;
    }
    if (nadded == cap) {
      unsigned ncap = cap ? cap * 2 : 8;
      void *p = lw_realloc(added, cap * sizeof *added, ncap * sizeof *added);
      if (!p) goto oom;
      added = p;
      cap = ncap;
    }
    size_t n = (size_t)(z - a);
    char *copy = lw_alloc(n + 1);
    if (!copy) goto oom;
    memcpy(copy, a, n);
    copy[n] = 0;
    added[nadded++] = (rule_t){copy, kind, copy + (colon - a) + 1};
  }
  lw_ilock_acquire(&supp_lock);
  if (nrules + nadded > cap_rules) {
    unsigned ncap = nrules + nadded;
    void *p = lw_realloc(rules, cap_rules * sizeof *rules, ncap * sizeof *rules);
    if (!p) {
      lw_ilock_release(&supp_lock);
      goto oom;
    }
    rules = p;
    cap_rules = ncap;
  }
  if (nadded) memcpy(rules + nrules, added, nadded * sizeof *added);
  nrules += nadded;
  lw_ilock_release(&supp_lock);
  lw_free(added, cap * sizeof *added);
  return (int)nadded;
oom:
  snprintf(err, errlen, "%s: out of memory", name);
fail:
  for (unsigned i = 0; i < nadded; i++) lw_free(added[i].text, strlen(added[i].text) + 1);
  lw_free(added, cap * sizeof *added);
  return -1;
}

int lw_suppress_load(const char *path, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot read suppressions file %s: %s", path, strerror(errno));
    return -1;
  }
  size_t cap = 4096, n = 0;
  char *text = lw_alloc(cap);
  for (;;) {
    if (!text) break;
    if (n + 1 >= cap) {
      char *p = lw_realloc(text, cap, cap * 2);
      if (!p) {
        lw_free(text, cap);
        text = NULL;
        break;
      }
      text = p;
      cap *= 2;
    }
    ssize_t r = read(fd, text + n, cap - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(err, errlen, "cannot read suppressions file %s: %s", path, strerror(errno));
      close(fd);
      lw_free(text, cap);
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (!text) {
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
  text[n] = 0;
  if (memchr(text, 0, n)) {
    snprintf(err, errlen, "%s: not a text file (it contains a NUL byte)", path);
    lw_free(text, cap);
    return -1;
  }
  int r = lw_suppress_parse(text, path, err, errlen);
  lw_free(text, cap);
  return r;
}

void lw_suppress_clear(void) {
  lw_ilock_acquire(&supp_lock);
  for (unsigned i = 0; i < nrules; i++) lw_free(rules[i].text, strlen(rules[i].text) + 1);
  nrules = 0;
  lw_ilock_release(&supp_lock);
}

unsigned lw_suppress_count(void) { return nrules; }

/* Does the pattern match a name, or the last path component of a path? */
static bool matches_name(const char *pattern, const char *s) {
  if (!s) return false;
  return lw_glob_match(pattern, s) || lw_glob_match(pattern, lw_basename(s));
}

struct frame_match {
  const char *pattern;
  bool found;
};

static void frame_matches(const lw_frame_t *f, uint32_t index, void *ctx) {
  struct frame_match *m = ctx;
  (void)index;
  if (!m->found)
    m->found = (f->function && lw_glob_match(m->pattern, f->function)) ||
               matches_name(m->pattern, f->file) || matches_name(m->pattern, f->module);
}

static bool stack_matches(const char *pattern, uint32_t stack) {
  struct frame_match m = {pattern, false};
  lw_symbolize_stack(stack, frame_matches, &m);
  return m.found;
}

static bool report_matches(const char *pattern, const lw_report_t *r) {
  for (uint32_t i = 0; i < r->nedges; i++)
    if (stack_matches(pattern, r->edges[i].w.stack_to) ||
        stack_matches(pattern, r->edges[i].w.stack_from))
      return true;
  for (uint32_t i = 0; i < r->nevents; i++)
    if (stack_matches(pattern, r->events[i].stack)) return true;
  return false;
}

/* Does the pattern match the name of one of r's locks (the program's name, or its symbol)? */
static bool lock_matches(const char *pattern, const lw_report_t *r) {
  for (uint32_t i = 0; i < r->nlocks; i++) {
    char sym[256];
    if (r->locks[i].name && lw_glob_match(pattern, r->locks[i].name)) return true;
    if (lw_symbolize_data(r->locks[i].addr, sym, sizeof sym) && lw_glob_match(pattern, sym))
      return true;
  }
  return false;
}

const char *lw_suppress_match(const lw_report_t *r) {
  for (unsigned i = 0; i < nrules; i++) {
    if (rules[i].kind >= 0 && (uint32_t)rules[i].kind != r->kind) continue;
    const char *p = rules[i].pattern;
    if (strncmp(p, LW_SUPPRESS_LOCK, sizeof LW_SUPPRESS_LOCK - 1) == 0) {
      if (lock_matches(p + sizeof LW_SUPPRESS_LOCK - 1, r)) return rules[i].text;
    } else if (report_matches(p, r)) {
      return rules[i].text;
    }
  }
  return NULL;
}
