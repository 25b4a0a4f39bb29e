/*
 * main.c - the lockwatch command: picks the subcommand (run, report, graph,
 * sarif), answers --help and --version, and refuses anything else with one
 * line and exit status 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockwatch/lockwatch.h"
#include "tool.h"

static const char main_usage[] =
    "usage: lockwatch COMMAND [options] [args]\n"
    "\n"
    "lockwatch checks the lock order of unmodified programs at run time and\n"
    "reports potential deadlocks, real deadlocks and lock misuse.\n"
    "\n"
    "Commands:\n"
    "  run [options] -- PROGRAM [ARGS...]   run a program under lockwatch and check it\n"
    "  report FILE.json...                  print saved reports as text (--html: as a page)\n"
    "  graph FILE.json...                   draw the lock-order graph (DOT or SVG)\n"
    "  sarif FILE.json...                   convert saved reports to SARIF 2.1.0\n"
    "  merge -o OUT.json FILE.json...       join documents of many runs; report cycles across them\n"
    "\n"
    "  lockwatch COMMAND --help   the options of a command\n"
    "  lockwatch --version        the version, and the preload library run uses\n";

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
} commands[] = {
    {"run", lwt_cmd_run},
    {"report", lwt_cmd_report},
    {"graph", lwt_cmd_graph},
    {"sarif", lwt_cmd_sarif},
    {"merge", lwt_cmd_merge},
};

/* lockwatch --version: the version and the preload run would use. Returns the exit status. */
static int version(void) {
  char *why;
  char *preload = lwt_preload_find(&why);
  printf("lockwatch %s\n", LOCKWATCH_VERSION_STRING);
  if (preload) printf("preload: %s\n", preload);
  else printf("preload: not found: %s\n", why);
  free(preload);
  free(why);
  if (fflush(stdout) != 0) {
    lwt_error("cannot write to standard output");
    return LWT_EXIT_ERROR;
  }
  return LWT_EXIT_OK;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    lwt_error("no command given (accepted: run, report, graph, sarif); see 'lockwatch --help'");
    return LWT_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    if (argc > 2 && strcmp(cmd, "help") == 0) {
      /* "lockwatch help run" is "lockwatch run --help". */
      char *sub[] = {argv[2], "--help", NULL};
      for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[2], commands[i].name) == 0) return commands[i].fn(2, sub);
      lwt_error("unknown command '%s' (accepted: run, report, graph, sarif); see 'lockwatch "
                "--help'", argv[2]);
      return LWT_EXIT_USAGE;
    }
    fputs(main_usage, stdout);
    return LWT_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    if (argc > 2) {
      lwt_error("--version takes no argument; see 'lockwatch --help'");
      return LWT_EXIT_USAGE;
    }
    return version();
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
  if (cmd[0] == '-')
    lwt_error("unknown option '%s' (a command comes first: run, report, graph, sarif); see "
              "'lockwatch --help'", cmd);
  else
    lwt_error("unknown command '%s' (accepted: run, report, graph, sarif); see 'lockwatch "
              "--help'", cmd);
  return LWT_EXIT_USAGE;
}
