/*
 * frames.h - frames a program gives lockwatch (lockwatch.h's *_at calls): a
 * script's or an interpreter's own file, line and function.
 *
 * Each distinct frame is stored once and named by a code address that no
 * real code has (at or above LW_FRAME_PC_BASE). The depot keeps such
 * addresses like return addresses, so a stack can start with the caller's
 * frames and go on with the machine's; the symbolizer turns them back into
 * the frame. Entries are never freed.
 */
#ifndef LW_FRAMES_H
#define LW_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

#define LW_FRAME_PC_BASE 0xfff0000000000000ULL
/* Longest file or function name kept, in bytes (longer ones are cut). */
#define LW_FRAME_TEXT_MAX 1023

/* Is pc (or pc - 1, as callers of return addresses look) a given frame's address? */
static inline bool lw_frame_pc_is(uintptr_t pc) { return pc >= LW_FRAME_PC_BASE; }

/*
 * The address of the frame (file, line, function); NULL strings are "?".
 * Looks in the calling thread's cache first (no lock); returns 0 when
 * memory is exhausted.
 */
uintptr_t lw_frame_intern(const char *file, int line, const char *function);

/* The frame named by pc (or pc - 1): false if pc names none. The strings live until exit. */
bool lw_frame_lookup(uintptr_t pc, const char **file, int *line, const char **function);

/* A key of the frame named by pc that is the same in every run (its text); 0 if none. */
uint64_t lw_frame_key(uintptr_t pc);

#endif
