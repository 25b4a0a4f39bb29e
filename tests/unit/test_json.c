/*
 * test_json.c - the streaming JSON writer (lib/json.c) and the report
 * writers built on it (lib/report_json.c, lib/report_text.c).
 *
 * Covers: exact output of nested objects and arrays (commas, indentation,
 * empty containers, top-level values); string escaping of quotes,
 * backslashes and control characters; valid multi-byte UTF-8 kept as is;
 * invalid UTF-8 (stray continuation bytes, impossible lead bytes, overlong
 * forms, surrogates, code points above U+10FFFF, truncated sequences)
 * replaced by U+FFFD so that the output is always valid UTF-8; numbers at
 * their limits, hex strings, booleans, null strings. Then a hand-built
 * report (lw_report_new) formatted by lw_report_format_json and parsed by
 * json-c, field by field against docs/report-format.md, and the text form
 * of the same report.
 */
#include <check.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "depot.h"
#include "alloc.h"
#include "json.h"
#include "report.h"
#include "types.h"

/* ---- helpers --------------------------------------------------------------- */

/* A strict UTF-8 validator (RFC 3629), independent of the writer's. */
static bool valid_utf8(const unsigned char *s) {
  while (*s) {
    unsigned c = *s;
    int len;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
      s++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (s[1] < lo || s[1] > hi) return false;
    for (int i = 2; i < len; i++)
      if ((s[i] & 0xc0) != 0x80) return false;
    s += len;
  }
  return true;
}

/* Writes one string value at top level and returns the buffer's text (caller frees). */
static char *string_json(const char *s) {
  lw_buf_t b = LW_BUF_INIT;
  lw_json_t j;
  lw_json_start(&j, &b);
  lw_json_string(&j, s);
  ck_assert(!b.oom);
  char *out = strdup(lw_buf_str(&b));
  lw_buf_free(&b);
  return out;
}

static void expect_string(const char *in, const char *expected) {
  char *got = string_json(in);
  ck_assert_str_eq(got, expected);
  ck_assert(valid_utf8((const unsigned char *)got));
  free(got);
}

/* ---- structure ----------------------------------------------------------------- */

START_TEST(test_nested_structure) {
  lw_buf_t b = LW_BUF_INIT;
  lw_json_t j;
  lw_json_start(&j, &b);
  lw_json_object_begin(&j);
  lw_json_key(&j, "a");
  lw_json_int(&j, 1);
  lw_json_key(&j, "b");
  lw_json_array_begin(&j);
  lw_json_int(&j, 1);
  lw_json_uint(&j, 2);
  lw_json_object_begin(&j);
  lw_json_key(&j, "c");
  lw_json_bool(&j, true);
  lw_json_key(&j, "d");
  lw_json_null(&j);
  lw_json_object_end(&j);
  lw_json_array_end(&j);
  lw_json_key(&j, "e");
  lw_json_string(&j, "x");
  lw_json_object_end(&j);
  ck_assert_str_eq(lw_buf_str(&b),
                   "{\n"
                   "  \"a\": 1,\n"
                   "  \"b\": [\n"
                   "    1,\n"
                   "    2,\n"
                   "    {\n"
                   "      \"c\": true,\n"
                   "      \"d\": null\n"
                   "    }\n"
                   "  ],\n"
                   "  \"e\": \"x\"\n"
                   "}\n");
  json_object *o = json_tokener_parse(lw_buf_str(&b));
  ck_assert_ptr_nonnull(o);
  json_object_put(o);
  lw_buf_free(&b);
}
END_TEST

START_TEST(test_empty_containers) {
  lw_buf_t b = LW_BUF_INIT;
  lw_json_t j;
  lw_json_start(&j, &b);
  lw_json_object_begin(&j);
  lw_json_object_end(&j);
  ck_assert_str_eq(lw_buf_str(&b), "{}\n");
  lw_buf_free(&b);

  lw_json_start(&j, &b);
  lw_json_object_begin(&j);
  lw_json_key(&j, "list");
  lw_json_array_begin(&j);
  lw_json_array_end(&j);
  lw_json_key(&j, "obj");
  lw_json_object_begin(&j);
  lw_json_object_end(&j);
  lw_json_key(&j, "nested");
  lw_json_array_begin(&j);
  lw_json_array_begin(&j);
  lw_json_array_end(&j);
  lw_json_array_begin(&j);
  lw_json_array_end(&j);
  lw_json_array_end(&j);
  lw_json_object_end(&j);
  ck_assert_str_eq(lw_buf_str(&b),
                   "{\n"
                   "  \"list\": [],\n"
                   "  \"obj\": {},\n"
                   "  \"nested\": [\n"
                   "    [],\n"
                   "    []\n"
                   "  ]\n"
                   "}\n");
  lw_buf_free(&b);

  lw_json_start(&j, &b);
  lw_json_array_begin(&j);
  lw_json_array_end(&j);
  ck_assert_str_eq(lw_buf_str(&b), "[]\n");
  lw_buf_free(&b);
}
END_TEST

START_TEST(test_array_of_objects) {
  lw_buf_t b = LW_BUF_INIT;
  lw_json_t j;
  lw_json_start(&j, &b);
  lw_json_array_begin(&j);
  for (int i = 0; i < 3; i++) {
    lw_json_object_begin(&j);
    lw_json_key(&j, "i");
    lw_json_int(&j, i);
    lw_json_object_end(&j);
  }
  lw_json_array_end(&j);
  ck_assert_str_eq(lw_buf_str(&b),
                   "[\n"
                   "  {\n"
                   "    \"i\": 0\n"
                   "  },\n"
                   "  {\n"
                   "    \"i\": 1\n"
                   "  },\n"
                   "  {\n"
                   "    \"i\": 2\n"
                   "  }\n"
                   "]\n");
  lw_buf_free(&b);
}
END_TEST

START_TEST(test_deep_nesting_parses) {
  /* as deep as the writer allows, and parseable */
  lw_buf_t b = LW_BUF_INIT;
  lw_json_t j;
  lw_json_start(&j, &b);
  int depth = LW_JSON_MAX_DEPTH - 1;
  for (int i = 0; i < depth; i++) {
    lw_json_object_begin(&j);
    lw_json_key(&j, "k");
  }
  lw_json_int(&j, 42);
  for (int i = 0; i < depth; i++) lw_json_object_end(&j);
  json_object *o = json_tokener_parse(lw_buf_str(&b));
  ck_assert_msg(o != NULL, "not JSON: %s", lw_buf_str(&b));
  json_object *v = o;
  for (int i = 0; i < depth; i++) ck_assert(json_object_object_get_ex(v, "k", &v));
  ck_assert_int_eq(json_object_get_int(v), 42);
  json_object_put(o);
  lw_buf_free(&b);
}
END_TEST

/* ---- scalars --------------------------------------------------------------------- */

START_TEST(test_numbers_and_hex) {
  lw_buf_t b = LW_BUF_INIT;
  lw_json_t j;
  lw_json_start(&j, &b);
  lw_json_array_begin(&j);
  lw_json_int(&j, INT64_MIN);
  lw_json_int(&j, -1);
  lw_json_int(&j, 0);
  lw_json_uint(&j, UINT64_MAX);
  lw_json_hex(&j, 0);
  lw_json_hex(&j, 0xdeadbeefULL);
  lw_json_hex(&j, UINT64_MAX);
  lw_json_bool(&j, false);
  lw_json_string(&j, NULL);
  lw_json_array_end(&j);
  ck_assert_str_eq(lw_buf_str(&b),
                   "[\n"
                   "  -9223372036854775808,\n"
                   "  -1,\n"
                   "  0,\n"
                   "  18446744073709551615,\n"
                   "  \"0x0\",\n"
                   "  \"0xdeadbeef\",\n"
                   "  \"0xffffffffffffffff\",\n"
                   "  false,\n"
                   "  null\n"
                   "]\n");
  lw_buf_free(&b);
}
END_TEST

START_TEST(test_null_string_member) {
  lw_buf_t b = LW_BUF_INIT;
  lw_json_t j;
  lw_json_start(&j, &b);
  lw_json_object_begin(&j);
  lw_json_key(&j, "name");
  lw_json_string(&j, NULL);
  lw_json_key(&j, "next");
  lw_json_string(&j, "");
  lw_json_object_end(&j);
  ck_assert_str_eq(lw_buf_str(&b), "{\n  \"name\": null,\n  \"next\": \"\"\n}\n");
  lw_buf_free(&b);
}
END_TEST

/* ---- strings ---------------------------------------------------------------------- */

START_TEST(test_escapes) {
  expect_string("plain", "\"plain\"");
  expect_string("", "\"\"");
  expect_string("a\"b", "\"a\\\"b\"");
  expect_string("back\\slash", "\"back\\\\slash\"");
  expect_string("\\\"", "\"\\\\\\\"\"");
  expect_string("line\nnext", "\"line\\nnext\"");
  expect_string("tab\there", "\"tab\\there\"");
  expect_string("cr\r", "\"cr\\r\"");
  expect_string("\x01", "\"\\u0001\"");
  expect_string("\x1f\x08\x0c", "\"\\u001f\\u0008\\u000c\"");
  expect_string("del\x7f", "\"del\x7f\""); /* DEL needs no escape */
  expect_string("/", "\"/\"");
}
END_TEST

START_TEST(test_keys_are_escaped) {
  lw_buf_t b = LW_BUF_INIT;
  lw_json_t j;
  lw_json_start(&j, &b);
  lw_json_object_begin(&j);
  lw_json_key(&j, "we\"ird\n");
  lw_json_int(&j, 1);
  lw_json_object_end(&j);
  ck_assert_str_eq(lw_buf_str(&b), "{\n  \"we\\\"ird\\n\": 1\n}\n");
  json_object *o = json_tokener_parse(lw_buf_str(&b)), *v;
  ck_assert_ptr_nonnull(o);
  ck_assert(json_object_object_get_ex(o, "we\"ird\n", &v));
  json_object_put(o);
  lw_buf_free(&b);
}
END_TEST

START_TEST(test_valid_utf8_kept) {
  expect_string("caf\xc3\xa9", "\"caf\xc3\xa9\"");                         /* U+00E9 */
  expect_string("\xc2\x80", "\"\xc2\x80\"");                               /* U+0080 */
  expect_string("\xe2\x82\xac", "\"\xe2\x82\xac\"");                       /* U+20AC */
  expect_string("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");                       /* U+0800 */
  expect_string("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");                       /* U+D7FF */
  expect_string("\xee\x80\x80", "\"\xee\x80\x80\"");                       /* U+E000 */
  expect_string("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");                       /* U+FFFD */
  expect_string("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\"");               /* U+10000 */
  expect_string("\xf0\x9d\x84\x9e clef", "\"\xf0\x9d\x84\x9e clef\"");     /* U+1D11E */
  expect_string("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");               /* U+10FFFF */
  expect_string("\xe6\x97\xa5\xe6\x9c\xac", "\"\xe6\x97\xa5\xe6\x9c\xac\""); /* two CJK */
}
END_TEST

#define FFFD "\xef\xbf\xbd"

START_TEST(test_invalid_utf8_replaced) {
  /* bytes that can never appear in UTF-8 */
  expect_string("a\xff" "b", "\"a" FFFD "b\"");
  expect_string("\xfe", "\"" FFFD "\"");
  expect_string("\xc0\xaf", "\"" FFFD FFFD "\""); /* overlong '/' */
  expect_string("\xc1\xbf", "\"" FFFD FFFD "\"");
  /* stray continuation bytes */
  expect_string("\x80", "\"" FFFD "\"");
  expect_string("x\xbf\xbfy", "\"x" FFFD FFFD "y\"");
  /* lead bytes above U+10FFFF's (F5..FF), even when continuation bytes follow */
  expect_string("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
  expect_string("\xf8\x88\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD FFFD "\"");
  expect_string("\xff\x80\x80", "\"" FFFD FFFD FFFD "\"");
  /* overlong three- and four-byte forms */
  expect_string("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
  expect_string("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
  /* UTF-16 surrogates encoded in UTF-8 */
  expect_string("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
  expect_string("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\"");
  /* beyond U+10FFFF */
  expect_string("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
}
END_TEST

START_TEST(test_truncated_utf8_replaced) {
  /* sequences cut short: replaced (how many U+FFFD is not specified), text around kept */
  static const char *const cases[] = {"\xe2\x82", "\xe2\x82x", "a\xf0\x9f\x98", "\xf0\x9f\x98z",
                                      "\xc3", "\xc3 ok", "\xe2x\x82\xac"};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *got = string_json(cases[i]);
    ck_assert_msg(valid_utf8((const unsigned char *)got), "case %zu: invalid UTF-8 out", i);
    ck_assert_msg(strstr(got, FFFD) != NULL, "case %zu: no U+FFFD in %s", i, got);
    /* every ASCII byte of the input is still there, in order */
    const char *p = got;
    for (const char *c = cases[i]; *c; c++) {
      if ((unsigned char)*c >= 0x80) continue;
      p = strchr(p, *c);
      ck_assert_msg(p != NULL, "case %zu: lost '%c'", i, *c);
      p++;
    }
    json_object *o = json_tokener_parse(got);
    ck_assert_msg(o != NULL, "case %zu: json-c rejects %s", i, got);
    json_object_put(o);
    free(got);
  }
}
END_TEST

START_TEST(test_every_byte_gives_valid_json) {
  /* any byte string comes out as valid UTF-8 JSON */
  char in[4];
  for (unsigned a = 1; a < 256; a++) {
    for (unsigned c = 0x80; c < 0xc0; c += 0x3f) {
      in[0] = (char)a;
      in[1] = (char)c;
      in[2] = (char)0x80;
      in[3] = 0;
      char *got = string_json(in);
      ck_assert_msg(valid_utf8((const unsigned char *)got), "bytes %02x %02x 80", a, c);
      json_object *o = json_tokener_parse(got);
      ck_assert_msg(o != NULL, "bytes %02x %02x 80: %s", a, c, got);
      json_object_put(o);
      free(got);
    }
  }
}
END_TEST

/* ---- reports ---------------------------------------------------------------------- */

/* A data object whose address the report names (lw_symbolize_data may find it). */
char lw_test_accounts[128];

static json_object *member(json_object *o, const char *key) {
  json_object *v = NULL;
  ck_assert_msg(json_object_object_get_ex(o, key, &v), "no member '%s'", key);
  return v;
}

static const char *str_member(json_object *o, const char *key) {
  json_object *v = member(o, key);
  ck_assert_msg(json_object_is_type(v, json_type_string), "'%s' is not a string", key);
  return json_object_get_string(v);
}

static int64_t int_member(json_object *o, const char *key) {
  json_object *v = member(o, key);
  ck_assert_msg(json_object_is_type(v, json_type_int), "'%s' is not an integer", key);
  return json_object_get_int64(v);
}

static json_object *array_member(json_object *o, const char *key, size_t len) {
  json_object *v = member(o, key);
  ck_assert_msg(json_object_is_type(v, json_type_array), "'%s' is not an array", key);
  ck_assert_uint_eq(json_object_array_length(v), len);
  return v;
}

static const char *str_at(json_object *a, size_t i) {
  return json_object_get_string(json_object_array_get_idx(a, i));
}

static uint32_t stack_of(uintptr_t pc) { return lw_depot_put(&lw_stacks, &pc, 1); }

/* Two locks M1 (mutex) and M2 (rwlock, read) in a cycle made by T0 and T1. */
static lw_report_t *sample_report(uint32_t seq) {
  lw_report_t *r = lw_report_new(LW_REPORT_LOCK_ORDER_INVERSION, 2, 2);
  ck_assert_ptr_nonnull(r);
  ck_assert_uint_eq(r->nlocks, 2);
  ck_assert_uint_eq(r->nedges, 2);
  ck_assert_ptr_null(r->next);
  r->seq = seq;
  /* lw_report_free frees held_ids: they come from lw_alloc too */
  uint64_t *held1 = lw_alloc(sizeof *held1), *held2 = lw_alloc(2 * sizeof *held2);
  held1[0] = 1;
  held2[0] = 2;
  held2[1] = 7;
  r->locks[0] = (lw_rlock_t){.id = 1, .addr = (uintptr_t)&lw_test_accounts[64],
                             .type = LW_TYPE_MUTEX,
                             .create_stack = stack_of((uintptr_t)&sample_report + 1)};
  r->locks[1] = (lw_rlock_t){.id = 2, .addr = 0x1000, .type = LW_TYPE_RWLOCK};
  r->edges[0] = (lw_redge_t){
      .from = 0, .to = 1, .from_mode = LW_MODE_WRITE, .to_mode = LW_MODE_READ,
      .w = {.stack_from = stack_of((uintptr_t)&member + 1),
            .stack_to = stack_of((uintptr_t)&str_at + 1)},
      .other_thread = 3, .held_ids = held1, .nheld_ids = 1};
  r->edges[1] = (lw_redge_t){.from = 1, .to = 0, .from_mode = LW_MODE_READ,
                             .to_mode = LW_MODE_WRITE, .w = {.thread = 1}, .held_ids = held2,
                             .nheld_ids = 2};
  r->closing_edge = 1;
  return r;
}

START_TEST(test_report_json_document) {
  lw_report_t *r = sample_report(5);
  lw_report_t *r2 = sample_report(6);
  r->next = r2;
  static const char *const argv[] = {"prog", "--flag", "\xff", NULL};
  lw_run_info_t run = {4321, "/usr/bin/prog", argv,
                       {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0, 21, 22, 23, 24}, NULL, 0, NULL, NULL};
  lw_buf_t b = LW_BUF_INIT;
  lw_report_format_json(&b, r, NULL, &run);
  ck_assert(!b.oom);
  ck_assert(valid_utf8((const unsigned char *)lw_buf_str(&b)));
  json_object *doc = json_tokener_parse(lw_buf_str(&b));
  ck_assert_msg(doc != NULL, "not JSON:\n%s", lw_buf_str(&b));

  ck_assert_str_eq(str_member(doc, "tool"), "lockwatch");
  ck_assert_str_eq(str_member(doc, "version"), "0.1.0");
  ck_assert_int_eq(int_member(doc, "pid"), 4321);
  ck_assert_str_eq(str_member(doc, "program"), "/usr/bin/prog");
  json_object *av = array_member(doc, "argv", 3);
  ck_assert_str_eq(str_at(av, 0), "prog");
  ck_assert_str_eq(str_at(av, 1), "--flag");
  ck_assert_str_eq(str_at(av, 2), FFFD);

  json_object *reps = array_member(doc, "reports", 2);
  json_object *rep = json_object_array_get_idx(reps, 0);
  ck_assert_int_eq(int_member(rep, "id"), 5);
  ck_assert_int_eq(int_member(json_object_array_get_idx(reps, 1), "id"), 6);
  ck_assert_str_eq(str_member(rep, "kind"), "lock-order-inversion");
  ck_assert_msg(strncmp(str_member(rep, "summary"), "lock-order-inversion", 20) == 0, "%s",
                str_member(rep, "summary"));

  json_object *locks = array_member(rep, "locks", 2);
  json_object *l0 = json_object_array_get_idx(locks, 0), *l1 = json_object_array_get_idx(locks, 1);
  char addr[32];
  snprintf(addr, sizeof addr, "0x%lx", (unsigned long)&lw_test_accounts[64]);
  ck_assert_str_eq(str_member(l0, "id"), "M1");
  ck_assert_str_eq(str_member(l0, "address"), addr);
  ck_assert_str_eq(str_member(l0, "type"), "mutex");
  json_object *name = member(l0, "name");
  if (!json_object_is_type(name, json_type_null)) /* symbol tables may be stripped */
    ck_assert_str_eq(json_object_get_string(name), "lw_test_accounts+64");
  json_object *created = array_member(l0, "created", 1);
  json_object *frame = json_object_array_get_idx(created, 0);
  snprintf(addr, sizeof addr, "0x%lx", (unsigned long)((uintptr_t)&sample_report + 1));
  ck_assert_str_eq(str_member(frame, "pc"), addr);
  member(frame, "function");
  member(frame, "file");
  int_member(frame, "line");
  int_member(frame, "column");
  member(frame, "module");
  ck_assert_msg(strncmp(str_member(frame, "offset"), "0x", 2) == 0, "offset");
  ck_assert_str_eq(str_member(l1, "id"), "M2");
  ck_assert_str_eq(str_member(l1, "address"), "0x1000");
  ck_assert_str_eq(str_member(l1, "type"), "rwlock");
  ck_assert(json_object_is_type(member(l1, "name"), json_type_null));
  array_member(l1, "created", 0);

  json_object *cycle = array_member(rep, "cycle", 2);
  ck_assert_str_eq(str_at(cycle, 0), "M1");
  ck_assert_str_eq(str_at(cycle, 1), "M2");
  ck_assert_int_eq(int_member(rep, "closing_edge"), 1);

  json_object *edges = array_member(rep, "edges", 2);
  json_object *e0 = json_object_array_get_idx(edges, 0), *e1 = json_object_array_get_idx(edges, 1);
  ck_assert_str_eq(str_member(e0, "from"), "M1");
  ck_assert_str_eq(str_member(e0, "to"), "M2");
  ck_assert_str_eq(str_member(e0, "from_mode"), "write");
  ck_assert_str_eq(str_member(e0, "to_mode"), "read");
  ck_assert_str_eq(str_member(e0, "thread"), "T0");
  json_object *held = array_member(e0, "held_locks", 1);
  ck_assert_str_eq(str_at(held, 0), "M1");
  json_object *acq = array_member(e0, "acquired", 1);
  snprintf(addr, sizeof addr, "0x%lx", (unsigned long)((uintptr_t)&str_at + 1));
  frame = json_object_array_get_idx(acq, 0);
  ck_assert_str_eq(str_member(frame, "pc"), addr);
  /* symbolized from this test's own debug information */
  ck_assert_str_eq(str_member(frame, "function"), "str_at");
  ck_assert_str_eq(str_member(frame, "file"), __FILE__);
  ck_assert_int_gt(int_member(frame, "line"), 0);
  const char *module = str_member(frame, "module");
  ck_assert_msg(strstr(module, "test_json") != NULL, "module %s", module);
  json_object *hf = array_member(e0, "held", 1);
  snprintf(addr, sizeof addr, "0x%lx", (unsigned long)((uintptr_t)&member + 1));
  ck_assert_str_eq(str_member(json_object_array_get_idx(hf, 0), "pc"), addr);
  ck_assert_str_eq(str_member(e0, "also_by_thread"), "T2");
  ck_assert_str_eq(str_member(e1, "from"), "M2");
  ck_assert_str_eq(str_member(e1, "to"), "M1");
  ck_assert_str_eq(str_member(e1, "from_mode"), "read");
  ck_assert_str_eq(str_member(e1, "to_mode"), "write");
  ck_assert_str_eq(str_member(e1, "thread"), "T1");
  held = array_member(e1, "held_locks", 2);
  ck_assert_str_eq(str_at(held, 0), "M2");
  ck_assert_str_eq(str_at(held, 1), "M7");
  array_member(e1, "acquired", 0);
  array_member(e1, "held", 0);
  ck_assert(json_object_is_type(member(e1, "also_by_thread"), json_type_null));

  json_object *threads = array_member(rep, "threads", 2);
  ck_assert_str_eq(str_member(json_object_array_get_idx(threads, 0), "id"), "T0");
  ck_assert_str_eq(str_member(json_object_array_get_idx(threads, 1), "id"), "T1");
  json_object *t0 = json_object_array_get_idx(threads, 0);
  int_member(t0, "tid");
  member(t0, "parent");
  member(t0, "created");

  json_object *stats = member(doc, "stats");
  static const char *const names[] = {"locks",          "locks_created", "edges",
                                      "acquisitions",   "fast_path_hits", "threads",
                                      "cycle_searches", "stacks",        "bytes",
                                      "suppressed"};
  for (int i = 0; i < 10; i++) ck_assert_int_eq(int_member(stats, names[i]), 10 + i);
  ck_assert_int_eq(json_object_object_length(stats), 15);
  ck_assert_int_eq(int_member(stats, "graph_ns"), 21);
  ck_assert_int_eq(int_member(stats, "edges_created"), 22);
  ck_assert_int_eq(int_member(stats, "classes"), 23);
  ck_assert_int_eq(int_member(stats, "class_edges"), 24);
  ck_assert(!json_object_get_boolean(member(stats, "memory_exhausted")));
  array_member(doc, "suppressed", 0);

  json_object_put(doc);
  lw_buf_free(&b);
  lw_report_free(r2);
  lw_report_free(r);
}
END_TEST

START_TEST(test_report_json_no_reports) {
  lw_run_info_t run = {1, NULL, NULL, {0}, NULL, 0, NULL, NULL};
  lw_buf_t b = LW_BUF_INIT;
  lw_report_format_json(&b, NULL, NULL, &run);
  json_object *doc = json_tokener_parse(lw_buf_str(&b));
  ck_assert_msg(doc != NULL, "not JSON:\n%s", lw_buf_str(&b));
  array_member(doc, "reports", 0);
  array_member(doc, "argv", 0);
  ck_assert(json_object_is_type(member(doc, "program"), json_type_null));
  ck_assert_int_eq(int_member(member(doc, "stats"), "edges"), 0);
  json_object_put(doc);
  lw_buf_free(&b);
}
END_TEST

START_TEST(test_report_text) {
  lw_report_t *r = sample_report(1);
  lw_buf_t b = LW_BUF_INIT;
  lw_report_format_text(r, &b);
  const char *t = lw_buf_str(&b);
  static const char head[] =
      "==================\nlockwatch: lock-order-inversion (potential deadlock) (pid ";
  ck_assert_msg(strncmp(t, head, sizeof head - 1) == 0, "%s", t);
  ck_assert_msg(strstr(t, "  Cycle in lock order graph: M1 (") != NULL, "%s", t);
  ck_assert_msg(strstr(t, " => M2 (0x1000) => M1\n") != NULL, "%s", t);
  ck_assert_msg(strstr(t, "M2 acquired for reading here while holding M1 in thread T0:") != NULL,
                "%s", t);
  ck_assert_msg(strstr(t, "M1 acquired here while holding M2 for reading in thread T1:") != NULL,
                "%s", t);
  ck_assert_msg(strstr(t, "(thread T2 also took M2 while holding M1)") != NULL, "%s", t);
  /* The scenario follows the cycle line; M2 is an rwlock taken for reading. */
  static const char scenario[] =
      " => M1\n"
      "\n"
      "  Possible unsafe locking scenario:\n"
      "\n"
      "        T0                           T1\n"
      "        ----                         ----\n"
      "        lock(lw_test_accounts+64)\n"
      "                                     rlock(M2)\n"
      "                                     lock(lw_test_accounts+64)\n"
      "        rlock(M2)\n"
      "\n"
      "        *** DEADLOCK ***\n"
      "\n"
      "  M2 acquired for reading here";
  ck_assert_msg(strstr(t, scenario) != NULL, "%s", t);
  ck_assert_msg(strstr(t, "<no stack>") != NULL, "%s", t);
  ck_assert_msg(strstr(t, "  SUMMARY: lockwatch: lock-order-inversion") != NULL, "%s", t);
  ck_assert_uint_eq(t[strlen(t) - 1], '\n');
  lw_buf_free(&b);
  lw_report_free(r);
}
END_TEST

START_TEST(test_report_scenario_rows) {
  /* Three locks: one row per thread; a thread named twice gets the note. */
  lw_scenario_step_t steps[] = {{"T1", "a", "bb", false, false},
                                {"T12", "bb", "c", false, true},
                                {"T1", "c", "a", true, false}};
  lw_buf_t b = LW_BUF_INIT;
  lw_report_format_scenario(&b, 3, steps);
  ck_assert_str_eq(lw_buf_str(&b),
                   "\n"
                   "  Possible unsafe locking scenario (3 threads, each holding its first lock "
                   "and waiting for its second):\n"
                   "\n"
                   "        T1:  lock(a)  ... lock(bb)\n"
                   "        T12: lock(bb) ... rlock(c)\n"
                   "        T1:  rlock(c) ... lock(a)\n"
                   "\n"
                   "        (one thread took more than one of these orders, at different times: "
                   "threads running this code at once can deadlock)\n"
                   "\n"
                   "        *** DEADLOCK ***\n");
  lw_buf_free(&b);
  /* Fewer than two steps: nothing. */
  lw_report_format_scenario(&b, 1, steps);
  ck_assert_str_eq(lw_buf_str(&b), "");
  lw_buf_free(&b);
}
END_TEST

START_TEST(test_report_new_zeroed) {
  lw_report_t *r = lw_report_new(LW_REPORT_LOCK_ORDER_INVERSION, 3, 3);
  ck_assert_ptr_nonnull(r);
  ck_assert_uint_eq(r->kind, LW_REPORT_LOCK_ORDER_INVERSION);
  ck_assert_uint_eq(r->seq, 0);
  ck_assert_uint_eq(r->closing_edge, 0);
  for (int i = 0; i < 3; i++) {
    ck_assert_uint_eq(r->locks[i].id, 0);
    ck_assert_uint_eq(r->edges[i].w.thread, 0);
  }
  lw_report_free(r);
  r = lw_report_new(LW_REPORT_LOCK_ORDER_INVERSION, 0, 0);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_null(r->locks);
  lw_report_free(r);
  ck_assert_str_eq(lw_report_kind_name(LW_REPORT_LOCK_ORDER_INVERSION), "lock-order-inversion");
  ck_assert_str_eq(lw_report_kind_name(99), "unknown");
}
END_TEST

static Suite *json_suite(void) {
  Suite *s = suite_create("json");
  TCase *tc = tcase_create("writer");
  tcase_add_test(tc, test_nested_structure);
  tcase_add_test(tc, test_empty_containers);
  tcase_add_test(tc, test_array_of_objects);
  tcase_add_test(tc, test_deep_nesting_parses);
  tcase_add_test(tc, test_numbers_and_hex);
  tcase_add_test(tc, test_null_string_member);
  suite_add_tcase(s, tc);
  tc = tcase_create("strings");
  tcase_add_test(tc, test_escapes);
  tcase_add_test(tc, test_keys_are_escaped);
  tcase_add_test(tc, test_valid_utf8_kept);
  tcase_add_test(tc, test_invalid_utf8_replaced);
  tcase_add_test(tc, test_truncated_utf8_replaced);
  tcase_add_test(tc, test_every_byte_gives_valid_json);
  suite_add_tcase(s, tc);
  tc = tcase_create("reports");
  tcase_add_test(tc, test_report_json_document);
  tcase_add_test(tc, test_report_json_no_reports);
  tcase_add_test(tc, test_report_text);
  tcase_add_test(tc, test_report_scenario_rows);
  tcase_add_test(tc, test_report_new_zeroed);
  tcase_set_timeout(tc, 60); /* symbolization loads libdw */
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(json_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
