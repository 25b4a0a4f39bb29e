/*
 * options.c - parsing LOCKWATCH_OPTIONS into lw_opt, generated from
 * options.inc so that a key is declared in exactly one place.
 */
#include "options.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"

lw_options_t lw_opt;

void lw_options_defaults(lw_options_t *o) {
#define LW_OPT_STR(n, d, h) o->n = d;
#define LW_OPT_INT(n, d, lo, hi, h) o->n = d;
#define LW_OPT_BOOL(n, d, h) o->n = d;
#define LW_OPT_ENUM(n, d, words, h) o->n = d;
#include "options.inc"
#undef LW_OPT_STR
#undef LW_OPT_INT
#undef LW_OPT_BOOL
#undef LW_OPT_ENUM
}

static const char all_keys[] =
#define LW_OPT_STR(n, d, h) " " #n
#define LW_OPT_INT(n, d, lo, hi, h) " " #n
#define LW_OPT_BOOL(n, d, h) " " #n
#define LW_OPT_ENUM(n, d, words, h) " " #n
#include "options.inc"
#undef LW_OPT_STR
#undef LW_OPT_INT
#undef LW_OPT_BOOL
#undef LW_OPT_ENUM
    ;

static bool is_sep(char c) { return c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Parses a decimal integer that fills all of s. Returns false if it does not. */
static bool parse_long(const char *s, long *out) {
  bool neg = false;
  long v = 0;
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  if (!*s) return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    if (v > 100000000L) return false; /* far beyond every range */
    v = v * 10 + (*s - '0');
  }
  *out = neg ? -v : v;
  return true;
}

static bool parse_bool(const char *s, bool *out) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  for (size_t i = 0; i < 4; i++) {
    if (strcmp(s, yes[i]) == 0) return *out = true, true;
    if (strcmp(s, no[i]) == 0) return *out = false, true;
  }
  return false;
}

/*
 * Finds val among the '|'-separated words; returns its index, or -1.
 */
static int parse_enum(const char *val, const char *words) {
  size_t n = strlen(val);
  int index = 0;
  for (const char *w = words; *w; index++) {
    const char *end = strchr(w, '|');
    size_t len = end ? (size_t)(end - w) : strlen(w);
    if (len == n && strncmp(w, val, n) == 0) return index;
    w += len + (end != NULL);
  }
  return -1;
}

/* Copies a value into lockwatch memory that lives for the whole run. */
static const char *keep(const char *v) {
  size_t n = strlen(v) + 1;
  char *p = lw_alloc(n);
  if (p) memcpy(p, v, n);
  return p ? p : "";
}

/* Applies key=val to o. Returns 0, or -1 with err filled (key and val shown printable). */
static int apply(lw_options_t *o, const char *key_raw, const char *val_raw, char *err,
                 size_t errlen) {
  long l;
  bool b;
  char key_shown[96], val_shown[96];
  const char *val = val_raw;
  const char *key = lw_printable(key_raw, strlen(key_raw), key_shown, sizeof key_shown);
#define val_for_message lw_printable(val_raw, strlen(val_raw), val_shown, sizeof val_shown)
#define LW_OPT_STR(n, d, h)          \
  if (strcmp(key_raw, #n) == 0) {    \
    o->n = keep(val);                \
    return 0;                        \
  }
#define LW_OPT_INT(n, d, lo, hi, h)                                                        \
  if (strcmp(key_raw, #n) == 0) {                                                          \
    if (!parse_long(val, &l) || l < (lo) || l > (hi)) {                                    \
      snprintf(err, errlen, "LOCKWATCH_OPTIONS: %s=%s: expected an integer from %d to %d", \
               key, val_for_message, (int)(lo), (int)(hi));                                \
      return -1;                                                                           \
    }                                                                                      \
    o->n = l;                                                                              \
    return 0;                                                                              \
  }
#define LW_OPT_BOOL(n, d, h)                                                             \
  if (strcmp(key_raw, #n) == 0) {                                                        \
    if (!parse_bool(val, &b)) {                                                          \
      snprintf(err, errlen, "LOCKWATCH_OPTIONS: %s=%s: expected 0, 1, true, false, yes, " \
               "no, on or off", key, val_for_message);                                   \
      return -1;                                                                         \
    }                                                                                    \
    o->n = b;                                                                            \
    return 0;                                                                            \
  }
#define LW_OPT_ENUM(n, d, words, h)                                                  \
  if (strcmp(key_raw, #n) == 0) {                                                    \
    int index = parse_enum(val, words);                                              \
    if (index < 0) {                                                                 \
      snprintf(err, errlen, "LOCKWATCH_OPTIONS: %s=%s: expected one of %s", key,     \
               val_for_message, words);                                              \
      return -1;                                                                     \
    }                                                                                \
    o->n = index;                                                                    \
    return 0;                                                                        \
  }
#include "options.inc"
#undef LW_OPT_STR
#undef LW_OPT_INT
#undef LW_OPT_BOOL
#undef LW_OPT_ENUM
  snprintf(err, errlen, "LOCKWATCH_OPTIONS: unknown option '%s' (accepted:%s; help=1 lists them)",
           key, all_keys);
  return -1;
#undef val_for_message
}

int lw_options_parse(lw_options_t *o, const char *s, char *err, size_t errlen) {
  char key[64], val[4096];
  if (!s) return 0;
  while (*s) {
    while (*s && is_sep(*s)) s++;
    if (!*s) break;
    size_t k = 0;
    const char *start = s;
    while (*s && *s != '=' && !is_sep(*s)) {
      if (k + 1 >= sizeof key) {
        char shown[96];
        snprintf(err, errlen, "LOCKWATCH_OPTIONS: option name too long near '%s'",
                 lw_printable(start, strnlen(start, 20), shown, sizeof shown));
        return -1;
      }
      key[k++] = *s++;
    }
    key[k] = 0;
    char shown[96], shown2[96];
    if (*s != '=') {
      snprintf(err, errlen, "LOCKWATCH_OPTIONS: '%s' has no value: expected key=value pairs "
               "separated by ':'", lw_printable(key, k, shown, sizeof shown));
      return -1;
    }
    s++;
    size_t v = 0;
    char quote = (*s == '\'' || *s == '"') ? *s++ : 0;
    while (*s && (quote ? *s != quote : !is_sep(*s))) {
      if (v + 1 >= sizeof val) {
        snprintf(err, errlen, "LOCKWATCH_OPTIONS: value of '%s' is longer than %zu bytes",
                 lw_printable(key, k, shown, sizeof shown), sizeof val - 1);
        return -1;
      }
      val[v++] = *s++;
    }
    val[v] = 0;
    if (quote) {
      if (*s != quote) {
        snprintf(err, errlen, "LOCKWATCH_OPTIONS: value of '%s' has no closing %c",
                 lw_printable(key, k, shown, sizeof shown), quote);
        return -1;
      }
      s++;
      if (*s && !is_sep(*s)) {
        snprintf(err, errlen, "LOCKWATCH_OPTIONS: unexpected '%s' after the quoted value of '%s'",
                 lw_printable(s, 1, shown2, sizeof shown2), lw_printable(key, k, shown, sizeof shown));
        return -1;
      }
    }
    if (k == 0) {
      snprintf(err, errlen, "LOCKWATCH_OPTIONS: '=%s' has no option name",
               lw_printable(val, v, shown, sizeof shown));
      return -1;
    }
    if (apply(o, key, val, err, errlen) != 0) return -1;
  }
  return 0;
}

/* Copies the index-th '|'-separated word into buf. */
static const char *enum_word(const char *words, int index, char *buf, size_t len) {
  const char *w = words;
  for (; index > 0 && strchr(w, '|'); index--) w = strchr(w, '|') + 1;
  size_t n = strchr(w, '|') ? (size_t)(strchr(w, '|') - w) : strlen(w);
  if (n >= len) n = len - 1;
  memcpy(buf, w, n);
  buf[n] = 0;
  return buf;
}

void lw_options_help(void (*write_fn)(const char *line, void *ctx), void *ctx) {
  char line[1024], word[64];
  write_fn("lockwatch: options, set as LOCKWATCH_OPTIONS=key=value:key=value", ctx);
#define LW_OPT_STR(n, d, h)                                                   \
  snprintf(line, sizeof line, "  %-16s string, default \"%s\": %s", #n, d, h); \
  write_fn(line, ctx);
#define LW_OPT_INT(n, d, lo, hi, h)                                                        \
  snprintf(line, sizeof line, "  %-16s integer %d..%d, default %d: %s", #n, (int)(lo), (int)(hi), \
           (int)(d), h);                                                                   \
  write_fn(line, ctx);
#define LW_OPT_BOOL(n, d, h)                                                       \
  snprintf(line, sizeof line, "  %-16s boolean, default %d: %s", #n, (int)(d), h); \
  write_fn(line, ctx);
#define LW_OPT_ENUM(n, d, words, h)                                                     \
  snprintf(line, sizeof line, "  %-16s one of %s, default %s: %s", #n, words,           \
           enum_word(words, d, word, sizeof word), h);                                  \
  write_fn(line, ctx);
#include "options.inc"
#undef LW_OPT_STR
#undef LW_OPT_INT
#undef LW_OPT_BOOL
#undef LW_OPT_ENUM
}
