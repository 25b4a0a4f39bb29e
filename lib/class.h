/*
 * class.h - lock classes: a key for each lock that is the same in every run
 * and every process of the same binaries (docs/design.md "Lock classes").
 *
 *   static:     a lock in a module's data: module + offset in it (the
 *               symbol names it in reports);
 *   init:       a lock initialised by pthread_mutex_init and friends: the
 *               module-relative return addresses of the first class_depth
 *               frames of the initialising call;
 *   first-use:  a lock never initialised (zeroed memory): the same, for
 *               its first acquisition.
 *
 * Keys never depend on load addresses, pids, thread ids or the order in
 * which locks were made. A class record lives until exit; it carries the
 * class's node in the class-level order graph (core.c).
 */
#ifndef LW_CLASS_H
#define LW_CLASS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "u64map.h"

enum lw_class_how { LW_CLASS_STATIC = 0, LW_CLASS_INIT, LW_CLASS_FIRST_USE };

typedef struct lw_class {
  uint64_t key;      /* stable across runs and processes; never 0 */
  uint8_t how;       /* enum lw_class_how */
  uint8_t type;      /* lock type of its first lock */
  uint32_t stack;    /* init, first-use: depot id of the first stack seen */
  uintptr_t addr;    /* static: the lock's address in this process */
  uintptr_t offset;  /* static: the address relative to the module */
  const char *module; /* static: the module's path ("" if unknown) */
  _Atomic uint32_t instances; /* locks of this class made in this run */
  lw_node_t node;    /* in the class graph; node.id is the class's number (1, 2, ...) */
  struct lw_class *next; /* in the key table's bucket */
} lw_class_t;

/*
 * Returns the class of a new lock at addr, of this type and kind, made at
 * depot stack `stack` (initialised there if at_init, else first acquired
 * there). NULL when memory is exhausted. Takes the class table's own lock,
 * unless the calling thread's cache (may be NULL) already has the answer
 * for this stack. Counting the lock among the class's instances is the
 * caller's (the registry does it when it makes the record).
 */
lw_class_t *lw_class_of(lw_u64map_t *cache, uintptr_t addr, unsigned type, unsigned kind,
                        uint32_t stack, bool at_init);

/*
 * Returns the class a program chose for a new lock (lockwatch.h's class
 * key: the address of an object of its own, keyed as a static lock is),
 * made at depot stack `stack`. NULL when memory is exhausted.
 */
lw_class_t *lw_class_of_key(uintptr_t key_addr, unsigned type, unsigned kind, uint32_t stack);

/* The name of the main program's module in class keys (set once at start-up). */
void lw_class_set_program(const char *path);

/* Number of classes, and the class numbered i (1-based), or NULL. */
uint32_t lw_class_count(void);
lw_class_t *lw_class_at(uint32_t i);

/*
 * A key for the depot stack `stack` that is the same in every process of
 * the same binaries (module file names and offsets); never 0.
 */
uint64_t lw_class_stack_key(uint32_t stack);

/* The class key as text: "C" and 16 hex digits, into buf (>= 18 bytes). */
void lw_class_key_text(uint64_t key, char *buf);

/* "static", "init", "first-use". */
const char *lw_class_how_name(unsigned how);

/* Fork hooks. */
void lw_class_fork_prepare(void);
void lw_class_fork_parent(void);
void lw_class_fork_child(void);

#endif
