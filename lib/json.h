/*
 * json.h - a small streaming JSON writer into an lw_buf_t, indented two
 * spaces per level. Commas are placed automatically.
 */
#ifndef LW_JSON_H
#define LW_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define LW_JSON_MAX_DEPTH 32

typedef struct lw_json {
  lw_buf_t *b;
  int depth;
  bool first[LW_JSON_MAX_DEPTH]; /* nothing written yet at this level */
  bool after_key;
  int flat; /* depth from which values go on one line (an inline array); 0: none */
} lw_json_t;

/* Starts writing a document into b. */
void lw_json_start(lw_json_t *j, lw_buf_t *b);

void lw_json_object_begin(lw_json_t *j);
void lw_json_object_end(lw_json_t *j);
void lw_json_array_begin(lw_json_t *j);
void lw_json_array_end(lw_json_t *j);
/* Starts an array written on one line, "[1, 2, [3, 4]]", whatever it holds; ended by lw_json_array_end. */
void lw_json_array_begin_inline(lw_json_t *j);

/* Writes a member name; the next value belongs to it. */
void lw_json_key(lw_json_t *j, const char *key);

/* Writes a string (NULL writes null); bytes that are not valid UTF-8 become U+FFFD. */
void lw_json_string(lw_json_t *j, const char *s);
void lw_json_int(lw_json_t *j, int64_t v);
void lw_json_uint(lw_json_t *j, uint64_t v);
void lw_json_bool(lw_json_t *j, bool v);
void lw_json_null(lw_json_t *j);
/* Writes v as a string "0x..." (addresses). */
void lw_json_hex(lw_json_t *j, uint64_t v);

#endif
