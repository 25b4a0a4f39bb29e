/*
 * docmerge.h - one json_path file for every process of a run: a process's
 * document merged into the document another process of the same run left
 * there (docs/design.md "No lost documents").
 *
 * The runtime cannot take a JSON library into every program it watches; it
 * needs none, because it only ever joins documents it wrote itself: a small
 * validating scanner finds the members of both, and the merged document is
 * the members spliced together (arrays joined, statistics summed, each
 * report given the pid of the process that made it, each class unit kept
 * whole: it names its process and indexes only its own tables). The
 * result has the shape of lockwatch run's merged document, so every reader
 * of documents reads it.
 */
#ifndef LW_DOCMERGE_H
#define LW_DOCMERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "jscan.h"

/*
 * What a document at json_path is to a process about to write its own
 * there (ours, a complete document of this process).
 */
enum lw_doc_verdict {
  LW_DOC_REPLACE = 0, /* none, empty, or a document of an earlier run: write ours */
  LW_DOC_MERGE,       /* a document of the same run (its run_id): merge ours into it */
  LW_DOC_FOREIGN      /* not a lockwatch document, or not valid JSON: keep it aside */
};

/*
 * Decides what to do with old (n bytes, the file's content) given ours, and
 * for LW_DOC_FOREIGN writes why into why (len bytes).
 */
enum lw_doc_verdict lw_doc_judge(const char *old, size_t n, const char *ours, size_t ours_n,
                                 char *why, size_t len);

/*
 * Appends to out the merge of document old (of the same run, already
 * judged LW_DOC_MERGE) and document ours. Returns false on a malformed
 * input (out then holds nothing useful).
 */
bool lw_doc_merge(const char *old, size_t old_n, const char *ours, size_t ours_n, lw_buf_t *out);

/*
 * Writes document data (n bytes) to path, as lw_output_file does, but
 * first, holding an advisory lock on path's directory: merges it into a
 * document of the same run found there, or keeps a file that is not a
 * lockwatch document aside (path.corrupt.<pid>, said on stderr). When
 * inherited is not NULL, it receives the number of reports the file held
 * from this pid (an image this process exec'd from). Returns 0, or -1 with
 * err set.
 */
int lw_doc_write(const char *path, const char *data, size_t n, char *err, size_t errlen,
                 unsigned *inherited);

#endif
