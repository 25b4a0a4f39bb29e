/*
 * output.h - where lockwatch's words go.
 *
 * Text goes to a duplicate of the stderr the program started with (checked
 * before each write, so a program that closes or reuses fd 2 never gets
 * lockwatch's text in its data), or to log_path.<pid>. Files are written
 * whole through a temporary file and a rename.
 */
#ifndef LW_OUTPUT_H
#define LW_OUTPUT_H

#include <stddef.h>

/* Takes the duplicate of stderr. Call once, early. */
void lw_output_init(void);

/* Writes report text (to log_path.<pid> when set, else to stderr). */
void lw_output_text(const char *s, size_t n);

/* Writes text to stderr only (never to log_path). */
void lw_output_stderr(const char *s, size_t n);

/* Writes one message line "lockwatch: <msg>\n" to stderr. */
void lw_output_message(const char *msg);

/*
 * Writes data to path atomically (path.tmp.<pid>, then rename). Returns 0,
 * or -1 with a one-line reason in err.
 */
int lw_output_file(const char *path, const char *data, size_t n, char *err, size_t errlen);

/* Expands %p (pid) and %% in pattern into out; returns out. */
char *lw_output_expand(const char *pattern, char *out, size_t n);

/* Forgets the log file (fork child: its name has the parent's pid). */
void lw_output_fork_child(void);
void lw_output_fork_prepare(void);
void lw_output_fork_parent(void);

#endif
