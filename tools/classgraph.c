/*
 * classgraph.c - the class graphs of the documents the command loads
 * (docs/report-format.md "Lock classes and the class graph"), read as they
 * load and joined on class and stack ids.
 *
 * A schema-3 document keeps its class graph in class units: per process,
 * a table of classes, one of stacks, and the edges as rows of small
 * integers indexing both. A million such rows would cost json-c a dozen
 * million objects, so the units are read here with the core's scanner
 * (jscan.h) straight into the joined tables; json-c reads the rest of the
 * document. A schema-2 document (classes, class edges and stacks as
 * objects with string keys) is read from json-c's objects.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "jscan.h"
#include "tool.h"
#include "u64map.h"

/* ---- the tables --------------------------------------------------------------------- */

static void *grow(void *arr, size_t n, size_t *cap, size_t sz) {
  if (n < *cap) return arr;
  *cap = *cap ? *cap * 2 : 64;
  return lwt_xrealloc(arr, *cap * sz);
}

static char *xstrndup(const char *p, size_t n) {
  char *s = lwt_xmalloc(n + 1);
  memcpy(s, p, n);
  s[n] = 0;
  return s;
}

/* A hash of the n bytes at p, eight at a time, each word mixed whole. */
static uint64_t span_hash(const char *p, size_t n) {
  uint64_t h = n;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = lw_u64_mix(h ^ w);
  }
  uint64_t w = 0;
  memcpy(&w, p, n);
  return lw_u64_mix(h ^ w ^ 0x9e3779b97f4a7c15ull);
}

/* Finds the class whose id is the n bytes at id: true and its number in *num. */
static bool class_find(const lwt_cgraph_t *cg, const char *id, size_t n, size_t *num) {
  if (!cg->class_slots) return false;
  uint64_t h = span_hash(id, n), tag = h >> 32 << 32;
  for (size_t i = h & cg->class_mask;; i = (i + 1) & cg->class_mask) {
    uint64_t v = cg->class_slots[i];
    if (!v) return false;
    if ((v >> 32 << 32) != tag) continue;
    const char *c = cg->classes[(uint32_t)v - 1].id;
    if (strncmp(c, id, n) == 0 && c[n] == 0) {
      *num = (uint32_t)v - 1;
      return true;
    }
  }
}

static void class_slot_put(lwt_cgraph_t *cg, size_t num) {
  const char *id = cg->classes[num].id;
  uint64_t h = span_hash(id, strlen(id));
  size_t i = h & cg->class_mask;
  while (cg->class_slots[i]) i = (i + 1) & cg->class_mask;
  cg->class_slots[i] = (h >> 32 << 32) | ((uint64_t)num + 1);
}

/* Indexes class number num (its id not yet indexed); the table grows at half full. */
static void class_insert(lwt_cgraph_t *cg, size_t num) {
  if (!cg->class_slots || (num + 1) * 2 > cg->class_mask) {
    size_t cap = cg->class_slots ? (cg->class_mask + 1) * 2 : 1024;
    free(cg->class_slots);
    cg->class_slots = lwt_xmalloc(cap * sizeof *cg->class_slots);
    memset(cg->class_slots, 0, cap * sizeof *cg->class_slots);
    cg->class_mask = cap - 1;
    for (size_t i = 0; i < num; i++) class_slot_put(cg, i);
  }
  class_slot_put(cg, num);
}

/* The number of stack id, adding it with a copy of frames (JSON text) if new. */
static long stack_number(lwt_cgraph_t *cg, const char *id, const char *frames, size_t nframes) {
  size_t v;
  if (lwt_map_get(&cg->stack_index, id, &v)) return (long)v;
  cg->stacks = grow(cg->stacks, cg->nstacks, &cg->cap_stacks, sizeof *cg->stacks);
  cg->stacks[cg->nstacks] = (lwt_stack_t){lwt_xstrdup(id), xstrndup(frames, nframes)};
  lwt_map_put(&cg->stack_index, id, cg->nstacks);
  return (long)cg->nstacks++;
}

/* The number of the origin (doc, pid, program), the last one if it is the same. */
static uint32_t origin_number(lwt_cgraph_t *cg, size_t doc, long long pid, const char *program) {
  if (cg->norigins) {
    const lwt_origin_t *o = &cg->origins[cg->norigins - 1];
    if (o->doc == doc && o->pid == pid &&
        (o->program ? program && strcmp(o->program, program) == 0 : !program))
      return (uint32_t)(cg->norigins - 1);
  }
  cg->origins = grow(cg->origins, cg->norigins, &cg->cap_origins, sizeof *cg->origins);
  cg->origins[cg->norigins] = (lwt_origin_t){doc, pid, program ? lwt_xstrdup(program) : NULL};
  return (uint32_t)cg->norigins++;
}

static void add_edge(lwt_cgraph_t *cg, const lwt_cedge_t *e) {
  cg->edges = grow(cg->edges, cg->nedges, &cg->cap_edges, sizeof *cg->edges);
  cg->edges[cg->nedges++] = *e;
}

static void free_class(lwt_class_t *c) {
  free(c->id);
  free(c->how);
  free(c->type);
  free(c->name);
  free(c->module);
  free(c->offset);
}

/* Takes cg back to n classes, stacks, origins and edges (after a document that failed). */
static void truncate_to(lwt_cgraph_t *cg, const size_t n[4]) {
  for (size_t i = n[0]; i < cg->nclasses; i++) free_class(&cg->classes[i]);
  for (size_t i = n[1]; i < cg->nstacks; i++) free(cg->stacks[i].id), free(cg->stacks[i].frames);
  for (size_t i = n[2]; i < cg->norigins; i++) free(cg->origins[i].program);
  cg->nclasses = n[0];
  cg->nstacks = n[1];
  cg->norigins = n[2];
  cg->nedges = n[3];
  free(cg->class_slots);
  cg->class_slots = NULL;
  lwt_map_free(&cg->stack_index);
  cg->stack_index = (lwt_map_t)LWT_MAP_INIT;
  for (size_t i = 0; i < cg->nclasses; i++) class_insert(cg, i);
  for (size_t i = 0; i < cg->nstacks; i++) lwt_map_put(&cg->stack_index, cg->stacks[i].id, i);
}

void lwt_cgraph_free(lwt_cgraph_t *cg) {
  const size_t none[4] = {0, 0, 0, 0};
  truncate_to(cg, none);
  free(cg->class_slots);
  lwt_map_free(&cg->stack_index);
  free(cg->classes);
  free(cg->stacks);
  free(cg->origins);
  free(cg->edges);
  memset(cg, 0, sizeof *cg);
}

/* ---- schema 3: class units -------------------------------------------------------- */

/* One unit being read. */
typedef struct unit_reader {
  lwt_cgraph_t *cg;
  lw_jscan_t s;
  const char *path;
  size_t unit;
  char where[96]; /* the row being read, for messages */
  size_t doc;
  long long pid;
  char *program; /* the unit's process (or the document's) */
  uint32_t *classes, *stacks; /* the unit's numbers -> cg's */
  size_t nclasses, nstacks, cap_classes, cap_stacks;
  uint32_t *origins; /* the unit's origins -> cg's */
  size_t norigins, cap_origins;
} unit_reader_t;

/* Prints what is wrong where; returns false. */
static bool bad(unit_reader_t *u, const char *what) {
  const char *why = u->s.err ? u->s.err : "";
  lwt_error("%s: class_units[%zu]%s: %s%s%s", u->path, u->unit, u->where, what, *why ? ": " : "",
            why);
  return false;
}

/* A string value (decoded, the caller frees) or NULL for null; false on anything else. */
static bool read_string(unit_reader_t *u, char **out) {
  const char *p;
  size_t n;
  *out = NULL;
  if (lw_jscan_null(&u->s)) return true;
  lw_jscan_ws(&u->s);
  const char *start = u->s.p;
  if (!lw_jscan_str(&u->s, &p, &n)) return false;
  if (!memchr(p, '\\', n)) {
    *out = xstrndup(p, n);
    return true;
  }
  /* escapes: let json-c decode the string */
  json_tokener *tok = json_tokener_new();
  json_object *o = tok ? json_tokener_parse_ex(tok, start, (int)(u->s.p - start)) : NULL;
  if (o && json_object_is_type(o, json_type_string)) *out = lwt_xstrdup(json_object_get_string(o));
  if (o) json_object_put(o);
  if (tok) json_tokener_free(tok);
  if (!*out) return lw_jscan_fail(&u->s, "a string json-c cannot decode");
  return true;
}

static bool comma(unit_reader_t *u) {
  return lw_jscan_take(&u->s, ',') || lw_jscan_fail(&u->s, "expected ','");
}

/* A row's integer field within lo..hi. */
static bool read_index(unit_reader_t *u, int64_t lo, int64_t hi, int64_t *v) {
  if (!lw_jscan_int(&u->s, v)) return false;
  if (*v < lo || *v > hi) return lw_jscan_fail(&u->s, "a number out of range");
  return true;
}

/*
 * Calls row for each element of the array at u->s (a member's value); the
 * element index goes into u->where with name. false when an element or the
 * array is malformed.
 */
static bool each(unit_reader_t *u, const char *name, bool (*row)(unit_reader_t *u)) {
  if (!lw_jscan_take(&u->s, '[')) {
    snprintf(u->where, sizeof u->where, ".%s", name);
    return bad(u, "expected an array");
  }
  if (lw_jscan_take(&u->s, ']')) return true;
  for (size_t i = 0;; i++) {
    snprintf(u->where, sizeof u->where, ".%s[%zu]", name, i);
    if (!row(u)) return false;
    if (lw_jscan_take(&u->s, ']')) return true;
    if (!comma(u)) return bad(u, "malformed array");
  }
}

/* [id, how, type, name, module, offset, instances, created] */
static bool class_row(unit_reader_t *u) {
  lwt_cgraph_t *cg = u->cg;
  const char *idp;
  size_t idn;
  char id[80];
  if (!lw_jscan_take(&u->s, '[') || !lw_jscan_str(&u->s, &idp, &idn) || idn == 0 ||
      idn >= sizeof id || memchr(idp, '\\', idn))
    return bad(u, "expected [id, how, type, name, module, offset, instances, created] with a "
                  "class id (C and 16 hex digits)");
  u->classes = grow(u->classes, u->nclasses, &u->cap_classes, sizeof *u->classes);
  size_t num;
  int64_t instances, created;
  if (class_find(cg, idp, idn, &num)) {
    /* known: the rest of the row is only checked */
    for (int f = 0; f < 5; f++)
      if (!comma(u) || !lw_jscan_value(&u->s)) return bad(u, "expected [id, how, type, name, "
                                                               "module, offset, instances, created]");
    if (!comma(u) || !read_index(u, 0, INT64_MAX / 4, &instances) || !comma(u) ||
        !read_index(u, -1, (int64_t)u->nstacks - 1, &created) || !lw_jscan_take(&u->s, ']'))
      return bad(u, "expected [id, how, type, name, module, offset, instances, created]");
    u->classes[u->nclasses++] = (uint32_t)num;
    return true;
  }
  memcpy(id, idp, idn);
  id[idn] = 0;
  lwt_class_t c = {.created = -1};
  bool ok = comma(u) && read_string(u, &c.how) && comma(u) && read_string(u, &c.type) &&
            comma(u) && read_string(u, &c.name) && comma(u) && read_string(u, &c.module) &&
            comma(u) && read_string(u, &c.offset) && comma(u) &&
            read_index(u, 0, INT64_MAX / 4, &instances) && comma(u) &&
            read_index(u, -1, (int64_t)u->nstacks - 1, &created) && lw_jscan_take(&u->s, ']');
  if (!ok) {
    free_class(&c);
    return bad(u, "expected [id, how, type, name, module, offset, instances, created]");
  }
  c.id = lwt_xstrdup(id);
  c.instances = instances;
  c.created = created >= 0 ? (long)u->stacks[created] : -1;
  cg->classes = grow(cg->classes, cg->nclasses, &cg->cap_classes, sizeof *cg->classes);
  cg->classes[cg->nclasses] = c;
  class_insert(cg, cg->nclasses);
  num = cg->nclasses++;
  u->classes[u->nclasses++] = (uint32_t)num;
  return true;
}

/* {"id": "S...", "frames": [...]} */
static bool stack_row(unit_reader_t *u) {
  const char *idp = NULL, *frames = NULL;
  size_t idn = 0, nframes = 0;
  if (!lw_jscan_take(&u->s, '{')) return bad(u, "expected {\"id\": ..., \"frames\": [...]}");
  if (!lw_jscan_take(&u->s, '}')) {
    for (;;) {
      const char *k;
      size_t kn;
      if (!lw_jscan_str(&u->s, &k, &kn) || !lw_jscan_take(&u->s, ':'))
        return bad(u, "malformed stack");
      if (kn == 2 && memcmp(k, "id", 2) == 0) {
        if (!lw_jscan_str(&u->s, &idp, &idn)) return bad(u, "id: expected a string");
      } else {
        lw_jscan_ws(&u->s);
        const char *v = u->s.p;
        if (!lw_jscan_value(&u->s)) return bad(u, "malformed stack");
        if (kn == 6 && memcmp(k, "frames", 6) == 0) frames = v, nframes = (size_t)(u->s.p - v);
      }
      if (lw_jscan_take(&u->s, '}')) break;
      if (!comma(u)) return bad(u, "malformed stack");
    }
  }
  char id[80];
  if (!idp || !idn || idn >= sizeof id || memchr(idp, '\\', idn) || !frames || *frames != '[')
    return bad(u, "a stack needs an \"id\" (S and 16 hex digits) and a \"frames\" array");
  memcpy(id, idp, idn);
  id[idn] = 0;
  u->stacks = grow(u->stacks, u->nstacks, &u->cap_stacks, sizeof *u->stacks);
  u->stacks[u->nstacks++] = (uint32_t)stack_number(u->cg, id, frames, nframes);
  return true;
}

/* [pid, program] */
static bool origin_row(unit_reader_t *u) {
  int64_t pid;
  char *program = NULL;
  if (!lw_jscan_take(&u->s, '[') || !lw_jscan_int(&u->s, &pid) || !comma(u) ||
      !read_string(u, &program) || !lw_jscan_take(&u->s, ']')) {
    free(program);
    return bad(u, "expected [pid, program]");
  }
  u->origins = grow(u->origins, u->norigins, &u->cap_origins, sizeof *u->origins);
  u->origins[u->norigins++] = origin_number(u->cg, u->doc, pid, program);
  free(program);
  return true;
}

/* [from, to, modes, thread, acquired, held] or, in a merged document, [..., origin] */
static bool edge_row(unit_reader_t *u) {
  int64_t f, t, pair, thread, acq, held, origin = -1;
  int64_t nc = (int64_t)u->nclasses - 1, ns = (int64_t)u->nstacks - 1;
  if (!lw_jscan_take(&u->s, '[') || !read_index(u, 0, nc, &f) || !comma(u) ||
      !read_index(u, 0, nc, &t) || !comma(u) || !read_index(u, 0, 3, &pair) || !comma(u) ||
      !read_index(u, 0, UINT32_MAX, &thread) || !comma(u) || !read_index(u, -1, ns, &acq) ||
      !comma(u) || !read_index(u, -1, ns, &held))
    goto fail;
  if (lw_jscan_take(&u->s, ',') && !read_index(u, 0, (int64_t)u->norigins - 1, &origin)) goto fail;
  if (!lw_jscan_take(&u->s, ']')) goto fail;
  lwt_cedge_t e = {u->classes[f], u->classes[t], (uint32_t)thread,
                   acq >= 0 ? (int32_t)u->stacks[acq] : -1, held >= 0 ? (int32_t)u->stacks[held] : -1,
                   0, (uint8_t)pair};
  e.origin = origin >= 0 ? u->origins[origin] : origin_number(u->cg, u->doc, u->pid, u->program);
  add_edge(u->cg, &e);
  return true;
fail:
  return bad(u, "expected [from, to, modes, thread, acquired, held] (class and stack indices of "
                "the unit, modes 0-3, thread number; stack -1 for none)");
}

/* Reads one unit (an object) at u->s. */
static bool read_unit(unit_reader_t *u, long long doc_pid, const char *doc_program) {
  /* first the members' places: the tables must be read before the edges that index them */
  static const char *const names[] = {"pid", "program", "stacks", "classes", "origins", "edges"};
  enum { NNAMES = 6 };
  const char *at[NNAMES] = {0};
  u->where[0] = 0;
  if (!lw_jscan_take(&u->s, '{')) return bad(u, "expected an object");
  if (!lw_jscan_take(&u->s, '}')) {
    for (;;) {
      const char *k;
      size_t kn;
      if (!lw_jscan_str(&u->s, &k, &kn) || !lw_jscan_take(&u->s, ':')) return bad(u, "malformed");
      lw_jscan_ws(&u->s);
      for (int i = 0; i < NNAMES; i++)
        if (strlen(names[i]) == kn && memcmp(names[i], k, kn) == 0) at[i] = u->s.p;
      if (!lw_jscan_value(&u->s)) return bad(u, "malformed");
      if (lw_jscan_take(&u->s, '}')) break;
      if (!comma(u)) return bad(u, "malformed");
    }
  }
  const char *end = u->s.p;
  u->pid = doc_pid;
  u->program = doc_program ? lwt_xstrdup(doc_program) : NULL;
  int64_t pid;
  if (at[0]) {
    u->s.p = at[0];
    if (!lw_jscan_int(&u->s, &pid)) return bad(u, "pid: expected an integer");
    u->pid = pid;
  }
  if (at[1]) {
    u->s.p = at[1];
    free(u->program);
    if (!read_string(u, &u->program)) return bad(u, "program: expected a string or null");
  }
  bool (*rows[])(unit_reader_t *) = {NULL, NULL, stack_row, class_row, origin_row, edge_row};
  for (int i = 2; i < NNAMES; i++) {
    if (!at[i]) continue;
    u->s.p = at[i];
    if (!each(u, names[i], rows[i])) return false;
  }
  u->s.p = end;
  return true;
}

int lwt_cgraph_add_units(lwt_cgraph_t *cg, size_t doc, const char *path, const char *text,
                         size_t n, long long pid, const char *program) {
  const size_t before[4] = {cg->nclasses, cg->nstacks, cg->norigins, cg->nedges};
  unit_reader_t u = {.cg = cg, .s = lw_jscan_over(text, n), .path = path, .doc = doc};
  bool ok = lw_jscan_take(&u.s, '[');
  if (!ok) bad(&u, "class_units: expected an array");
  if (ok && !lw_jscan_take(&u.s, ']')) {
    for (;; u.unit++) {
      u.nclasses = u.nstacks = u.norigins = 0;
      free(u.program);
      u.program = NULL;
      if (!(ok = read_unit(&u, pid, program))) break;
      if (lw_jscan_take(&u.s, ']')) break;
      if (!(ok = comma(&u))) {
        u.where[0] = 0;
        bad(&u, "malformed array of units");
        break;
      }
    }
  }
  free(u.program);
  free(u.classes);
  free(u.stacks);
  free(u.origins);
  if (!ok) truncate_to(cg, before);
  return ok ? 0 : -1;
}

/* ---- schema 2 ----------------------------------------------------------------------- */

static char *dup_or_null(const char *s) { return s ? lwt_xstrdup(s) : NULL; }

/* FNV-1a of s. */
static uint64_t text_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static unsigned mode_of(const char *s) { return s && strcmp(s, "read") == 0; }

void lwt_cgraph_add_v2(lwt_cgraph_t *cg, size_t doc, json_object *root) {
  json_object *classes = lwt_get(root, "classes", json_type_array);
  json_object *stacks = lwt_get(root, "stacks", json_type_array);
  json_object *graph = lwt_get(root, "class_graph", json_type_array);
  lwt_map_t mine = LWT_MAP_INIT; /* the classes this document describes */
  for (size_t k = 0; k < lwt_len(stacks); k++) {
    const char *id = lwt_get_str(lwt_at(stacks, k), "id");
    json_object *frames = lwt_get(lwt_at(stacks, k), "frames", json_type_array);
    if (!id || !frames) continue;
    const char *text = json_object_to_json_string_ext(frames, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
    (void)stack_number(cg, id, text, strlen(text));
  }
  for (size_t k = 0; k < lwt_len(classes); k++) {
    json_object *o = lwt_at(classes, k);
    const char *id = lwt_get_str(o, "id");
    size_t num;
    if (!id) continue;
    if (!lwt_map_get(&mine, id, &num)) lwt_map_put(&mine, id, 0);
    if (class_find(cg, id, strlen(id), &num)) continue;
    lwt_class_t c = {lwt_xstrdup(id), dup_or_null(lwt_get_str(o, "how")),
                     dup_or_null(lwt_get_str(o, "type")), dup_or_null(lwt_get_str(o, "name")),
                     dup_or_null(lwt_get_str(o, "module")), dup_or_null(lwt_get_str(o, "offset")),
                     lwt_get_int(o, "instances", 0), -1};
    json_object *created = lwt_get(o, "created", json_type_array);
    if (lwt_len(created)) {
      /* schema 2 kept these frames in the class: a stack named by a hash of their text */
      const char *text = json_object_to_json_string_ext(
          created, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
      char sid[24];
      snprintf(sid, sizeof sid, "S%016llx", (unsigned long long)text_hash(text));
      c.created = stack_number(cg, sid, text, strlen(text));
    }
    cg->classes = grow(cg->classes, cg->nclasses, &cg->cap_classes, sizeof *cg->classes);
    cg->classes[cg->nclasses] = c;
    class_insert(cg, cg->nclasses++);
  }
  long long doc_pid = lwt_get_int(root, "pid", 0);
  const char *doc_program = lwt_get_str(root, "program");
  for (size_t k = 0; k < lwt_len(graph); k++) {
    json_object *e = lwt_at(graph, k);
    const char *from = lwt_get_str(e, "from"), *to = lwt_get_str(e, "to");
    size_t f, t, dummy, v;
    if (!from || !to || !lwt_map_get(&mine, from, &dummy) || !lwt_map_get(&mine, to, &dummy))
      continue;
    (void)class_find(cg, from, strlen(from), &f);
    (void)class_find(cg, to, strlen(to), &t);
    const char *thread = lwt_get_str(e, "thread");
    const char *acq = lwt_get_str(e, "acquired"), *held = lwt_get_str(e, "held");
    const char *program = lwt_get_str(e, "program");
    lwt_cedge_t ce = {(uint32_t)f, (uint32_t)t,
                      thread && thread[0] == 'T' ? (uint32_t)strtoul(thread + 1, NULL, 10) : 0,
                      acq && lwt_map_get(&cg->stack_index, acq, &v) ? (int32_t)v : -1,
                      held && lwt_map_get(&cg->stack_index, held, &v) ? (int32_t)v : -1,
                      origin_number(cg, doc, lwt_get_int(e, "pid", doc_pid),
                                    program ? program : doc_program),
                      (uint8_t)LW_PAIR(mode_of(lwt_get_str(e, "from_mode")),
                                       mode_of(lwt_get_str(e, "to_mode")))};
    add_edge(cg, &ce);
  }
  lwt_map_free(&mine);
}

/* ---- writing ------------------------------------------------------------------------ */

void lwt_json_quote(lwt_str_t *out, const char *s) {
  static const char hex[] = "0123456789abcdef";
  if (!s) {
    lwt_str_puts(out, "null");
    return;
  }
  lwt_str_add(out, "\"", 1);
  const char *run = s;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    lwt_str_add(out, run, (size_t)(s - run));
    run = s + 1;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      lwt_str_add(out, e, 2);
    } else {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      lwt_str_add(out, e, 6);
    }
  }
  lwt_str_add(out, run, (size_t)(s - run));
  lwt_str_add(out, "\"", 1);
}
