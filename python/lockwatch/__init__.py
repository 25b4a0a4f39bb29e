"""lockwatch's Python layer: threading's locks, checked by lockwatch.

Loaded by the sitecustomize.py next to this package when `lockwatch run`
starts a Python program (or by `python3 -m lockwatch prog.py`), install()
replaces threading.Lock, threading.RLock and _thread.allocate_lock with
locks that tell lockwatch what they do, so that a report names the
program's Python frames (file, line, function) and a lock's class is the
line that made it. Condition, Event, Barrier, queue and concurrent.futures
build on those and are covered through them. A Condition's waiter locks
stay CPython's: they are signals, not locks. threading.Semaphore and
BoundedSemaphore become subclasses that also tell lockwatch of a
semaphore made with value 1, a lock while it behaves as one.

Without lockwatch's library in the process, install() does nothing.
docs/python.md has the whole story.
"""
import os
import sys
import threading
import _thread

__all__ = ["install", "installed", "watching"]

_state = {"installed": False, "impl": None}


def _say(text):
    sys.stderr.write("lockwatch: " + text + "\n")
    sys.stderr.flush()


def _implementation():
    """The C module, or the pure-Python one (said once) if it is not built for this Python.

    LOCKWATCH_PYTHON_PURE=1 asks for the pure-Python one (tests, or a C
    module suspected of a fault), which is then not said.
    """
    if os.environ.get("LOCKWATCH_PYTHON_PURE") == "1":
        from . import _pure
        return _pure
    try:
        from . import _lockwatch
        return _lockwatch
    except ImportError:
        from . import _pure
        if _pure.active:
            _say("the Python layer's C module is not built for Python %d.%d (%s); using the "
                 "pure-Python layer, which is much slower" % (
                     sys.version_info[0], sys.version_info[1], sys.executable))
        return _pure


def watching():
    """Is lockwatch's library in this process?"""
    impl = _state["impl"] or _implementation()
    _state["impl"] = impl
    return bool(impl.active)


def installed():
    """Has install() replaced threading's locks?"""
    return _state["installed"]


_orig_semaphore = threading.Semaphore
_orig_bounded_semaphore = threading.BoundedSemaphore
_get_ident = _thread.get_ident


def _semaphore_classes(impl):
    """threading's Semaphore and BoundedSemaphore, telling impl what a Semaphore(1) does.

    A semaphore made with value 1 is a lock while it is acquired and then
    released by the same thread; at the first sign of signalling use impl
    forgets it (docs/rules.md, "Semaphores"). Any other value: never a lock.
    """

    class Semaphore(_orig_semaphore):
        __doc__ = _orig_semaphore.__doc__

        def __init__(self, value=1):
            _orig_semaphore.__init__(self, value)
            self._lw_state = impl.sem_create(self, value)

        def acquire(self, blocking=True, timeout=None):
            flags = impl.sem_before(self, self._lw_state, blocking, timeout)
            ok = False
            try:
                ok = super().acquire(blocking, timeout)
            finally:
                impl.sem_after(self, self._lw_state, flags, ok)
            return ok

        __enter__ = acquire

        def release(self, n=1):
            impl.sem_release(self, self._lw_state, n)
            super().release(n)

        def __del__(self):
            state = getattr(self, "_lw_state", None)
            if state is not None:
                impl.sem_forget(self, state)

    class BoundedSemaphore(Semaphore, _orig_bounded_semaphore):
        __doc__ = _orig_bounded_semaphore.__doc__

        def __init__(self, value=1):
            # (threading's own calls Semaphore.__init__ by name or by super(), as versions go)
            _orig_semaphore.__init__(self, value)
            self._initial_value = value
            self._lw_state = impl.sem_create(self, value)

    for cls in (Semaphore, BoundedSemaphore):
        cls.__module__ = "threading"
    return Semaphore, BoundedSemaphore


def install():
    """Replaces threading's lock factories and semaphores with checked ones; True if it did.

    Does nothing (False) without lockwatch's library, or when done already.
    Locks made before this call stay CPython's and are not checked.
    """
    if _state["installed"] or not watching():
        return _state["installed"]
    impl = _state["impl"]
    impl.set_threading_file(threading.__file__)
    threading.Lock = impl.Lock
    threading.RLock = impl.RLock
    if hasattr(threading, "_CRLock"):
        threading._CRLock = impl.RLock
    _thread.allocate_lock = impl.Lock
    threading.Semaphore, threading.BoundedSemaphore = _semaphore_classes(impl)
    if hasattr(_thread, "allocate"):
        _thread.allocate = impl.Lock
    _state["installed"] = True
    return True
