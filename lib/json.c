/*
 * json.c - the streaming JSON writer (see json.h).
 */
#include "json.h"

#include <inttypes.h>

void lw_json_start(lw_json_t *j, lw_buf_t *b) {
  j->b = b;
  j->depth = 0;
  j->first[0] = true;
  j->after_key = false;
  j->flat = 0;
}

static void indent(lw_json_t *j) {
  lw_buf_puts(j->b, "\n");
  for (int i = 0; i < j->depth; i++) lw_buf_puts(j->b, "  ");
}

/* Separates a new value from the previous one at this level. */
static void before_value(lw_json_t *j) {
  if (j->after_key) {
    j->after_key = false;
    return;
  }
  if (j->depth == 0) return;
  if (j->flat && j->depth >= j->flat) {
    if (!j->first[j->depth]) lw_buf_puts(j->b, ", ");
    j->first[j->depth] = false;
    return;
  }
  if (!j->first[j->depth]) lw_buf_puts(j->b, ",");
  j->first[j->depth] = false;
  indent(j);
}

static void nest_open(lw_json_t *j, const char *c) {
  before_value(j);
  lw_buf_puts(j->b, c);
  if (j->depth + 1 < LW_JSON_MAX_DEPTH) j->depth++;
  j->first[j->depth] = true;
}

static void nest_close(lw_json_t *j, const char *c) {
  bool empty = j->first[j->depth];
  bool flat = j->flat && j->depth >= j->flat;
  if (flat && j->depth == j->flat) j->flat = 0;
  if (j->depth > 0) j->depth--;
  if (!empty && !flat) indent(j);
  lw_buf_puts(j->b, c);
  if (j->depth == 0) lw_buf_puts(j->b, "\n");
}

void lw_json_object_begin(lw_json_t *j) { nest_open(j, "{"); }
void lw_json_object_end(lw_json_t *j) { nest_close(j, "}"); }
void lw_json_array_begin(lw_json_t *j) { nest_open(j, "["); }
void lw_json_array_end(lw_json_t *j) { nest_close(j, "]"); }

void lw_json_array_begin_inline(lw_json_t *j) {
  nest_open(j, "[");
  if (!j->flat) j->flat = j->depth;
}

static void quoted(lw_buf_t *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  lw_buf_puts(b, "\"");
  while (*p) {
    unsigned c = *p;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      lw_buf_add(b, e, 2);
      p++;
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      if (c == '\n') lw_buf_puts(b, "\\n");
      else if (c == '\t') lw_buf_puts(b, "\\t");
      else if (c == '\r') lw_buf_puts(b, "\\r");
      else lw_buf_add(b, e, 6);
      p++;
    } else if (c < 0x80) {
      lw_buf_add(b, (const char *)p, 1);
      p++;
    } else {
      /* copy a well-formed UTF-8 sequence, replace anything else */
      int len = c >= 0xf0 && c < 0xf5   ? 4
                : c >= 0xe0 && c < 0xf0 ? 3
                : c >= 0xc2 && c < 0xe0 ? 2
                                        : 0;
      /* the second byte's range rules out overlong forms, surrogates and > U+10FFFF */
      unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
      unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
      int ok = len > 0 && p[1] >= lo && p[1] <= hi;
      for (int i = 2; ok && i < len; i++) ok = (p[i] & 0xc0) == 0x80;
      if (ok) {
        lw_buf_add(b, (const char *)p, (size_t)len);
        p += len;
      } else {
        lw_buf_puts(b, "\xef\xbf\xbd");
        p++;
      }
    }
  }
  lw_buf_puts(b, "\"");
}

void lw_json_key(lw_json_t *j, const char *key) {
  before_value(j);
  quoted(j->b, key);
  lw_buf_puts(j->b, ": ");
  j->after_key = true;
}

void lw_json_string(lw_json_t *j, const char *s) {
  if (!s) {
    lw_json_null(j);
    return;
  }
  before_value(j);
  quoted(j->b, s);
}

void lw_json_int(lw_json_t *j, int64_t v) {
  before_value(j);
  lw_buf_printf(j->b, "%" PRId64, v);
}

void lw_json_uint(lw_json_t *j, uint64_t v) {
  before_value(j);
  lw_buf_printf(j->b, "%" PRIu64, v);
}

void lw_json_bool(lw_json_t *j, bool v) {
  before_value(j);
  lw_buf_puts(j->b, v ? "true" : "false");
}

void lw_json_null(lw_json_t *j) {
  before_value(j);
  lw_buf_puts(j->b, "null");
}

void lw_json_hex(lw_json_t *j, uint64_t v) {
  before_value(j);
  lw_buf_printf(j->b, "\"0x%" PRIx64 "\"", v);
}
