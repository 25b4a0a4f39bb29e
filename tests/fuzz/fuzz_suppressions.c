/*
 * fuzz_suppressions.c - libFuzzer target: a suppressions file of any shape
 * must load or fail with a one-line message naming a line, never crash; and
 * the glob matcher must terminate on any pattern and name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  char err[1024];
  err[0] = 0;
  if (lw_suppress_parse(text, "fuzz.supp", err, sizeof err) < 0 && (!err[0] || strchr(err, '\n')))
    abort();
  lw_suppress_clear();
  /* the first half as a pattern, the rest as a name */
  size_t half = strlen(text) / 2;
  char saved = text[half];
  text[half] = 0;
  (void)lw_glob_match(text, text + half + (saved != 0));
  free(text);
  return 0;
}
