/*
 * buf.c - the growable text buffer (see buf.h).
 */
#include "buf.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

/* Ensures room for extra more bytes plus a NUL; false (and oom set) if not. */
static bool room(lw_buf_t *b, size_t extra) {
  if (b->oom) return false;
  if (b->n + extra + 1 <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->n + extra + 1) cap *= 2;
  char *p = lw_realloc(b->p, b->cap, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  b->p = p;
  b->cap = cap;
  return true;
}

void lw_buf_add(lw_buf_t *b, const char *s, size_t n) {
  if (!room(b, n)) return;
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

void lw_buf_puts(lw_buf_t *b, const char *s) { lw_buf_add(b, s, strlen(s)); }

void lw_buf_printf(lw_buf_t *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    lw_buf_add(b, small, (size_t)n);
    return;
  }
  if (!room(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)n;
}

const char *lw_buf_str(lw_buf_t *b) { return b->p ? b->p : ""; }

void lw_buf_free(lw_buf_t *b) {
  lw_free(b->p, b->cap);
  *b = (lw_buf_t)LW_BUF_INIT;
}

const char *lw_printable(const char *s, size_t n, char *out, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t k = 0;
  if (!len) return out;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    bool plain = c >= 0x20 && c < 0x7f;
    if (k + (plain ? 1 : 4) + 4 > len) { /* keep room for "..." and the NUL */
      memcpy(out + k, "...", 3);
      k += 3;
      break;
    }
    if (plain) {
      out[k++] = (char)c;
    } else {
      out[k++] = '\\';
      out[k++] = 'x';
      out[k++] = hex[c >> 4];
      out[k++] = hex[c & 15];
    }
  }
  out[k] = 0;
  return out;
}
