/*
 * suppress.h - suppressions: known reports that must not fail a run.
 *
 * A suppressions file has one rule per line, `kind:pattern`, where kind is a
 * report kind (lock-order-inversion, double-lock, ...) or `*`, and pattern
 * is matched, whole, against the function, the source file (full path or
 * file name) and the module (full path or file name) of every frame of the
 * report; `*` in a pattern matches any run of characters. A pattern
 * `lock=NAME` matches instead the names of the report's locks (the name the
 * program gave, lockwatch.h, or the lock's symbol): `lock-order-inversion:
 * lock=accounts*`. Blank lines and lines starting with `#` are ignored.
 */
#define LW_SUPPRESS_LOCK "lock=" 
#ifndef LW_SUPPRESS_H
#define LW_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

/* Does pattern (with * wildcards) match all of s? */
bool lw_glob_match(const char *pattern, const char *s);

/*
 * Adds the rules in text (named `name` in errors: a file name). Returns the
 * number of rules added, or -1 with one line in err naming the line number,
 * what is wrong and what is accepted (no rule of text is kept then).
 */
int lw_suppress_parse(const char *text, const char *name, char *err, size_t errlen);

/* Reads and parses the file at path; -1 with err on failure (unreadable file too). */
int lw_suppress_load(const char *path, char *err, size_t errlen);

/* Drops every rule. */
void lw_suppress_clear(void);

/* Number of rules loaded. */
unsigned lw_suppress_count(void);

/*
 * Returns the text of the first rule that matches r ("kind:pattern"), or
 * NULL. Symbolizes r's frames (libdw) to decide.
 */
const char *lw_suppress_match(const lw_report_t *r);

#endif
