/*
 * graph.c - lockwatch graph: the lock-order graph that saved reports name,
 * as Graphviz DOT, or as SVG through Graphviz's dot.
 *
 * Every lock a report names is a node (labelled with its id, name, address
 * and type); every edge of an inversion is a solid edge and every wait of a
 * deadlock a dashed one (labelled with the thread and file:line). Locks and
 * edges of cycles are red. Lock ids are per process, so nodes are keyed by
 * pid and lock id, and each process gets its own cluster when there are
 * several.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

/* ---- the graph (shared with html.c) --------------------------------------------------------- */

/* Remembers process pid (and its program) for the clusters, once. */
static void note_pid(lwt_graph_t *g, long long pid, const char *program) {
  for (size_t i = 0; i < g->npids; i++)
    if (g->pids[i] == pid) return;
  if (g->npids == g->cap_pids) {
    g->cap_pids = g->cap_pids ? g->cap_pids * 2 : 8;
    g->pids = lwt_xrealloc(g->pids, g->cap_pids * sizeof *g->pids);
    g->programs = lwt_xrealloc(g->programs, g->cap_pids * sizeof *g->programs);
  }
  g->pids[g->npids] = pid;
  g->programs[g->npids++] = program;
}

/* "file:line" (file's last component) of the best frame of frames, or NULL. */
static char *where(json_object *frames) {
  lwt_frame_t f;
  if (!lwt_frames_pick(frames, NULL, &f)) return NULL;
  return lwt_xasprintf("%s:%lld", lwt_basename(f.file), f.line);
}

/* The label of a lock's node: id, name, address, type, or where it was created. */
static char *lock_label(json_object *lock, const char *id) {
  lwt_str_t s = LWT_STR_INIT;
  const char *name = lwt_get_str(lock, "name"), *addr = lwt_get_str(lock, "address");
  const char *type = lwt_get_str(lock, "type");
  lwt_str_puts(&s, id);
  if (name) lwt_str_printf(&s, "\n%s", name);
  if (addr) lwt_str_printf(&s, "\n%s", addr);
  if (type) lwt_str_printf(&s, "\n%s", type);
  if (!name) {
    char *w = where(lwt_get(lock, "created", json_type_array));
    if (w) lwt_str_printf(&s, "\ncreated at %s", w);
    free(w);
  }
  char *label = lwt_xstrdup(lwt_str_get(&s));
  lwt_str_free(&s);
  return label;
}

/*
 * The key of lock id of report r: the process and the id, or with by_name
 * the program and the lock's class or name (the same lock in every run).
 */
static char *node_key(const lwt_graph_t *g, long long pid, const char *program,
                      json_object *lock, const char *id) {
  const char *cls = lwt_get_str(lock, "class"), *name = lwt_get_str(lock, "name");
  if (g->by_name && (cls || name))
    return lwt_xasprintf("%s\n%s%s", program ? program : "", cls ? "class " : "",
                         cls ? cls : name);
  return lwt_xasprintf("%lld/%s", pid, id);
}

/*
 * The node of lock id of process pid (made if new); lock (or NULL)
 * describes it; g->tag is the report's that names it.
 */
static size_t node_of_lock(lwt_graph_t *g, long long pid, const char *program, const char *id,
                           json_object *lock) {
  char *key = node_key(g, pid, program, lock, id);
  size_t i;
  if (!lwt_map_get(&g->node_index, key, &i)) {
    if (g->nnodes == g->cap_nodes) {
      g->cap_nodes = g->cap_nodes ? g->cap_nodes * 2 : 16;
      g->nodes = lwt_xrealloc(g->nodes, g->cap_nodes * sizeof *g->nodes);
    }
    i = g->nnodes++;
    g->nodes[i] = (lwt_gnode_t){pid, lwt_xstrdup(id), NULL, NULL, program,
                                g->tag, g->tag, 1, false, false, 0, 0};
    lwt_map_put(&g->node_index, key, i);
    note_pid(g, pid, program);
  } else if (g->nodes[i].last_tag != g->tag) {
    g->nodes[i].last_tag = g->tag;
    g->nodes[i].nreports++;
  }
  free(key);
  if (!g->nodes[i].label && lock) {
    g->nodes[i].label = lock_label(lock, id);
    g->nodes[i].lock = lock;
  }
  return i;
}

/* The node of lock id in the report r (made if new); g->tag is r's. */
static size_t node_of(lwt_graph_t *g, const lwt_report_t *r, const char *id) {
  return node_of_lock(g, r->pid, r->program, id, lwt_report_lock(r->obj, id));
}

/*
 * --weight wait: every lock of doc's profile that made a thread wait
 * becomes a node (or weighs the node a report made), with its total wait.
 */
static void add_profile(lwt_graph_t *g, json_object *root) {
  json_object *locks = lwt_get(lwt_get(root, "profile", json_type_object), "locks",
                               json_type_array);
  long long doc_pid = lwt_get_int(root, "pid", 0);
  for (size_t i = 0; i < lwt_len(locks); i++) {
    json_object *l = lwt_at(locks, i);
    const char *id = lwt_get_str(l, "id");
    long long wait = lwt_get_int(l, "wait_ns", 0);
    if (!id || wait <= 0) continue;
    json_object *pids = lwt_get(l, "pids", json_type_array);
    long long pid = pids ? (long long)json_object_get_int64(lwt_at(pids, 0)) : doc_pid;
    size_t n = node_of_lock(g, pid, lwt_get_str(root, "program"), id, l);
    g->nodes[n].profiled = true;
    g->nodes[n].wait_ns += wait;
    g->nodes[n].contended += lwt_get_int(l, "contended", 0);
  }
}

/*
 * Adds the edge from -> to (or the label to the edge already there); item is
 * the index of the report's edge (or, for a wait, event) it comes from.
 */
static void add_edge(lwt_graph_t *g, size_t from, size_t to, bool dashed, bool red,
                     const char *label, size_t item) {
  char *key = lwt_xasprintf("%zu/%zu/%d", from, to, dashed);
  size_t i;
  if (!lwt_map_get(&g->edge_index, key, &i)) {
    if (g->nedges == g->cap_edges) {
      g->cap_edges = g->cap_edges ? g->cap_edges * 2 : 16;
      g->edges = lwt_xrealloc(g->edges, g->cap_edges * sizeof *g->edges);
    }
    i = g->nedges++;
    g->edges[i] = (lwt_gedge_t){from, to, dashed, red, NULL, 0, g->tag, item, g->tag, 1};
    lwt_map_put(&g->edge_index, key, i);
  } else if (g->edges[i].last_tag != g->tag) {
    g->edges[i].last_tag = g->tag;
    g->edges[i].nreports++;
  }
  free(key);
  lwt_gedge_t *e = &g->edges[i];
  e->red |= red;
  for (size_t k = 0; k < e->nlabels; k++)
    if (strcmp(e->labels[k], label) == 0) return;
  e->labels = lwt_xrealloc(e->labels, (e->nlabels + 1) * sizeof *e->labels);
  e->labels[e->nlabels++] = lwt_xstrdup(label);
}

/* Is the lock id of report an rwlock? */
static bool is_rwlock(json_object *report, const char *id) {
  const char *type = lwt_get_str(lwt_report_lock(report, id), "type");
  return type && strcmp(type, "rwlock") == 0;
}

/* Inversion: every edge of the cycle, red, labelled with thread and file:line. */
static void add_inversion(lwt_graph_t *g, const lwt_report_t *r) {
  json_object *edges = lwt_get(r->obj, "edges", json_type_array);
  for (size_t i = 0; i < lwt_len(edges); i++) {
    json_object *e = lwt_at(edges, i);
    const char *from = lwt_get_str(e, "from"), *to = lwt_get_str(e, "to");
    if (!from || !to) continue;
    size_t a = node_of(g, r, from), b = node_of(g, r, to);
    g->nodes[a].red = g->nodes[b].red = true;
    lwt_str_t label = LWT_STR_INIT;
    const char *thread = lwt_get_str(e, "thread"), *also = lwt_get_str(e, "also_by_thread");
    lwt_str_puts(&label, thread ? thread : "?");
    if (also) lwt_str_printf(&label, " (also %s)", also);
    if (is_rwlock(r->obj, from) || is_rwlock(r->obj, to)) {
      const char *fm = lwt_get_str(e, "from_mode"), *tm = lwt_get_str(e, "to_mode");
      lwt_str_printf(&label, " %s->%s", fm ? fm : "?", tm ? tm : "?");
    }
    char *w = where(lwt_get(e, "acquired", json_type_array));
    if (w) lwt_str_printf(&label, "\n%s", w);
    free(w);
    add_edge(g, a, b, false, true, lwt_str_get(&label), i);
    lwt_str_free(&label);
  }
}

/*
 * Deadlock: each thread's held locks -> the lock it waits for, red. Double
 * lock: a loop on the lock, red when the call would wait forever.
 */
static void add_waits(lwt_graph_t *g, const lwt_report_t *r, bool self_loop) {
  json_object *events = lwt_get(r->obj, "events", json_type_array);
  const char *detail = lwt_get_str(r->obj, "detail");
  bool red = !self_loop || (detail && (strcmp(detail, "blocks-forever") == 0 ||
                                       strcmp(detail, "may-block") == 0));
  size_t n = lwt_len(events);
  for (size_t i = 0; i < n; i++) {
    json_object *w = lwt_at(events, i);
    const char *what = lwt_get_str(w, "what"), *lock = lwt_get_str(w, "lock");
    const char *thread = lwt_get_str(w, "thread");
    bool waits = what && strcmp(what, self_loop ? "lock" : "wait") == 0;
    if (!waits || !lock || !thread) continue;
    size_t to = node_of(g, r, lock);
    g->nodes[to].red |= red;
    char *at = where(lwt_get(w, "stack", json_type_array));
    lwt_str_t label = LWT_STR_INIT;
    lwt_str_printf(&label, "%s %s", thread, self_loop ? "re-locks" : "waits");
    if (self_loop && detail) lwt_str_printf(&label, " (%s)", detail);
    if (at) lwt_str_printf(&label, "\n%s", at);
    free(at);
    if (self_loop) add_edge(g, to, to, true, red, lwt_str_get(&label), i);
    for (size_t k = 0; !self_loop && k < n; k++) {
      json_object *h = lwt_at(events, k);
      const char *hwhat = lwt_get_str(h, "what"), *hlock = lwt_get_str(h, "lock");
      const char *hthread = lwt_get_str(h, "thread");
      if (!hwhat || strcmp(hwhat, "held") || !hlock || !hthread || strcmp(hthread, thread))
        continue;
      size_t from = node_of(g, r, hlock);
      g->nodes[from].red = true;
      add_edge(g, from, to, true, true, lwt_str_get(&label), i);
    }
    lwt_str_free(&label);
  }
}

void lwt_graph_add_report(lwt_graph_t *g, const lwt_report_t *r, size_t tag) {
  g->tag = tag;
  const char *kind = lwt_get_str(r->obj, "kind");
  json_object *locks = lwt_get(r->obj, "locks", json_type_array);
  for (size_t i = 0; i < lwt_len(locks); i++) {
    const char *id = lwt_get_str(lwt_at(locks, i), "id");
    if (id) node_of(g, r, id);
  }
  if (strcmp(kind, "lock-order-inversion") == 0) add_inversion(g, r);
  else if (strcmp(kind, "deadlock") == 0) add_waits(g, r, false);
  else if (strcmp(kind, "double-lock") == 0) add_waits(g, r, true);
  /* Other kinds name locks, but no order between them: nodes only. */
  json_object *events = lwt_get(r->obj, "events", json_type_array);
  for (size_t i = 0; i < lwt_len(events); i++) {
    const char *id = lwt_get_str(lwt_at(events, i), "lock");
    if (id) node_of(g, r, id);
  }
}

/* Appends s as the inside of a DOT quoted string; '\n' in s becomes a line break. */
static void dot_escape(lwt_str_t *out, const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') lwt_str_printf(out, "\\%c", *s);
    else if (*s == '\n') lwt_str_puts(out, "\\n");
    else if ((unsigned char)*s < 0x20) lwt_str_puts(out, " ");
    else lwt_str_add(out, s, 1);
  }
}

/*
 * One node statement, index being its place in g->nodes. max_wait (> 0
 * with --weight wait) scales the fill: the more of the longest wait a lock
 * caused, the darker its orange (colour scheme oranges9, 1 to 9).
 */
static void dot_node(lwt_str_t *out, const lwt_gnode_t *n, size_t index, const char *indent,
                     long long max_wait) {
  lwt_str_printf(out, "%sn%zu [label=\"", indent, index);
  dot_escape(out, n->label ? n->label : n->id);
  if (max_wait > 0 && n->profiled)
    lwt_str_printf(out, "\\nwaited %lld.%03lld ms, %lld contended", n->wait_ns / 1000000,
                   n->wait_ns / 1000 % 1000, n->contended);
  lwt_str_puts(out, "\"");
  if (n->red) lwt_str_puts(out, ", color=red, fontcolor=red, penwidth=2");
  if (max_wait > 0 && n->profiled) {
    int shade = 1 + (int)(8.0 * (double)n->wait_ns / (double)max_wait + 0.5);
    if (shade > 9) shade = 9;
    lwt_str_printf(out, ", style=\"rounded,filled\", fillcolor=\"/oranges9/%d\"", shade);
    if (shade >= 7) lwt_str_puts(out, ", fontcolor=white");
  }
  lwt_str_puts(out, "];\n");
}

/* The whole graph as DOT; nreports is for the title; weighted: --weight wait. */
static void write_dot(lwt_str_t *out, const lwt_graph_t *g, size_t nreports, bool weighted) {
  long long max_wait = 0;
  for (size_t i = 0; weighted && i < g->nnodes; i++)
    if (g->nodes[i].wait_ns > max_wait) max_wait = g->nodes[i].wait_ns;
  lwt_str_puts(out, "digraph lockwatch {\n");
  lwt_str_puts(out, "  graph [rankdir=LR, labelloc=t, fontsize=12, label=\"lockwatch lock-order "
                    "graph: ");
  lwt_count(out, nreports, "report", "reports");
  lwt_str_puts(out, ", ");
  lwt_count(out, g->npids, "process", "processes");
  if (weighted) lwt_str_puts(out, "; locks shaded by total wait");
  lwt_str_puts(out, "\"];\n");
  lwt_str_puts(out, "  node [shape=box, style=rounded, fontsize=10];\n");
  lwt_str_puts(out, "  edge [fontsize=9];\n");
  bool clusters = g->npids > 1;
  for (size_t p = 0; p < g->npids; p++) {
    const char *indent = clusters ? "    " : "  ";
    if (clusters) {
      lwt_str_printf(out, "  subgraph cluster_%zu {\n    label=\"pid %lld", p, g->pids[p]);
      if (g->programs[p]) {
        lwt_str_puts(out, ": ");
        dot_escape(out, lwt_basename(g->programs[p]));
      }
      lwt_str_puts(out, "\";\n");
    }
    for (size_t i = 0; i < g->nnodes; i++)
      if (g->nodes[i].pid == g->pids[p]) dot_node(out, &g->nodes[i], i, indent, max_wait);
    if (clusters) lwt_str_puts(out, "  }\n");
  }
  for (size_t i = 0; i < g->nedges; i++) {
    const lwt_gedge_t *e = &g->edges[i];
    lwt_str_printf(out, "  n%zu -> n%zu [label=\"", e->from, e->to);
    for (size_t k = 0; k < e->nlabels; k++) {
      if (k) lwt_str_puts(out, "\\n");
      dot_escape(out, e->labels[k]);
    }
    lwt_str_puts(out, "\"");
    if (e->red) lwt_str_puts(out, ", color=red, fontcolor=red");
    if (e->dashed) lwt_str_puts(out, ", style=dashed");
    if (max_wait > 0 && g->nodes[e->to].profiled) /* an order into a lock waited for: thicker */
      lwt_str_printf(out, ", penwidth=%.1f",
                     1.0 + 4.0 * (double)g->nodes[e->to].wait_ns / (double)max_wait);
    lwt_str_puts(out, "];\n");
  }
  lwt_str_puts(out, "}\n");
}

void lwt_graph_free(lwt_graph_t *g) {
  for (size_t i = 0; i < g->nnodes; i++) {
    free(g->nodes[i].id);
    free(g->nodes[i].label);
  }
  for (size_t i = 0; i < g->nedges; i++) {
    for (size_t k = 0; k < g->edges[i].nlabels; k++) free(g->edges[i].labels[k]);
    free(g->edges[i].labels);
  }
  free(g->nodes);
  free(g->edges);
  free(g->pids);
  free(g->programs);
  lwt_map_free(&g->node_index);
  lwt_map_free(&g->edge_index);
}

/* ---- SVG through dot ------------------------------------------------------------------------ */


/*
 * Runs dot -Tsvg with the DOT text on its input and its output going to
 * out_path (NULL or "-": standard output; a file is replaced only when dot
 * succeeds). Returns 0, or -1 after printing why.
 */
static int render_svg(const char *dot, size_t n, const char *out_path) {
  int in[2], status_pipe[2];
  int out_fd = STDOUT_FILENO;
  char *tmp = NULL;
  if (out_path && strcmp(out_path, "-") != 0) {
    tmp = lwt_xasprintf("%s.tmp.XXXXXX", out_path);
    out_fd = mkostemp(tmp, O_CLOEXEC);
    mode_t mask = umask(0);
    umask(mask);
    if (out_fd < 0 || fchmod(out_fd, 0666 & ~mask) != 0) {
      lwt_error("cannot write %s: %s", out_path, strerror(errno));
      if (out_fd >= 0) {
        close(out_fd);
        unlink(tmp);
      }
      free(tmp);
      return -1;
    }
  }
  if (pipe2(in, O_CLOEXEC) != 0) {
    lwt_error("graph: cannot make a pipe: %s", strerror(errno));
    goto fail;
  }
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    lwt_error("graph: cannot make a pipe: %s", strerror(errno));
    close(in[0]);
    close(in[1]);
    goto fail;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    lwt_error("graph: cannot start dot: %s", strerror(errno));
    close(in[0]);
    close(in[1]);
    close(status_pipe[0]);
    close(status_pipe[1]);
    goto fail;
  }
  if (pid == 0) {
    if (dup2(in[0], STDIN_FILENO) >= 0 && dup2(out_fd, STDOUT_FILENO) >= 0)
      execlp("dot", "dot", "-Tsvg", (char *)NULL);
    int e = errno;
    ssize_t w = write(status_pipe[1], &e, sizeof e);
    (void)w; /* nothing more the child can do */
    _exit(127);
  }
  close(in[0]);
  close(status_pipe[1]);
  int exec_errno = 0;
  ssize_t got;
  do got = read(status_pipe[0], &exec_errno, sizeof exec_errno);
  while (got < 0 && errno == EINTR);
  close(status_pipe[0]);
  bool wrote = true;
  int write_errno = 0;
  if (got <= 0) {
    /* dot is running: give it the graph (a dot that quits early must not kill us). */
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    wrote = lwt_write_all(in[1], dot, n);
    write_errno = errno;
    signal(SIGPIPE, old);
  }
  close(in[1]);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      lwt_error("graph: cannot wait for dot: %s", strerror(errno));
      goto fail;
    }
  }
  if (got > 0) {
    if (exec_errno == ENOENT)
      lwt_error("graph: --format svg runs Graphviz's dot, which is not installed (no 'dot' in "
                "PATH); install graphviz, or use --format dot");
    else
      lwt_error("graph: cannot run Graphviz's dot: %s", strerror(exec_errno));
    goto fail;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFSIGNALED(status))
      lwt_error("graph: dot was killed by signal %d (%s)", WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    else
      lwt_error("graph: dot failed with exit status %d", WEXITSTATUS(status));
    goto fail;
  }
  if (!wrote) {
    lwt_error("graph: cannot give the graph to dot: %s", strerror(write_errno));
    goto fail;
  }
  if (tmp) {
    int saved = 0;
    if (close(out_fd) != 0) saved = errno;
    out_fd = -1;
    if (!saved && rename(tmp, out_path) != 0) saved = errno;
    if (saved) {
      lwt_error("cannot write %s: %s", out_path, strerror(saved));
      goto fail;
    }
    free(tmp);
  }
  return 0;
fail:
  if (tmp) {
    if (out_fd >= 0) close(out_fd);
    unlink(tmp);
    free(tmp);
  }
  return -1;
}

/* ---- the command ---------------------------------------------------------------------------- */

static const char graph_usage[] =
    "usage: lockwatch graph [--format dot|svg] [-o FILE] [--suppressed] [--weight wait]\n"
    "                       FILE.json...\n"
    "\n"
    "Draws the lock-order graph of the reports in lockwatch JSON documents:\n"
    "every lock they name (id, name, address, type), every order between two\n"
    "locks of an inversion (thread and file:line), the waits of a deadlock\n"
    "(dashed); locks and edges of cycles in red.\n"
    "\n"
    "  --format dot|svg  Graphviz DOT (the default), or SVG drawn by Graphviz's dot\n"
    "  -o, --output FILE write to FILE instead of standard output\n"
    "  --suppressed      also draw the reports a suppression rule matched\n"
    "  --weight wait     shade every lock by how long threads waited for it (from\n"
    "                    the profile of a run with profile=1; locks that made\n"
    "                    threads wait are drawn even if no report names them)\n"
    "  -h, --help        print this help\n";

int lwt_cmd_graph(int argc, char **argv) {
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"suppressed", no_argument, NULL, 's'},
                                       {"weight", required_argument, NULL, 'w'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *out_path = NULL;
  bool svg = false, with_suppressed = false, weighted = false;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(graph_usage, stdout);
      return LWT_EXIT_OK;
    case 'f':
      if (strcmp(optarg, "svg") == 0) svg = true;
      else if (strcmp(optarg, "dot") == 0) svg = false;
      else return lwt_usage_error("graph", "unknown format '%s' (accepted: dot, svg)", optarg);
      break;
    case 'o': out_path = optarg; break;
    case 's': with_suppressed = true; break;
    case 'w':
      if (strcmp(optarg, "wait") == 0) weighted = true;
      else if (strcmp(optarg, "none") == 0) weighted = false;
      else return lwt_usage_error("graph", "unknown weight '%s' (accepted: wait, none)", optarg);
      break;
    default: return lwt_bad_option("graph", c, argv);
    }
  }
  if (optind >= argc) return lwt_usage_error("graph", "no JSON file given");
  lwt_docs_t d = LWT_DOCS_INIT;
  if (lwt_docs_load_all(&d, argv + optind, argc - optind) != 0) {
    lwt_docs_free(&d);
    return LWT_EXIT_ERROR;
  }
  for (size_t i = 0; weighted && i < d.ndocs; i++) {
    if (!lwt_get(d.docs[i].root, "profile", json_type_object)) {
      lwt_error("graph: %s: no profile in this document, so nothing to weigh by wait: the run was "
                "made without profile=1 (set LOCKWATCH_OPTIONS=profile=1)", d.docs[i].path);
      lwt_docs_free(&d);
      return LWT_EXIT_ERROR;
    }
  }
  lwt_graph_t g;
  memset(&g, 0, sizeof g);
  for (size_t i = 0; i < d.nreports; i++) lwt_graph_add_report(&g, &d.reports[i], i);
  if (with_suppressed)
    for (size_t i = 0; i < d.nsuppressed; i++)
      lwt_graph_add_report(&g, &d.suppressed[i], d.nreports + i);
  for (size_t i = 0; weighted && i < d.ndocs; i++) add_profile(&g, d.docs[i].root);
  lwt_str_t dot = LWT_STR_INIT;
  write_dot(&dot, &g, d.nreports + (with_suppressed ? d.nsuppressed : 0), weighted);
  int r = svg ? render_svg(lwt_str_get(&dot), dot.n, out_path)
              : lwt_write_output(out_path, lwt_str_get(&dot), dot.n);
  lwt_str_free(&dot);
  lwt_graph_free(&g);
  lwt_docs_free(&d);
  return r == 0 ? LWT_EXIT_OK : LWT_EXIT_ERROR;
}
