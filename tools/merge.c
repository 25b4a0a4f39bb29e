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

#include <json-c/printbuf.h>

#include "graph.h"
#include "u64map.h"
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

typedef struct merger {
  const lwt_docs_t *d;
  const lwt_cgraph_t *cg;
  lw_node_t *nodes;
} merger_t;

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* The frames of stack number `stack` (parsed from their text), or an empty array. */
static json_object *stack_frames(merger_t *m, long stack) {
  json_object *f = stack >= 0 ? json_tokener_parse(m->cg->stacks[stack].frames) : NULL;
  if (f && json_object_is_type(f, json_type_array)) return f;
  if (f) json_object_put(f);
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
    const lwt_class_t *cls = &m->cg->classes[st->edge->from->id - 1];
    char id[32], to_id[32];
    snprintf(id, sizeof id, "M%u", k + 1);
    snprintf(to_id, sizeof to_id, "M%u", (k + 1) % c->n + 1);
    json_object *l = json_object_new_object();
    json_object_object_add(l, "class", json_object_new_string(cls->id));
    const char *cname = cls->name;
    json_object_object_add(l, "class_name", cname ? json_object_new_string(cname) : NULL);
    json_object_object_add(l, "id", json_object_new_string(id));
    json_object_object_add(l, "address", json_object_new_string("0x0"));
    json_object_object_add(l, "type", json_object_new_string(cls->type ? cls->type : "mutex"));
    json_object_object_add(l, "name", cname ? json_object_new_string(cname) : NULL);
    json_object_object_add(l, "created", stack_frames(m, cls->created));
    json_object_array_add(locks, l);
    json_object_array_add(cycle, json_object_new_string(id));
    const lw_witness_t *w =
        lw_edge_witness(st->edge, LW_PAIR(st->from_mode, st->to_mode));
    const lwt_cedge_t *ce = &m->cg->edges[w->thread];
    const lwt_origin_t *o = &m->cg->origins[ce->origin];
    char thread[24];
    snprintf(thread, sizeof thread, "T%u", ce->thread);
    json_object *e = json_object_new_object();
    json_object_object_add(e, "from", json_object_new_string(id));
    json_object_object_add(e, "to", json_object_new_string(to_id));
    json_object_object_add(e, "from_mode", json_object_new_string(lw_mode_name(st->from_mode)));
    json_object_object_add(e, "to_mode", json_object_new_string(lw_mode_name(st->to_mode)));
    json_object_object_add(e, "thread", json_object_new_string(thread));
    json_object_object_add(e, "held_locks", json_object_new_array());
    json_object_object_add(e, "acquired", stack_frames(m, ce->acquired));
    json_object_object_add(e, "held", stack_frames(m, ce->held));
    json_object_object_add(e, "also_by_thread", NULL);
    json_object_object_add(e, "document", json_object_new_string(m->d->docs[o->doc].path));
    json_object_object_add(e, "pid", json_object_new_int64(o->pid));
    json_object_object_add(e, "program", o->program ? json_object_new_string(o->program) : NULL);
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

/* The merged class unit as text, for json-c to write where the member goes. */
static int units_to_json(json_object *o, struct printbuf *pb, int level, int flags) {
  (void)level;
  (void)flags;
  lwt_str_t *text = json_object_get_userdata(o);
  return printbuf_memappend(pb, lwt_str_get(text), (int)text->n) < 0 ? -1 : 0;
}

static void units_free(json_object *o, void *userdata) {
  (void)o;
  lwt_str_free(userdata);
  free(userdata);
}

/* Writes v in decimal at q; returns the end. */
static char *put_int(char *q, int64_t v) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  if (v < 0) *q++ = '-';
  do tmp[n++] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  while (n) *q++ = tmp[--n];
  return q;
}

/*
 * Marks in in_scc[k] whether kept edge k lies in a cycle of the union (its
 * two classes in one strongly connected component): every cycle the order
 * graph can find, then or later, is made of such edges only. Tarjan's
 * algorithm, without recursion, once over the whole union.
 */
static void edges_in_cycles(const lwt_cgraph_t *cg, const uint32_t *kept, size_t nkept,
                            bool *in_scc) {
  size_t n = cg->nclasses;
  size_t *start = lwt_xmalloc((n + 1) * sizeof *start);
  uint32_t *adj = lwt_xmalloc((nkept + 1) * sizeof *adj);
  memset(start, 0, (n + 1) * sizeof *start);
  for (size_t k = 0; k < nkept; k++) start[cg->edges[kept[k]].from + 1]++;
  for (size_t v = 0; v < n; v++) start[v + 1] += start[v];
  size_t *fill = lwt_xmalloc((n + 1) * sizeof *fill);
  memcpy(fill, start, (n + 1) * sizeof *fill);
  for (size_t k = 0; k < nkept; k++) adj[fill[cg->edges[kept[k]].from]++] = cg->edges[kept[k]].to;
  /* index 0: not visited; comp: the component's root number + 1, once assigned */
  uint32_t *index = lwt_xmalloc((n + 1) * sizeof *index), *low = lwt_xmalloc((n + 1) * sizeof *low);
  uint32_t *comp = lwt_xmalloc((n + 1) * sizeof *comp), *stack = lwt_xmalloc((n + 1) * sizeof *stack);
  uint32_t *call = lwt_xmalloc((n + 1) * sizeof *call);
  memset(index, 0, (n + 1) * sizeof *index);
  memset(comp, 0, (n + 1) * sizeof *comp);
  uint32_t next = 1;
  size_t sp = 0, cp = 0;
  for (size_t root = 0; root < n; root++) {
    if (index[root]) continue;
    call[cp++] = (uint32_t)root;
    index[root] = low[root] = next++;
    stack[sp++] = (uint32_t)root;
    fill[root] = start[root];
    while (cp) {
      uint32_t v = call[cp - 1];
      if (fill[v] < start[v + 1]) {
        uint32_t w = adj[fill[v]++];
        if (!index[w]) {
          index[w] = low[w] = next++;
          stack[sp++] = w;
          fill[w] = start[w];
          call[cp++] = w;
        } else if (!comp[w] && index[w] < low[v]) {
          low[v] = index[w];
        }
        continue;
      }
      cp--;
      if (cp && low[v] < low[call[cp - 1]]) low[call[cp - 1]] = low[v];
      if (low[v] == index[v]) {
        uint32_t w;
        do {
          w = stack[--sp];
          comp[w] = v + 1;
        } while (w != v);
      }
    }
  }
  for (size_t k = 0; k < nkept; k++) {
    const lwt_cedge_t *e = &cg->edges[kept[k]];
    in_scc[k] = comp[e->from] == comp[e->to];
  }
  free(start);
  free(fill);
  free(adj);
  free(index);
  free(low);
  free(comp);
  free(stack);
  free(call);
}

/*
 * The merged document's class unit (docs/report-format.md): every class and
 * stack of the inputs, the kept edges (first witness of each edge and mode
 * pair), each with its origin: the process that made it.
 */
static json_object *merged_unit(const lwt_cgraph_t *cg, const uint32_t *kept, size_t nkept) {
  lwt_str_t *t = lwt_xmalloc(sizeof *t);
  *t = (lwt_str_t)LWT_STR_INIT;
  uint32_t *origin = lwt_xmalloc((cg->norigins + 1) * sizeof *origin); /* cg's -> the unit's + 1 */
  memset(origin, 0, (cg->norigins + 1) * sizeof *origin);
  uint32_t norigins = 0;
  lwt_str_puts(t, "[\n    {\n      \"origins\": [");
  for (size_t i = 0; i < nkept; i++) {
    uint32_t k = cg->edges[kept[i]].origin;
    if (origin[k]) continue;
    origin[k] = ++norigins;
    lwt_str_printf(t, "%s\n        [%lld, ", norigins > 1 ? "," : "", cg->origins[k].pid);
    lwt_json_quote(t, cg->origins[k].program);
    lwt_str_puts(t, "]");
  }
  lwt_str_puts(t, norigins ? "\n      ],\n      \"classes\": [" : "],\n      \"classes\": [");
  for (size_t i = 0; i < cg->nclasses; i++) {
    const lwt_class_t *c = &cg->classes[i];
    lwt_str_puts(t, i ? ",\n        [" : "\n        [");
    const char *const fields[] = {c->id, c->how, c->type, c->name, c->module, c->offset};
    for (int f = 0; f < 6; f++) {
      lwt_json_quote(t, fields[f]);
      lwt_str_puts(t, ", ");
    }
    lwt_str_printf(t, "%lld, %ld]", c->instances, c->created);
  }
  lwt_str_puts(t, cg->nclasses ? "\n      ],\n      \"stacks\": [" : "],\n      \"stacks\": [");
  for (size_t i = 0; i < cg->nstacks; i++) {
    lwt_str_puts(t, i ? ",\n        {\"id\": " : "\n        {\"id\": ");
    lwt_json_quote(t, cg->stacks[i].id);
    lwt_str_puts(t, ", \"frames\": ");
    lwt_str_puts(t, cg->stacks[i].frames);
    lwt_str_puts(t, "}");
  }
  lwt_str_puts(t, cg->nstacks ? "\n      ],\n      \"edges\": [" : "],\n      \"edges\": [");
  for (size_t i = 0; i < nkept; i++) {
    const lwt_cedge_t *e = &cg->edges[kept[i]];
    const int64_t row[7] = {e->from, e->to, e->pair, e->thread, e->acquired, e->held,
                            origin[e->origin] - 1};
    char line[7 * 24 + 16], *q = line;
    memcpy(q, i ? ",\n        [" : "\n        [", 10 + (i != 0));
    q += 10 + (i != 0);
    for (int f = 0; f < 7; f++) {
      if (f) *q++ = ',', *q++ = ' ';
      q = put_int(q, row[f]);
    }
    *q++ = ']';
    lwt_str_add(t, line, (size_t)(q - line));
  }
  lwt_str_puts(t, nkept ? "\n      ]\n    }\n  ]" : "]\n    }\n  ]");
  free(origin);
  json_object *o = json_object_new_array();
  json_object_set_serializer(o, units_to_json, t, units_free);
  return o;
}

/* The key of an edge and mode pair in the set of edges seen (never 0). */
static uint64_t edge_key(const lwt_cedge_t *e) {
  return (((uint64_t)e->from << 33) | ((uint64_t)e->to << 2) | e->pair) + 1;
}

/* Are two witnesses of one thread of one process? */
static bool same_thread(const lwt_cgraph_t *cg, const lwt_cedge_t *a, const lwt_cedge_t *b) {
  const lwt_origin_t *oa = &cg->origins[a->origin], *ob = &cg->origins[b->origin];
  return oa->doc == ob->doc && oa->pid == ob->pid && a->thread == b->thread;
}

/*
 * Adds to root the union of the inputs' class graphs (its "class_units"),
 * and appends to reports every cycle of the union that no report (already
 * in reports) names by its classes. Returns the number of reports added.
 */
static size_t merge_class_graphs(const lwt_docs_t *d, json_object *root, json_object *reports,
                                 json_object *suppressed) {
  const lwt_cgraph_t *cg = &d->cg;
  merger_t m = {.d = d, .cg = cg};
  m.nodes = lwt_xmalloc((cg->nclasses + 1) * sizeof *m.nodes);
  for (size_t i = 0; i < cg->nclasses; i++) lw_graph_node_init(&m.nodes[i], i + 1, false);
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
  /* each edge and mode pair once: the first witness (in document order) is kept */
  lw_u64map_t seen;
  lw_u64map_init(&seen, false);
  uint32_t *kept = lwt_xmalloc((cg->nedges + 1) * sizeof *kept);
  size_t nkept = 0;
  lw_graph_t g;
  lw_graph_init(&g);
  size_t added_reports = 0;
  for (size_t i = 0; i < cg->nedges; i++) {
    const lwt_cedge_t *ce = &cg->edges[i];
    if (ce->from == ce->to || lw_u64map_get(&seen, edge_key(ce), NULL)) continue;
    if (!lw_u64map_put(&seen, edge_key(ce), 0)) {
      lwt_error("merge: out of memory");
      exit(LWT_EXIT_ERROR);
    }
    kept[nkept++] = (uint32_t)i;
  }
  /*
   * Only the edges inside a cycle of the union go to the order graph, in
   * the inputs' order: it finds the same cycles, at the same edges, as if
   * every edge went there, and the acyclic bulk of a suite's graph costs
   * nothing more.
   */
  bool *in_scc = lwt_xmalloc(nkept + 1);
  edges_in_cycles(cg, kept, nkept, in_scc);
  for (size_t k = 0; k < nkept; k++) {
    if (!in_scc[k]) continue;
    size_t i = kept[k];
    const lwt_cedge_t *ce = &cg->edges[i];
    lw_witness_t w = {(uint32_t)i, 0, 0, 0, 0, 0, 0};
    lw_cycle_t c;
    int r = lw_graph_add_edge(&g, &m.nodes[ce->from], &m.nodes[ce->to], ce->pair >> 1,
                              ce->pair & 1, &w, &c);
    if (r == LW_EDGE_ERROR) {
      lwt_error("merge: out of memory");
      exit(LWT_EXIT_ERROR);
    }
    if (r != LW_EDGE_CYCLE) continue;
    /* as in a run: a cycle made by one thread of one process is no class-level inversion */
    bool threads = false;
    const lwt_cedge_t *first = &cg->edges[lw_edge_witness(c.steps[0].edge, LW_PAIR(c.steps[0].from_mode,
                                                                                  c.steps[0].to_mode))->thread];
    for (uint32_t k = 1; k < c.n; k++) {
      const lwt_cedge_t *o = &cg->edges[lw_edge_witness(c.steps[k].edge, LW_PAIR(c.steps[k].from_mode,
                                                                                c.steps[k].to_mode))->thread];
      threads |= !same_thread(cg, o, first);
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
  free(in_scc);
  json_object_object_add(root, "class_units", merged_unit(cg, kept, nkept));
  for (size_t i = 0; i < nknown; i++) free(known_keys[i]);
  free(known_keys);
  strtab_free(&known);
  lw_u64map_clear(&seen);
  free(kept);
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
