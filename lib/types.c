/*
 * types.c - names of the shared vocabulary (see types.h).
 */
#include "types.h"

const char *lw_type_name(unsigned type) {
  static const char *const names[LW_TYPE_COUNT] = {"mutex", "rwlock", "spinlock", "C11 mutex",
                                                    "semaphore", "custom lock", "GMutex"};
  return type < LW_TYPE_COUNT ? names[type] : "lock";
}

const char *lw_mode_name(unsigned mode) { return mode == LW_MODE_READ ? "read" : "write"; }
