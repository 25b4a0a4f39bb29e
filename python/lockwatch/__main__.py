"""python3 -m lockwatch prog.py [args]: runs a Python program under lockwatch.

Outside lockwatch, starts `lockwatch run -- <this python> -m lockwatch
prog.py args` (the library must be in the process from its start); inside,
installs the Python layer and runs prog.py as __main__. The exit status is
lockwatch run's (66 when something was reported).
"""
import os
import runpy
import shutil
import sys

import lockwatch

USAGE = "usage: python3 -m lockwatch prog.py [args...]"


def find_command():
    """The lockwatch command: $LOCKWATCH_COMMAND, the installed tree's, or PATH's."""
    env = os.environ.get("LOCKWATCH_COMMAND")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    # installed: <prefix>/lib/lockwatch/python/lockwatch -> <prefix>/bin/lockwatch
    near = os.path.normpath(os.path.join(here, "..", "..", "..", "..", "bin", "lockwatch"))
    if os.access(near, os.X_OK):
        return near
    return shutil.which("lockwatch")


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    if argv[0].startswith("-"):
        print("lockwatch: python3 -m lockwatch: unknown option '%s' (only a program path "
              "is accepted)\n%s" % (argv[0], USAGE), file=sys.stderr)
        return 2
    if not lockwatch.watching():
        command = find_command()
        if not command:
            print("lockwatch: python3 -m lockwatch: the lockwatch command was not found (set "
                  "LOCKWATCH_COMMAND to its path, or put it on PATH)", file=sys.stderr)
            return 127
        os.execv(command, [command, "run", "--", sys.executable, "-m", "lockwatch"] + argv)
    lockwatch.install()
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
