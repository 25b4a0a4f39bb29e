"""Starts lockwatch's Python layer, then the user's own sitecustomize.

`lockwatch run` puts this directory first on PYTHONPATH. Python imports
this module at startup; it installs the layer (when lockwatch's library is
in the process) and then imports the next sitecustomize on the path, so a
user's or a distribution's own keeps working. Written for any Python: on
one older than 3.9 it only hands over.

The layer starts only when asked for: LOCKWATCH_PYTHON set (lockwatch run
sets it), or this directory on PYTHONPATH. Reached through the installed
lockwatch.pth alone (on every python3's path), it only hands over.
"""
import os
import sys


def _lockwatch_boot():
    here = os.path.dirname(os.path.abspath(__file__))
    asked = bool(os.environ.get("LOCKWATCH_PYTHON")) or here in [
        os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if asked and sys.version_info >= (3, 9):
        try:
            import lockwatch
            lockwatch.install()
        except Exception as e:  # never stop the program
            sys.stderr.write("lockwatch: the Python layer did not load: %r\n" % (e,))
    ours = sys.modules.pop("sitecustomize", None)
    saved = list(sys.path)
    try:
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
        try:
            __import__("sitecustomize")
        except ImportError as e:
            if getattr(e, "name", "sitecustomize") != "sitecustomize":
                raise
            sys.modules["sitecustomize"] = ours
    finally:
        sys.path[:] = saved


_lockwatch_boot()
del _lockwatch_boot
