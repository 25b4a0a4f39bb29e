/*
 * test_options.c - LOCKWATCH_OPTIONS parsing (lib/options.c):
 * lw_options_defaults, lw_options_parse and lw_options_help.
 *
 * Covers: every default equals options.inc (and the documented values);
 * NULL and empty input; key=value pairs separated by ':' and by white space;
 * integer and boolean spellings; quoted values holding ':' and spaces; later
 * values override earlier ones; and errors (return -1, one line naming the
 * key or value): unknown key (the message lists every accepted key), a
 * non-integer, out-of-range integers, a bad boolean, a key without '=', an
 * unterminated quote, text after a closing quote, an empty key, over-long
 * names and values. The help writes one line per option plus a header.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* ---- defaults ------------------------------------------------------------ */

START_TEST(test_defaults_match_options_inc) {
  lw_options_t o;
  memset(&o, 0xa5, sizeof o);
  lw_options_defaults(&o);
#define LW_OPT_STR(n, d, h) ck_assert_str_eq(o.n, d);
#define LW_OPT_INT(n, d, lo, hi, h)    \
  ck_assert_int_eq(o.n, d);            \
  ck_assert_int_ge(o.n, lo);           \
  ck_assert_int_le(o.n, hi);
#define LW_OPT_BOOL(n, d, h) ck_assert_int_eq(o.n, (d) != 0);
#define LW_OPT_ENUM(n, d, words, h) ck_assert_int_eq(o.n, d);
#include "options.inc"
#undef LW_OPT_STR
#undef LW_OPT_INT
#undef LW_OPT_BOOL
#undef LW_OPT_ENUM
  /* the documented values, independently of the macro machinery */
  ck_assert_str_eq(o.log_path, "");
  ck_assert_str_eq(o.json_path, "");
  ck_assert_int_eq(o.exitcode, 66);
  ck_assert(!o.halt_on_error);
  ck_assert_int_eq(o.stack_depth, 24);
  ck_assert_int_eq(o.verbosity, 1);
  ck_assert(!o.help);
}
END_TEST

/* ---- valid input -------------------------------------------------------------- */

static lw_options_t parsed(const char *s) {
  lw_options_t o;
  char err[512] = "";
  lw_options_defaults(&o);
  int r = lw_options_parse(&o, s, err, sizeof err);
  ck_assert_msg(r == 0, "'%s' rejected: %s", s, err);
  return o;
}

START_TEST(test_empty_and_null) {
  lw_options_t o, d;
  char err[64] = "untouched";
  lw_options_defaults(&d);
  lw_options_defaults(&o);
  ck_assert_int_eq(lw_options_parse(&o, NULL, err, sizeof err), 0);
  ck_assert_int_eq(lw_options_parse(&o, "", err, sizeof err), 0);
  ck_assert_int_eq(lw_options_parse(&o, " : \t:\n", err, sizeof err), 0);
  ck_assert_int_eq(o.exitcode, d.exitcode);
  ck_assert_int_eq(o.verbosity, d.verbosity);
  ck_assert_str_eq(o.json_path, d.json_path);
  ck_assert_str_eq(err, "untouched");
}
END_TEST

START_TEST(test_colon_separated) {
  lw_options_t o = parsed("exitcode=3:halt_on_error=1:json_path=/tmp/x.json");
  ck_assert_int_eq(o.exitcode, 3);
  ck_assert(o.halt_on_error);
  ck_assert_str_eq(o.json_path, "/tmp/x.json");
  /* untouched options keep their defaults */
  ck_assert_int_eq(o.verbosity, 1);
  ck_assert_int_eq(o.stack_depth, 24);
  ck_assert_str_eq(o.log_path, "");
}
END_TEST

START_TEST(test_whitespace_separated) {
  lw_options_t o = parsed("  exitcode=7 verbosity=2\tstack_depth=5\nlog_path=/tmp/log\r\n");
  ck_assert_int_eq(o.exitcode, 7);
  ck_assert_int_eq(o.verbosity, 2);
  ck_assert_int_eq(o.stack_depth, 5);
  ck_assert_str_eq(o.log_path, "/tmp/log");
  o = parsed("exitcode=9 : verbosity=0::");
  ck_assert_int_eq(o.exitcode, 9);
  ck_assert_int_eq(o.verbosity, 0);
}
END_TEST

START_TEST(test_quoted_values) {
  lw_options_t o = parsed("json_path='/tmp/a:b c.json':exitcode=4");
  ck_assert_str_eq(o.json_path, "/tmp/a:b c.json");
  ck_assert_int_eq(o.exitcode, 4);
  o = parsed("log_path=\"/tmp/it's:here\" verbosity=3");
  ck_assert_str_eq(o.log_path, "/tmp/it's:here");
  ck_assert_int_eq(o.verbosity, 3);
  o = parsed("json_path='' exitcode=\"5\"");
  ck_assert_str_eq(o.json_path, "");
  ck_assert_int_eq(o.exitcode, 5);
  o = parsed("json_path=");
  ck_assert_str_eq(o.json_path, "");
}
END_TEST

START_TEST(test_booleans_and_integers) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  char s[64];
  for (int i = 0; i < 4; i++) {
    snprintf(s, sizeof s, "halt_on_error=%s", yes[i]);
    ck_assert(parsed(s).halt_on_error);
    snprintf(s, sizeof s, "halt_on_error=1:halt_on_error=%s", no[i]);
    ck_assert(!parsed(s).halt_on_error);
  }
  ck_assert_int_eq(parsed("exitcode=0").exitcode, 0);
  ck_assert_int_eq(parsed("exitcode=255").exitcode, 255);
  ck_assert_int_eq(parsed("exitcode=+12").exitcode, 12);
  ck_assert_int_eq(parsed("exitcode=007").exitcode, 7);
  ck_assert_int_eq(parsed("stack_depth=1").stack_depth, 1);
  ck_assert_int_eq(parsed("stack_depth=256").stack_depth, 256);
  /* the last value wins */
  ck_assert_int_eq(parsed("exitcode=1:exitcode=2").exitcode, 2);
}
END_TEST

START_TEST(test_parse_over_existing_values) {
  lw_options_t o;
  char err[256];
  lw_options_defaults(&o);
  ck_assert_int_eq(lw_options_parse(&o, "exitcode=10", err, sizeof err), 0);
  ck_assert_int_eq(lw_options_parse(&o, "verbosity=3", err, sizeof err), 0);
  ck_assert_int_eq(o.exitcode, 10);
  ck_assert_int_eq(o.verbosity, 3);
}
END_TEST

/* ---- errors ------------------------------------------------------------------- */

/* Parses s, expects -1 and an error line containing every string in want (NULL-terminated). */
static void expect_error(const char *s, const char *const *want) {
  lw_options_t o;
  char err[1024];
  memset(err, 0, sizeof err);
  lw_options_defaults(&o);
  ck_assert_msg(lw_options_parse(&o, s, err, sizeof err) == -1, "'%s' was accepted", s);
  ck_assert_msg(err[0] != 0, "no message for '%s'", s);
  ck_assert_msg(strchr(err, '\n') == NULL, "message is not one line: %s", err);
  ck_assert_msg(strncmp(err, "LOCKWATCH_OPTIONS: ", 19) == 0, "message: %s", err);
  for (; *want; want++)
    ck_assert_msg(strstr(err, *want) != NULL, "'%s': message '%s' lacks '%s'", s, err, *want);
}

#define EXPECT_ERROR(s, ...)                          \
  do {                                                \
    const char *const want_[] = {__VA_ARGS__, NULL}; \
    expect_error(s, want_);                           \
  } while (0)

START_TEST(test_unknown_key) {
  EXPECT_ERROR("exitcode=3:bogus=1", "'bogus'", "accepted", "log_path", "json_path", "exitcode",
               "halt_on_error", "stack_depth", "verbosity", "help");
  EXPECT_ERROR("Exitcode=3", "'Exitcode'");
}
END_TEST

START_TEST(test_unknown_key_lists_every_option) {
  lw_options_t o;
  char err[1024];
  lw_options_defaults(&o);
  ck_assert_int_eq(lw_options_parse(&o, "nope=1", err, sizeof err), -1);
#define LW_OPT_STR(n, d, h) ck_assert_ptr_nonnull(strstr(err, " " #n));
#define LW_OPT_INT(n, d, lo, hi, h) ck_assert_ptr_nonnull(strstr(err, " " #n));
#define LW_OPT_BOOL(n, d, h) ck_assert_ptr_nonnull(strstr(err, " " #n));
#define LW_OPT_ENUM(n, d, words, h) ck_assert_ptr_nonnull(strstr(err, " " #n));
#include "options.inc"
#undef LW_OPT_STR
#undef LW_OPT_INT
#undef LW_OPT_BOOL
#undef LW_OPT_ENUM
}
END_TEST

START_TEST(test_enums) {
  lw_options_t o;
  char err[512];
  lw_options_defaults(&o);
  ck_assert_int_eq(o.on_deadlock, LW_ON_DEADLOCK_EXIT);
  ck_assert_int_eq(lw_options_parse(&o, "on_deadlock=abort", err, sizeof err), 0);
  ck_assert_int_eq(o.on_deadlock, LW_ON_DEADLOCK_ABORT);
  ck_assert_int_eq(lw_options_parse(&o, "on_deadlock=report", err, sizeof err), 0);
  ck_assert_int_eq(o.on_deadlock, LW_ON_DEADLOCK_REPORT);
  ck_assert_int_eq(lw_options_parse(&o, "on_deadlock=exi", err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "on_deadlock=exi"));
  ck_assert_ptr_nonnull(strstr(err, "exit|abort|report"));
  ck_assert_int_eq(lw_options_parse(&o, "on_deadlock=", err, sizeof err), -1);
  ck_assert_int_eq(o.semaphores, LW_SEMAPHORES_AUTO);
  ck_assert_int_eq(lw_options_parse(&o, "semaphores=all", err, sizeof err), 0);
  ck_assert_int_eq(o.semaphores, LW_SEMAPHORES_ALL);
  ck_assert_int_eq(lw_options_parse(&o, "semaphores=off", err, sizeof err), 0);
  ck_assert_int_eq(o.semaphores, LW_SEMAPHORES_OFF);
  ck_assert_int_eq(lw_options_parse(&o, "semaphores=some", err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "semaphores=some"));
  ck_assert_ptr_nonnull(strstr(err, "auto|all|off"));
}
END_TEST

START_TEST(test_bad_integers) {
  EXPECT_ERROR("exitcode=abc", "exitcode=abc", "integer", "0", "255");
  EXPECT_ERROR("exitcode=300", "exitcode=300", "0", "255");
  EXPECT_ERROR("exitcode=-1", "exitcode=-1");
  EXPECT_ERROR("exitcode=", "exitcode=");
  EXPECT_ERROR("exitcode=+", "exitcode=+");
  EXPECT_ERROR("exitcode=12x", "exitcode=12x");
  EXPECT_ERROR("exitcode=99999999999999999999", "exitcode=9999");
  EXPECT_ERROR("stack_depth=0", "stack_depth=0", "1", "256");
  EXPECT_ERROR("verbosity=4", "verbosity=4", "0", "3");
}
END_TEST

START_TEST(test_bad_boolean) {
  EXPECT_ERROR("halt_on_error=maybe", "halt_on_error=maybe", "true", "false");
  EXPECT_ERROR("help=2", "help=2");
  EXPECT_ERROR("halt_on_error=", "halt_on_error=");
}
END_TEST

START_TEST(test_missing_value) {
  EXPECT_ERROR("json_path", "'json_path'", "no value");
  EXPECT_ERROR("exitcode=3:json_path", "'json_path'", "no value");
  EXPECT_ERROR("json_path /tmp/x", "'json_path'", "no value");
}
END_TEST

START_TEST(test_unterminated_quote) {
  EXPECT_ERROR("json_path='/tmp/x:exitcode=3", "'json_path'", "closing '");
  EXPECT_ERROR("log_path=\"abc", "'log_path'", "closing \"");
  EXPECT_ERROR("json_path='a'b", "'json_path'", "'b'");
}
END_TEST

START_TEST(test_empty_key) {
  EXPECT_ERROR("=5", "'=5'", "no option name");
  EXPECT_ERROR("exitcode=1:=x", "'=x'");
}
END_TEST

START_TEST(test_too_long) {
  char s[8192];
  memset(s, 'k', 100);
  strcpy(s + 100, "=1");
  EXPECT_ERROR(s, "too long");
  strcpy(s, "json_path=");
  memset(s + 10, 'v', 5000);
  s[5010] = 0;
  EXPECT_ERROR(s, "'json_path'", "longer than");
  /* a value just within the limit is fine */
  memset(s + 10, 'v', 4095);
  s[4105] = 0;
  lw_options_t o = parsed(s);
  ck_assert_uint_eq(strlen(o.json_path), 4095);
}
END_TEST

START_TEST(test_error_keeps_earlier_values) {
  /* documented: on error o is left partly updated, up to the bad pair */
  lw_options_t o;
  char err[512];
  lw_options_defaults(&o);
  ck_assert_int_eq(lw_options_parse(&o, "exitcode=3:verbosity=9:stack_depth=7", err, sizeof err),
                   -1);
  ck_assert_int_eq(o.exitcode, 3);
  ck_assert_int_eq(o.verbosity, 1);
  ck_assert_int_eq(o.stack_depth, 24);
}
END_TEST

START_TEST(test_small_error_buffer) {
  lw_options_t o;
  char err[16];
  memset(err, 'x', sizeof err);
  lw_options_defaults(&o);
  ck_assert_int_eq(lw_options_parse(&o, "nope=1", err, sizeof err), -1);
  ck_assert_uint_eq(strlen(err), sizeof err - 1); /* truncated, terminated */
}
END_TEST

/* ---- help ------------------------------------------------------------------- */

struct lines {
  char text[32][600];
  int n;
};

static void collect(const char *line, void *ctx) {
  struct lines *l = ctx;
  ck_assert_int_lt(l->n, 32);
  ck_assert_ptr_null(strchr(line, '\n'));
  snprintf(l->text[l->n++], sizeof l->text[0], "%s", line);
}

/* Number of help lines that name option n as a word. */
static int lines_naming(const struct lines *l, const char *n) {
  int count = 0;
  for (int i = 0; i < l->n; i++) {
    char word[64];
    if (sscanf(l->text[i], " %63s", word) == 1 && strcmp(word, n) == 0) count++;
  }
  return count;
}

START_TEST(test_help_lists_every_option) {
  struct lines l = {.n = 0};
  lw_options_help(collect, &l);
  int options = 0;
#define LW_OPT_STR(n, d, h) \
  options++;                \
  ck_assert_int_eq(lines_naming(&l, #n), 1);
#define LW_OPT_INT(n, d, lo, hi, h) \
  options++;                        \
  ck_assert_int_eq(lines_naming(&l, #n), 1);
#define LW_OPT_BOOL(n, d, h) \
  options++;                 \
  ck_assert_int_eq(lines_naming(&l, #n), 1);
#define LW_OPT_ENUM(n, d, words, h) \
  options++;                        \
  ck_assert_int_eq(lines_naming(&l, #n), 1);
#include "options.inc"
#undef LW_OPT_STR
#undef LW_OPT_INT
#undef LW_OPT_BOOL
#undef LW_OPT_ENUM
  ck_assert_int_eq(options, 29);
  ck_assert_int_eq(l.n, options + 1); /* a header, then one line per option */
  ck_assert_ptr_nonnull(strstr(l.text[0], "LOCKWATCH_OPTIONS"));
  /* each line carries the default and the help text */
  int checked = 0;
  for (int i = 0; i < l.n; i++) {
    char word[64] = "";
    if (sscanf(l.text[i], " %63s", word) != 1) continue;
    if (strcmp(word, "exitcode") == 0) {
      ck_assert_ptr_nonnull(strstr(l.text[i], "default 66"));
      ck_assert_ptr_nonnull(strstr(l.text[i], "0..255"));
      checked++;
    }
    if (strcmp(word, "halt_on_error") == 0) {
      ck_assert_ptr_nonnull(strstr(l.text[i], "boolean, default 0"));
      checked++;
    }
    if (strcmp(word, "json_path") == 0) {
      ck_assert_ptr_nonnull(strstr(l.text[i], "string"));
      ck_assert_ptr_nonnull(strstr(l.text[i], "%p expands to the pid"));
      checked++;
    }
  }
  ck_assert_int_eq(checked, 3);
}
END_TEST

static Suite *options_suite(void) {
  Suite *s = suite_create("options");
  TCase *tc = tcase_create("defaults");
  tcase_add_test(tc, test_defaults_match_options_inc);
  suite_add_tcase(s, tc);
  tc = tcase_create("valid");
  tcase_add_test(tc, test_empty_and_null);
  tcase_add_test(tc, test_colon_separated);
  tcase_add_test(tc, test_whitespace_separated);
  tcase_add_test(tc, test_quoted_values);
  tcase_add_test(tc, test_booleans_and_integers);
  tcase_add_test(tc, test_parse_over_existing_values);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_test(tc, test_unknown_key);
  tcase_add_test(tc, test_unknown_key_lists_every_option);
  tcase_add_test(tc, test_bad_integers);
  tcase_add_test(tc, test_enums);
  tcase_add_test(tc, test_bad_boolean);
  tcase_add_test(tc, test_missing_value);
  tcase_add_test(tc, test_unterminated_quote);
  tcase_add_test(tc, test_empty_key);
  tcase_add_test(tc, test_too_long);
  tcase_add_test(tc, test_error_keeps_earlier_values);
  tcase_add_test(tc, test_small_error_buffer);
  suite_add_tcase(s, tc);
  tc = tcase_create("help");
  tcase_add_test(tc, test_help_lists_every_option);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(options_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
