/*
 * options.h - LOCKWATCH_OPTIONS: the parsed, read-only option values.
 *
 * Syntax: key=value pairs separated by ':' or white space; a value may be
 * quoted with '...' or "..." to hold those characters. The list of keys is
 * options.inc.
 */
#ifndef LW_OPTIONS_H
#define LW_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct lw_options {
#define LW_OPT_STR(n, d, h) const char *n;
#define LW_OPT_INT(n, d, lo, hi, h) long n;
#define LW_OPT_BOOL(n, d, h) bool n;
#define LW_OPT_ENUM(n, d, words, h) int n;
#include "options.inc"
#undef LW_OPT_STR
#undef LW_OPT_INT
#undef LW_OPT_BOOL
#undef LW_OPT_ENUM
} lw_options_t;

/* Values of on_deadlock. */
enum { LW_ON_DEADLOCK_EXIT = 0, LW_ON_DEADLOCK_ABORT = 1, LW_ON_DEADLOCK_REPORT = 2 };

/* Values of semaphores. */
enum { LW_SEMAPHORES_AUTO = 0, LW_SEMAPHORES_ALL = 1, LW_SEMAPHORES_OFF = 2 };

/* The options in force; set once at start-up, read-only afterwards. */
extern lw_options_t lw_opt;

/* Fills o with every default. */
void lw_options_defaults(lw_options_t *o);

/*
 * Parses s (NULL or empty means no options) over the values already in o.
 * Returns 0 on success. On the first error returns -1, writes one line
 * naming the bad key or value and what is accepted into err (no trailing
 * newline), and leaves o partly updated.
 */
int lw_options_parse(lw_options_t *o, const char *s, char *err, size_t errlen);

/*
 * Writes the help text (every option, its default and meaning) through
 * write_fn, one line at a time.
 */
void lw_options_help(void (*write_fn)(const char *line, void *ctx), void *ctx);

#endif
