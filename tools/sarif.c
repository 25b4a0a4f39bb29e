/*
 * sarif.c - lockwatch sarif: saved reports as a SARIF 2.1.0 log, the format
 * code-scanning services read (GitHub's upload-sarif among them).
 *
 * One result per report: ruleId is the report's kind, the message is its
 * summary, the location is the acquisition the summary names (the innermost
 * frame with a source file of the first edge or event), and the other edges'
 * and events' stacks are related locations. The driver lists a rule for
 * every kind lockwatch reports.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockwatch/lockwatch.h"
#include "report.h"
#include "tool.h"

#ifndef LWT_INFORMATION_URI
#define LWT_INFORMATION_URI "https://github.com/lockwatch/lockwatch"
#endif

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

/* What each kind means and what to do about it (docs/rules.md says more). */
static const struct {
  const char *kind, *name, *full, *help;
} kind_docs[] = {
    {"lock-order-inversion", "LockOrderInversion",
     "Threads take the same locks in different orders: a cycle in the lock-order graph. The run "
     "may not have deadlocked, but the program can when the threads meet.",
     "Take the locks of the cycle in one global order everywhere (for example by rank or by "
     "address), or protect the group with one lock."},
    {"double-lock", "DoubleLock",
     "A thread requests a lock it already holds and may not re-lock: the call waits forever, "
     "fails with EDEADLK, or waits until its timeout.",
     "Release the lock before taking it again, or make it a recursive mutex if re-entry is "
     "intended."},
    {"unlock-not-owner", "UnlockNotOwner", "A thread unlocks a lock it does not hold.",
     "Unlock a lock only on the thread that locked it, once per lock."},
    {"destroy-locked", "DestroyLocked", "A lock is destroyed while a thread holds it.",
     "Unlock the lock, and make sure no thread can still use it, before destroying it."},
    {"thread-exit-holding-lock", "ThreadExitHoldingLock",
     "A thread ends while it holds locks; a thread that later waits for one of them waits "
     "forever.",
     "Release every lock on every path out of the thread, including error paths and "
     "pthread_exit."},
    {"cond-wait-unheld", "CondWaitUnheld",
     "A wait on a condition variable with a mutex the thread does not hold, or with a second "
     "mutex while the first is still in use.",
     "Lock the mutex before waiting, and use one mutex per condition variable."},
    {"deadlock", "Deadlock", "Threads wait for each other in a cycle: none of them can go on.",
     "Take the locks of the cycle in one global order; the lock-order-inversion report of the "
     "same locks shows where each order was made."},
    {"lock-abandoned", "LockAbandoned",
     "A lock was held when its memory was reused for a new lock (a mutex on the stack of a "
     "function that returned without unlocking it, say).",
     "Unlock a lock on every path before its memory goes out of scope or is reused."},
    {"stall", "Stall", "A thread waited a long time for a lock, with no deadlock cycle.",
     "Shorten the critical sections that hold the lock, or find what its owner waits for."},
    {"rank-violation", "RankViolation",
     "A lock was taken while the thread held a lock of the same or a higher declared rank "
     "(LOCKWATCH_RANK): the program's own lock hierarchy is broken, cycle or not.",
     "Take locks in increasing rank, or fix the ranks; declare a rank nestable if locks of "
     "that rank may be held together."},
    {"not-held", "NotHeld",
     "A thread asserted (LOCKWATCH_ASSERT_HELD) that it holds a lock it does not hold, or holds "
     "only for reading.",
     "Take the lock on every path that reaches the assertion."},
    {"call-failed", "CallFailed",
     "A call on a lock, condition variable, semaphore or barrier returned an error a correct "
     "program does not get (EINVAL, EPERM, EDEADLK, EBUSY, EAGAIN, EOVERFLOW...); the report "
     "says which call and why.",
     "Check the object's initialisation and lifetime, the arguments, and which thread owns the "
     "lock; check the return values of lock calls."},
    {"exit-holding-lock", "ExitHoldingLock",
     "The process ended (a return from main, or exit) while the thread that ended it held "
     "locks. A warning: it fails nothing.",
     "Release the locks before exit, or suppress the report where holding them is intended."},
    {"cond-destroy-waiting", "CondDestroyWaiting",
     "A condition variable was destroyed while threads waited on it.",
     "Wake every waiter and let it leave the wait before destroying the condition variable."},
    {"sem-destroy-waiting", "SemDestroyWaiting",
     "A semaphore was destroyed while threads were blocked on it.",
     "Post the semaphore for every waiter, or join the waiters, before destroying it."},
    {"barrier-misuse", "BarrierMisuse",
     "A barrier was initialised with a count of 0, or initialised again or destroyed while "
     "threads waited on it.",
     "Give barriers a count of at least 1, and re-initialise or destroy one only when no thread "
     "waits on it."},
};

/* {"text": text}: a SARIF message. */
static json_object *text_obj(const char *text) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "text", json_object_new_string(text));
  return o;
}

/* Appends path percent-encoded as a URI path (unreserved characters and '/' kept). */
static void uri_encode(lwt_str_t *out, const char *path) {
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~/", *p))
      lwt_str_add(out, (const char *)p, 1);
    else
      lwt_str_printf(out, "%%%02X", *p);
  }
}

/* The rules of the run: one per kind lockwatch knows, then kinds only the documents name. */
typedef struct rules {
  const char **kinds;
  size_t n, cap;
} rules_t;

/* The index of kind's rule in rs, added at the end if new. */
static size_t rule_index(rules_t *rs, const char *kind) {
  for (size_t i = 0; i < rs->n; i++)
    if (strcmp(rs->kinds[i], kind) == 0) return i;
  if (rs->n == rs->cap) {
    rs->cap = rs->cap ? rs->cap * 2 : 16;
    rs->kinds = lwt_xrealloc(rs->kinds, rs->cap * sizeof *rs->kinds);
  }
  rs->kinds[rs->n] = kind;
  return rs->n++;
}

/* The reportingDescriptor of kind: descriptions, help, level error. */
static json_object *rule_obj(const char *kind) {
  json_object *r = json_object_new_object();
  const char *name = NULL, *full = NULL, *help = NULL, *title = NULL;
  for (size_t i = 0; i < sizeof kind_docs / sizeof kind_docs[0]; i++)
    if (strcmp(kind_docs[i].kind, kind) == 0) {
      name = kind_docs[i].name;
      full = kind_docs[i].full;
      help = kind_docs[i].help;
    }
  for (unsigned i = 0; i < LW_REPORT_KIND_COUNT; i++)
    if (strcmp(lw_report_kind_name(i), kind) == 0) title = lw_report_kind_title(i);
  json_object_object_add(r, "id", json_object_new_string(kind));
  if (name) json_object_object_add(r, "name", json_object_new_string(name));
  char *shortd = lwt_xasprintf("%s%s%s", kind, title && *title ? ": " : "", title ? title : "");
  json_object_object_add(r, "shortDescription", text_obj(shortd));
  free(shortd);
  json_object_object_add(r, "fullDescription", text_obj(full ? full : kind));
  if (help) json_object_object_add(r, "help", text_obj(help));
  json_object *conf = json_object_new_object();
  json_object_object_add(conf, "level", json_object_new_string("error"));
  json_object_object_add(r, "defaultConfiguration", conf);
  json_object *props = json_object_new_object();
  json_object *tags = json_object_new_array();
  json_object_array_add(tags, json_object_new_string("concurrency"));
  json_object_array_add(tags, json_object_new_string("reliability"));
  json_object_object_add(props, "tags", tags);
  json_object_object_add(props, "precision", json_object_new_string("high"));
  json_object_object_add(props, "problem.severity", json_object_new_string("error"));
  json_object_object_add(r, "properties", props);
  return r;
}

/*
 * A location for frame f: file relative to srcroot (uriBaseId SRCROOT) when
 * under it, else a file: URI for an absolute path, else the relative path.
 */
static json_object *location(const lwt_frame_t *f, const char *srcroot, const char *message) {
  json_object *loc = json_object_new_object();
  json_object *phys = json_object_new_object();
  json_object *art = json_object_new_object();
  lwt_str_t uri = LWT_STR_INIT;
  const char *file = f->file;
  size_t rootlen = srcroot ? strlen(srcroot) : 0;
  bool relative_to_root = srcroot && strncmp(file, srcroot, rootlen) == 0 && file[rootlen] == '/';
  if (relative_to_root) {
    uri_encode(&uri, file + rootlen + 1);
  } else if (file[0] == '/') {
    lwt_str_puts(&uri, "file://");
    uri_encode(&uri, file);
  } else {
    while (strncmp(file, "./", 2) == 0) file += 2;
    uri_encode(&uri, file);
  }
  json_object_object_add(art, "uri", json_object_new_string(lwt_str_get(&uri)));
  if (relative_to_root) json_object_object_add(art, "uriBaseId", json_object_new_string("SRCROOT"));
  lwt_str_free(&uri);
  json_object_object_add(phys, "artifactLocation", art);
  if (f->line >= 1) {
    json_object *region = json_object_new_object();
    json_object_object_add(region, "startLine", json_object_new_int64(f->line));
    if (f->column >= 1)
      json_object_object_add(region, "startColumn", json_object_new_int64(f->column));
    json_object_object_add(phys, "region", region);
  }
  json_object_object_add(loc, "physicalLocation", phys);
  if (f->function) {
    json_object *logical = json_object_new_array();
    json_object *fn = json_object_new_object();
    json_object_object_add(fn, "fullyQualifiedName", json_object_new_string(f->function));
    json_object_object_add(fn, "kind", json_object_new_string("function"));
    json_object_array_add(logical, fn);
    json_object_object_add(loc, "logicalLocations", logical);
  }
  if (message) json_object_object_add(loc, "message", text_obj(message));
  return loc;
}

/* Adds a related location for frames (if one of them has a file), numbered from *next_id. */
static void add_related(json_object *related, json_object *frames, const char *srcroot,
                        const char *message, int64_t *next_id) {
  lwt_frame_t f;
  if (!lwt_frames_pick(frames, srcroot, &f)) return;
  json_object *loc = location(&f, srcroot, message);
  json_object_object_add(loc, "id", json_object_new_int64((*next_id)++));
  json_object_array_add(related, loc);
}

/* FNV-1a over what places a report in the source, not in one run (no pids, addresses, ids). */
static void hash_add(uint64_t *h, const char *s) {
  for (; s && *s; s++) *h = (*h ^ (unsigned char)*s) * 1099511628211ull;
  *h = (*h ^ 0xff) * 1099511628211ull;
}

/* "function|file|line" of the best frame of frames, or "?". */
static char *place_of(json_object *frames) {
  lwt_frame_t f;
  if (!lwt_frames_pick(frames, NULL, &f)) return lwt_xstrdup("?");
  return lwt_xasprintf("%s|%s|%lld", f.function ? f.function : "", lwt_basename(f.file), f.line);
}

/* qsort order of C strings. */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The hex fingerprint of report r: the same problem in any run gets the same one. */
static char *fingerprint(json_object *r) {
  json_object *edges = lwt_get(r, "edges", json_type_array);
  json_object *events = lwt_get(r, "events", json_type_array);
  size_t n = lwt_len(edges) + lwt_len(events), k = 0;
  char **places = lwt_xmalloc((n ? n : 1) * sizeof *places);
  for (size_t i = 0; i < lwt_len(edges); i++) {
    char *a = place_of(lwt_get(lwt_at(edges, i), "acquired", json_type_array));
    char *b = place_of(lwt_get(lwt_at(edges, i), "held", json_type_array));
    places[k++] = lwt_xasprintf("%s>%s", b, a);
    free(a);
    free(b);
  }
  for (size_t i = 0; i < lwt_len(events); i++) {
    char *a = place_of(lwt_get(lwt_at(events, i), "stack", json_type_array));
    places[k++] = lwt_xasprintf("%s@%s", lwt_get_str(lwt_at(events, i), "what")
                                  ? lwt_get_str(lwt_at(events, i), "what") : "", a);
    free(a);
  }
  /* A cycle starts at its lowest lock id, which changes from run to run: sort. */
  if (k > 1) qsort(places, k, sizeof *places, cmp_str);
  uint64_t h = 1469598103934665603ull;
  hash_add(&h, lwt_get_str(r, "kind"));
  hash_add(&h, lwt_get_str(r, "detail"));
  for (size_t i = 0; i < k; i++) {
    hash_add(&h, places[i]);
    free(places[i]);
  }
  free(places);
  return lwt_xasprintf("%016llx", (unsigned long long)h);
}

/* The SARIF result of one report. */
static json_object *result_obj(const lwt_report_t *rep, rules_t *rules, const char *srcroot) {
  json_object *r = rep->obj;
  const char *kind = lwt_get_str(r, "kind");
  json_object *res = json_object_new_object();
  json_object_object_add(res, "ruleId", json_object_new_string(kind));
  json_object_object_add(res, "ruleIndex", json_object_new_int64((int64_t)rule_index(rules, kind)));
  /* a report that fails nothing (a guarded cycle) is a note */
  json_object_object_add(res, "level",
                         json_object_new_string(lwt_report_fails(r) ? "error" : "note"));

  /* The message: the summary, then the cycle or the detail. */
  lwt_str_t msg = LWT_STR_INIT;
  const char *summary = lwt_get_str(r, "summary");
  lwt_str_puts(&msg, summary ? summary : kind);
  json_object *edges = lwt_get(r, "edges", json_type_array);
  json_object *events = lwt_get(r, "events", json_type_array);
  if (lwt_len(edges)) {
    lwt_str_puts(&msg, ": lock cycle ");
    for (size_t i = 0; i < lwt_len(edges); i++) {
      const char *from = lwt_get_str(lwt_at(edges, i), "from");
      const char *name = lwt_get_str(lwt_report_lock(r, from), "name");
      lwt_str_printf(&msg, "%s%s%s%s => ", from ? from : "?", name ? " (" : "", name ? name : "",
                     name ? ")" : "");
    }
    const char *first = lwt_get_str(lwt_at(edges, 0), "from");
    lwt_str_puts(&msg, first ? first : "?");
    json_object *gate = lwt_get(r, "gate", json_type_array);
    for (size_t i = 0; i < lwt_len(gate); i++) {
      const char *id = json_object_get_string(lwt_at(gate, i));
      const char *name = lwt_get_str(lwt_report_lock(r, id), "name");
      lwt_str_printf(&msg, "%s%s%s%s%s", i ? ", " : "; guarded by ", id ? id : "?",
                     name ? " (" : "", name ? name : "", name ? ")" : "");
    }
    if (lwt_len(gate)) lwt_str_puts(&msg, ": cannot deadlock");
  } else if (lwt_get_str(r, "detail")) {
    lwt_str_printf(&msg, " (%s)", lwt_get_str(r, "detail"));
  }
  json_object_object_add(res, "message", text_obj(lwt_str_get(&msg)));
  lwt_str_free(&msg);

  /* The primary location, and every other stack as a related location. */
  json_object *locations = json_object_new_array();
  json_object *related = json_object_new_array();
  int64_t next_id = 1;
  lwt_frame_t f;
  json_object *primary = lwt_report_primary_stack(r);
  if (lwt_frames_pick(primary, srcroot, &f))
    json_object_array_add(locations, location(&f, srcroot, NULL));
  for (size_t i = 0; i < lwt_len(edges); i++) {
    json_object *e = lwt_at(edges, i);
    lwt_str_t acq = LWT_STR_INIT, held = LWT_STR_INIT;
    lwt_text_edge_labels(&acq, &held, r, e);
    if (i > 0)
      add_related(related, lwt_get(e, "acquired", json_type_array), srcroot, lwt_str_get(&acq),
                  &next_id);
    add_related(related, lwt_get(e, "held", json_type_array), srcroot, lwt_str_get(&held),
                &next_id);
    lwt_str_free(&acq);
    lwt_str_free(&held);
  }
  for (size_t i = lwt_len(edges) ? 0 : 1; i < lwt_len(events); i++) {
    json_object *e = lwt_at(events, i);
    lwt_str_t label = LWT_STR_INIT;
    lwt_text_event_label(&label, r, e);
    add_related(related, lwt_get(e, "stack", json_type_array), srcroot, lwt_str_get(&label),
                &next_id);
    lwt_str_free(&label);
  }
  json_object_object_add(res, "locations", locations);
  if (lwt_len(related)) json_object_object_add(res, "relatedLocations", related);
  else json_object_put(related);

  char *fp = fingerprint(r);
  json_object *fps = json_object_new_object();
  json_object_object_add(fps, "lockwatch/v1", json_object_new_string(fp));
  json_object_object_add(res, "fingerprints", fps);
  free(fp);

  json_object *props = json_object_new_object();
  json_object_object_add(props, "pid", json_object_new_int64(rep->pid));
  if (rep->program) json_object_object_add(props, "program", json_object_new_string(rep->program));
  long long id = lwt_get_int(r, "id", -1);
  if (id >= 0) json_object_object_add(props, "reportId", json_object_new_int64(id));
  json_object_object_add(res, "properties", props);
  return res;
}

char *lwt_srcroot_normalize(const char *srcroot) {
  char *root;
  if (!*srcroot) {
    lwt_error("sarif: --srcroot is empty");
    return NULL;
  }
  if (srcroot[0] == '/') {
    root = lwt_xstrdup(srcroot);
  } else {
    char *cwd = getcwd(NULL, 0);
    if (!cwd) {
      lwt_error("sarif: cannot make --srcroot %s absolute: %s", srcroot, strerror(errno));
      return NULL;
    }
    root = strcmp(srcroot, ".") == 0 ? lwt_xstrdup(cwd) : lwt_xasprintf("%s/%s", cwd, srcroot);
    free(cwd);
  }
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/') root[--n] = 0;
  return root;
}

json_object *lwt_sarif_build(const lwt_docs_t *d, const char *srcroot) {
  rules_t rules = {NULL, 0, 0};
  for (unsigned i = 0; i < LW_REPORT_KIND_COUNT; i++) rule_index(&rules, lw_report_kind_name(i));
  json_object *results = json_object_new_array();
  for (size_t i = 0; i < d->nreports; i++)
    json_object_array_add(results, result_obj(&d->reports[i], &rules, srcroot));

  json_object *driver = json_object_new_object();
  json_object_object_add(driver, "name", json_object_new_string("lockwatch"));
  json_object_object_add(driver, "version", json_object_new_string(LOCKWATCH_VERSION_STRING));
  json_object_object_add(driver, "semanticVersion",
                         json_object_new_string(LOCKWATCH_VERSION_STRING));
  if (LWT_INFORMATION_URI[0]) /* set by the build (LOCKWATCH_HOMEPAGE_URL); never a placeholder */
    json_object_object_add(driver, "informationUri", json_object_new_string(LWT_INFORMATION_URI));
  json_object *rule_list = json_object_new_array();
  for (size_t i = 0; i < rules.n; i++) json_object_array_add(rule_list, rule_obj(rules.kinds[i]));
  json_object_object_add(driver, "rules", rule_list);
  free(rules.kinds);
  json_object *tool = json_object_new_object();
  json_object_object_add(tool, "driver", driver);

  json_object *run = json_object_new_object();
  json_object_object_add(run, "tool", tool);
  if (srcroot) {
    lwt_str_t uri = LWT_STR_INIT;
    lwt_str_puts(&uri, "file://");
    uri_encode(&uri, srcroot);
    if (strcmp(srcroot, "/") != 0) lwt_str_puts(&uri, "/");
    json_object *base = json_object_new_object();
    json_object *root = json_object_new_object();
    json_object_object_add(root, "uri", json_object_new_string(lwt_str_get(&uri)));
    json_object_object_add(base, "SRCROOT", root);
    json_object_object_add(run, "originalUriBaseIds", base);
    lwt_str_free(&uri);
  }
  json_object_object_add(run, "results", results);
  json_object *runs = json_object_new_array();
  json_object_array_add(runs, run);

  json_object *log = json_object_new_object();
  json_object_object_add(log, "$schema", json_object_new_string(SARIF_SCHEMA));
  json_object_object_add(log, "version", json_object_new_string("2.1.0"));
  json_object_object_add(log, "runs", runs);
  return log;
}

static const char sarif_usage[] =
    "usage: lockwatch sarif [--srcroot DIR] [-o FILE] FILE.json...\n"
    "\n"
    "Converts the reports of lockwatch JSON documents to one SARIF 2.1.0 log\n"
    "for code-scanning services: one result per report (ruleId: its kind),\n"
    "located where the summary says, with the other stacks as related locations.\n"
    "\n"
    "  --srcroot DIR      make source paths under DIR relative to it (uriBaseId SRCROOT)\n"
    "  -o, --output FILE  write to FILE instead of standard output\n"
    "  -h, --help         print this help\n";

int lwt_cmd_sarif(int argc, char **argv) {
  static const struct option opts[] = {{"srcroot", required_argument, NULL, 'r'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *out_path = NULL, *srcroot_arg = NULL;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(sarif_usage, stdout);
      return LWT_EXIT_OK;
    case 'r': srcroot_arg = optarg; break;
    case 'o': out_path = optarg; break;
    default: return lwt_bad_option("sarif", c, argv);
    }
  }
  if (optind >= argc) return lwt_usage_error("sarif", "no JSON file given");
  if (srcroot_arg && !*srcroot_arg) return lwt_usage_error("sarif", "--srcroot is empty");
  char *srcroot = srcroot_arg ? lwt_srcroot_normalize(srcroot_arg) : NULL;
  if (srcroot_arg && !srcroot) return LWT_EXIT_ERROR;
  lwt_docs_t d = LWT_DOCS_INIT;
  int status = LWT_EXIT_ERROR;
  if (lwt_docs_load_all(&d, argv + optind, argc - optind) == 0) {
    json_object *log = lwt_sarif_build(&d, srcroot);
    lwt_str_t out = LWT_STR_INIT;
    if (!lwt_json_format(log, &out)) lwt_error("sarif: cannot format the SARIF log");
    else if (lwt_write_output(out_path, out.p, out.n) == 0) status = LWT_EXIT_OK;
    lwt_str_free(&out);
    json_object_put(log);
  }
  lwt_docs_free(&d);
  free(srcroot);
  return status;
}
