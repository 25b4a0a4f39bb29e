/*
 * doc.c - loading lockwatch's JSON documents (docs/report-format.md) with
 * json-c, checking that they are lockwatch documents, reading their fields
 * without trusting their types, and merging several into one.
 *
 * A document is either one process's (written by the runtime at exit) or
 * one merged by lockwatch run, which adds a "processes" array and a "pid"
 * to each report. Both are read the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lockwatch/lockwatch.h"
#include "jscan.h"
#include "report.h"
#include "tool.h"

/* ---- fields ---------------------------------------------------------------------- */

json_object *lwt_get(json_object *o, const char *key, json_type t) {
  json_object *v;
  if (!o || !json_object_is_type(o, json_type_object)) return NULL;
  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t)) return NULL;
  return v;
}

const char *lwt_get_str(json_object *o, const char *key) {
  json_object *v = lwt_get(o, key, json_type_string);
  return v ? json_object_get_string(v) : NULL;
}

long long lwt_get_int(json_object *o, const char *key, long long dflt) {
  json_object *v = lwt_get(o, key, json_type_int);
  return v ? (long long)json_object_get_int64(v) : dflt;
}

size_t lwt_len(json_object *a) {
  return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

json_object *lwt_at(json_object *a, size_t i) {
  return i < lwt_len(a) ? json_object_array_get_idx(a, i) : NULL;
}

bool lwt_frame_get(json_object *frame, lwt_frame_t *f) {
  memset(f, 0, sizeof *f);
  if (!frame || !json_object_is_type(frame, json_type_object)) return false;
  f->pc = lwt_get_str(frame, "pc");
  f->function = lwt_get_str(frame, "function");
  f->file = lwt_get_str(frame, "file");
  f->module = lwt_get_str(frame, "module");
  f->offset = lwt_get_str(frame, "offset");
  f->line = lwt_get_int(frame, "line", 0);
  f->column = lwt_get_int(frame, "column", 0);
  return true;
}

/* Is path inside the directory prefix (no trailing '/')? */
static bool under(const char *path, const char *prefix) {
  size_t n = strlen(prefix);
  return strncmp(path, prefix, n) == 0 && (path[n] == '/' || (n > 0 && prefix[n - 1] == '/'));
}

bool lwt_frames_pick(json_object *frames, const char *prefix, lwt_frame_t *f) {
  /* Best first: under prefix with a line, with a line, with a file. */
  for (int pass = prefix ? 0 : 1; pass < 3; pass++) {
    for (size_t i = 0; i < lwt_len(frames); i++) {
      lwt_frame_t c;
      if (!lwt_frame_get(lwt_at(frames, i), &c) || !c.file || !*c.file) continue;
      if (pass == 0 && (c.line < 1 || !under(c.file, prefix))) continue;
      if (pass == 1 && c.line < 1) continue;
      *f = c;
      return true;
    }
  }
  return false;
}

json_object *lwt_report_primary_stack(json_object *report) {
  json_object *edges = lwt_get(report, "edges", json_type_array);
  json_object *events = lwt_get(report, "events", json_type_array);
  if (lwt_len(edges)) return lwt_get(lwt_at(edges, 0), "acquired", json_type_array);
  if (lwt_len(events)) return lwt_get(lwt_at(events, 0), "stack", json_type_array);
  return NULL;
}

json_object *lwt_report_lock(json_object *report, const char *id) {
  json_object *locks = lwt_get(report, "locks", json_type_array);
  if (!id) return NULL;
  for (size_t i = 0; i < lwt_len(locks); i++) {
    const char *lid = lwt_get_str(lwt_at(locks, i), "id");
    if (lid && strcmp(lid, id) == 0) return lwt_at(locks, i);
  }
  return NULL;
}

/* ---- reading a file ----------------------------------------------------------------- */

/* Reads all of path into *data (NUL-terminated). Returns 0, or -1 after printing why. */
static int read_file(const char *path, char **data, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    lwt_error("cannot read %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    lwt_error("cannot read %s: it is a directory", path);
    close(fd);
    return -1;
  }
  size_t cap = 65536, n = 0;
  char *p = lwt_xmalloc(cap);
  for (;;) {
    if (cap - n < 2) p = lwt_xrealloc(p, cap *= 2);
    ssize_t r = read(fd, p + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      lwt_error("cannot read %s: %s", path, strerror(errno));
      free(p);
      close(fd);
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  p[n] = 0;
  *data = p;
  *len = n;
  return 0;
}

/* Line and column (both from 1) of byte offset off in data. */
static void line_col(const char *data, size_t off, size_t *line, size_t *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (data[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* As parse_json, printing nothing when quiet. */
static json_object *parse_json_ex(const char *path, const char *data, size_t len, bool quiet);

/* Parses data as one JSON value. Returns it, or NULL after printing where and why not. */
static json_object *parse_json(const char *path, const char *data, size_t len) {
  return parse_json_ex(path, data, len, false);
}

/* The top-level member "class_units" of a document, and the text to cut for json-c. */
typedef struct units_span {
  const char *value;
  size_t n;
  size_t cut, cut_n; /* bytes [cut, cut + cut_n) of the document: the member and a comma */
} units_span_t;

/*
 * Finds the top-level "class_units" member of the n bytes at data (checking
 * on the way that they are one JSON object). false if there is none, or if
 * the text is not valid JSON (json-c then says where).
 */
static bool find_units(const char *data, size_t n, units_span_t *u) {
  lw_jscan_t s = lw_jscan_over(data, n);
  const char *prev_end = NULL; /* after the previous member's value */
  bool found = false;
  if (!lw_jscan_take(&s, '{')) return false;
  if (lw_jscan_take(&s, '}')) return false;
  for (;;) {
    const char *k;
    size_t kn;
    lw_jscan_ws(&s);
    const char *key_at = s.p;
    if (!lw_jscan_str(&s, &k, &kn) || !lw_jscan_take(&s, ':')) return false;
    lw_jscan_ws(&s);
    const char *v = s.p;
    if (!lw_jscan_value(&s)) return false;
    if (kn == 11 && memcmp(k, "class_units", 11) == 0 && !found) {
      found = true;
      u->value = v;
      u->n = (size_t)(s.p - v);
      if (prev_end) { /* cut ", "class_units": [...]" */
        u->cut = (size_t)(prev_end - data);
        u->cut_n = (size_t)(s.p - prev_end);
      } else { /* the first member: cut it and the comma after it */
        u->cut = (size_t)(key_at - data);
        lw_jscan_ws(&s);
        if (s.p < s.end && *s.p == ',') s.p++;
        u->cut_n = (size_t)(s.p - key_at);
        prev_end = NULL;
        if (lw_jscan_take(&s, '}')) break;
        continue;
      }
    }
    prev_end = s.p;
    if (lw_jscan_take(&s, '}')) break;
    if (!lw_jscan_take(&s, ',')) return false;
  }
  lw_jscan_ws(&s);
  return found && s.p == s.end;
}

static json_object *parse_json_ex(const char *path, const char *data, size_t len, bool quiet) {
  size_t start = 0;
  while (start < len && is_space(data[start])) start++;
  if (start == len) {
    if (!quiet) lwt_error("%s: %s, not a JSON document", path, len ? "only white space" : "empty file");
    return NULL;
  }
  const char *nul = memchr(data, 0, len);
  if (nul) {
    size_t line, col, off = (size_t)(nul - data);
    line_col(data, off, &line, &col);
    if (!quiet) lwt_error("%s: invalid JSON at byte offset %zu (line %zu, column %zu): a NUL byte", path, off,
              line, col);
    return NULL;
  }
  json_tokener *tok = json_tokener_new();
  if (!tok) {
    lwt_error("out of memory");
    exit(LWT_EXIT_ERROR);
  }
  /*
   * Plain JSON in UTF-8, nothing more json-c would tolerate; data after the
   * value is left to the check below, which says so more clearly.
   */
  json_tokener_set_flags(
      tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_ALLOW_TRAILING_CHARS);
  /* json-c takes an int length; feed larger files in pieces. */
  json_object *root = NULL;
  enum json_tokener_error err = json_tokener_success;
  size_t off = 0;
  while (off < len) {
    size_t piece = len - off > (1u << 30) ? (1u << 30) : len - off;
    root = json_tokener_parse_ex(tok, data + off, (int)piece);
    err = json_tokener_get_error(tok);
    if (err != json_tokener_continue) {
      off += json_tokener_get_parse_end(tok);
      break;
    }
    off += piece;
  }
  if (err == json_tokener_continue) {
    /* The end of the input ends a value that could go on (a number at the very end). */
    root = json_tokener_parse_ex(tok, "", 1);
    err = json_tokener_get_error(tok);
    if (err == json_tokener_success) off = len;
    else err = json_tokener_continue;
  }
  if (err == json_tokener_continue) {
    size_t line, col;
    line_col(data, len, &line, &col);
    if (!quiet) lwt_error("%s: truncated JSON: the file ends at byte offset %zu (line %zu, column %zu) "
              "inside the document", path, len, line, col);
    json_tokener_free(tok);
    return NULL;
  }
  if (err != json_tokener_success || !root) {
    /* json-c stops at the character it could not take. */
    size_t line, col, at = off < len ? off : len;
    line_col(data, at, &line, &col);
    if (!quiet) lwt_error("%s: invalid JSON at byte offset %zu (line %zu, column %zu): %s", path, at, line,
              col, json_tokener_error_desc(err));
    json_tokener_free(tok);
    if (root) json_object_put(root);
    return NULL;
  }
  json_tokener_free(tok);
  while (off < len && is_space(data[off])) off++;
  if (off < len) {
    size_t line, col;
    line_col(data, off, &line, &col);
    if (!quiet) lwt_error("%s: invalid JSON at byte offset %zu (line %zu, column %zu): more data after the "
              "document", path, off, line, col);
    json_object_put(root);
    return NULL;
  }
  return root;
}

/* ---- checking and indexing a document ---------------------------------------------- */

/* Checks one report array; returns false after printing what is wrong. */
static bool check_reports(const char *path, json_object *root, const char *key, bool required) {
  json_object *v;
  if (!json_object_object_get_ex(root, key, &v)) {
    if (!required) return true;
    lwt_error("%s: not a lockwatch report document: it has no \"%s\" array", path, key);
    return false;
  }
  if (!json_object_is_type(v, json_type_array)) {
    lwt_error("%s: not a lockwatch report document: \"%s\" is not an array", path, key);
    return false;
  }
  for (size_t i = 0; i < lwt_len(v); i++) {
    json_object *r = lwt_at(v, i);
    if (!json_object_is_type(r, json_type_object)) {
      lwt_error("%s: %s[%zu] is not an object", path, key, i);
      return false;
    }
    if (!lwt_get_str(r, "kind")) {
      lwt_error("%s: %s[%zu] has no \"kind\" string", path, key, i);
      return false;
    }
    static const char *const arrays[] = {"locks", "edges", "events", "threads", "cycle"};
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++) {
      json_object *a;
      if (json_object_object_get_ex(r, arrays[k], &a) && !json_object_is_type(a, json_type_array)) {
        lwt_error("%s: %s[%zu].%s is not an array", path, key, i, arrays[k]);
        return false;
      }
    }
  }
  return true;
}

/* Is root a lockwatch document we can read? Prints why not. */
static bool check_doc(const char *path, json_object *root) {
  if (!json_object_is_type(root, json_type_object)) {
    lwt_error("%s: not a lockwatch report document: the JSON value is not an object", path);
    return false;
  }
  const char *tool = lwt_get_str(root, "tool");
  if (!tool || strcmp(tool, "lockwatch") != 0) {
    lwt_error("%s: not a lockwatch report document: no \"tool\": \"lockwatch\" at the top level",
              path);
    return false;
  }
  if (!check_reports(path, root, "reports", true) ||
      !check_reports(path, root, "suppressed", false))
    return false;
  json_object *procs;
  if (json_object_object_get_ex(root, "processes", &procs)) {
    if (!json_object_is_type(procs, json_type_array)) {
      lwt_error("%s: \"processes\" is not an array", path);
      return false;
    }
    for (size_t i = 0; i < lwt_len(procs); i++) {
      if (!json_object_is_type(lwt_at(procs, i), json_type_object)) {
        lwt_error("%s: processes[%zu] is not an object", path, i);
        return false;
      }
    }
  }
  return true;
}

/* Returns arr (n elements of size sz, room for *cap) with room for one more. */
static void *grow(void *arr, size_t n, size_t *cap, size_t sz) {
  if (n < *cap) return arr;
  *cap = *cap ? *cap * 2 : 8;
  return lwt_xrealloc(arr, *cap * sz);
}

/* The program of process pid according to doc, or NULL. */
static const char *program_of(json_object *root, long long pid) {
  json_object *procs = lwt_get(root, "processes", json_type_array);
  for (size_t i = 0; i < lwt_len(procs); i++)
    if (lwt_get_int(lwt_at(procs, i), "pid", -1) == pid)
      return lwt_get_str(lwt_at(procs, i), "program");
  if (lwt_get_int(root, "pid", -1) == pid) return lwt_get_str(root, "program");
  return NULL;
}

/* Adds the reports (or suppressed reports) of doc to d, each with its process. */
static void index_reports(lwt_docs_t *d, const lwt_doc_t *doc, bool suppressed) {
  json_object *arr = lwt_get(doc->root, suppressed ? "suppressed" : "reports", json_type_array);
  long long doc_pid = lwt_get_int(doc->root, "pid", 0);
  for (size_t i = 0; i < lwt_len(arr); i++) {
    json_object *r = lwt_at(arr, i);
    lwt_report_t rep;
    rep.obj = r;
    rep.pid = lwt_get_int(r, "pid", doc_pid);
    rep.program = program_of(doc->root, rep.pid);
    rep.path = doc->path;
    rep.suppressed = suppressed;
    if (suppressed) {
      d->suppressed =
          grow(d->suppressed, d->nsuppressed, &d->cap_suppressed, sizeof *d->suppressed);
      d->suppressed[d->nsuppressed++] = rep;
    } else {
      d->reports = grow(d->reports, d->nreports, &d->cap_reports, sizeof *d->reports);
      d->reports[d->nreports++] = rep;
    }
  }
}

/* Adds the process that p (a "processes" entry or a whole document) describes. */
static void add_process(lwt_docs_t *d, json_object *p) {
  d->procs = grow(d->procs, d->nprocs, &d->cap_procs, sizeof *d->procs);
  d->procs[d->nprocs++] = (lwt_process_t){lwt_get_int(p, "pid", 0), lwt_get_str(p, "program"),
                                            lwt_get(p, "argv", json_type_array)};
}

int lwt_docs_add(lwt_docs_t *d, const char *path) {
  char *data;
  size_t len;
  if (read_file(path, &data, &len) != 0) return -1;
  int r = lwt_docs_add_buffer(d, path, data, len);
  free(data);
  return r;
}

int lwt_docs_add_buffer(lwt_docs_t *d, const char *path, const char *data, size_t len) {
  /* json-c reads the document without its class units (classgraph.c reads those) */
  units_span_t units = {NULL, 0, 0, 0};
  json_object *root = NULL;
  if (find_units(data, len, &units)) {
    char *rest = lwt_xmalloc(len - units.cut_n + 1);
    memcpy(rest, data, units.cut);
    memcpy(rest + units.cut, data + units.cut + units.cut_n, len - units.cut - units.cut_n);
    rest[len - units.cut_n] = 0;
    root = parse_json_ex(path, rest, len - units.cut_n, true);
    free(rest);
  }
  if (!root) { /* no units, or json-c refused the rest: read it all, so that it says where */
    units.value = NULL;
    root = parse_json(path, data, len);
  }
  if (!root) return -1;
  if (!check_doc(path, root)) {
    json_object_put(root);
    return -1;
  }
  if (units.value) {
    if (lwt_cgraph_add_units(&d->cg, d->ndocs, path, units.value, units.n,
                             lwt_get_int(root, "pid", 0), lwt_get_str(root, "program")) != 0) {
      json_object_put(root);
      return -1;
    }
  } else {
    lwt_cgraph_add_v2(&d->cg, d->ndocs, root);
  }
  /* Reports point at the JSON objects and the path string, never into d->docs. */
  d->docs = grow(d->docs, d->ndocs, &d->cap_docs, sizeof *d->docs);
  lwt_doc_t *doc = &d->docs[d->ndocs++];
  doc->path = lwt_xstrdup(path);
  doc->root = root;
  json_object *procs = lwt_get(root, "processes", json_type_array);
  if (procs) {
    for (size_t i = 0; i < lwt_len(procs); i++) add_process(d, lwt_at(procs, i));
  } else {
    add_process(d, root);
  }
  index_reports(d, doc, false);
  index_reports(d, doc, true);
  return 0;
}

int lwt_docs_load_all(lwt_docs_t *d, char **paths, int npaths) {
  for (int i = 0; i < npaths; i++)
    if (lwt_docs_add(d, paths[i]) != 0) return -1;
  return 0;
}

void lwt_docs_free(lwt_docs_t *d) {
  for (size_t i = 0; i < d->ndocs; i++) {
    json_object_put(d->docs[i].root);
    free(d->docs[i].path);
  }
  free(d->docs);
  free(d->reports);
  free(d->suppressed);
  free(d->procs);
  lwt_cgraph_free(&d->cg);
  *d = (lwt_docs_t)LWT_DOCS_INIT;
}

/* ---- merging ----------------------------------------------------------------------- */

/* A copy of report r with "pid" right after "id" (members shared, not copied). */
static json_object *report_with_pid(const lwt_report_t *r) {
  json_object *out = json_object_new_object();
  bool added = false;
  json_object_object_foreach(r->obj, key, val) {
    if (strcmp(key, "pid") == 0) continue;
    json_object_object_add(out, key, json_object_get(val));
    if (strcmp(key, "id") == 0) {
      json_object_object_add(out, "pid", json_object_new_int64(r->pid));
      added = true;
    }
  }
  if (!added) json_object_object_add(out, "pid", json_object_new_int64(r->pid));
  return out;
}

/* Adds every integer of src's "stats" to sum (keys in order of first appearance). */
static void add_stats(json_object *sum, json_object *src) {
  json_object *stats = lwt_get(src, "stats", json_type_object);
  if (!stats) return;
  json_object_object_foreach(stats, key, val) {
    if (!json_object_is_type(val, json_type_int)) continue;
    json_object *cur;
    int64_t v = json_object_get_int64(val);
    if (json_object_object_get_ex(sum, key, &cur))
      json_object_set_int64(cur, json_object_get_int64(cur) + v);
    else
      json_object_object_add(sum, key, json_object_new_int64(v));
  }
}

json_object *lwt_docs_merge(const lwt_docs_t *d, long long fallback_pid,
                            char *const *fallback_argv) {
  json_object *root = json_object_new_object();
  json_object *procs = json_object_new_array();
  json_object *reports = json_object_new_array();
  json_object *suppressed = json_object_new_array();
  json_object *stats = json_object_new_object();
  if (!root || !procs || !reports || !suppressed || !stats) {
    lwt_error("out of memory");
    exit(LWT_EXIT_ERROR);
  }
  json_object_object_add(root, "tool", json_object_new_string("lockwatch"));
  const char *version = d->ndocs ? lwt_get_str(d->docs[0].root, "version") : NULL;
  json_object_object_add(root, "version",
                         json_object_new_string(version ? version : LOCKWATCH_VERSION_STRING));
  json_object_object_add(root, "schema", json_object_new_int(LW_JSON_SCHEMA));
  if (d->nprocs) {
    const lwt_process_t *p = &d->procs[0];
    json_object_object_add(root, "pid", json_object_new_int64(p->pid));
    json_object_object_add(root, "program", p->program ? json_object_new_string(p->program) : NULL);
    json_object_object_add(root, "argv",
                           p->argv ? json_object_get(p->argv) : json_object_new_array());
  } else {
    json_object *argv = json_object_new_array();
    for (char *const *a = fallback_argv; a && *a; a++)
      json_object_array_add(argv, json_object_new_string(*a));
    json_object_object_add(root, "pid", json_object_new_int64(fallback_pid));
    json_object_object_add(root, "program",
                           fallback_argv && fallback_argv[0]
                               ? json_object_new_string(fallback_argv[0]) : NULL);
    json_object_object_add(root, "argv", argv);
  }
  for (size_t i = 0; i < d->nprocs; i++) {
    const lwt_process_t *p = &d->procs[i];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "pid", json_object_new_int64(p->pid));
    json_object_object_add(o, "program", p->program ? json_object_new_string(p->program) : NULL);
    json_object_object_add(o, "argv", p->argv ? json_object_get(p->argv) : json_object_new_array());
    json_object_array_add(procs, o);
  }
  json_object_object_add(root, "processes", procs);
  for (size_t i = 0; i < d->nreports; i++)
    json_object_array_add(reports, report_with_pid(&d->reports[i]));
  for (size_t i = 0; i < d->nsuppressed; i++)
    json_object_array_add(suppressed, report_with_pid(&d->suppressed[i]));
  lwt_merge_reports(reports);
  lwt_merge_reports(suppressed);
  json_object_object_add(root, "reports", reports);
  json_object_object_add(root, "suppressed", suppressed);
  lwt_merge_classes(d, root);
  for (size_t i = 0; i < d->ndocs; i++) add_stats(stats, d->docs[i].root);
  json_object_object_add(root, "stats", stats);
  json_object *profile = lwt_profile_merge(d);
  if (profile) json_object_object_add(root, "profile", profile);
  return root;
}

bool lwt_json_format(json_object *root, lwt_str_t *out) {
  const char *s = json_object_to_json_string_ext(
      root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
  if (!s) return false;
  lwt_str_puts(out, s);
  lwt_str_puts(out, "\n");
  return true;
}

bool lwt_report_fails(json_object *r) {
  json_object *f = lwt_get(r, "fails", json_type_boolean);
  return !f || json_object_get_boolean(f);
}

size_t lwt_docs_failing(const lwt_docs_t *d) {
  size_t n = 0;
  for (size_t i = 0; i < d->nreports; i++) n += lwt_report_fails(d->reports[i].obj);
  return n;
}
