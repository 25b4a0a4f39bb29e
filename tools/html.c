/*
 * html.c - one self-contained HTML page for the reports of lockwatch
 * documents (a run's, or a suite's merged one): a summary with the verdict,
 * the lock-order graph of the cycles as inline SVG laid out here, every
 * report with its locks, its unsafe scenario, its stacks and the source lines
 * around their frames, labelled and suppressed reports apart, the profile
 * when the document has one, and the processes. Everything is inline (style,
 * script, picture) and the page's Content-Security-Policy forbids any other
 * load, so it opens offline and cannot reach the network.
 *
 * Every text that comes from a document or a source file goes through esc(),
 * which escapes HTML and replaces control characters and invalid UTF-8.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lockwatch/lockwatch.h"
#include "tool.h"

/* Reports open at first; the others are one click away. */
#define OPEN_REPORTS 5
/* Source lines shown on each side of a frame's line. */
#define SRC_CONTEXT 3
/* Source files larger than this are not read. */
#define SRC_MAX_BYTES (16u << 20)
/* Edge labels are drawn when the graph has at most this many edges (always in tooltips). */
#define GRAPH_LABELLED_EDGES 40
/* Characters of a lock's name drawn in its box (all of it in the tooltip). */
#define GRAPH_NAME_CHARS 30
/* The processes table is open when it has at most this many rows. */
#define OPEN_PROCESSES 20

/* ---- escaping ------------------------------------------------------------------------- */

/*
 * The length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are not one.
 */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000;
  else return 0;
  if (len > n) return 0;
  unsigned cp = c & (0x3f >> (len - 1));
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

/*
 * Appends n bytes of s as HTML text, safe in an element and in a quoted
 * attribute: markup characters escaped, tabs and newlines kept, other control characters
 * and invalid UTF-8 replaced by U+FFFD.
 */
static void esc_n(lwt_str_t *o, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, run = 0; /* bytes since i to copy as they are */
  while (i + run < n) {
    const unsigned char *c = p + i + run;
    const char *rep = NULL;
    size_t len = 1;
    switch (*c) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&#39;"; break;
    case '\t':
    case '\n': break;
    default:
      if (*c < 0x20 || *c == 0x7f) rep = "\xef\xbf\xbd";
      else if (*c >= 0x80 && (len = utf8_len(c, n - i - run)) == 0) rep = "\xef\xbf\xbd", len = 1;
    }
    if (!rep) {
      run += len;
      continue;
    }
    lwt_str_add(o, s + i, run);
    lwt_str_puts(o, rep);
    i += run + len;
    run = 0;
  }
  lwt_str_add(o, s + i, run);
}

/* esc_n of a NUL-terminated string; NULL appends nothing. */
static void esc(lwt_str_t *o, const char *s) {
  if (s) esc_n(o, s, strlen(s));
}

/* Appends the printf-formatted text, escaped. */
static void escf(lwt_str_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void escf(lwt_str_t *o, const char *fmt, ...) {
  char *s;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) {
    lwt_error("out of memory");
    exit(LWT_EXIT_ERROR);
  }
  esc_n(o, s, (size_t)n);
  free(s);
}

static bool str_is(const char *s, const char *want) { return s && strcmp(s, want) == 0; }

static const char *or_q(const char *s) { return s ? s : "?"; }

/* ---- source files --------------------------------------------------------------------- */

/* A source file read once: its text and where each line starts. */
typedef struct src_file {
  char *data;     /* NULL if it could not be read */
  size_t *starts; /* starts[i]: offset of line i + 1; starts[nlines] = end */
  size_t nlines;
} src_file_t;

/* The page being written. */
typedef struct page {
  lwt_str_t *o;
  const lwt_docs_t *d;
  const char *srcroot; /* absolute, without trailing '/' */
  lwt_map_t src_index; /* path as resolved -> index in srcs */
  src_file_t *srcs;
  size_t nsrcs, cap_srcs;
  bool multi;      /* several processes: say where each report came from */
  bool show_paths; /* the documents' paths mean something to the reader */
} page_t;

/* Reads path into f (f->data NULL if it is not a readable regular file of sane size). */
static void src_read(const char *path, src_file_t *f) {
  memset(f, 0, sizeof *f);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)SRC_MAX_BYTES) {
    close(fd);
    return;
  }
  size_t cap = (size_t)st.st_size + 1, n = 0;
  char *p = lwt_xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) break; /* the file grew: what we have will do */
    ssize_t r = read(fd, p + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  p[n] = 0;
  size_t lines = 1;
  for (size_t i = 0; i < n; i++) lines += p[i] == '\n';
  f->starts = lwt_xmalloc((lines + 1) * sizeof *f->starts);
  f->starts[0] = 0;
  f->nlines = 0;
  for (size_t i = 0; i < n; i++)
    if (p[i] == '\n') f->starts[++f->nlines] = i + 1;
  if (f->starts[f->nlines] < n) f->starts[++f->nlines] = n; /* a last line without '\n' */
  f->data = p;
}

/* The source file a frame names, read once; NULL if it cannot be read. */
static const src_file_t *src_get(page_t *pg, const char *file) {
  char *path = file[0] == '/' ? lwt_xstrdup(file) : lwt_xasprintf("%s/%s", pg->srcroot, file);
  size_t i;
  if (!lwt_map_get(&pg->src_index, path, &i)) {
    if (pg->nsrcs == pg->cap_srcs) {
      pg->cap_srcs = pg->cap_srcs ? pg->cap_srcs * 2 : 16;
      pg->srcs = lwt_xrealloc(pg->srcs, pg->cap_srcs * sizeof *pg->srcs);
    }
    i = pg->nsrcs++;
    src_read(path, &pg->srcs[i]);
    lwt_map_put(&pg->src_index, path, i);
  }
  free(path);
  return pg->srcs[i].data ? &pg->srcs[i] : NULL;
}

/* The lines around line (from 1) of f, the line itself marked; nothing if f has no such line. */
static void src_snippet(lwt_str_t *o, const src_file_t *f, long long line) {
  if (line < 1 || (unsigned long long)line > f->nlines) return;
  size_t first = line > SRC_CONTEXT ? (size_t)line - SRC_CONTEXT : 1;
  size_t last = (size_t)line + SRC_CONTEXT;
  if (last > f->nlines) last = f->nlines;
  lwt_str_puts(o, "<pre class=\"src\">");
  for (size_t l = first; l <= last; l++) {
    size_t a = f->starts[l - 1], b = f->starts[l];
    while (b > a && (f->data[b - 1] == '\n' || f->data[b - 1] == '\r')) b--;
    bool hit = l == (size_t)line;
    lwt_str_printf(o, "<span class=\"%s\"><span class=\"ln\">%zu</span>%s", hit ? "hit" : "line",
                   l, hit ? "&#9654; " : "  ");
    esc_n(o, f->data + a, b - a);
    lwt_str_puts(o, "</span>"); /* each line a block: no newline between them */
  }
  lwt_str_puts(o, "</pre>");
}

static void src_free(page_t *pg) {
  for (size_t i = 0; i < pg->nsrcs; i++) {
    free(pg->srcs[i].data);
    free(pg->srcs[i].starts);
  }
  free(pg->srcs);
  lwt_map_free(&pg->src_index);
}

/* ---- stacks ---------------------------------------------------------------------------- */

/* A stack: one line per frame, and the source around each frame whose file can be read. */
static void html_frames(page_t *pg, json_object *frames) {
  lwt_str_t *o = pg->o;
  size_t n = lwt_len(frames);
  if (!n) {
    lwt_str_puts(o, "<p class=\"nostack\">no stack</p>\n");
    return;
  }
  lwt_str_puts(o, "<ol class=\"frames\">\n");
  for (size_t i = 0; i < n; i++) {
    json_object *fo = lwt_at(frames, i);
    lwt_frame_t f;
    if (!lwt_frame_get(fo, &f)) continue;
    lwt_str_printf(o, "<li><span class=\"fno\">#%zu</span> <code class=\"fn\">", i);
    esc(o, f.function ? f.function : or_q(f.pc));
    lwt_str_puts(o, "</code>");
    if (f.file) {
      /* Under the source root, the path from there (all of it in the tooltip). */
      size_t root = strlen(pg->srcroot);
      bool under = f.file[0] == '/' && strncmp(f.file, pg->srcroot, root) == 0 &&
                   f.file[root] == '/' && root > 1;
      lwt_str_puts(o, " <span class=\"loc\" title=\"");
      esc(o, f.file);
      lwt_str_puts(o, "\">");
      escf(o, "%s:%lld", under ? f.file + root + 1 : f.file, f.line);
      lwt_str_puts(o, "</span>");
    }
    if (f.module) {
      lwt_str_puts(o, " <span class=\"mod\">(");
      escf(o, "%s+%s", lwt_basename(f.module), or_q(f.offset));
      lwt_str_puts(o, ")</span>");
    }
    json_object *inl = lwt_get(fo, "inlined", json_type_boolean);
    if (inl && json_object_get_boolean(inl))
      lwt_str_puts(o, " <span class=\"mod\">(inlined)</span>");
    if (f.file && *f.file && f.line > 0) {
      const src_file_t *src = src_get(pg, f.file);
      if (src) src_snippet(o, src, f.line);
    }
    lwt_str_puts(o, "</li>\n");
  }
  lwt_str_puts(o, "</ol>\n");
}

/* "file:line" (last component) of the best frame of frames, escaped; nothing if none. */
static void html_where(lwt_str_t *o, json_object *frames) {
  lwt_frame_t f;
  if (!lwt_frames_pick(frames, NULL, &f)) return;
  escf(o, "%s:%lld", lwt_basename(f.file), f.line);
  if (f.function) escf(o, " in %s", f.function);
}

/* ---- reports -------------------------------------------------------------------------- */

/* A lock as the scenario names it: its symbol, else its id. */
static const char *lock_short(json_object *report, const char *id) {
  const char *name = lwt_get_str(lwt_report_lock(report, id), "name");
  return name ? name : or_q(id);
}

/* "lock(name)" or "rlock(name)" (an rwlock taken for reading), escaped. */
static void scenario_lock(lwt_str_t *o, json_object *r, const char *id, const char *mode) {
  json_object *l = lwt_report_lock(r, id);
  bool read = str_is(lwt_get_str(l, "type"), "rwlock") && str_is(mode, "read");
  lwt_str_printf(o, "<code>%slock(", read ? "r" : "");
  esc(o, lock_short(r, id));
  lwt_str_puts(o, ")</code>");
}

/* The anchor of lock id in report number n. */
static void lock_anchor(lwt_str_t *o, const char *prefix, size_t n, const char *id) {
  lwt_str_printf(o, "%s%zu-lock-", prefix, n);
  esc(o, id);
}

/* The unsafe scenario of an inversion: two columns for two locks, else a row per thread. */
static void html_scenario(lwt_str_t *o, json_object *r) {
  json_object *edges = lwt_get(r, "edges", json_type_array);
  size_t n = lwt_len(edges);
  if (n < 2) return;
  bool repeated = false;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < i; k++)
      repeated |= str_is(lwt_get_str(lwt_at(edges, i), "thread"),
                         or_q(lwt_get_str(lwt_at(edges, k), "thread")));
  lwt_str_puts(o, "<div class=\"scenario\"><h4>Possible unsafe locking scenario</h4>\n");
  if (n == 2) {
    json_object *e0 = lwt_at(edges, 0), *e1 = lwt_at(edges, 1);
    const char *t0 = or_q(lwt_get_str(e0, "thread")), *t1 = or_q(lwt_get_str(e1, "thread"));
    lwt_str_puts(o, "<table class=\"scen\"><thead><tr><th>");
    esc(o, t0);
    lwt_str_puts(o, "</th><th>");
    esc(o, t1);
    lwt_str_puts(o, "</th></tr></thead><tbody>\n<tr><td>");
    scenario_lock(o, r, lwt_get_str(e0, "from"), lwt_get_str(e0, "from_mode"));
    lwt_str_puts(o, "</td><td></td></tr>\n<tr><td></td><td>");
    scenario_lock(o, r, lwt_get_str(e1, "from"), lwt_get_str(e1, "from_mode"));
    lwt_str_puts(o, "</td></tr>\n<tr><td></td><td>");
    scenario_lock(o, r, lwt_get_str(e1, "to"), lwt_get_str(e1, "to_mode"));
    lwt_str_puts(o, " <span class=\"waits\">waits</span></td></tr>\n<tr><td>");
    scenario_lock(o, r, lwt_get_str(e0, "to"), lwt_get_str(e0, "to_mode"));
    lwt_str_puts(o, " <span class=\"waits\">waits</span></td><td></td></tr>\n");
    lwt_str_puts(o, "</tbody></table>\n");
  } else {
    lwt_str_puts(o, "<table class=\"scen\"><thead><tr><th>thread</th><th>holds</th>"
                    "<th>then waits for</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
      json_object *e = lwt_at(edges, i);
      lwt_str_puts(o, "<tr><th>");
      esc(o, or_q(lwt_get_str(e, "thread")));
      lwt_str_puts(o, "</th><td>");
      scenario_lock(o, r, lwt_get_str(e, "from"), lwt_get_str(e, "from_mode"));
      lwt_str_puts(o, "</td><td>");
      scenario_lock(o, r, lwt_get_str(e, "to"), lwt_get_str(e, "to_mode"));
      lwt_str_puts(o, " <span class=\"waits\">waits</span></td></tr>\n");
    }
    lwt_str_puts(o, "</tbody></table>\n");
  }
  if (repeated)
    lwt_str_puts(o, "<p class=\"note\">One thread took more than one of these orders, at different "
                    "times: threads running this code at once can deadlock.</p>\n");
  lwt_str_puts(o, "<p class=\"deadlock\">*** DEADLOCK ***</p></div>\n");
}

/* A real deadlock: each waiting thread, the locks it holds and the lock it waits for. */
static void html_deadlock_table(lwt_str_t *o, json_object *r) {
  json_object *events = lwt_get(r, "events", json_type_array);
  size_t n = lwt_len(events);
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    json_object *w = lwt_at(events, i);
    if (!str_is(lwt_get_str(w, "what"), "wait")) continue;
    const char *thread = lwt_get_str(w, "thread");
    if (!any)
      lwt_str_puts(o, "<div class=\"scenario\"><h4>Who waits for whom</h4><table class=\"scen\">"
                      "<thead><tr><th>thread</th><th>holds</th><th>waits for</th></tr></thead>"
                      "<tbody>\n");
    any = true;
    lwt_str_puts(o, "<tr><th>");
    esc(o, or_q(thread));
    lwt_str_puts(o, "</th><td>");
    bool first = true;
    for (size_t k = 0; k < n; k++) {
      json_object *h = lwt_at(events, k);
      if (!str_is(lwt_get_str(h, "what"), "held") ||
          !str_is(lwt_get_str(h, "thread"), or_q(thread)))
        continue;
      if (!first) lwt_str_puts(o, ", ");
      first = false;
      scenario_lock(o, r, lwt_get_str(h, "lock"), lwt_get_str(h, "mode"));
    }
    lwt_str_puts(o, "</td><td>");
    scenario_lock(o, r, lwt_get_str(w, "lock"), lwt_get_str(w, "mode"));
    lwt_str_puts(o, "</td></tr>\n");
  }
  if (any) lwt_str_puts(o, "</tbody></table></div>\n");
}

/* Fields of a lock the page shows in their own columns, or ignores. */
static bool lock_field_known(const char *key) {
  static const char *const known[] = {"id", "address", "type", "name", "created", "class",
                                      "instances"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(key, known[i]) == 0) return true;
  return false;
}

/* A JSON value in a table cell: scalars as they are, anything else as compact JSON (cut). */
static void html_value(lwt_str_t *o, json_object *v) {
  if (!v) return;
  switch (json_object_get_type(v)) {
  case json_type_null: return;
  case json_type_string: esc(o, json_object_get_string(v)); return;
  case json_type_array: {
    /* A stack: its best frame. */
    json_object *f0 = lwt_at(v, 0);
    if (f0 && (lwt_get_str(f0, "file") || lwt_get_str(f0, "function"))) {
      html_where(o, v);
      return;
    }
  } /* fall through */
  default: {
    const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    size_t n = s ? strlen(s) : 0;
    if (n > 120) {
      size_t cut = 117;
      while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80) cut--;
      esc_n(o, s, cut);
      lwt_str_puts(o, "...");
    } else if (s) {
      esc(o, s);
    }
  }
  }
}

/* The locks of a report, each row an anchor the graph links to. */
static void html_locks(page_t *pg, json_object *r, const char *prefix, size_t num) {
  lwt_str_t *o = pg->o;
  json_object *locks = lwt_get(r, "locks", json_type_array);
  size_t n = lwt_len(locks);
  if (!n) return;
  bool has_class = false, has_instances = false;
  /* Other fields a newer lockwatch may add, in order of first appearance. */
  const char *extra[16];
  size_t nextra = 0;
  for (size_t i = 0; i < n; i++) {
    json_object *l = lwt_at(locks, i);
    if (!json_object_is_type(l, json_type_object)) continue;
    has_class |= lwt_get(l, "class", json_type_null) == NULL &&
                 json_object_object_get_ex(l, "class", NULL);
    has_instances |= json_object_object_get_ex(l, "instances", NULL);
    json_object_object_foreach(l, key, val) {
      (void)val;
      if (lock_field_known(key)) continue;
      bool seen = false;
      for (size_t k = 0; k < nextra && !seen; k++) seen = strcmp(extra[k], key) == 0;
      if (!seen && nextra < sizeof extra / sizeof extra[0]) extra[nextra++] = key;
    }
  }
  lwt_str_puts(o, "<table class=\"locks\"><thead><tr><th>lock</th><th>name</th><th>type</th>"
                  "<th>address</th>");
  if (has_class) lwt_str_puts(o, "<th>class</th>");
  if (has_instances) lwt_str_puts(o, "<th>instances</th>");
  for (size_t k = 0; k < nextra; k++) {
    lwt_str_puts(o, "<th>");
    esc(o, extra[k]);
    lwt_str_puts(o, "</th>");
  }
  lwt_str_puts(o, "<th>created at</th></tr></thead><tbody>\n");
  for (size_t i = 0; i < n; i++) {
    json_object *l = lwt_at(locks, i);
    const char *id = or_q(lwt_get_str(l, "id"));
    lwt_str_puts(o, "<tr id=\"");
    lock_anchor(o, prefix, num, id);
    lwt_str_puts(o, "\"><td>");
    esc(o, id);
    lwt_str_puts(o, "</td><td class=\"lockname\">");
    esc(o, lwt_get_str(l, "name"));
    lwt_str_puts(o, "</td><td>");
    esc(o, lwt_get_str(l, "type"));
    lwt_str_puts(o, "</td><td>");
    esc(o, lwt_get_str(l, "address"));
    lwt_str_puts(o, "</td>");
    json_object *v;
    if (has_class) {
      lwt_str_puts(o, "<td>");
      html_value(o, json_object_object_get_ex(l, "class", &v) ? v : NULL);
      lwt_str_puts(o, "</td>");
    }
    if (has_instances) {
      lwt_str_puts(o, "<td>");
      html_value(o, json_object_object_get_ex(l, "instances", &v) ? v : NULL);
      lwt_str_puts(o, "</td>");
    }
    for (size_t k = 0; k < nextra; k++) {
      lwt_str_puts(o, "<td>");
      html_value(o, json_object_object_get_ex(l, extra[k], &v) ? v : NULL);
      lwt_str_puts(o, "</td>");
    }
    lwt_str_puts(o, "<td>");
    html_where(o, lwt_get(l, "created", json_type_array));
    lwt_str_puts(o, "</td></tr>\n");
  }
  lwt_str_puts(o, "</tbody></table>\n");
}

/* What a label means; NULL if this version does not know it. */
static const char *label_meaning(const char *label, char *buf, size_t len) {
  int threads = 0, end = 0;
  if (str_is(label, "guarded"))
    return "every order of the cycle was taken while the thread held one same other lock (a "
           "gate lock), so the threads cannot interleave as the scenario needs";
  if (str_is(label, "single-thread"))
    return "one thread made every order of the cycle: no two threads took these locks in "
           "opposite orders in this run; it deadlocks only if this code runs in several threads "
           "at once";
  if ((sscanf(label, "needs-%d-threads%n", &threads, &end) == 1 ||
       sscanf(label, "needs %d threads%n", &threads, &end) == 1) &&
      label[end] == 0 && threads > 0) {
    snprintf(buf, len, "a deadlock on this cycle needs %d threads holding these locks at the "
             "same time", threads);
    return buf;
  }
  return NULL;
}

/* One label: a string, or an object with a name and a reason. */
static void html_label(lwt_str_t *o, json_object *lab) {
  const char *name = NULL, *why = NULL;
  if (json_object_is_type(lab, json_type_string)) {
    name = json_object_get_string(lab);
  } else if (json_object_is_type(lab, json_type_object)) {
    static const char *const names[] = {"label", "name", "kind", "id"};
    static const char *const whys[] = {"reason", "why", "detail", "explanation", "message"};
    for (size_t i = 0; !name && i < sizeof names / sizeof names[0]; i++)
      name = lwt_get_str(lab, names[i]);
    for (size_t i = 0; !why && i < sizeof whys / sizeof whys[0]; i++)
      why = lwt_get_str(lab, whys[i]);
  }
  char buf[200];
  const char *meaning = name ? label_meaning(name, buf, sizeof buf) : NULL;
  lwt_str_puts(o, "<li><span class=\"label\">");
  if (name) esc(o, name);
  else html_value(o, lab);
  lwt_str_puts(o, "</span>");
  if (meaning) {
    lwt_str_puts(o, ": ");
    esc(o, meaning);
  }
  if (why) {
    lwt_str_puts(o, meaning ? " (" : ": ");
    esc(o, why);
    if (meaning) lwt_str_puts(o, ")");
  }
  if (!meaning && !why) lwt_str_puts(o, " (a label this version of lockwatch does not explain)");
  lwt_str_puts(o, "</li>\n");
}

/* Is r labelled: "guarded": true or a non-empty "labels" array? */
static bool is_labelled(json_object *r) {
  json_object *g = lwt_get(r, "guarded", json_type_boolean);
  return (g && json_object_get_boolean(g)) || lwt_len(lwt_get(r, "labels", json_type_array)) > 0;
}

/* The labels of r, explained. */
static void html_labels(lwt_str_t *o, json_object *r) {
  if (!is_labelled(r)) return;
  lwt_str_puts(o, "<ul class=\"labels\">\n");
  json_object *g = lwt_get(r, "guarded", json_type_boolean);
  if (g && json_object_get_boolean(g)) {
    json_object *lab = json_object_new_object();
    const char *by = lwt_get_str(r, "guarded_by");
    json_object_object_add(lab, "label", json_object_new_string("guarded"));
    if (by) {
      char *why = lwt_xasprintf("the gate lock is %s", by);
      json_object_object_add(lab, "reason", json_object_new_string(why));
      free(why);
    }
    html_label(o, lab);
    json_object_put(lab);
  }
  json_object *labels = lwt_get(r, "labels", json_type_array);
  for (size_t i = 0; i < lwt_len(labels); i++) html_label(o, lwt_at(labels, i));
  lwt_str_puts(o, "</ul>\n");
}

/* Fields of a report the page shows in its own way. */
static bool report_field_known(const char *key) {
  static const char *const known[] = {
      "id",     "pid",     "kind",   "summary",   "suppressed_by", "locks",   "cycle",
      "closing_edge", "detail", "condition_variable", "owner_tid", "waited_ms", "call", "object",
      "error", "reason", "waiters", "edges",
      "events", "threads", "guarded", "guarded_by", "labels"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(key, known[i]) == 0) return true;
  return false;
}

/* The process pid of d, or NULL. */
static const lwt_process_t *process_of(const lwt_docs_t *d, long long pid) {
  for (size_t i = 0; i < d->nprocs; i++)
    if (d->procs[i].pid == pid) return &d->procs[i];
  return NULL;
}

/* A command line, its words separated by spaces, escaped. */
static void html_argv(lwt_str_t *o, json_object *argv) {
  for (size_t i = 0; i < lwt_len(argv); i++) {
    if (i) lwt_str_puts(o, " ");
    esc(o, json_object_get_string(lwt_at(argv, i)));
  }
}

/* A kind as a CSS class name: letters, digits and '-' only. */
static void kind_class(lwt_str_t *o, const char *kind) {
  for (const char *p = kind; *p; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    lwt_str_add(o, ok ? &c : "_", 1);
  }
}

/* Where thread t came from, as the text report says it. */
static void html_thread(page_t *pg, json_object *t, long long pid) {
  lwt_str_t *o = pg->o;
  const char *id = or_q(lwt_get_str(t, "id")), *parent = lwt_get_str(t, "parent");
  long long tid = lwt_get_int(t, "tid", 0);
  if (tid == 0) return;
  lwt_str_puts(o, "<h4>");
  if (tid == pid) {
    escf(o, "Thread %s (tid %lld) is the main thread.", id, tid);
    lwt_str_puts(o, "</h4>\n");
  } else if (parent) {
    escf(o, "Thread %s (tid %lld) created by thread %s at:", id, tid, parent);
    lwt_str_puts(o, "</h4>\n");
    html_frames(pg, lwt_get(t, "created", json_type_array));
  } else {
    escf(o, "Thread %s (tid %lld), created before lockwatch started or outside pthread_create.",
         id, tid);
    lwt_str_puts(o, "</h4>\n");
  }
}

/* The stacks of a report: both of every edge, or every event's. */
static void html_stacks(page_t *pg, json_object *r, const char *prefix, size_t num) {
  lwt_str_t *o = pg->o;
  json_object *edges = lwt_get(r, "edges", json_type_array);
  json_object *events = lwt_get(r, "events", json_type_array);
  for (size_t i = 0; i < lwt_len(edges); i++) {
    json_object *e = lwt_at(edges, i);
    lwt_str_t acq = LWT_STR_INIT, held = LWT_STR_INIT;
    lwt_text_edge_labels(&acq, &held, r, e);
    lwt_str_printf(o, "<div class=\"stack\" id=\"%s%zu-e%zu\"><h4>", prefix, num, i);
    esc(o, lwt_str_get(&acq));
    lwt_str_puts(o, ":</h4>\n");
    html_frames(pg, lwt_get(e, "acquired", json_type_array));
    lwt_str_puts(o, "<h4>");
    esc(o, lwt_str_get(&held));
    lwt_str_puts(o, ":</h4>\n");
    html_frames(pg, lwt_get(e, "held", json_type_array));
    const char *also = lwt_get_str(e, "also_by_thread");
    if (also) {
      lwt_str_puts(o, "<p class=\"note\">");
      escf(o, "Thread %s also took %s while holding %s.", also, or_q(lwt_get_str(e, "to")),
           or_q(lwt_get_str(e, "from")));
      lwt_str_puts(o, "</p>\n");
    }
    lwt_str_puts(o, "</div>\n");
    lwt_str_free(&acq);
    lwt_str_free(&held);
  }
  for (size_t i = 0; i < lwt_len(events); i++) {
    json_object *e = lwt_at(events, i);
    lwt_str_t label = LWT_STR_INIT;
    lwt_text_event_label(&label, r, e);
    lwt_str_printf(o, "<div class=\"stack\" id=\"%s%zu-v%zu\"><h4>", prefix, num, i);
    esc(o, lwt_str_get(&label));
    lwt_str_puts(o, ":</h4>\n");
    html_frames(pg, lwt_get(e, "stack", json_type_array));
    lwt_str_puts(o, "</div>\n");
    lwt_str_free(&label);
  }
}

/* The line under a report's title: the cycle, or what happened. */
static void html_headline(lwt_str_t *o, json_object *r) {
  const char *kind = or_q(lwt_get_str(r, "kind"));
  if (strcmp(kind, "lock-order-inversion") == 0) {
    json_object *edges = lwt_get(r, "edges", json_type_array);
    size_t n = lwt_len(edges);
    if (!n) return;
    lwt_str_puts(o, "<p class=\"headline\">Cycle in lock order graph: ");
    for (size_t i = 0; i <= n; i++) {
      const char *id = or_q(lwt_get_str(lwt_at(edges, i % n), "from"));
      const char *name = lwt_get_str(lwt_report_lock(r, id), "name");
      if (i) lwt_str_puts(o, " &rArr; ");
      lwt_str_puts(o, "<b>");
      esc(o, id);
      lwt_str_puts(o, "</b>");
      if (name && i < n) {
        lwt_str_puts(o, " (<span class=\"lockname\">");
        esc(o, name);
        lwt_str_puts(o, "</span>)");
      }
    }
    lwt_str_puts(o, "</p>\n");
    return;
  }
  lwt_str_t h = LWT_STR_INIT;
  if (lwt_text_headline(&h, r)) {
    lwt_str_puts(o, "<p class=\"headline\">");
    esc(o, lwt_str_get(&h));
    lwt_str_puts(o, "</p>\n");
  }
  lwt_str_free(&h);
}

/*
 * One report as a collapsible block with the anchor <prefix><num>: its title,
 * origin, labels, locks, scenario, stacks, unnamed locks' creation, threads
 * and any field this version does not know.
 */
static void html_report(page_t *pg, const lwt_report_t *rep, const char *prefix, size_t num,
                        bool open) {
  lwt_str_t *o = pg->o;
  json_object *r = rep->obj;
  const char *kind = or_q(lwt_get_str(r, "kind")), *summary = lwt_get_str(r, "summary");
  lwt_str_printf(o, "<details class=\"report\" id=\"%s%zu\" data-kind=\"", prefix, num);
  esc(o, kind);
  lwt_str_printf(o, "\"%s>\n<summary><span class=\"kind k-", open ? " open" : "");
  kind_class(o, kind);
  lwt_str_puts(o, "\">");
  esc(o, kind);
  lwt_str_puts(o, "</span> <span class=\"sum\">");
  /* The summary starts with the kind, already in the badge. */
  size_t klen = strlen(kind);
  if (summary && strncmp(summary, kind, klen) == 0 && summary[klen] == ' ') summary += klen + 1;
  esc(o, summary ? summary : "");
  lwt_str_puts(o, "</span> <span class=\"origin\">");
  escf(o, "pid %lld", rep->pid);
  if (rep->program) escf(o, ", %s", lwt_basename(rep->program));
  lwt_str_puts(o, "</span></summary>\n<div class=\"body\">\n");

  const lwt_process_t *proc = process_of(pg->d, rep->pid);
  lwt_str_puts(o, "<p class=\"from\">");
  escf(o, "Report %lld of process %lld", lwt_get_int(r, "id", (long long)num), rep->pid);
  if (proc && lwt_len(proc->argv)) {
    lwt_str_puts(o, ": <code>");
    html_argv(o, proc->argv);
    lwt_str_puts(o, "</code>");
  } else if (rep->program) {
    lwt_str_puts(o, ": <code>");
    esc(o, rep->program);
    lwt_str_puts(o, "</code>");
  }
  if (pg->d->ndocs > 1 && pg->show_paths) {
    lwt_str_puts(o, " (from ");
    esc(o, rep->path);
    lwt_str_puts(o, ")");
  }
  lwt_str_puts(o, "</p>\n");
  const char *by = lwt_get_str(r, "suppressed_by");
  if (rep->suppressed) {
    lwt_str_puts(o, "<p class=\"note\">Suppressed by the rule <code>");
    esc(o, or_q(by));
    lwt_str_puts(o, "</code>.</p>\n");
  }
  html_labels(o, r);
  html_headline(o, r);
  html_locks(pg, r, prefix, num);
  if (strcmp(kind, "lock-order-inversion") == 0) html_scenario(o, r);
  else if (strcmp(kind, "deadlock") == 0) html_deadlock_table(o, r);
  html_stacks(pg, r, prefix, num);

  json_object *locks = lwt_get(r, "locks", json_type_array);
  for (size_t i = 0; i < lwt_len(locks); i++) {
    json_object *l = lwt_at(locks, i);
    if (lwt_get_str(l, "name") || !lwt_len(lwt_get(l, "created", json_type_array))) continue;
    lwt_str_puts(o, "<div class=\"stack\"><h4>");
    escf(o, "%s %s (%s) created at:", or_q(lwt_get_str(l, "type")), or_q(lwt_get_str(l, "id")),
         or_q(lwt_get_str(l, "address")));
    lwt_str_puts(o, "</h4>\n");
    html_frames(pg, lwt_get(l, "created", json_type_array));
    lwt_str_puts(o, "</div>\n");
  }
  json_object *threads = lwt_get(r, "threads", json_type_array);
  if (lwt_len(threads)) {
    lwt_str_puts(o, "<details class=\"threads\"><summary>Threads</summary>\n");
    for (size_t i = 0; i < lwt_len(threads); i++) html_thread(pg, lwt_at(threads, i), rep->pid);
    lwt_str_puts(o, "</details>\n");
  }
  bool other = false;
  json_object_object_foreach(r, key, val) {
    if (report_field_known(key)) continue;
    if (!other) lwt_str_puts(o, "<table class=\"other\"><caption>Other fields</caption><tbody>\n");
    other = true;
    lwt_str_puts(o, "<tr><th>");
    esc(o, key);
    lwt_str_puts(o, "</th><td>");
    html_value(o, val);
    lwt_str_puts(o, "</td></tr>\n");
  }
  if (other) lwt_str_puts(o, "</tbody></table>\n");
  lwt_str_puts(o, "</div></details>\n");
}

/* ---- the lock-order graph as inline SVG ------------------------------------------------- */

/* Width of a character of the graph's 12px monospace font, and the height of a lock's box. */
#define CHAR_W 7.3
#define NODE_H 38.0
/* The widest the graph gets before components go to the next row. */
#define GRAPH_MAX_W 1180.0

typedef struct gnode_box {
  double x, y, w; /* centre and width */
  char *name;     /* the first line: class, name or id (cut) */
  char *sub;      /* the second line */
  size_t comp;
} gnode_box_t;

/* s cut to at most max bytes on a character boundary, with "..." if cut; caller frees. */
static char *cut(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n <= max) return lwt_xstrdup(s);
  while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80) max--;
  return lwt_xasprintf("%.*s...", (int)max, s);
}

/* Union-find: the representative of i. */
static size_t uf_find(size_t *parent, size_t i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

/* The point where the ray from the centre of box b towards (tx, ty) leaves it. */
static void clip(const gnode_box_t *b, double tx, double ty, double *x, double *y) {
  double ux = tx - b->x, uy = ty - b->y;
  double hw = b->w / 2 + 3, hh = NODE_H / 2 + 3;
  double t = 1e9;
  if (fabs(ux) > 1e-9) t = hw / fabs(ux);
  if (fabs(uy) > 1e-9 && hh / fabs(uy) < t) t = hh / fabs(uy);
  if (t > 1) t = 1;
  *x = b->x + ux * t;
  *y = b->y + uy * t;
}

/* The anchor a graph element links to: a lock's row, or an edge's or event's stacks. */
static void graph_href(lwt_str_t *o, size_t tag, const char *lock_id, const lwt_gedge_t *e) {
  lwt_str_puts(o, "<a href=\"#");
  if (lock_id) lock_anchor(o, "r", tag + 1, lock_id);
  else lwt_str_printf(o, "r%zu-%c%zu", tag + 1, e->dashed ? 'v' : 'e', e->item);
  lwt_str_puts(o, "\"");
}

/* The graph of g: each connected part on a circle, parts in rows; edges under locks. */
static void html_graph(page_t *pg, const lwt_graph_t *g) {
  lwt_str_t *o = pg->o;
  size_t n = g->nnodes;
  if (!n) {
    lwt_str_puts(o, "<p>No lock to draw: no report names one.</p>\n");
    return;
  }
  gnode_box_t *box = lwt_xmalloc(n * sizeof *box);
  size_t *parent = lwt_xmalloc(n * sizeof *parent);
  for (size_t i = 0; i < n; i++) {
    const lwt_gnode_t *nd = &g->nodes[i];
    const char *cls = lwt_get_str(nd->lock, "class"), *name = lwt_get_str(nd->lock, "name");
    const char *cname = lwt_get_str(nd->lock, "class_name");
    box[i].name = cut(name ? name : cname ? cname : cls ? cls : nd->id, GRAPH_NAME_CHARS);
    const char *type = lwt_get_str(nd->lock, "type");
    if (g->by_name && (cls || name) && nd->nreports > 1)
      box[i].sub = lwt_xasprintf("%zu reports", nd->nreports);
    else if (pg->multi)
      box[i].sub = lwt_xasprintf("%s, pid %lld", nd->id, nd->pid);
    else
      box[i].sub = lwt_xasprintf("%s%s%s", nd->id, type ? " " : "", type ? type : "");
    size_t len = strlen(box[i].name), sub = strlen(box[i].sub) * 10 / 12;
    box[i].w = (double)(len > sub ? len : sub) * CHAR_W + 20;
    parent[i] = i;
  }
  for (size_t i = 0; i < g->nedges; i++) {
    size_t a = uf_find(parent, g->edges[i].from), b = uf_find(parent, g->edges[i].to);
    if (a != b) parent[a < b ? b : a] = a < b ? a : b;
  }
  /* Lay out each part (in order of its first lock) where the row has room. */
  double row_x = 0, row_y = 0, row_h = 0, width = 0, height = 0;
  size_t *members = lwt_xmalloc(n * sizeof *members);
  bool *done = lwt_xmalloc(n * sizeof *done);
  memset(done, 0, n * sizeof *done);
  for (size_t root = 0; root < n; root++) {
    if (uf_find(parent, root) != root) continue;
    size_t k = 0;
    double maxw = 0;
    for (size_t i = root; i < n; i++) {
      if (done[i] || uf_find(parent, i) != root) continue;
      done[i] = true;
      members[k++] = i;
      if (box[i].w > maxw) maxw = box[i].w;
    }
    /* Around (0, 0): one lock alone (room above for a loop), or a circle. */
    double r = 0;
    if (k == 2) r = (maxw + 200) / 2;
    else if (k > 2) r = fmax(90, (maxw + 50) / (2 * sin(M_PI / (double)k)));
    double minx = 1e18, maxx = -1e18, miny = 1e18, maxy = -1e18;
    for (size_t j = 0; j < k; j++) {
      gnode_box_t *b = &box[members[j]];
      double a = M_PI + 2 * M_PI * (double)j / (double)k;
      b->x = k == 1 ? 0 : r * cos(a);
      b->y = k == 1 ? 0 : r * sin(a);
      b->comp = root;
      minx = fmin(minx, b->x - b->w / 2);
      maxx = fmax(maxx, b->x + b->w / 2);
      miny = fmin(miny, b->y - NODE_H / 2);
      maxy = fmax(maxy, b->y + NODE_H / 2);
    }
    /* Room for curved edges, loops and their labels. */
    double margin = 64, pw = maxx - minx + 2 * margin, ph = maxy - miny + 2 * margin;
    if (row_x > 0 && row_x + pw > GRAPH_MAX_W) {
      row_y += row_h;
      row_x = row_h = 0;
    }
    for (size_t j = 0; j < k; j++) {
      box[members[j]].x += row_x + margin - minx;
      box[members[j]].y += row_y + margin - miny;
    }
    row_x += pw;
    row_h = fmax(row_h, ph);
    width = fmax(width, row_x);
    height = fmax(height, row_y + row_h);
  }
  free(members);
  free(done);

  lwt_str_printf(o, "<div class=\"graphbox\"><svg class=\"graph\" width=\"%.0f\" height=\"%.0f\" "
                    "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"lock-order graph\">\n",
                 width, height, width, height);
  lwt_str_puts(o, "<defs>");
  static const char *const colors[] = {"red", "black"};
  for (size_t i = 0; i < 2; i++)
    lwt_str_printf(o, "<marker id=\"arrow-%s\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
                      "markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path "
                      "d=\"M0,0L10,5L0,10z\" fill=\"%s\"/></marker>",
                   colors[i], colors[i]);
  lwt_str_puts(o, "</defs>\n");
  bool labelled = g->nedges <= GRAPH_LABELLED_EDGES;
  for (size_t i = 0; i < g->nedges; i++) {
    const lwt_gedge_t *e = &g->edges[i];
    const gnode_box_t *a = &box[e->from], *b = &box[e->to];
    const char *color = e->red ? "red" : "black";
    double sx, sy, ex, ey, cx, cy, lx, ly;
    lwt_str_t d = LWT_STR_INIT;
    if (e->from == e->to) {
      double top = a->y - NODE_H / 2;
      sx = a->x - 14, sy = top, ex = a->x + 14, ey = top;
      lwt_str_printf(&d, "M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", sx, sy, a->x - 34, top - 48,
                     a->x + 34, top - 48, ex, ey);
      lx = a->x, ly = top - 40;
    } else {
      double dx = b->x - a->x, dy = b->y - a->y, len = hypot(dx, dy);
      /* Curved to its left, so that a -> b and b -> a part; a wait further than an order. */
      double off = fmin(60, fmax(22, len * 0.18)) + (e->dashed ? 34 : 0);
      cx = (a->x + b->x) / 2 - dy / len * off;
      cy = (a->y + b->y) / 2 + dx / len * off;
      clip(a, cx, cy, &sx, &sy);
      clip(b, cx, cy, &ex, &ey);
      lwt_str_printf(&d, "M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f", sx, sy, cx, cy, ex, ey);
      /* An order's label inside its curve, a wait's outside (the two can share their locks). */
      double nx = -dy / len, ny = dx / len, side = e->dashed ? 10 : -12;
      lx = 0.25 * sx + 0.5 * cx + 0.25 * ex + nx * side;
      ly = 0.25 * sy + 0.5 * cy + 0.25 * ey + ny * side + 4;
    }
    graph_href(o, e->tag, NULL, e);
    lwt_str_printf(o, " class=\"gedge%s\"><title>", e->dashed ? " wait" : " order");
    for (size_t k = 0; k < e->nlabels; k++) {
      if (k) lwt_str_puts(o, "\n");
      esc(o, e->labels[k]);
    }
    if (e->nreports > 1) lwt_str_printf(o, "\n%zu reports", e->nreports);
    lwt_str_printf(o, "</title><path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s "
                      "marker-end=\"url(#arrow-%s)\"/>",
                   lwt_str_get(&d), color, e->red ? "2" : "1.2",
                   e->dashed ? " stroke-dasharray=\"6 4\"" : "", color);
    lwt_str_free(&d);
    if (labelled && e->nlabels) {
      lwt_str_printf(o, "<text class=\"elabel\" x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", lx, ly, color);
      for (const char *p = e->labels[0]; *p; p++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        esc_n(o, p, len);
        if (!nl) break;
        lwt_str_puts(o, " ");
        p = nl;
      }
      if (e->nlabels > 1) lwt_str_printf(o, " (+%zu)", e->nlabels - 1);
      lwt_str_puts(o, "</text>");
    }
    lwt_str_puts(o, "</a>\n");
  }
  for (size_t i = 0; i < n; i++) {
    const lwt_gnode_t *nd = &g->nodes[i];
    const gnode_box_t *b = &box[i];
    const char *color = nd->red ? "red" : "black";
    graph_href(o, nd->tag, nd->id, NULL);
    lwt_str_puts(o, " class=\"gnode\" data-lock=\"");
    esc(o, b->name);
    lwt_str_puts(o, "\"><title>");
    esc(o, nd->label ? nd->label : nd->id);
    if (nd->program && pg->multi) escf(o, "\n%s", nd->program);
    lwt_str_printf(o, "\nnamed by %zu report%s</title>", nd->nreports,
                   nd->nreports == 1 ? "" : "s");
    lwt_str_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"7\" "
                      "fill=\"white\" stroke=\"%s\" stroke-width=\"%s\"/>",
                   b->x - b->w / 2, b->y - NODE_H / 2, b->w, NODE_H, color, nd->red ? "2" : "1");
    lwt_str_printf(o, "<text class=\"nname\" x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", b->x, b->y - 3,
                   color);
    esc(o, b->name);
    lwt_str_printf(o, "</text><text class=\"nsub\" x=\"%.1f\" y=\"%.1f\">", b->x, b->y + 12);
    esc(o, b->sub);
    lwt_str_puts(o, "</text></a>\n");
  }
  lwt_str_puts(o, "</svg></div>\n");
  for (size_t i = 0; i < n; i++) {
    free(box[i].name);
    free(box[i].sub);
  }
  free(box);
  free(parent);
}

/* ---- summary, profile, processes ---------------------------------------------------------- */

/* A kind and how many reports of it each list has. */
typedef struct kind_count {
  const char *kind;
  size_t failing, labelled, suppressed;
} kind_count_t;

/* The kinds of d's reports in order of first appearance, with their counts; *n gets how many. */
static kind_count_t *count_kinds(const lwt_docs_t *d, size_t *n) {
  kind_count_t *k = lwt_xmalloc((d->nreports + d->nsuppressed + 1) * sizeof *k);
  *n = 0;
  for (size_t i = 0; i < d->nreports + d->nsuppressed; i++) {
    bool sup = i >= d->nreports;
    json_object *r = sup ? d->suppressed[i - d->nreports].obj : d->reports[i].obj;
    const char *kind = or_q(lwt_get_str(r, "kind"));
    size_t j = 0;
    while (j < *n && strcmp(k[j].kind, kind) != 0) j++;
    if (j == *n) k[(*n)++] = (kind_count_t){kind, 0, 0, 0};
    if (sup) k[j].suppressed++;
    else if (is_labelled(r)) k[j].labelled++;
    else k[j].failing++;
  }
  return k;
}

/* The distinct programs of d's processes, each with its number of processes. */
static void html_programs(lwt_str_t *o, const lwt_docs_t *d) {
  const char **progs = lwt_xmalloc((d->nprocs + 1) * sizeof *progs);
  size_t *counts = lwt_xmalloc((d->nprocs + 1) * sizeof *counts), n = 0;
  for (size_t i = 0; i < d->nprocs; i++) {
    const char *p = d->procs[i].program ? d->procs[i].program : "(unknown program)";
    size_t j = 0;
    while (j < n && strcmp(progs[j], p) != 0) j++;
    if (j == n) progs[n] = p, counts[n++] = 0;
    counts[j]++;
  }
  if (d->nprocs == 1) {
    lwt_str_puts(o, "<code>");
    if (lwt_len(d->procs[0].argv)) html_argv(o, d->procs[0].argv);
    else esc(o, progs[0]);
    lwt_str_puts(o, "</code>");
  } else {
    lwt_str_puts(o, "<ul class=\"programs\">");
    for (size_t j = 0; j < n; j++) {
      lwt_str_puts(o, "<li><code>");
      esc(o, progs[j]);
      lwt_str_puts(o, "</code> (");
      lwt_count(o, counts[j], "process", "processes");
      lwt_str_puts(o, ")</li>");
    }
    lwt_str_puts(o, "</ul>");
  }
  free(progs);
  free(counts);
}

/* Every integer statistic of the documents, summed, in order of first appearance. */
static void html_stats(lwt_str_t *o, const lwt_docs_t *d) {
  json_object *sum = json_object_new_object();
  if (!sum) {
    lwt_error("out of memory");
    exit(LWT_EXIT_ERROR);
  }
  for (size_t i = 0; i < d->ndocs; i++) {
    json_object *stats = lwt_get(d->docs[i].root, "stats", json_type_object);
    if (!stats) continue;
    json_object_object_foreach(stats, key, val) {
      json_object *cur;
      int64_t v;
      if (json_object_is_type(val, json_type_boolean)) v = json_object_get_boolean(val);
      else if (json_object_is_type(val, json_type_int)) v = json_object_get_int64(val);
      else continue;
      if (json_object_object_get_ex(sum, key, &cur))
        json_object_set_int64(cur, json_object_get_int64(cur) + v);
      else
        json_object_object_add(sum, key, json_object_new_int64(v));
    }
  }
  if (json_object_object_length(sum)) {
    lwt_str_puts(o, "<details class=\"stats\"><summary>Run statistics");
    if (d->nprocs > 1) lwt_str_puts(o, " (summed over the processes)");
    lwt_str_puts(o, "</summary><table class=\"facts\"><tbody>\n");
    json_object_object_foreach(sum, key, val) {
      lwt_str_puts(o, "<tr><th>");
      esc(o, key);
      lwt_str_printf(o, "</th><td class=\"num\">%lld</td></tr>\n",
                     (long long)json_object_get_int64(val));
    }
    lwt_str_puts(o, "</tbody></table></details>\n");
  }
  json_object_put(sum);
}

/* The summary: programs, processes, reports by kind, and the verdict. */
static void html_summary(page_t *pg, const lwt_html_opts_t *opts, size_t nfailing,
                         size_t nlabelled) {
  lwt_str_t *o = pg->o;
  const lwt_docs_t *d = pg->d;
  lwt_str_puts(o, "<section id=\"summary\"><table class=\"facts\"><tbody>\n");
  lwt_str_printf(o, "<tr><th>%s</th><td>", d->nprocs == 1 ? "Program" : "Programs");
  html_programs(o, d);
  lwt_str_puts(o, "</td></tr>\n<tr><th>Processes</th><td>");
  if (d->nprocs <= 10) {
    for (size_t i = 0; i < d->nprocs; i++) lwt_str_printf(o, "%spid %lld", i ? ", " : "",
                                                          d->procs[i].pid);
  } else {
    lwt_count(o, d->nprocs, "process", "processes");
    lwt_str_puts(o, " (<a href=\"#processes\">listed below</a>)");
  }
  lwt_str_puts(o, "</td></tr>\n<tr><th>Reports</th><td>");
  size_t nkinds;
  kind_count_t *kinds = count_kinds(d, &nkinds);
  if (!nkinds) {
    lwt_str_puts(o, "<p class=\"none\">No report: lockwatch found nothing wrong in ");
    lwt_count(o, d->nprocs, "process", "processes");
    lwt_str_puts(o, ".</p>");
  } else {
    lwt_str_puts(o, "<table class=\"kinds\"><thead><tr><th>kind</th><th>reports</th>"
                    "<th>labelled</th><th>suppressed</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < nkinds; i++) {
      lwt_str_puts(o, "<tr><td><span class=\"kind k-");
      kind_class(o, kinds[i].kind);
      lwt_str_puts(o, "\">");
      esc(o, kinds[i].kind);
      lwt_str_printf(o, "</span></td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
                        "<td class=\"num\">%zu</td></tr>\n",
                     kinds[i].failing, kinds[i].labelled, kinds[i].suppressed);
    }
    lwt_str_puts(o, "</tbody></table>");
  }
  free(kinds);
  lwt_str_puts(o, "</td></tr>\n<tr><th>Verdict</th><td>");
  bool fail = opts->status >= 0 ? opts->status != 0 : nfailing > 0;
  lwt_str_printf(o, "<span class=\"verdict %s\">%s</span> ", fail ? "fail" : "pass",
                 fail ? "FAIL" : "PASS");
  if (opts->status >= 0) {
    escf(o, "lockwatch run exited with status %d%s: ", opts->status,
         opts->status_why ? opts->status_why : "");
    lwt_count(o, nfailing, "report fails the run", "reports fail the run");
  } else if (nfailing) {
    lwt_count(o, nfailing, "report fails a run", "reports fail a run");
    lwt_str_puts(o, " (lockwatch run and the runtime then exit with the exitcode, 66 by default)");
  } else {
    lwt_str_puts(o, "no report fails a run");
  }
  if (nlabelled) {
    lwt_str_puts(o, "; ");
    lwt_count(o, nlabelled, "labelled report does not", "labelled reports do not");
  }
  lwt_str_puts(o, ".</td></tr>\n<tr><th>From</th><td>");
  if (opts->from) {
    lwt_str_puts(o, "<code>");
    esc(o, opts->from);
    lwt_str_puts(o, "</code>");
  }
  for (size_t i = 0; !opts->from && i < d->ndocs; i++) {
    if (i) lwt_str_puts(o, ", ");
    lwt_str_puts(o, "<code>");
    esc(o, d->docs[i].path);
    lwt_str_puts(o, "</code>");
  }
  lwt_str_puts(o, "</td></tr>\n</tbody></table>\n");
  html_stats(o, d);
  lwt_str_puts(o, "<p id=\"blocked\" class=\"blocked\" hidden></p>\n</section>\n");
}

/* The profile of every document that has one: its scalar facts and its table of locks. */
static void html_profile(page_t *pg) {
  lwt_str_t *o = pg->o;
  const lwt_docs_t *d = pg->d;
  bool any = false;
  for (size_t i = 0; i < d->ndocs; i++) {
    json_object *root = d->docs[i].root;
    json_object *prof = lwt_get(root, "profile", json_type_object);
    if (!prof) continue;
    if (!any) lwt_str_puts(o, "<section id=\"profile\"><h2>Profile</h2>\n");
    any = true;
    if (d->ndocs > 1) {
      lwt_str_puts(o, "<h3>");
      escf(o, "pid %lld", lwt_get_int(root, "pid", 0));
      const char *prog = lwt_get_str(root, "program");
      if (prog) escf(o, ", %s", lwt_basename(prog));
      if (pg->show_paths) {
        lwt_str_puts(o, " (");
        esc(o, d->docs[i].path);
        lwt_str_puts(o, ")");
      }
      lwt_str_puts(o, "</h3>\n");
    }
    bool facts = false;
    json_object_object_foreach(prof, key, val) {
      if (json_object_is_type(val, json_type_array) || json_object_is_type(val, json_type_object))
        continue;
      if (!facts) lwt_str_puts(o, "<table class=\"facts\"><tbody>\n");
      facts = true;
      lwt_str_puts(o, "<tr><th>");
      esc(o, key);
      lwt_str_puts(o, "</th><td>");
      html_value(o, val);
      lwt_str_puts(o, "</td></tr>\n");
    }
    if (facts) lwt_str_puts(o, "</tbody></table>\n");
    json_object *locks = lwt_get(prof, "locks", json_type_array);
    const char *cols[32];
    size_t ncols = 0;
    for (size_t r = 0; r < lwt_len(locks); r++) {
      json_object *row = lwt_at(locks, r);
      if (!json_object_is_type(row, json_type_object)) continue;
      json_object_object_foreach(row, key, val) {
        (void)val;
        bool seen = false;
        for (size_t c = 0; c < ncols && !seen; c++) seen = strcmp(cols[c], key) == 0;
        if (!seen && ncols < sizeof cols / sizeof cols[0]) cols[ncols++] = key;
      }
    }
    if (!ncols) {
      lwt_str_puts(o, "<p>The profile names no lock.</p>\n");
      continue;
    }
    lwt_str_puts(o, "<table class=\"profile sortable\"><thead><tr>");
    for (size_t c = 0; c < ncols; c++) {
      lwt_str_puts(o, "<th title=\"sort\">");
      esc(o, cols[c]);
      lwt_str_puts(o, "</th>");
    }
    lwt_str_puts(o, "</tr></thead><tbody>\n");
    for (size_t r = 0; r < lwt_len(locks); r++) {
      json_object *row = lwt_at(locks, r);
      if (!json_object_is_type(row, json_type_object)) continue;
      lwt_str_puts(o, "<tr>");
      for (size_t c = 0; c < ncols; c++) {
        json_object *v = NULL;
        json_object_object_get_ex(row, cols[c], &v);
        bool num = v && (json_object_is_type(v, json_type_int) ||
                         json_object_is_type(v, json_type_double));
        lwt_str_puts(o, num ? "<td class=\"num\">" : "<td>");
        html_value(o, v);
        lwt_str_puts(o, "</td>");
      }
      lwt_str_puts(o, "</tr>\n");
    }
    lwt_str_puts(o, "</tbody></table>\n");
  }
  if (any) lwt_str_puts(o, "</section>\n");
}

/* Every process: pid, program, command line and how many reports it made. */
static void html_processes(page_t *pg) {
  lwt_str_t *o = pg->o;
  const lwt_docs_t *d = pg->d;
  lwt_str_puts(o, "<section id=\"processes\"><h2>Processes</h2>\n<details");
  if (d->nprocs <= OPEN_PROCESSES) lwt_str_puts(o, " open");
  lwt_str_puts(o, "><summary>");
  lwt_count(o, d->nprocs, "process", "processes");
  lwt_str_puts(o, "</summary><table class=\"procs sortable\"><thead><tr><th>pid</th><th>program"
                  "</th><th>command line</th><th>reports</th></tr></thead><tbody>\n");
  for (size_t i = 0; i < d->nprocs; i++) {
    const lwt_process_t *p = &d->procs[i];
    size_t n = 0;
    for (size_t k = 0; k < d->nreports; k++) n += d->reports[k].pid == p->pid;
    lwt_str_printf(o, "<tr><td class=\"num\">%lld</td><td><code>", p->pid);
    esc(o, p->program);
    lwt_str_puts(o, "</code></td><td><code>");
    html_argv(o, p->argv);
    lwt_str_printf(o, "</code></td><td class=\"num\">%zu</td></tr>\n", n);
  }
  lwt_str_puts(o, "</tbody></table></details></section>\n");
}

/* ---- the page ---------------------------------------------------------------------------- */

/* Nothing but this page itself: any load would be refused, and reported on the page. */
static const char csp[] = "default-src 'none'; style-src 'unsafe-inline'; "
                          "script-src 'unsafe-inline'; img-src data:";

static const char style[] =
    ":root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--soft:#f6f8fa;--red:#cf222e}\n"
    "body{margin:0;color:var(--fg);background:#fff;font:14px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'DejaVu Sans',sans-serif}\n"
    "header{background:#24292f;color:#fff;padding:12px 24px}\n"
    "header h1{margin:0;font-size:19px;font-weight:600}\n"
    "header p{margin:2px 0 0;color:#c9d1d9;font-size:13px}\n"
    "main{padding:4px 24px 48px;max-width:1500px}\n"
    "h2{font-size:17px;border-bottom:1px solid var(--line);padding-bottom:4px;margin:26px 0 10px}\n"
    "h3{font-size:15px;margin:16px 0 6px}\n"
    "h4{font-size:13px;font-weight:600;margin:12px 0 3px}\n"
    "table{border-collapse:collapse}\n"
    "th,td{text-align:left;vertical-align:top;padding:3px 14px 3px 0}\n"
    ".facts>tbody>tr>th{color:var(--muted);font-weight:normal;padding-right:22px;"
    "white-space:nowrap}\n"
    ".num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "code,pre,.loc,.mod,.fno,table.scen,svg.graph text{font-family:ui-monospace,'DejaVu Sans "
    "Mono',Menlo,Consolas,monospace}\n"
    "code,.loc,.mod,.fno{font-size:12.5px}\n"
    ".kinds th,.kinds td,.locks th,.locks td,.profile th,.profile td,.procs th,.procs td"
    "{border-bottom:1px solid #eaeef2;padding:3px 16px 3px 4px}\n"
    ".kinds thead th,.locks thead th,.profile thead th,.procs thead th{background:var(--soft)}\n"
    ".sortable thead th{cursor:pointer}\n"
    ".kind{display:inline-block;font-size:12px;font-weight:600;padding:0 8px;border-radius:10px;"
    "background:#ffebe9;color:#a40e26}\n"
    ".k-stall,.k-cond-wait-unheld,.k-unlock-not-owner{background:#fff8c5;color:#7d4e00}\n"
    ".verdict{display:inline-block;font-weight:700;color:#fff;padding:0 8px;border-radius:4px}\n"
    ".verdict.fail{background:var(--red)}.verdict.pass{background:#1a7f37}\n"
    ".none{margin:0;color:#1a7f37;font-weight:600}\n"
    ".blocked{color:#fff;background:var(--red);padding:6px 10px;font-weight:600}\n"
    "#filters{position:sticky;top:0;z-index:2;background:#fff;padding:8px 0;"
    "border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:6px 14px;"
    "align-items:center}\n"
    "#filter-text{width:24em;padding:4px 7px;font:inherit}\n"
    "#filters label{white-space:nowrap}\n"
    "#filter-count{color:var(--muted)}\n"
    "button{font:inherit;font-size:12px}\n"
    "details.report{border:1px solid var(--line);border-left:4px solid var(--red);"
    "border-radius:5px;margin:8px 0;background:#fff;content-visibility:auto;"
    "contain-intrinsic-size:auto 40px}\n"
    "#processes>details{content-visibility:auto;contain-intrinsic-size:auto 30px}\n"
    "#labelled details.report{border-left-color:#8c959f}\n"
    "#suppressed details.report{border-left-color:#d0d7de}\n"
    "details.report>summary{cursor:pointer;padding:7px 10px}\n"
    "details.report[open]>summary{border-bottom:1px solid #eaeef2}\n"
    ".sum{font-weight:600}\n"
    ".origin{color:var(--muted);margin-left:8px}\n"
    ".body{padding:2px 16px 12px}\n"
    ".from{color:var(--muted);margin:6px 0}\n"
    ".headline{font-weight:600}\n"
    ".lockname{color:#0550ae}\n"
    ".scenario{margin:10px 0}\n"
    "table.scen{border:1px solid var(--line);font-size:12.5px}\n"
    "table.scen th{background:var(--soft);padding:4px 30px 4px 10px}\n"
    "table.scen td{padding:2px 30px 2px 10px;min-width:13em;height:1.4em}\n"
    ".waits{color:var(--red);font:11px system-ui,sans-serif}\n"
    ".deadlock{color:var(--red);font:700 12.5px ui-monospace,'DejaVu Sans Mono',monospace;"
    "margin:4px 0 0 10px}\n"
    ".note{color:var(--muted);font-style:italic}\n"
    ".labels .label{font-weight:600}\n"
    "ol.frames{list-style:none;padding-left:6px;margin:2px 0 8px}\n"
    "ol.frames>li{margin:1px 0}\n"
    ".fno{color:var(--muted);display:inline-block;min-width:2.3em}\n"
    ".fn{font-weight:600}\n"
    ".loc{color:#0550ae}\n"
    ".mod{color:var(--muted)}\n"
    ".nostack{color:var(--muted);margin:2px 0 8px 8px}\n"
    "pre.src{background:var(--soft);border:1px solid #eaeef2;border-radius:4px;margin:3px 0 6px "
    "2.3em;padding:4px 0;overflow-x:auto;font-size:12px;line-height:1.4}\n"
    "pre.src>span{display:block;padding:0 10px 0 4px}\n"
    "pre.src>.hit{background:#fff1a8;font-weight:600}\n"
    ".ln{display:inline-block;min-width:3.2em;color:#8c959f;text-align:right;margin-right:1em;"
    "user-select:none}\n"
    ".graphbox{overflow:auto;max-height:78vh;border:1px solid var(--line);border-radius:5px;"
    "background:#fcfcfd}\n"
    "svg.graph{display:block}\n"
    "svg.graph text{font-size:12px;text-anchor:middle}\n"
    "svg.graph .nsub{font-size:10px;fill:#656d76}\n"
    "svg.graph .elabel{font-size:10.5px;paint-order:stroke;stroke:#fcfcfd;stroke-width:4px}\n"
    "svg.graph a{cursor:pointer}\n"
    "svg.graph a:hover rect{fill:#fff0f0}\n"
    "svg.graph a:hover path{stroke-width:3.5}\n"
    ".legend{color:var(--muted);font-size:13px}\n"
    ".threads>summary,.stats>summary{cursor:pointer;color:var(--muted)}\n"
    "table.other caption{text-align:left;font-weight:600;font-size:13px}\n"
    ".target{outline:2px solid #fb8f44;outline-offset:2px}\n"
    "footer{color:var(--muted);font-size:12px;margin-top:30px}\n";

/* Runs first: any load the policy refuses is shown on the page (p#blocked). */
static const char head_script[] =
    "var lwBlocked=[];\n"
    "function lwShowBlocked(){var b=document.getElementById('blocked');"
    "if(b&&lwBlocked.length){b.hidden=false;b.textContent='This page tried to load something "
    "that is not in it, and its security policy refused: '+lwBlocked.join(', ');}}\n"
    "document.addEventListener('securitypolicyviolation',function(e){"
    "lwBlocked.push(e.violatedDirective+' '+(e.blockedURI||'(inline)'));lwShowBlocked();});\n";

/* The filter (text and kinds), links that open their report, and sortable tables. */
static const char body_script[] =
    "(function(){'use strict';\n"
    "var q=document.getElementById('filter-text');\n"
    "var boxes=[].slice.call(document.querySelectorAll('#filters input.kind'));\n"
    "var reports=[].slice.call(document.querySelectorAll('details.report'));\n"
    "var count=document.getElementById('filter-count');\n"
    "var texts=null;\n"
    "function apply(){\n"
    " var words=q?q.value.toLowerCase().split(/\\s+/).filter(Boolean):[];\n"
    " var kinds={};boxes.forEach(function(b){kinds[b.value]=b.checked;});\n"
    " if(words.length&&!texts)"
    "texts=reports.map(function(r){return r.textContent.toLowerCase();});\n"
    " var shown=0;\n"
    " reports.forEach(function(r,i){\n"
    "  var ok=kinds[r.getAttribute('data-kind')]!==false&&"
    "words.every(function(w){return texts[i].indexOf(w)>=0;});\n"
    "  r.hidden=!ok;if(ok)shown++;});\n"
    " if(count)count.textContent=shown+' of '+reports.length+' reports shown';}\n"
    "function reveal(){\n"
    " var id=decodeURIComponent(location.hash.slice(1));\n"
    " var el=id&&document.getElementById(id);if(!el)return;\n"
    " for(var p=el;p;p=p.parentElement){if(p.tagName==='DETAILS'){p.open=true;p.hidden=false;}}\n"
    " var old=document.querySelector('.target');if(old)old.classList.remove('target');\n"
    " el.classList.add('target');el.scrollIntoView({block:'center'});}\n"
    "function all(open){reports.forEach(function(r){if(!r.hidden)r.open=open;});}\n"
    "if(q)q.addEventListener('input',apply);\n"
    "boxes.forEach(function(b){b.addEventListener('change',apply);});\n"
    "var o=document.getElementById('open-all'),c=document.getElementById('close-all');\n"
    "if(o)o.addEventListener('click',function(){all(true);});\n"
    "if(c)c.addEventListener('click',function(){all(false);});\n"
    "window.addEventListener('hashchange',reveal);\n"
    "document.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('a');"
    "if(a&&(a.getAttribute('href')||'').charAt(0)==='#')setTimeout(reveal,0);});\n"
    "[].forEach.call(document.querySelectorAll('table.sortable'),function(t){\n"
    " [].forEach.call(t.tHead.rows[0].cells,function(th,col){th.addEventListener('click',"
    "function(){\n"
    "  var dir=th.getAttribute('data-dir')==='desc'?1:-1;"
    "th.setAttribute('data-dir',dir<0?'desc':'asc');\n"
    "  var rows=[].slice.call(t.tBodies[0].rows);\n"
    "  rows.sort(function(a,b){var x=a.cells[col].textContent,y=b.cells[col].textContent;"
    "var nx=parseFloat(x),ny=parseFloat(y);"
    "return dir*(!isNaN(nx)&&!isNaN(ny)?nx-ny:x.localeCompare(y));});\n"
    "  rows.forEach(function(r){t.tBodies[0].appendChild(r);});});});});\n"
    "apply();reveal();lwShowBlocked();\n"
    "document.body.setAttribute('data-ready','1');\n"
    "})();\n";

/* A list of reports (prefix "r": d->reports, "s": d->suppressed) that pass want_labelled. */
static size_t html_report_list(page_t *pg, const lwt_report_t *list, size_t n, const char *prefix,
                               int want_labelled, size_t opened) {
  size_t shown = 0;
  for (size_t i = 0; i < n; i++) {
    if (want_labelled >= 0 && is_labelled(list[i].obj) != (want_labelled == 1)) continue;
    html_report(pg, &list[i], prefix, i + 1, shown < opened);
    shown++;
  }
  return shown;
}

int lwt_html_write(const lwt_docs_t *d, const char *path, const lwt_html_opts_t *opts) {
  lwt_str_t out = LWT_STR_INIT;
  page_t pg;
  memset(&pg, 0, sizeof pg);
  pg.o = &out;
  pg.d = d;
  char *cwd = NULL;
  if (opts->srcroot) {
    pg.srcroot = opts->srcroot;
  } else {
    cwd = getcwd(NULL, 0);
    pg.srcroot = cwd ? cwd : ".";
  }
  pg.multi = d->nprocs > 1;
  pg.show_paths = !opts->from;
  size_t nfailing = 0, nlabelled = 0;
  for (size_t i = 0; i < d->nreports; i++) {
    if (is_labelled(d->reports[i].obj)) nlabelled++;
    else nfailing++;
  }

  /* The title: the program (or how many processes) and the counts. */
  lwt_str_t title = LWT_STR_INIT;
  lwt_str_puts(&title, "lockwatch: ");
  if (d->nprocs == 1 && d->procs[0].program)
    lwt_str_puts(&title, lwt_basename(d->procs[0].program));
  else
    lwt_count(&title, d->nprocs, "process", "processes");
  lwt_str_puts(&title, ", ");
  lwt_count(&title, d->nreports, "report", "reports");

  lwt_str_puts(&out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
  lwt_str_printf(&out, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n", csp);
  lwt_str_puts(&out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  lwt_str_printf(&out, "<meta name=\"generator\" content=\"lockwatch %s\">\n",
                 LOCKWATCH_VERSION_STRING);
  lwt_str_printf(&out, "<script>\n%s</script>\n<title>", head_script);
  esc(&out, lwt_str_get(&title));
  lwt_str_printf(&out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><h1>", style);
  esc(&out, lwt_str_get(&title));
  lwt_str_puts(&out, "</h1><p>");
  lwt_count(&out, nfailing, "report", "reports");
  lwt_str_puts(&out, nlabelled || d->nsuppressed ? ", " : "");
  if (nlabelled) {
    lwt_count(&out, nlabelled, "labelled", "labelled");
    lwt_str_puts(&out, d->nsuppressed ? ", " : "");
  }
  if (d->nsuppressed) lwt_str_printf(&out, "%zu suppressed", d->nsuppressed);
  lwt_str_puts(&out, " from ");
  lwt_count(&out, d->nprocs, "process", "processes");
  lwt_str_puts(&out, "</p></header>\n<main>\n");
  lwt_str_free(&title);

  html_summary(&pg, opts, nfailing, nlabelled);

  /* The graph of the reports that fail the run. */
  lwt_graph_t g;
  memset(&g, 0, sizeof g);
  g.by_name = pg.multi;
  for (size_t i = 0; i < d->nreports; i++)
    if (!is_labelled(d->reports[i].obj)) lwt_graph_add_report(&g, &d->reports[i], i);
  if (nfailing) {
    lwt_str_puts(&out, "<section id=\"graph\"><h2>Lock-order graph</h2>\n");
    html_graph(&pg, &g);
    lwt_str_puts(&out, "<p class=\"legend\">Red: locks and orders in a cycle; solid: a thread "
                       "took the second lock while holding the first; dashed: a thread waits "
                       "(a real deadlock) or locks again a lock it holds. Click a lock or an "
                       "arrow for its report.");
    if (g.by_name)
      lwt_str_puts(&out, " A lock with a name is drawn once for every process of its program.");
    lwt_str_puts(&out, "</p>\n</section>\n");
  }
  lwt_graph_free(&g);

  if (d->nreports || d->nsuppressed) {
    size_t nkinds;
    kind_count_t *kinds = count_kinds(d, &nkinds);
    lwt_str_puts(&out, "<div id=\"filters\"><input type=\"search\" id=\"filter-text\" "
                       "placeholder=\"Filter: lock, function, file, program\" "
                       "aria-label=\"Filter the reports\">");
    for (size_t i = 0; i < nkinds; i++) {
      lwt_str_puts(&out, "<label><input type=\"checkbox\" class=\"kind\" checked value=\"");
      esc(&out, kinds[i].kind);
      lwt_str_puts(&out, "\"> ");
      esc(&out, kinds[i].kind);
      lwt_str_printf(&out, " (%zu)</label>",
                     kinds[i].failing + kinds[i].labelled + kinds[i].suppressed);
    }
    free(kinds);
    lwt_str_puts(&out, "<button type=\"button\" id=\"open-all\">open all</button>"
                       "<button type=\"button\" id=\"close-all\">close all</button>"
                       "<span id=\"filter-count\"></span></div>\n");
  }
  lwt_str_puts(&out, "<section id=\"reports\"><h2>Reports</h2>\n");
  if (!nfailing)
    lwt_str_puts(&out, "<p class=\"none\">No report that fails the run.</p>\n");
  html_report_list(&pg, d->reports, d->nreports, "r", 0, OPEN_REPORTS);
  lwt_str_puts(&out, "</section>\n");
  if (nlabelled) {
    lwt_str_puts(&out, "<section id=\"labelled\"><h2>Labelled (do not fail the run)</h2>\n"
                       "<p class=\"legend\">lockwatch found these cycles but judged that they "
                       "cannot deadlock as they are, for the reason each label gives.</p>\n");
    html_report_list(&pg, d->reports, d->nreports, "r", 1, nfailing ? 0 : OPEN_REPORTS);
    lwt_str_puts(&out, "</section>\n");
  }
  if (d->nsuppressed) {
    lwt_str_puts(&out, "<section id=\"suppressed\"><h2>Suppressed</h2>\n");
    html_report_list(&pg, d->suppressed, d->nsuppressed, "s", -1, 0);
    lwt_str_puts(&out, "</section>\n");
  }
  html_profile(&pg);
  html_processes(&pg);
  lwt_str_printf(&out, "<footer>Written by lockwatch %s.</footer>\n</main>\n<script>\n%s"
                       "</script>\n</body>\n</html>\n",
                 LOCKWATCH_VERSION_STRING, body_script);

  int r = lwt_write_output(path, lwt_str_get(&out), out.n);
  lwt_str_free(&out);
  src_free(&pg);
  free(cwd);
  return r;
}
