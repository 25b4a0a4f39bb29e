/*
 * jscan.c - the validating JSON scanner (see jscan.h).
 */
#include "jscan.h"

#include <string.h>

bool lw_jscan_fail(lw_jscan_t *s, const char *why) {
  if (!s->err) s->err = why, s->at = s->p;
  return false;
}

static bool space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

void lw_jscan_ws(lw_jscan_t *s) {
  while (s->p < s->end && space(*s->p)) s->p++;
}

static bool hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool lw_jscan_string(lw_jscan_t *s) {
  if (s->p >= s->end || *s->p != '"') return lw_jscan_fail(s, "expected a string");
  for (s->p++; s->p < s->end; s->p++) {
    unsigned char c = (unsigned char)*s->p;
    if (c == '"') {
      s->p++;
      return true;
    }
    if (c < 0x20) return lw_jscan_fail(s, "control character in a string");
    if (c == '\\') {
      if (++s->p >= s->end) break;
      if (*s->p == 'u') {
        for (int i = 0; i < 4; i++)
          if (++s->p >= s->end || !hex_digit(*s->p)) return lw_jscan_fail(s, "bad \\u escape");
      } else if (!*s->p || !strchr("\"\\/bfnrt", *s->p)) {
        return lw_jscan_fail(s, "bad escape");
      }
    }
  }
  return lw_jscan_fail(s, "unterminated string");
}

static bool digits(lw_jscan_t *s) {
  const char *b = s->p;
  while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
  return s->p > b;
}

bool lw_jscan_number(lw_jscan_t *s) {
  if (s->p < s->end && *s->p == '-') s->p++;
  if (!digits(s)) return lw_jscan_fail(s, "bad number");
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    if (!digits(s)) return lw_jscan_fail(s, "bad number");
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-')) s->p++;
    if (!digits(s)) return lw_jscan_fail(s, "bad number");
  }
  return true;
}

static bool literal(lw_jscan_t *s, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
    return lw_jscan_fail(s, "unexpected byte");
  s->p += n;
  return true;
}

static bool container(lw_jscan_t *s, char open, char close) {
  if (++s->depth > 64) return lw_jscan_fail(s, "nested too deeply");
  s->p++; /* the opening bracket */
  lw_jscan_ws(s);
  if (s->p < s->end && *s->p == close) {
    s->p++;
    s->depth--;
    return true;
  }
  for (;;) {
    lw_jscan_ws(s);
    if (open == '{') {
      if (!lw_jscan_string(s)) return false;
      lw_jscan_ws(s);
      if (s->p >= s->end || *s->p != ':') return lw_jscan_fail(s, "expected ':'");
      s->p++;
      lw_jscan_ws(s);
    }
    if (!lw_jscan_value(s)) return false;
    lw_jscan_ws(s);
    if (s->p >= s->end) return lw_jscan_fail(s, "truncated");
    if (*s->p == ',') {
      s->p++;
      continue;
    }
    if (*s->p == close) {
      s->p++;
      s->depth--;
      return true;
    }
    return lw_jscan_fail(s, open == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

bool lw_jscan_value(lw_jscan_t *s) {
  lw_jscan_ws(s);
  if (s->p >= s->end) return lw_jscan_fail(s, "truncated");
  switch (*s->p) {
  case '{':
    return container(s, '{', '}');
  case '[':
    return container(s, '[', ']');
  case '"':
    return lw_jscan_string(s);
  case 't':
    return literal(s, "true");
  case 'f':
    return literal(s, "false");
  case 'n':
    return literal(s, "null");
  default:
    return lw_jscan_number(s);
  }
}

bool lw_jscan_take(lw_jscan_t *s, char c) {
  lw_jscan_ws(s);
  if (s->p < s->end && *s->p == c) {
    s->p++;
    return true;
  }
  return false;
}

bool lw_jscan_int(lw_jscan_t *s, int64_t *v) {
  lw_jscan_ws(s);
  bool neg = s->p < s->end && *s->p == '-';
  const char *b = s->p + neg;
  const char *q = b;
  uint64_t x = 0;
  while (q < s->end && *q >= '0' && *q <= '9' && q - b < 19) x = x * 10 + (uint64_t)(*q++ - '0');
  if (q == b || (q < s->end && (*q == '.' || *q == 'e' || *q == 'E' || (*q >= '0' && *q <= '9'))) ||
      x > (1ull << 62))
    return lw_jscan_fail(s, "expected an integer");
  s->p = q;
  *v = neg ? -(int64_t)x : (int64_t)x;
  return true;
}

bool lw_jscan_str(lw_jscan_t *s, const char **p, size_t *n) {
  lw_jscan_ws(s);
  const char *b = s->p + 1;
  if (!lw_jscan_string(s)) return false;
  *p = b;
  *n = (size_t)(s->p - 1 - b);
  return true;
}

bool lw_jscan_null(lw_jscan_t *s) {
  lw_jscan_ws(s);
  if ((size_t)(s->end - s->p) >= 4 && memcmp(s->p, "null", 4) == 0) {
    s->p += 4;
    return true;
  }
  return false;
}

const char *lw_json_check(const char *text, size_t n, size_t *where) {
  lw_jscan_t s = lw_jscan_over(text, n);
  if (lw_jscan_value(&s)) {
    lw_jscan_ws(&s);
    if (s.p == s.end) return NULL;
    lw_jscan_fail(&s, "text after the document");
  }
  *where = (size_t)(s.at - text);
  return s.err;
}
