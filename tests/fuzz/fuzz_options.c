/*
 * fuzz_options.c - libFuzzer target: LOCKWATCH_OPTIONS text of any shape must
 * parse or fail with a one-line message, never crash or overrun.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  lw_options_t o;
  char err[512];
  lw_options_defaults(&o);
  err[0] = 0;
  if (lw_options_parse(&o, text, err, sizeof err) != 0 && (!err[0] || strchr(err, '\n')))
    abort(); /* an error must come with exactly one line */
  free(text);
  return 0;
}
