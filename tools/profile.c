/*
 * profile.c - the profile sections of lockwatch documents (docs/profile.md,
 * docs/report-format.md "Profile"): merging those of several documents,
 * and the table lockwatch report --profile prints, made by the same
 * formatter as the runtime's (lib/profile_text.c) so the two are alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "tool.h"

/* ---- frames ------------------------------------------------------------------------ */

/* Code of the system, not of the program (the runtime's rule, lib/symbolize.c). */
static bool system_frame(const lwt_frame_t *f) {
  if (f->file)
    return strncmp(f->file, "/usr/include/", 13) == 0 || strncmp(f->file, "../sysdeps/", 11) == 0 ||
           strncmp(f->file, "./nptl/", 7) == 0 || strstr(f->file, "/libsanitizer/") != NULL;
  return !f->module || strncmp(f->module, "/lib", 4) == 0 || strncmp(f->module, "/usr/lib", 8) == 0;
}

/*
 * Writes into buf where a stack (JSON frames) is, as the runtime's table
 * names it: its innermost frame in the program's own code, else its
 * innermost frame. Returns NULL if frames is empty or not an array.
 */
static const char *stack_where(json_object *frames, char *buf, size_t len) {
  lwt_frame_t f, pick;
  bool have = false;
  for (size_t i = 0; i < lwt_len(frames); i++) {
    if (!lwt_frame_get(lwt_at(frames, i), &f)) continue;
    if (!have) pick = f, have = true;
    if (!system_frame(&f)) {
      pick = f;
      break;
    }
  }
  if (!have) return NULL;
  uintptr_t offset = pick.offset ? (uintptr_t)strtoull(pick.offset, NULL, 16) : 0;
  return lw_prof_where(buf, len, pick.function, pick.file, (int)pick.line, pick.module, offset);
}

static uint64_t get_u64(json_object *o, const char *key) {
  long long v = lwt_get_int(o, key, 0);
  return v > 0 ? (uint64_t)v : 0;
}

/* ---- merging ----------------------------------------------------------------------- */

/* What makes two locks of two documents the same lock: program, type, then name or creation site. */
static char *lock_key(json_object *lock, const char *program) {
  char where[512];
  const char *name = lwt_get_str(lock, "name");
  const char *site = name ? NULL : stack_where(lwt_get(lock, "created", json_type_array), where,
                                                sizeof where);
  return lwt_xasprintf("%s|%s|%s%s", program ? lwt_basename(program) : "",
                       lwt_get_str(lock, "type") ? lwt_get_str(lock, "type") : "",
                       name ? "name:" : "created:", name ? name : site ? site : "");
}

static void set_u64(json_object *o, const char *key, uint64_t v) {
  json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static void add_u64(json_object *into, json_object *from, const char *key) {
  set_u64(into, key, get_u64(into, key) + get_u64(from, key));
}

static void max_u64(json_object *into, json_object *from, const char *key) {
  uint64_t a = get_u64(into, key), b = get_u64(from, key);
  set_u64(into, key, a > b ? a : b);
}

static int site_order(const void *x, const void *y) {
  uint64_t a = get_u64(*(json_object *const *)x, "ns"), b = get_u64(*(json_object *const *)y, "ns");
  return a > b ? -1 : a < b;
}

/*
 * The sites of two locks together: equal places (as the table names them)
 * add up; the LW_PROF_SITES with most time are kept, the rest join "other".
 */
static json_object *merge_sites(json_object *a, json_object *b) {
  json_object **all = NULL;
  char **keys = NULL;
  size_t n = 0;
  json_object *other = NULL;
  json_object *lists[2] = {a, b};
  for (int l = 0; l < 2; l++) {
    for (size_t i = 0; i < lwt_len(lists[l]); i++) {
      json_object *s = lwt_at(lists[l], i);
      char buf[512];
      json_object *stack = lwt_get(s, "stack", json_type_array);
      const char *w = stack ? stack_where(stack, buf, sizeof buf) : NULL;
      json_object *into = NULL;
      if (!stack) {
        if (!other) {
          other = json_object_new_object();
          json_object_object_add(other, "stack", NULL);
        }
        into = other;
      } else {
        for (size_t k = 0; k < n && !into; k++)
          if (w && keys[k] && strcmp(keys[k], w) == 0) into = all[k];
        if (!into) {
          all = lwt_xrealloc(all, (n + 1) * sizeof *all);
          keys = lwt_xrealloc(keys, (n + 1) * sizeof *keys);
          into = all[n] = json_object_new_object();
          keys[n++] = w ? lwt_xstrdup(w) : NULL;
          json_object_object_add(into, "stack", json_object_get(stack));
        }
      }
      add_u64(into, s, "count");
      add_u64(into, s, "ns");
      max_u64(into, s, "max_ns");
    }
  }
  if (n > 1) qsort(all, n, sizeof *all, site_order); /* (all is NULL when n is 0) */
  json_object *out = json_object_new_array();
  for (size_t k = 0; k < n; k++) {
    if (k < LW_PROF_SITES) {
      json_object_array_add(out, all[k]);
      continue;
    }
    if (!other) {
      other = json_object_new_object();
      json_object_object_add(other, "stack", NULL);
    }
    add_u64(other, all[k], "count");
    add_u64(other, all[k], "ns");
    max_u64(other, all[k], "max_ns");
    json_object_put(all[k]);
  }
  if (other) json_object_array_add(out, other);
  for (size_t k = 0; k < n; k++) free(keys[k]);
  free(keys);
  free(all);
  return out;
}

static int lock_order(const void *x, const void *y) {
  json_object *a = *(json_object *const *)x, *b = *(json_object *const *)y;
  static const char *const keys[] = {"wait_ns", "hold_ns", "acquisitions"};
  for (size_t i = 0; i < 3; i++) {
    uint64_t p = get_u64(a, keys[i]), q = get_u64(b, keys[i]);
    if (p != q) return p > q ? -1 : 1;
  }
  return 0;
}

json_object *lwt_profile_merge(const lwt_docs_t *d) {
  json_object *out = NULL, *locks = NULL;
  json_object **merged = NULL;
  char **keys = NULL;
  size_t n = 0;
  for (size_t i = 0; i < d->ndocs; i++) {
    json_object *root = d->docs[i].root;
    json_object *prof = lwt_get(root, "profile", json_type_object);
    if (!prof) continue;
    if (!out) {
      out = json_object_new_object();
      json_object_object_add(out, "clock", json_object_new_string("CLOCK_MONOTONIC"));
      set_u64(out, "sample_every", get_u64(prof, "sample_every"));
    }
    static const char *const totals[] = {"lock_count", "acquisitions", "contended", "wait_ns",
                                         "locks_omitted"};
    for (size_t k = 0; k < sizeof totals / sizeof totals[0]; k++) add_u64(out, prof, totals[k]);
    long long doc_pid = lwt_get_int(root, "pid", 0);
    const char *program = lwt_get_str(root, "program");
    json_object *list = lwt_get(prof, "locks", json_type_array);
    for (size_t l = 0; l < lwt_len(list); l++) {
      json_object *lock = lwt_at(list, l);
      if (!json_object_is_type(lock, json_type_object)) continue;
      json_object *pids = lwt_get(lock, "pids", json_type_array);
      char *key = lock_key(lock, program);
      size_t at = n;
      for (size_t k = 0; k < n && at == n; k++)
        if (strcmp(keys[k], key) == 0) at = k;
      if (at == n) { /* a copy of the first of its kind, its members shared */
        merged = lwt_xrealloc(merged, (n + 1) * sizeof *merged);
        keys = lwt_xrealloc(keys, (n + 1) * sizeof *keys);
        json_object *m = json_object_new_object();
        json_object_object_foreach(lock, k2, v2) json_object_object_add(m, k2, json_object_get(v2));
        if (!pids) {
          json_object *p = json_object_new_array();
          json_object_array_add(p, json_object_new_int64(doc_pid));
          json_object_object_add(m, "pids", p);
        }
        merged[n] = m;
        keys[n++] = key;
        continue;
      }
      free(key);
      json_object *m = merged[at];
      static const char *const sums[] = {"locks", "acquisitions", "failed", "contended", "wait_ns",
                                         "hold_ns", "hold_samples", "hold_sampled_ns"};
      for (size_t k = 0; k < sizeof sums / sizeof sums[0]; k++) add_u64(m, lock, sums[k]);
      max_u64(m, lock, "wait_max_ns");
      max_u64(m, lock, "hold_max_ns");
      json_object *dl = lwt_get(lock, "destroyed", json_type_boolean);
      json_object *dm = lwt_get(m, "destroyed", json_type_boolean);
      json_object_object_add(m, "destroyed",
                             json_object_new_boolean(dl && dm && json_object_get_boolean(dl) &&
                                                     json_object_get_boolean(dm)));
      static const char *const site_keys[] = {"wait_sites", "hold_sites"};
      for (size_t k = 0; k < 2; k++)
        json_object_object_add(m, site_keys[k],
                               merge_sites(lwt_get(m, site_keys[k], json_type_array),
                                           lwt_get(lock, site_keys[k], json_type_array)));
      json_object *mp = lwt_get(m, "pids", json_type_array);
      json_object *add = json_object_new_array();
      for (size_t k = 0; k < lwt_len(mp); k++) json_object_array_add(add, json_object_get(lwt_at(mp, k)));
      if (pids) {
        for (size_t k = 0; k < lwt_len(pids); k++) {
          long long p = json_object_get_int64(lwt_at(pids, k));
          bool seen = false;
          for (size_t q = 0; q < lwt_len(add) && !seen; q++)
            seen = json_object_get_int64(lwt_at(add, q)) == p;
          if (!seen) json_object_array_add(add, json_object_new_int64(p));
        }
      } else {
        bool seen = false;
        for (size_t q = 0; q < lwt_len(add) && !seen; q++)
          seen = json_object_get_int64(lwt_at(add, q)) == doc_pid;
        if (!seen) json_object_array_add(add, json_object_new_int64(doc_pid));
      }
      json_object_object_add(m, "pids", add);
    }
  }
  if (!out) return NULL;
  if (n > 1) qsort(merged, n, sizeof *merged, lock_order);
  locks = json_object_new_array();
  for (size_t k = 0; k < n; k++) {
    json_object_array_add(locks, merged[k]);
    free(keys[k]);
  }
  free(keys);
  free(merged);
  json_object_object_add(out, "locks", locks);
  return out;
}

/* ---- the table --------------------------------------------------------------------- */

/* The strings of one row. */
struct row_text {
  char id[64], created[512], process[64];
  char sites[2 * (LW_PROF_SITES + 1)][512];
};

static uint32_t row_sites(lw_prof_trow_site_t *out, char (*text)[512], json_object *list) {
  uint32_t n = 0;
  for (size_t i = 0; i < lwt_len(list) && n < LW_PROF_SITES + 1; i++) {
    json_object *s = lwt_at(list, i);
    json_object *stack = lwt_get(s, "stack", json_type_array);
    const char *w = NULL;
    if (stack) {
      w = stack_where(stack, text[n], sizeof text[n]);
      if (!w) w = "an unknown place";
    }
    out[n++] = (lw_prof_trow_site_t){w, get_u64(s, "count"), get_u64(s, "ns"), get_u64(s, "max_ns")};
  }
  return n;
}

void lwt_profile_table(lwt_str_t *out, json_object *prof, const char *whose, long top) {
  json_object *list = lwt_get(prof, "locks", json_type_array);
  size_t n = lwt_len(list) < (size_t)top ? lwt_len(list) : (size_t)top;
  lw_prof_trow_t *rows = lwt_xmalloc((n ? n : 1) * sizeof *rows);
  struct row_text *text = lwt_xmalloc((n ? n : 1) * sizeof *text);
  memset(rows, 0, (n ? n : 1) * sizeof *rows);
  for (size_t i = 0; i < n; i++) {
    json_object *l = lwt_at(list, i);
    lw_prof_trow_t *r = &rows[i];
    struct row_text *x = &text[i];
    snprintf(x->id, sizeof x->id, "%s", lwt_get_str(l, "id") ? lwt_get_str(l, "id") : "?");
    r->id = x->id;
    r->name = lwt_get_str(l, "name");
    r->type = lwt_get_str(l, "type") ? lwt_get_str(l, "type") : "?";
    r->created = stack_where(lwt_get(l, "created", json_type_array), x->created, sizeof x->created);
    json_object *pids = lwt_get(l, "pids", json_type_array);
    if (pids && strncmp(whose, "pid ", 4) != 0) {
      if (lwt_len(pids) == 1)
        snprintf(x->process, sizeof x->process, "pid %lld",
                 (long long)json_object_get_int64(lwt_at(pids, 0)));
      else
        snprintf(x->process, sizeof x->process, "%zu processes", lwt_len(pids));
      r->process = x->process;
    }
    r->nlocks = get_u64(l, "locks");
    json_object *destroyed = lwt_get(l, "destroyed", json_type_boolean);
    r->destroyed = destroyed && json_object_get_boolean(destroyed);
    r->acquisitions = get_u64(l, "acquisitions");
    r->contended = get_u64(l, "contended");
    r->wait_ns = get_u64(l, "wait_ns");
    r->wait_max_ns = get_u64(l, "wait_max_ns");
    r->hold_ns = get_u64(l, "hold_ns");
    r->hold_max_ns = get_u64(l, "hold_max_ns");
    r->hold_samples = get_u64(l, "hold_samples");
    r->nwait_sites = row_sites(r->wait_sites, x->sites, lwt_get(l, "wait_sites", json_type_array));
    r->nhold_sites = row_sites(r->hold_sites, x->sites + LW_PROF_SITES + 1,
                               lwt_get(l, "hold_sites", json_type_array));
  }
  lw_prof_table_t t = {whose, get_u64(prof, "lock_count"), get_u64(prof, "acquisitions"),
                       get_u64(prof, "contended"), get_u64(prof, "wait_ns"),
                       (uint32_t)get_u64(prof, "sample_every"), rows, (uint32_t)n};
  lw_buf_t b = LW_BUF_INIT;
  lw_prof_format_table(&b, &t);
  lwt_str_add(out, lw_buf_str(&b), b.n);
  lw_buf_free(&b);
  free(rows);
  free(text);
}
