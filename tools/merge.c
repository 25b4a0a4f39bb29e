/*
 * merge.c - the class graphs of many documents made one (docs/design.md
 * "Merging documents"): every class edge of every input, keyed by the
 * stable class keys, goes into one order graph (the core's graph.c, over
 * class numbers); every cycle that closes there and that no input reported
 * becomes a class-level inversion whose edges name the document, program
 * and pid they came from. The inputs' own reports are kept, one per bug.
 * lockwatch merge, and lockwatch run for the processes of one run, use it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "types.h"
#include "tool.h"

/* ---- a small string-keyed table --------------------------------------------------- */

typedef struct strtab {
  const char **keys;
  size_t *vals;
  size_t mask, n;
} strtab_t;

static uint64_t str_hash(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

/* Finds key; returns true and *val, or false and the slot to fill in *slot. */
static bool strtab_find(strtab_t *t, const char *key, size_t *val, size_t *slot) {
  for (size_t i = str_hash(key) & t->mask;; i = (i + 1) & t->mask) {
    if (!t->keys[i]) {
      *slot = i;
      return false;
    }
    if (strcmp(t->keys[i], key) == 0) {
      *val = t->vals[i];
      return true;
    }
  }
}

static void strtab_init(strtab_t *t, size_t expect) {
  size_t cap = 64;
  while (cap < expect * 2) cap *= 2;
  t->keys = calloc(cap, sizeof *t->keys);
  t->vals = calloc(cap, sizeof *t->vals);
  if (!t->keys || !t->vals) {
    lwt_error("out of memory");
    exit(LWT_EXIT_ERROR);
  }
  t->mask = cap - 1;
  t->n = 0;
}

static void strtab_grow(strtab_t *t) {
  strtab_t n;
  strtab_init(&n, (t->mask + 1));
  for (size_t i = 0; i <= t->mask; i++) {
    size_t slot, v;
    if (!t->keys[i]) continue;
    (void)strtab_find(&n, t->keys[i], &v, &slot);
    n.keys[slot] = t->keys[i];
    n.vals[slot] = t->vals[i];
    n.n++;
  }
  free(t->keys);
  free(t->vals);
  *t = n;
}

/* The value of key, adding it with value next if absent (*added says which). */
static size_t strtab_get(strtab_t *t, const char *key, size_t next, bool *added) {
  size_t val, slot;
  if (strtab_find(t, key, &val, &slot)) {
    *added = false;
    return val;
  }
  t->keys[slot] = key;
  t->vals[slot] = next;
  *added = true;
  if (++t->n * 2 > t->mask) strtab_grow(t);
  return next;
}

static void strtab_free(strtab_t *t) {
  free(t->keys);
  free(t->vals);
}

/* ---- the merged class graph -------------------------------------------------------- */

/* A class edge as an input document gave it, with where it came from. */
typedef struct cedge {
  json_object *obj; /* the input's class_graph entry */
  size_t doc;       /* index in the inputs */
  long long pid;
  const char *program;
} cedge_t;

typedef struct merger {
  const lwt_docs_t *d;
  strtab_t classes, stacks;
  json_object **class_obj; /* class number - 1 -> the first description seen */
  size_t nclasses;
  json_object *stack_obj; /* stack id -> frames, as an object */
  cedge_t *edges;
  size_t nedges, cap_edges;
  lw_node_t *nodes;
} merger_t;

static void *xgrow(void *p, size_t n, size_t *cap, size_t sz) {
  if (n < *cap) return p;
  *cap = *cap ? *cap * 2 : 256;
  return lwt_xrealloc(p, *cap * sz);
}

/* The pid and program of the process that wrote class edge e of document root. */
static void edge_origin(json_object *root, json_object *e, long long *pid, const char **program) {
  *pid = lwt_get_int(e, "pid", lwt_get_int(root, "pid", 0));
  *program = lwt_get_str(e, "program");
  if (!*program) *program = lwt_get_str(root, "program");
}

/* Collects the classes, stacks and class edges of every input. */
static void collect(merger_t *m) {
  size_t want = 0;
  for (size_t i = 0; i < m->d->ndocs; i++)
    want += lwt_len(lwt_get(m->d->docs[i].root, "classes", json_type_array));
  strtab_init(&m->classes, want);
  strtab_init(&m->stacks, 1024);
  m->class_obj = lwt_xmalloc((want + 1) * sizeof *m->class_obj);
  m->stack_obj = json_object_new_object();
  for (size_t i = 0; i < m->d->ndocs; i++) {
    json_object *root = m->d->docs[i].root;
    json_object *classes = lwt_get(root, "classes", json_type_array);
    for (size_t k = 0; k < lwt_len(classes); k++) {
      const char *id = lwt_get_str(lwt_at(classes, k), "id");
      bool added;
      if (!id) continue;
      (void)strtab_get(&m->classes, id, m->nclasses, &added);
      if (added) m->class_obj[m->nclasses++] = lwt_at(classes, k);
    }
    json_object *stacks = lwt_get(root, "stacks", json_type_array);
    for (size_t k = 0; k < lwt_len(stacks); k++) {
      const char *id = lwt_get_str(lwt_at(stacks, k), "id");
      json_object *frames = lwt_get(lwt_at(stacks, k), "frames", json_type_array);
      bool added;
      if (!id || !frames) continue;
      (void)strtab_get(&m->stacks, id, 0, &added);
      if (added) json_object_object_add(m->stack_obj, id, json_object_get(frames));
    }
    json_object *graph = lwt_get(root, "class_graph", json_type_array);
    for (size_t k = 0; k < lwt_len(graph); k++) {
      json_object *e = lwt_at(graph, k);
      m->edges = xgrow(m->edges, m->nedges, &m->cap_edges, sizeof *m->edges);
      cedge_t *c = &m->edges[m->nedges++];
      c->obj = e;
      c->doc = i;
      edge_origin(root, e, &c->pid, &c->program);
    }
  }
}

/* The class number of id, or -1 if no input described it. */
static long class_number(merger_t *m, const char *id) {
  size_t val, slot;
  if (!id || !strtab_find(&m->classes, id, &val, &slot)) return -1;
  return (long)val;
}

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static unsigned mode_of(const char *s) { return s && strcmp(s, "read") == 0 ? LW_MODE_READ : LW_MODE_WRITE; }

/* The frames of stack id, or an empty array. */
static json_object *stack_frames(merger_t *m, const char *id) {
  json_object *f = NULL;
  if (id && json_object_object_get_ex(m->stack_obj, id, &f)) return json_object_get(f);
  return json_object_new_array();
}

/*
 * The sorted class ids of a report's cycle (its gate locks left out), joined
 * by spaces (the caller frees); NULL if it has no cycle or a lock without a
 * class.
 */
static char *cycle_classes(json_object *report) {
  json_object *cycle = lwt_get(report, "cycle", json_type_array);
  size_t n = lwt_len(cycle);
  if (!n) return NULL;
  const char **ids = lwt_xmalloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++) {
    json_object *lock = lwt_report_lock(report, json_object_get_string(lwt_at(cycle, i)));
    ids[i] = lwt_get_str(lock, "class");
    if (!ids[i]) {
      free(ids);
      return NULL;
    }
  }
  for (size_t i = 1; i < n; i++)
    for (size_t k = i; k > 0 && strcmp(ids[k - 1], ids[k]) > 0; k--) {
      const char *t = ids[k];
      ids[k] = ids[k - 1];
      ids[k - 1] = t;
    }
  lwt_str_t s = LWT_STR_INIT;
  for (size_t i = 0; i < n; i++) {
    if (i && strcmp(ids[i], ids[i - 1]) == 0) continue;
    lwt_str_printf(&s, "%s%s", i ? " " : "", ids[i]);
  }
  free(ids);
  return s.p;
}

/* "file:line in function" of the frame a summary names: the first with a file and line. */
static void summary_where(lwt_str_t *s, json_object *frames, const char **function) {
  lwt_frame_t f;
  *function = NULL;
  if (!lwt_frames_pick(frames, NULL, &f)) return;
  lwt_str_printf(s, " %s:%lld", lwt_basename(f.file), f.line);
  if (f.function) lwt_str_printf(s, " in %s", f.function);
  *function = f.function;
}

/* A class-level inversion for a cycle of the merged graph. */
static json_object *cycle_report(merger_t *m, const lw_cycle_t *c, size_t seq) {
  json_object *r = json_object_new_object();
  json_object *locks = json_object_new_array(), *cycle = json_object_new_array();
  json_object *edges = json_object_new_array();
  uint32_t start = 0;
  for (uint32_t i = 0; i < c->n; i++)
    if (c->steps[i].edge->from->id < c->steps[start].edge->from->id) start = i;
  for (uint32_t k = 0; k < c->n; k++) {
    const lw_cycle_step_t *st = &c->steps[(start + k) % c->n];
    json_object *cls = m->class_obj[st->edge->from->id - 1];
    char id[32], to_id[32];
    snprintf(id, sizeof id, "M%u", k + 1);
    snprintf(to_id, sizeof to_id, "M%u", (k + 1) % c->n + 1);
    json_object *l = json_object_new_object();
    json_object_object_add(l, "class", json_object_new_string(lwt_get_str(cls, "id")));
    const char *cname = lwt_get_str(cls, "name");
    json_object_object_add(l, "class_name", cname ? json_object_new_string(cname) : NULL);
    json_object_object_add(l, "id", json_object_new_string(id));
    json_object_object_add(l, "address", json_object_new_string("0x0"));
    const char *type = lwt_get_str(cls, "type");
    json_object_object_add(l, "type", json_object_new_string(type ? type : "mutex"));
    json_object_object_add(l, "name", cname ? json_object_new_string(cname) : NULL);
    json_object *created = lwt_get(cls, "created", json_type_array);
    json_object_object_add(l, "created", created ? json_object_get(created) : json_object_new_array());
    json_object_array_add(locks, l);
    json_object_array_add(cycle, json_object_new_string(id));
    const lw_witness_t *w =
        lw_edge_witness(st->edge, LW_PAIR(st->from_mode, st->to_mode));
    const cedge_t *ce = &m->edges[w->thread];
    json_object *e = json_object_new_object();
    json_object_object_add(e, "from", json_object_new_string(id));
    json_object_object_add(e, "to", json_object_new_string(to_id));
    json_object_object_add(e, "from_mode", json_object_new_string(lw_mode_name(st->from_mode)));
    json_object_object_add(e, "to_mode", json_object_new_string(lw_mode_name(st->to_mode)));
    const char *thread = lwt_get_str(ce->obj, "thread");
    json_object_object_add(e, "thread", json_object_new_string(thread ? thread : "T0"));
    json_object_object_add(e, "held_locks", json_object_new_array());
    json_object_object_add(e, "acquired", stack_frames(m, lwt_get_str(ce->obj, "acquired")));
    json_object_object_add(e, "held", stack_frames(m, lwt_get_str(ce->obj, "held")));
    json_object_object_add(e, "also_by_thread", NULL);
    json_object_object_add(e, "document", json_object_new_string(m->d->docs[ce->doc].path));
    json_object_object_add(e, "pid", json_object_new_int64(ce->pid));
    json_object_object_add(e, "program", ce->program ? json_object_new_string(ce->program) : NULL);
    json_object_array_add(edges, e);
  }
  json_object_object_add(r, "id", json_object_new_int64((int64_t)seq));
  json_object_object_add(r, "kind", json_object_new_string("lock-order-inversion"));
  lwt_str_t s = LWT_STR_INIT;
  const char *f0, *f1;
  lwt_str_puts(&s, "lock-order-inversion");
  summary_where(&s, lwt_get(lwt_at(edges, 0), "acquired", json_type_array), &f0);
  lwt_str_t other = LWT_STR_INIT;
  summary_where(&other, lwt_get(lwt_at(edges, c->n - 1), "acquired", json_type_array), &f1);
  if (f0 && f1 && strcmp(f0, f1)) lwt_str_printf(&s, " against%s", lwt_str_get(&other));
  lwt_str_free(&other);
  json_object_object_add(r, "summary", json_object_new_string(lwt_str_get(&s)));
  lwt_str_free(&s);
  json_object_object_add(r, "locks", locks);
  json_object_object_add(r, "cycle", cycle);
  json_object_object_add(r, "closing_edge", json_object_new_int64((c->n - start) % c->n));
  json_object_object_add(r, "class_level", json_object_new_boolean(1));
  json_object_object_add(r, "instances", json_object_new_int64(1));
  json_object_object_add(r, "across_documents", json_object_new_boolean(1));
  json_object_object_add(r, "detail", NULL);
  json_object_object_add(r, "edges", edges);
  json_object_object_add(r, "events", json_object_new_array());
  json_object_object_add(r, "threads", json_object_new_array());
  return r;
}

/*
 * Adds to root the union of the inputs' classes, class graph and stacks
 * ("classes", "class_graph", "stacks"), and appends to reports every cycle of
 * the union that no report (already in reports) names by its classes.
 * Returns the number of reports added.
 */
static size_t merge_class_graphs(const lwt_docs_t *d, json_object *root, json_object *reports,
                                 json_object *suppressed) {
  merger_t m = {.d = d};
  collect(&m);
  m.nodes = lwt_xmalloc((m.nclasses + 1) * sizeof *m.nodes);
  for (size_t i = 0; i < m.nclasses; i++) lw_graph_node_init(&m.nodes[i], i + 1, false);
  /* the cycles already reported, by their classes */
  strtab_t known;
  size_t nin = lwt_len(reports) + lwt_len(suppressed);
  strtab_init(&known, nin + 16);
  char **known_keys = lwt_xmalloc((nin + 1) * sizeof *known_keys);
  size_t nknown = 0;
  for (size_t i = 0; i < nin; i++) {
    json_object *r = i < lwt_len(reports) ? lwt_at(reports, i)
                                          : lwt_at(suppressed, i - lwt_len(reports));
    if (!str_eq(lwt_get_str(r, "kind"), "lock-order-inversion")) continue;
    char *k = cycle_classes(r);
    bool added;
    if (!k) continue;
    known_keys[nknown++] = k;
    (void)strtab_get(&known, k, 0, &added);
  }
  lw_graph_t g;
  lw_graph_init(&g);
  json_object *classes = json_object_new_array(), *graph = json_object_new_array();
  size_t added_reports = 0;
  for (size_t i = 0; i < m.nclasses; i++) json_object_array_add(classes, json_object_get(m.class_obj[i]));
  for (size_t i = 0; i < m.nedges; i++) {
    cedge_t *ce = &m.edges[i];
    long from = class_number(&m, lwt_get_str(ce->obj, "from"));
    long to = class_number(&m, lwt_get_str(ce->obj, "to"));
    if (from < 0 || to < 0 || from == to) continue;
    lw_witness_t w = {(uint32_t)i, 0, 0, 0, 0, 0, 0};
    lw_cycle_t c;
    int r = lw_graph_add_edge(&g, &m.nodes[from], &m.nodes[to],
                              mode_of(lwt_get_str(ce->obj, "from_mode")),
                              mode_of(lwt_get_str(ce->obj, "to_mode")), &w, &c);
    if (r == LW_EDGE_ERROR) {
      lwt_error("merge: out of memory");
      exit(LWT_EXIT_ERROR);
    }
    if (r == LW_EDGE_KNOWN) continue;
    /* the merged class graph keeps the first witness of each edge, with its origin */
    json_object *e = json_object_new_object();
    json_object_object_foreach(ce->obj, key, val) json_object_object_add(e, key, json_object_get(val));
    json_object_object_add(e, "pid", json_object_new_int64(ce->pid));
    json_object_object_add(e, "program", ce->program ? json_object_new_string(ce->program) : NULL);
    json_object_array_add(graph, e);
    if (r != LW_EDGE_CYCLE) continue;
    /* as in a run: a cycle made by one thread of one process is no class-level inversion */
    bool threads = false;
    const cedge_t *first = &m.edges[lw_edge_witness(c.steps[0].edge, LW_PAIR(c.steps[0].from_mode,
                                                                             c.steps[0].to_mode))->thread];
    for (uint32_t k = 1; k < c.n; k++) {
      const cedge_t *o = &m.edges[lw_edge_witness(c.steps[k].edge, LW_PAIR(c.steps[k].from_mode,
                                                                           c.steps[k].to_mode))->thread];
      threads |= o->doc != first->doc || !str_eq(lwt_get_str(o->obj, "thread"),
                                                 lwt_get_str(first->obj, "thread"));
    }
    if (!threads) {
      lw_cycle_release(&c);
      continue;
    }
    json_object *rep = cycle_report(&m, &c, lwt_len(reports) + 1);
    lw_cycle_release(&c);
    char *k = cycle_classes(rep);
    bool fresh = false;
    if (k) (void)strtab_get(&known, k, 0, &fresh);
    if (fresh) {
      json_object_array_add(reports, rep);
      known_keys = lwt_xrealloc(known_keys, (nknown + 1) * sizeof *known_keys);
      known_keys[nknown++] = k;
      added_reports++;
    } else {
      json_object_put(rep);
      free(k);
    }
  }
  json_object *stacks = json_object_new_array();
  json_object_object_foreach(m.stack_obj, sid, frames) {
    json_object *s = json_object_new_object();
    json_object_object_add(s, "id", json_object_new_string(sid));
    json_object_object_add(s, "frames", json_object_get(frames));
    json_object_array_add(stacks, s);
  }
  json_object_object_add(root, "classes", classes);
  json_object_object_add(root, "class_graph", graph);
  json_object_object_add(root, "stacks", stacks);
  for (size_t i = 0; i < nknown; i++) free(known_keys[i]);
  free(known_keys);
  strtab_free(&known);
  strtab_free(&m.classes);
  strtab_free(&m.stacks);
  json_object_put(m.stack_obj);
  free(m.class_obj);
  free(m.edges);
  free(m.nodes); /* the graph's edges (in the core's allocator) are not used after this */
  return added_reports;
}

/* ---- one report per bug -------------------------------------------------------------- */

/* What makes two input reports the same bug: kind, detail, classes (or summary). */
static char *report_key(json_object *r) {
  lwt_str_t s = LWT_STR_INIT;
  char *classes = cycle_classes(r);
  const char *detail = lwt_get_str(r, "detail");
  lwt_str_printf(&s, "%s|%s|%s|%s", lwt_get_str(r, "kind") ? lwt_get_str(r, "kind") : "",
                 detail ? detail : "", lwt_get_str(r, "summary") ? lwt_get_str(r, "summary") : "",
                 classes ? classes : "");
  free(classes);
  return s.p;
}

size_t lwt_merge_reports(json_object *reports) {
  size_t n = lwt_len(reports), kept = 0;
  strtab_t seen;
  strtab_init(&seen, n + 16);
  char **keys = lwt_xmalloc((n + 1) * sizeof *keys);
  json_object *out = json_object_new_array();
  for (size_t i = 0; i < n; i++) {
    json_object *r = lwt_at(reports, i);
    keys[i] = report_key(r);
    bool added;
    size_t first = strtab_get(&seen, keys[i], kept, &added);
    if (added) {
      json_object_array_add(out, json_object_get(r));
      kept++;
      continue;
    }
    /* the same bug in another process or run: count it, name the process */
    json_object *f = lwt_at(out, first);
    json_object_object_add(f, "instances",
                           json_object_new_int64(lwt_get_int(f, "instances", 1) +
                                                 lwt_get_int(r, "instances", 1)));
    json_object *also = lwt_get(f, "also_in", json_type_array);
    if (!also) {
      also = json_object_new_array();
      json_object_object_add(f, "also_in", also);
    }
    json_object_array_add(also, json_object_new_int64(lwt_get_int(r, "pid", 0)));
  }
  /* replace the contents of reports with the kept ones */
  json_object_array_del_idx(reports, 0, n);
  for (size_t i = 0; i < kept; i++) json_object_array_add(reports, json_object_get(lwt_at(out, i)));
  json_object_put(out);
  for (size_t i = 0; i < n; i++) free(keys[i]);
  free(keys);
  strtab_free(&seen);
  return kept;
}

size_t lwt_merge_classes(const lwt_docs_t *d, json_object *root) {
  json_object *reports = lwt_get(root, "reports", json_type_array);
  if (!reports) return 0;
  return merge_class_graphs(d, root, reports, lwt_get(root, "suppressed", json_type_array));
}

/* ---- lockwatch merge ----------------------------------------------------------------- */

static const char merge_usage[] =
    "usage: lockwatch merge -o OUT.json DOC.json...\n"
    "\n"
    "Merges lockwatch JSON documents (of several processes, runs or machines)\n"
    "into one: the union of their lock-class graphs, every cycle that spans\n"
    "them reported as a class-level lock-order inversion naming the document,\n"
    "program and pid of each edge, and the reports of the inputs, one per bug.\n"
    "A document that cannot be read is named with the reason and the rest are\n"
    "merged. OUT.json is read by lockwatch report, graph and sarif.\n"
    "\n"
    "  -o, --output FILE   where to write the merged document ('-': standard output)\n"
    "  --exitcode N        exit status when the merged document has reports (default 66)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: N (66) if the merged document has reports, 1 if an input could\n"
    "not be read or the output not written, 2 on a bad command line, 0 otherwise.\n";

int lwt_cmd_merge(int argc, char **argv) {
  static const struct option longs[] = {{"output", required_argument, NULL, 'o'},
                                        {"exitcode", required_argument, NULL, 'e'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  const char *out = NULL;
  long exitcode = 66;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "+:o:h", longs, NULL)) != -1) {
    switch (c) {
    case 'o':
      out = optarg;
      break;
    case 'e':
      if (!lwt_parse_long(optarg, 0, 255, &exitcode))
        return lwt_usage_error("merge", "--exitcode %s: expected an integer from 0 to 255", optarg);
      break;
    case 'h':
      fputs(merge_usage, stdout);
      return LWT_EXIT_OK;
    default:
      return lwt_bad_option("merge", c, argv);
    }
  }
  if (!out) return lwt_usage_error("merge", "missing -o OUT.json");
  if (optind >= argc) return lwt_usage_error("merge", "no document to merge");
  lwt_docs_t d = LWT_DOCS_INIT;
  size_t failed = 0;
  for (int i = optind; i < argc; i++)
    if (lwt_docs_add(&d, argv[i]) != 0) failed++;
  if (failed)
    lwt_error("merge: %zu of %d document%s could not be read (named above); merging the rest",
              failed, argc - optind, argc - optind == 1 ? "" : "s");
  json_object *merged = lwt_docs_merge(&d, 0, NULL);
  size_t nreports = lwt_len(lwt_get(merged, "reports", json_type_array));
  lwt_str_t text = LWT_STR_INIT;
  int status = LWT_EXIT_OK;
  if (!lwt_json_format(merged, &text)) {
    lwt_error("merge: cannot format the merged document");
    status = LWT_EXIT_ERROR;
  } else if (lwt_write_output(out, text.p, text.n) != 0) {
    status = LWT_EXIT_ERROR;
  }
  lwt_str_free(&text);
  size_t across = 0;
  json_object *reports = lwt_get(merged, "reports", json_type_array);
  for (size_t i = 0; i < lwt_len(reports); i++) {
    json_object *a = NULL;
    if (json_object_object_get_ex(lwt_at(reports, i), "across_documents", &a) &&
        json_object_get_boolean(a))
      across++;
  }
  fprintf(stderr, "lockwatch: merged %zu document%s (%zu process%s): %zu report%s, %zu found "
                  "only across documents\n",
          d.ndocs, d.ndocs == 1 ? "" : "s", d.nprocs, d.nprocs == 1 ? "" : "es", nreports,
          nreports == 1 ? "" : "s", across);
  json_object_put(merged);
  lwt_docs_free(&d);
  if (status == LWT_EXIT_OK && nreports) status = (int)exitcode;
  else if (status == LWT_EXIT_OK && failed) status = LWT_EXIT_ERROR;
  return status;
}
