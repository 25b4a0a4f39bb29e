/*
 * buf.h - a growable text buffer in lockwatch memory, for building reports
 * before they are written out in one piece.
 */
#ifndef LW_BUF_H
#define LW_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct lw_buf {
  char *p;
  size_t n, cap;
  bool oom; /* set once an append failed; the text is then truncated */
} lw_buf_t;

#define LW_BUF_INIT {0, 0, 0, false}

/* Appends n bytes of s. */
void lw_buf_add(lw_buf_t *b, const char *s, size_t n);

/* Appends a NUL-terminated string. */
void lw_buf_puts(lw_buf_t *b, const char *s);

/* Appends printf-formatted text. */
void lw_buf_printf(lw_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns the text, NUL-terminated (an empty string if nothing was added). */
const char *lw_buf_str(lw_buf_t *b);

/*
 * Copies the n bytes at s into out (room for len) for a one-line message:
 * control and non-ASCII bytes become \xNN, and a long text is cut with
 * "...". Returns out.
 */
const char *lw_printable(const char *s, size_t n, char *out, size_t len);

/* Frees the text and empties the buffer. */
void lw_buf_free(lw_buf_t *b);

#endif
