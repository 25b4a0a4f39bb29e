/*
 * jscan.h - a small validating JSON scanner over text in memory: it walks
 * values without building anything, so a reader takes only what it needs
 * (docmerge.c joins documents with it; the lockwatch command reads the
 * class graphs of large documents with it). Nothing here allocates.
 */
#ifndef LW_JSCAN_H
#define LW_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lw_jscan {
  const char *p, *end;
  const char *err; /* the first problem, or NULL */
  const char *at;  /* where it was met */
  int depth;
} lw_jscan_t;

/* A scanner over the n bytes at text. */
static inline lw_jscan_t lw_jscan_over(const char *text, size_t n) {
  return (lw_jscan_t){text, text + n, NULL, NULL, 0};
}

/* Records why (the first problem only) at the current place; returns false. */
bool lw_jscan_fail(lw_jscan_t *s, const char *why);

/* Skips white space. */
void lw_jscan_ws(lw_jscan_t *s);

/* Passes one string (at s->p: '"'), checking its escapes. false with s->err if malformed. */
bool lw_jscan_string(lw_jscan_t *s);

/* Passes one number. */
bool lw_jscan_number(lw_jscan_t *s);

/* Passes one value of any kind (white space before it too), at most 64 levels deep. */
bool lw_jscan_value(lw_jscan_t *s);

/* Skips white space, then takes the byte c if it is next; false (no error) if not. */
bool lw_jscan_take(lw_jscan_t *s, char c);

/*
 * Reads an integer (optional '-', digits, no fraction or exponent, within
 * -2^62..2^62) into *v. false with s->err if there is none.
 */
bool lw_jscan_int(lw_jscan_t *s, int64_t *v);

/*
 * Reads a string without escapes (the class and stack ids, names) and
 * gives its bytes (without the quotes) in *p, *n; a string with escapes is
 * passed and given raw. false with s->err if malformed.
 */
bool lw_jscan_str(lw_jscan_t *s, const char **p, size_t *n);

/* Is the next value null? Passes it if so. */
bool lw_jscan_null(lw_jscan_t *s);

/*
 * Checks that the n bytes at text are one JSON value (surrounded by optional
 * white space). Returns NULL if so, else a short description of the first
 * problem and its byte offset in *where.
 */
const char *lw_json_check(const char *text, size_t n, size_t *where);

#endif
