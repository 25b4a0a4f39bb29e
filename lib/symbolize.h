/*
 * symbolize.h - addresses to names, at report time, with libdw.
 *
 * Code addresses become function, source file, line and module; data
 * addresses become symbol+offset when they lie inside a symbol of a module
 * (a global mutex: "accounts+64"). Results are cached for the run. Callers
 * hold no lockwatch lock and have the re-entry guard set: libdw allocates.
 */
#ifndef LW_SYMBOLIZE_H
#define LW_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct lw_frame {
  uintptr_t pc;
  const char *function; /* NULL if unknown; C++ names demangled */
  const char *file;     /* NULL if unknown */
  int line;             /* 0 if unknown */
  int column;
  const char *module; /* path of the object; NULL if unknown */
  uintptr_t offset;   /* pc relative to the module's load address */
  bool inlined;       /* a function inlined into the next frame, at the same pc */
} lw_frame_t;

/*
 * Describes the return address pc (the call site is at pc - 1) as one or
 * more frames, innermost first: the functions inlined at the call site, then
 * the function that contains them (std::lock_guard's constructor, then the
 * user's function at the line of the guard). Writes at most max frames and
 * returns how many (>= 1). Never fails: unknown parts are NULL or 0. The
 * strings live until exit.
 */
uint32_t lw_symbolize_pc_frames(uintptr_t pc, lw_frame_t *out, uint32_t max);

/* Calls fn for every frame of a depot stack, inlined ones expanded; returns their number. */
typedef void (*lw_frame_fn)(const lw_frame_t *f, uint32_t index, void *ctx);
uint32_t lw_symbolize_stack(uint32_t stack, lw_frame_fn fn, void *ctx);

/*
 * The frame a person wants named first in a summary: the innermost frame in
 * the program's own code (not in the C library or an installed header), or
 * the innermost frame if there is none. False if the stack is empty.
 */
bool lw_symbolize_user_frame(uint32_t stack, lw_frame_t *out);

/* As lw_symbolize_user_frame; *caller is the pc of the frame below it (0 if none). */
bool lw_symbolize_user_frame_caller(uint32_t stack, lw_frame_t *out, uintptr_t *caller);

/*
 * As lw_symbolize_user_frame, but skipping frames whose function is one of
 * the n names in skip (lock wrappers): the first user frame of another
 * function, else the first user frame.
 */
bool lw_symbolize_user_frame_past(uint32_t stack, const char *const *skip, uint32_t n,
                                  lw_frame_t *out);

/*
 * Writes "symbol" or "symbol+offset" for a data address inside a symbol's
 * extent into buf. Returns false (buf empty) if no symbol covers addr.
 */
bool lw_symbolize_data(uintptr_t addr, char *buf, unsigned len);

/* Fork hook: forget libdw's state, which a lost thread may have left half-updated. */
void lw_symbolize_fork_child(void);
void lw_symbolize_fork_prepare(void);
void lw_symbolize_fork_parent(void);

/* Returns the file name part of a path. */
const char *lw_basename(const char *path);

#endif
