/*
 * fuzz_report_json.c - libFuzzer target: the lockwatch command's reader of
 * JSON documents, and what consumes a document it accepted (text report,
 * merge, SARIF), must never crash on a malformed, truncated or hostile file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lwt_docs_t d = LWT_DOCS_INIT;
  if (lwt_docs_add_buffer(&d, "fuzz.json", (const char *)data, size) == 0) {
    lwt_str_t text = {0};
    for (size_t i = 0; i < d.nreports; i++) lwt_text_report(&text, &d.reports[i]);
    lwt_str_free(&text);
    char *argv[] = {"prog", NULL};
    json_object *merged = lwt_docs_merge(&d, 1, argv);
    json_object_put(merged);
    json_object *sarif = lwt_sarif_build(&d, NULL);
    json_object_put(sarif);
  }
  lwt_docs_free(&d);
  return 0;
}
