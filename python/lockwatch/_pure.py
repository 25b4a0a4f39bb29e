"""The Python layer in pure Python (ctypes), for a Python the C module is not built for.

Same behaviour as _lockwatch.c, far slower: every acquisition builds its
frames and calls lockwatch through ctypes.
"""
import ctypes
import sys
import _thread

_real_lock = _thread.allocate_lock
_get_ident = _thread.get_ident


class _Frame(ctypes.Structure):
    _fields_ = [("file", ctypes.c_char_p), ("line", ctypes.c_int), ("function", ctypes.c_char_p)]


RECURSIVE, TRY, TIMED, FRAMES_ONLY = 0x1, 0x100, 0x800, 0x10000
_api = None
try:
    _self = ctypes.CDLL(None)
    _api = (_self.lw_api_lock_create, _self.lw_api_before_acquire, _self.lw_api_after_acquire,
            _self.lw_api_release, _self.lw_api_lock_forget)
    for f in _api:
        f.restype = None
    _api[0].restype = ctypes.c_int
except (OSError, AttributeError):
    _api = None
active = _api is not None
_threading_file = [None]
_keys = {}


def set_threading_file(path):
    _threading_file[0] = path


def _frames(depth):
    f = sys._getframe(depth)
    out = []
    while f is not None and len(out) < 32:
        co = f.f_code
        out.append((co.co_filename.encode(), f.f_lineno, co.co_name.encode()))
        f = f.f_back
    arr = (_Frame * len(out))(*[_Frame(*x) for x in out])
    return arr, len(out), out


def _announce(obj, flags, depth=3):
    """Tells lockwatch of a new lock made depth frames up (outside threading.py)."""
    arr, n, raw = _frames(depth)
    k = 0
    while k + 1 < n and raw[k][0].decode() == _threading_file[0]:
        k += 1
    key = _keys.setdefault((raw[k][0], raw[k][1]), ctypes.create_string_buffer(1)) if n else None
    _api[0](ctypes.c_void_p(id(obj)), None, ctypes.cast(key, ctypes.c_void_p) if key else None,
            flags | FRAMES_ONLY, arr, n)


def _parse(blocking, timeout):
    if not blocking and timeout != -1:
        raise ValueError("can't specify a timeout for a non-blocking call")
    return TRY if not blocking else (TIMED if timeout != -1 else 0)


class Lock:
    __slots__ = ("_lock", "_owner", "_tracked", "__weakref__")

    def __init__(self):
        self._lock = _real_lock()
        self._owner = None
        self._tracked = active
        if active:
            _announce(self, 0)

    def _forget(self):
        self._tracked = False
        _api[4](ctypes.c_void_p(id(self)))

    def acquire(self, blocking=True, timeout=-1):
        flags = _parse(blocking, timeout)
        if self._tracked and self._owner == _get_ident() and not flags & TRY:
            self._forget()
        tracked = self._tracked
        if tracked:
            arr, n, _ = _frames(2)
            _api[1](ctypes.c_void_p(id(self)), flags | FRAMES_ONLY, arr, n)
        ok = self._lock.acquire(blocking, timeout)
        if tracked:
            _api[2](ctypes.c_void_p(id(self)), flags, int(ok))
        if ok:
            self._owner = _get_ident()
        return ok

    def release(self):
        owner, self._owner = self._owner, None
        self._lock.release()
        if self._tracked:
            if owner != _get_ident():
                self._forget()
            else:
                _api[3](ctypes.c_void_p(id(self)), 0, None, 0)

    def locked(self):
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()
        self._owner = None

    def __del__(self):
        if self._tracked:
            self._forget()


class RLock:
    __slots__ = ("_lock", "_owner", "_count", "_tracked", "__weakref__")

    def __init__(self):
        self._lock = _real_lock()
        self._owner, self._count = None, 0
        self._tracked = active
        if active:
            _announce(self, RECURSIVE)

    def _take(self, flags, blocking, timeout, depth):
        if self._tracked:
            arr, n, _ = _frames(depth)
            _api[1](ctypes.c_void_p(id(self)), flags | FRAMES_ONLY, arr, n)
        ok = self._lock.acquire(blocking, timeout)
        if self._tracked:
            _api[2](ctypes.c_void_p(id(self)), flags, int(ok))
        return ok

    def acquire(self, blocking=True, timeout=-1):
        me = _get_ident()
        if self._count and self._owner == me:
            self._count += 1
            return True
        if not self._take(_parse(blocking, timeout), blocking, timeout, 3):
            return False
        self._owner, self._count = me, 1
        return True

    __enter__ = acquire

    def _let_go(self):
        self._owner, self._count = None, 0
        self._lock.release()
        if self._tracked:
            _api[3](ctypes.c_void_p(id(self)), 0, None, 0)

    def release(self):
        if not self._count or self._owner != _get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        if self._count == 1:
            self._let_go()
        else:
            self._count -= 1

    def __exit__(self, *exc):
        self.release()

    def _is_owned(self):
        return bool(self._count) and self._owner == _get_ident()

    def _recursion_count(self):
        return self._count if self._owner == _get_ident() else 0

    def _release_save(self):
        if not self._count:
            raise RuntimeError("cannot release un-acquired lock")
        state = (self._count, self._owner)
        self._let_go()
        return state

    def _acquire_restore(self, state):
        self._take(0, True, -1, 3)
        self._count, self._owner = state

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()
        self._owner, self._count = None, 0

    def __del__(self):
        if self._tracked:
            self._tracked = False
            _api[4](ctypes.c_void_p(id(self)))


class _SemState:
    """What the layer knows of a Semaphore(1): held, by whom, still a lock."""
    __slots__ = ("owner", "held", "tracked")

    def __init__(self, tracked):
        self.owner, self.held, self.tracked = None, False, tracked


def sem_create(sem, value):
    """The state of a new semaphore, announced as a lock when value is 1."""
    st = _SemState(active and value == 1)
    if st.tracked:
        _announce(sem, 0, 4)  # (_frames, _announce, sem_create, the layer's __init__)
    return st


def _sem_untrack(sem, st):
    st.tracked, st.held = False, False
    _api[4](ctypes.c_void_p(id(sem)))


def sem_before(sem, st, blocking, timeout):
    """Before an acquisition: the flags for sem_after, or -1 when lockwatch is not told."""
    timed = timeout is not None
    if not st.tracked or (not blocking and timed):
        return -1
    flags = TRY if not blocking else (TIMED if timed else 0)
    if st.held and st.owner == _get_ident() and blocking:
        _sem_untrack(sem, st)  # its holder waits for it: a signal
        return -1
    arr, n, _ = _frames(3)  # (_frames, sem_before, the layer's acquire)
    _api[1](ctypes.c_void_p(id(sem)), flags | FRAMES_ONLY, arr, n)
    return flags


def sem_after(sem, st, flags, ok):
    if flags < 0:
        return
    _api[2](ctypes.c_void_p(id(sem)), flags, int(bool(ok)))
    if ok and st.tracked:
        st.held, st.owner = True, _get_ident()


def sem_release(sem, st, n):
    """Before release(n): a release by its holder, or a sign of signalling use."""
    if not st.tracked:
        return
    if n == 1 and st.held and st.owner == _get_ident():
        st.held, st.owner = False, None
        _api[3](ctypes.c_void_p(id(sem)), 0, None, 0)
    else:
        _sem_untrack(sem, st)


def sem_forget(sem, st):
    if st.tracked:
        _sem_untrack(sem, st)
