/*
 * tool.h - what the files of the lockwatch command share: messages and exit
 * statuses, growable strings, output files, and the JSON documents it reads
 * (docs/report-format.md is the contract for them).
 *
 * Names: lwt_ for everything shared between the files of tools/ (the core's
 * lw_ names stay the core's).
 */
#ifndef LWT_TOOL_H
#define LWT_TOOL_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit statuses of the command itself. */
enum {
  LWT_EXIT_OK = 0,
  LWT_EXIT_ERROR = 1, /* an input could not be read, an output not written */
  LWT_EXIT_USAGE = 2  /* a bad command line */
};

/* ---- messages (util.c) ----------------------------------------------------- */

/* Prints "lockwatch: <message>" and a newline on stderr. */
void lwt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Prints "lockwatch: <cmd>: <message>; see 'lockwatch <cmd> --help'" on
 * stderr and returns LWT_EXIT_USAGE.
 */
int lwt_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Reports the option getopt_long just refused (its return value c, ':' for
 * a missing argument, '?' for an unknown option) as a usage error of cmd.
 * Returns LWT_EXIT_USAGE.
 */
int lwt_bad_option(const char *cmd, int c, char **argv);

/* ---- memory and strings (util.c); these end the command on out of memory ------ */

void *lwt_xmalloc(size_t n);
void *lwt_xrealloc(void *p, size_t n);
char *lwt_xstrdup(const char *s);
char *lwt_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable string; always NUL-terminated once something was added. */
typedef struct lwt_str {
  char *p;
  size_t n, cap;
} lwt_str_t;

#define LWT_STR_INIT {NULL, 0, 0}

void lwt_str_add(lwt_str_t *s, const char *p, size_t n);
void lwt_str_puts(lwt_str_t *s, const char *p);
void lwt_str_printf(lwt_str_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text ("" if nothing was added). */
const char *lwt_str_get(lwt_str_t *s);
void lwt_str_free(lwt_str_t *s);

/* A map from strings (copied) to indices. */
typedef struct lwt_map {
  char **keys;
  size_t *vals;
  size_t cap, n;
} lwt_map_t;

#define LWT_MAP_INIT {NULL, NULL, 0, 0}

/* Returns true and *val if key is in m. */
bool lwt_map_get(const lwt_map_t *m, const char *key, size_t *val);
/* Adds key -> val; key must not be in m. */
void lwt_map_put(lwt_map_t *m, const char *key, size_t val);
/* Frees the keys and tables of m. */
void lwt_map_free(lwt_map_t *m);

/* The part of path after its last '/'. */
const char *lwt_basename(const char *path);

/*
 * Parses a decimal integer filling all of s, within [lo, hi]. Returns false
 * if s is not one.
 */
bool lwt_parse_long(const char *s, long lo, long hi, long *out);

/*
 * Writes data to path (NULL or "-": standard output). A file is written
 * through a temporary file renamed into place, so it is complete or absent.
 * Returns 0, or -1 after printing why.
 */
int lwt_write_output(const char *path, const char *data, size_t n);

/* Writes all n bytes of data to fd; returns false with errno set on failure. */
bool lwt_write_all(int fd, const char *data, size_t n);

/* ---- JSON documents (doc.c) ---------------------------------------------------- */

/* One loaded document: a process's, or one merged by lockwatch run. */
typedef struct lwt_doc {
  char *path;
  json_object *root;
} lwt_doc_t;

/* A report of a document, with the process it came from. */
typedef struct lwt_report {
  json_object *obj;
  long long pid;
  const char *program; /* the process's executable, or NULL */
  const char *path;    /* the file it was read from */
  bool suppressed;     /* from a "suppressed" array */
} lwt_report_t;

/* A process a document describes. */
typedef struct lwt_process {
  long long pid;
  const char *program; /* or NULL */
  json_object *argv;   /* array of strings, or NULL */
} lwt_process_t;

/* ---- the class graphs of the documents (classgraph.c) ------------------------------ */

/* A lock class as the first document that described it did. Strings are NULL when absent. */
typedef struct lwt_class {
  char *id; /* "C" and 16 hex digits */
  char *how, *type, *name, *module, *offset;
  long long instances;
  long created; /* stack number of where its first lock was made, or -1 */
} lwt_class_t;

/* A stack a class edge names: its id and its frames as JSON text. */
typedef struct lwt_stack {
  char *id;
  char *frames;
} lwt_stack_t;

/* The process that made class edges: its document (index), pid and program (or NULL). */
typedef struct lwt_origin {
  size_t doc;
  long long pid;
  char *program;
} lwt_origin_t;

/* A class edge, every number an index in the tables of lwt_cgraph_t. */
typedef struct lwt_cedge {
  uint32_t from, to; /* class numbers */
  uint32_t thread;   /* the thread number of the witness (T<n>) in its process */
  int32_t acquired, held; /* stack numbers, or -1 */
  uint32_t origin;
  uint8_t pair; /* LW_PAIR(from mode, to mode): 0 w->w, 1 w->r, 2 r->w, 3 r->r */
} lwt_cedge_t;

/*
 * The class graphs of every loaded document, read as they load and joined
 * on class and stack ids: each class and stack is numbered once (in the
 * order first met), and the edges are kept in document order.
 */
typedef struct lwt_cgraph {
  lwt_class_t *classes;
  size_t nclasses, cap_classes;
  lwt_stack_t *stacks;
  size_t nstacks, cap_stacks;
  lwt_origin_t *origins;
  size_t norigins, cap_origins;
  lwt_cedge_t *edges;
  size_t nedges, cap_edges;
  uint64_t *class_slots; /* open-addressed class ids: hash (high 32 bits), number + 1; 0 empty */
  size_t class_mask;
  lwt_map_t stack_index; /* id -> number */
} lwt_cgraph_t;

/* Every document loaded, and their reports and processes in order. */
typedef struct lwt_docs {
  lwt_doc_t *docs;
  size_t ndocs;
  lwt_report_t *reports; /* not suppressed */
  size_t nreports;
  lwt_report_t *suppressed;
  size_t nsuppressed;
  lwt_process_t *procs;
  size_t nprocs;
  size_t cap_docs, cap_reports, cap_suppressed, cap_procs;
  lwt_cgraph_t cg; /* their class graphs */
} lwt_docs_t;

#define LWT_DOCS_INIT {NULL, 0, NULL, 0, NULL, 0, NULL, 0, 0, 0, 0, 0, {0}}

/*
 * Adds the class units of a schema-3 document (the n bytes at text: the
 * "class_units" array) of document doc, whose process is pid and program,
 * to cg. Returns 0, or -1 after printing which unit, row and field of path
 * is wrong (cg unchanged).
 */
int lwt_cgraph_add_units(lwt_cgraph_t *cg, size_t doc, const char *path, const char *text,
                         size_t n, long long pid, const char *program);

/*
 * Adds the class graph of a schema-2 document (root's "classes",
 * "class_graph" and "stacks" objects) of document doc to cg. An edge naming
 * a class its document does not describe is left out.
 */
void lwt_cgraph_add_v2(lwt_cgraph_t *cg, size_t doc, json_object *root);

/* Frees everything cg holds. */
void lwt_cgraph_free(lwt_cgraph_t *cg);

/* Appends s to out as a JSON string (quoted, escaped); NULL gives null. */
void lwt_json_quote(lwt_str_t *out, const char *s);

/*
 * Reads path and checks that it is a lockwatch document; adds it with its
 * reports and processes. Returns 0, or -1 after printing one line that names
 * the file and what is wrong (for JSON syntax: the byte offset, line and
 * column, and json-c's description). d is unchanged on failure.
 */
int lwt_docs_add(lwt_docs_t *d, const char *path);

/* As lwt_docs_add, for a document already in memory (len bytes at data) named path. */
int lwt_docs_add_buffer(lwt_docs_t *d, const char *path, const char *data, size_t len);

/* Frees every document of d. */
void lwt_docs_free(lwt_docs_t *d);

/*
 * Loads every path; returns 0, or -1 after the first that fails (its error
 * printed).
 */
int lwt_docs_load_all(lwt_docs_t *d, char **paths, int npaths);

/*
 * One document for all of d (the format of lockwatch run --json): the first
 * process's pid, program and argv, a "processes" array, every report and
 * suppressed report with its "pid", and the stats summed. The caller owns the
 * result (json_object_put). If d has no process, fallback_pid and
 * fallback_argv (NULL-terminated) describe the run.
 */
json_object *lwt_docs_merge(const lwt_docs_t *d, long long fallback_pid,
                            char *const *fallback_argv);

/*
 * profile.c: the profile sections of every document of d merged into one
 * (docs/report-format.md "Profile"): the same lock in several documents
 * (same program and type, and same name or creation site) is one entry, its
 * counts added, its maxima kept, its call sites merged; totals added. NULL
 * when no document has a profile. The caller owns the result. lockwatch run
 * uses it for its merged document, and any merge of documents should.
 */
json_object *lwt_profile_merge(const lwt_docs_t *d);

/*
 * profile.c: the profile table of prof (a "profile" section) for whose
 * ("pid 123", "3 processes"), its top locks at most, appended to out: the
 * same text as the runtime's table at exit.
 */
void lwt_profile_table(lwt_str_t *out, json_object *prof, const char *whose, long top);

/*
 * The document as text (pretty printed, with a final newline) into out.
 * Returns false if json-c could not format it.
 */
bool lwt_json_format(json_object *root, lwt_str_t *out);

/* ---- reading fields without trusting their types (doc.c) --------------------------- */

/* o[key] if o is an object and the member has type t, else NULL. */
json_object *lwt_get(json_object *o, const char *key, json_type t);

/* o[key] as a string, or NULL if absent, null or not a string. */
const char *lwt_get_str(json_object *o, const char *key);

/* o[key] as an integer, or dflt if absent or not an integer. */
long long lwt_get_int(json_object *o, const char *key, long long dflt);

/*
 * Does report r fail a run? Only a report whose "fails" is false (a cycle
 * that cannot deadlock, or one an option lets pass) does not.
 */
bool lwt_report_fails(json_object *r);

/* Number of reports in d that fail a run. */
size_t lwt_docs_failing(const lwt_docs_t *d);

/* Number of elements of an array (0 if a is NULL or not an array). */
size_t lwt_len(json_object *a);

/* a[i], or NULL. */
json_object *lwt_at(json_object *a, size_t i);

/* A stack frame's fields (docs/report-format.md "A frame"); NULL for missing strings. */
typedef struct lwt_frame {
  const char *pc, *function, *file, *module, *offset;
  long long line, column;
} lwt_frame_t;

/* Reads frame into f; returns false if frame is not an object. */
bool lwt_frame_get(json_object *frame, lwt_frame_t *f);

/*
 * The innermost frame of frames that has a file (and a line >= 1 if any
 * frame has one); if prefix is not NULL, the innermost under that directory
 * is preferred. Returns false if no frame has a file.
 */
bool lwt_frames_pick(json_object *frames, const char *prefix, lwt_frame_t *f);

/*
 * The stack a report's summary names: the "acquired" stack of its first
 * edge, else the stack of its first event; NULL if it has neither.
 */
json_object *lwt_report_primary_stack(json_object *report);

/* The lock with this id ("M3") among the report's locks, or NULL. */
json_object *lwt_report_lock(json_object *report, const char *id);

/* ---- the lock-order graph of reports (graph.c) -------------------------------------- */

/* A lock of the graph. */
typedef struct lwt_gnode {
  long long pid;
  char *id;             /* "M3" in the first report that named it */
  char *label;          /* lines separated by '\n'; NULL until the lock's details are known */
  json_object *lock;    /* the report's lock object the label came from, or NULL */
  const char *program;  /* of the first report that named it, or NULL */
  size_t tag, last_tag; /* the tags of the first and the last report that named it */
  size_t nreports;      /* how many reports name it */
  bool red;             /* in a cycle */
  bool profiled;        /* lockwatch graph --weight wait: the profile has it */
  long long wait_ns, contended;
} lwt_gnode_t;

/* An order (solid) or a wait (dashed) between two locks, or a re-lock (a loop). */
typedef struct lwt_gedge {
  size_t from, to; /* indices of nodes */
  bool dashed, red;
  char **labels; /* distinct labels (thread, file:line), each one or more lines */
  size_t nlabels;
  size_t tag;  /* the first report that made it */
  size_t item; /* in that report: the index of the edge (an order) or the event (a wait) */
  size_t last_tag, nreports;
} lwt_gedge_t;

typedef struct lwt_graph {
  lwt_gnode_t *nodes;
  size_t nnodes, cap_nodes;
  lwt_gedge_t *edges;
  size_t nedges, cap_edges;
  lwt_map_t node_index, edge_index;
  long long *pids; /* distinct processes, in order of appearance */
  const char **programs;
  size_t npids, cap_pids;
  /*
   * Set before adding: a lock with a class or a name is one node per program
   * (the same lock in every run), not one per process.
   */
  bool by_name;
  size_t tag; /* of the report being added */
} lwt_graph_t;

/*
 * Adds every lock report r names, and the orders, waits and re-locks its kind
 * implies (red when they make a cycle); tag is remembered as the report's.
 * g starts zeroed.
 */
void lwt_graph_add_report(lwt_graph_t *g, const lwt_report_t *r, size_t tag);

/* Frees everything g holds. */
void lwt_graph_free(lwt_graph_t *g);

/* ---- the subcommands and what they share ---------------------------------------- */

/* text.c: the text of one report, as the runtime prints it (docs/report-format.md "Text"). */
void lwt_text_report(lwt_str_t *out, const lwt_report_t *r);

/*
 * text.c: the sentence under the headline of a report that is not a cycle
 * ("Thread T1 requests mutex M1, which it already holds: ..."), without
 * indent or newline. Returns false, writing nothing, if the report has no
 * first event naming one of its locks.
 */
bool lwt_text_headline(lwt_str_t *out, json_object *report);

/*
 * text.c: the "possible unsafe locking scenario" of an inversion (nothing for
 * other reports), as the runtime writes it after the cycle line.
 */
void lwt_text_scenario(lwt_str_t *out, json_object *report);

/*
 * text.c: the sentences that label an edge's two stacks ("M2 acquired here
 * while holding M1 in thread T1:") and an event's stack, without the colon.
 */
void lwt_text_edge_labels(lwt_str_t *acquired, lwt_str_t *held, json_object *report,
                          json_object *edge);
void lwt_text_event_label(lwt_str_t *out, json_object *report, json_object *event);

/* "1 report", "2 reports": n and one or many, as n says. */
void lwt_count(lwt_str_t *out, size_t n, const char *one, const char *many);

/*
 * sarif.c: the SARIF 2.1.0 log of every report of d. srcroot (or NULL) is
 * stripped from file paths, which then become relative to uriBaseId SRCROOT.
 * The caller owns the result.
 */
json_object *lwt_sarif_build(const lwt_docs_t *d, const char *srcroot);

/*
 * sarif.c: srcroot as an absolute directory without trailing '/' (relative
 * to the working directory). Returns NULL after printing why it cannot be.
 */
char *lwt_srcroot_normalize(const char *srcroot);

/* html.c: what the page needs beyond the documents. */
typedef struct lwt_html_opts {
  const char *srcroot;    /* relative source paths are read under it; NULL: the working directory */
  int status;             /* lockwatch run's exit status, or -1: judged from the reports */
  const char *status_why; /* why that status (" (exitcode)"), or NULL */
  const char *from;       /* what made the documents, instead of their paths; or NULL */
} lwt_html_opts_t;

/*
 * html.c: writes one self-contained HTML page of every report of d to path
 * (NULL or "-": standard output), complete or not at all. Returns 0, or -1
 * after printing why.
 */
int lwt_html_write(const lwt_docs_t *d, const char *path, const lwt_html_opts_t *opts);

/*
 * run.c: the preload library lockwatch run would use (caller frees), or NULL
 * with *why (caller frees) saying where it looked and what to do.
 */
char *lwt_preload_find(char **why);

/*
 * The subcommands: argv[0] is the subcommand's name, argv[1..] its
 * arguments. Each returns the command's exit status, after printing any
 * error as one "lockwatch: " line.
 */
int lwt_cmd_run(int argc, char **argv);
int lwt_cmd_report(int argc, char **argv);
int lwt_cmd_graph(int argc, char **argv);
int lwt_cmd_sarif(int argc, char **argv);
int lwt_cmd_merge(int argc, char **argv);

/*
 * merge.c: keeps one report per bug in the array reports (same kind, detail,
 * summary and lock classes: the first, with "instances" summed and the pids
 * of the others in "also_in"). Returns how many are kept.
 */
size_t lwt_merge_reports(json_object *reports);

/*
 * merge.c: adds to root (a merged document with its "reports") the union of
 * the class graphs of d's documents, and a class-level inversion for every
 * cycle of the union that no report already names. Returns how many.
 */
size_t lwt_merge_classes(const lwt_docs_t *d, json_object *root);

#endif
