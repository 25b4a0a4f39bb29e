/*
 * _lockwatch.c - Python's threading locks, as lockwatch sees them: the
 * types Lock (threading.Lock, _thread.allocate_lock) and RLock, which take
 * a lock of CPython's own (PyThread_type_lock) exactly as _thread does and
 * tell lockwatch's custom-lock entry points (lockwatch.h; resolved with
 * dlsym at import, so without the preload the types are CPython's locks
 * with one test more) what they do.
 *
 * A lock's class is its creation site: the innermost Python frames outside
 * threading.py that made it (class_depth of them, by their text: the same
 * in every run). An acquisition names its site by a word (the
 * code object and instruction of the frame doing it); the Python frames
 * are made only when lockwatch needs a stack. A Lock released by a thread
 * that did not take it, or waited for again by its holder, is a signal: it
 * is forgotten (docs/python.md). A threading.Semaphore made with value 1
 * is such a lock too, through the sem_* functions (rules.md "Semaphores").
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#define LOCKWATCH_NO_API
#include <lockwatch/lockwatch.h>

#if PY_VERSION_HEX < 0x03090000
#error "the Python layer needs CPython 3.9 or later"
#endif

typedef unsigned (*frames_fn)(void *arg, lockwatch_frame_t *out, unsigned max);

static struct {
  int (*create)(const void *, const char *, const void *, unsigned, const lockwatch_frame_t *,
                unsigned);
  void (*before)(const void *, unsigned, uintptr_t, frames_fn, void *);
  void (*after)(const void *, unsigned, int);
  void (*release)(const void *, unsigned, const lockwatch_frame_t *, unsigned);
  void (*forget)(const void *);
  int (*suspend)(int);
} api;
static int active; /* the preload is there: every entry point was found */

static PyObject *threading_file; /* threading.__file__, whose frames a creation site skips */

/* ---- frames --------------------------------------------------------------------- */

static PyFrameObject *current_frame(void) { return PyEval_GetFrame(); /* borrowed */ }

static int frame_lasti(PyFrameObject *f) {
#if PY_VERSION_HEX >= 0x030B0000
  return PyFrame_GetLasti(f);
#else
  return f->f_lasti;
#endif
}

/* A word naming the place f is at: its code object and instruction. */
static uintptr_t site_of(PyFrameObject *f) {
  if (!f) return 1;
  PyCodeObject *co = PyFrame_GetCode(f);
  uintptr_t s = (uintptr_t)co * 1000003u + (uintptr_t)frame_lasti(f);
  Py_DECREF(co); /* the frame keeps it */
  return s;
}

static const char *utf8_or(PyObject *s) {
  const char *u = s ? PyUnicode_AsUTF8(s) : NULL;
  if (!u) {
    PyErr_Clear();
    return "?";
  }
  return u;
}

/*
 * The frames from f outwards into out, innermost first (at most max);
 * returns their number. The strings belong to code objects of frames still
 * running, so they live while the caller is inside the lock call.
 */
static unsigned frames_from(void *arg, lockwatch_frame_t *out, unsigned max) {
  PyFrameObject *f = arg;
  unsigned n = 0;
  PyObject *exc_type, *exc_value, *exc_tb;
  PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
  Py_XINCREF(f);
  while (f && n < max) {
    PyCodeObject *co = PyFrame_GetCode(f);
    out[n].file = utf8_or(co->co_filename);
    out[n].function = utf8_or(co->co_name);
    out[n].line = PyFrame_GetLineNumber(f);
    Py_DECREF(co);
    n++;
    PyFrameObject *back = PyFrame_GetBack(f);
    Py_DECREF(f);
    f = back;
  }
  Py_XDECREF(f);
  PyErr_Restore(exc_type, exc_value, exc_tb);
  return n;
}

/* Is f running code of threading.py? */
static int in_threading(PyFrameObject *f) {
  if (!threading_file) return 0;
  PyCodeObject *co = PyFrame_GetCode(f);
  int r = PyUnicode_Check(co->co_filename) &&
          PyUnicode_Compare(co->co_filename, threading_file) == 0;
  Py_DECREF(co);
  return r;
}

/*
 * Announces a new lock made from frame f: its class is the innermost site
 * outside threading.py, from f outwards.
 */
static void announce_from(void *lock, unsigned flags, PyFrameObject *f) {
  lockwatch_frame_t fr[16];
  unsigned n = frames_from(f, fr, 16), k = 0;
  Py_XINCREF(f);
  while (f && k + 1 < n && in_threading(f)) {
    PyFrameObject *back = PyFrame_GetBack(f);
    Py_DECREF(f);
    f = back;
    k++;
  }
  Py_XDECREF(f);
  /*
   * No class key: the class is made from the given frames (class_depth of
   * them, from the site outside threading.py), by their text, so it is the
   * same in every run and every process, as a C lock's is.
   */
  api.create(lock, NULL, NULL, flags | LOCKWATCH_FRAMES_ONLY, fr + k, n - k);
}

/* Announces a new lock made by the running code. */
static void announce(void *lock, unsigned flags) { announce_from(lock, flags, current_frame()); }

/* ---- taking CPython's lock, as _thread does --------------------------------------- */

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Takes lock, waiting up to timeout microseconds (-1: for ever) with the
 * GIL released; signal handlers run meanwhile. Returns 1 if taken, 0 if
 * not, -1 with an exception set (a handler raised).
 */
static int take(PyThread_type_lock lock, PY_TIMEOUT_T timeout) {
  if (PyThread_acquire_lock_timed(lock, 0, 0) == PY_LOCK_ACQUIRED) return 1;
  if (timeout == 0) return 0;
  int64_t deadline = timeout > 0 ? mono_us() + timeout : 0;
  PyLockStatus r;
  for (;;) {
    Py_BEGIN_ALLOW_THREADS r = PyThread_acquire_lock_timed(lock, timeout, 1);
    Py_END_ALLOW_THREADS if (r != PY_LOCK_INTR) break;
    if (Py_MakePendingCalls() < 0) return -1;
    if (timeout > 0) {
      timeout = deadline - mono_us();
      if (timeout <= 0) {
        r = PY_LOCK_FAILURE;
        break;
      }
    }
  }
  return r == PY_LOCK_ACQUIRED;
}

/* The arguments of acquire(blocking=True, timeout=-1): flags and microseconds, or -1 (error). */
static int parse_acquire(PyObject *args, PyObject *kw, unsigned *flags, PY_TIMEOUT_T *us) {
  static char *names[] = {"blocking", "timeout", NULL};
  int blocking = 1;
  double timeout = -1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|pd:acquire", names, &blocking, &timeout))
    return -1;
  if (!blocking && timeout != -1) {
    PyErr_SetString(PyExc_ValueError, "can't specify a timeout for a non-blocking call");
    return -1;
  }
  if (timeout < 0 && timeout != -1) {
    PyErr_SetString(PyExc_ValueError, "timeout value must be a non-negative number");
    return -1;
  }
  *flags = 0;
  if (!blocking) {
    *us = 0;
    *flags = LOCKWATCH_ACQ_TRY;
  } else if (timeout == -1) {
    *us = -1;
  } else {
    if (timeout * 1e6 >= (double)PY_TIMEOUT_MAX) {
      PyErr_SetString(PyExc_OverflowError, "timeout value is too large");
      return -1;
    }
    *us = (PY_TIMEOUT_T)(timeout * 1e6);
    *flags = LOCKWATCH_ACQ_TIMED;
  }
  return 0;
}

static PyThread_type_lock new_lock(void) {
  if (active) api.suspend(1); /* CPython's own semaphore is not a second lock */
  PyThread_type_lock l = PyThread_allocate_lock();
  if (active) api.suspend(0);
  return l;
}

/* ---- Lock --------------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD PyThread_type_lock lock;
  unsigned long owner; /* the thread that took it, while locked */
  char locked;
  char tracked; /* announced, and not found to be a signal */
  PyObject *weakrefs;
} lock_t;

static PyObject *lock_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  if ((args && PyTuple_GET_SIZE(args)) || (kw && PyDict_GET_SIZE(kw))) {
    PyErr_SetString(PyExc_TypeError, "lock() takes no arguments");
    return NULL;
  }
  lock_t *self = (lock_t *)type->tp_alloc(type, 0);
  if (!self) return NULL;
  self->lock = new_lock();
  if (!self->lock) {
    Py_DECREF(self);
    PyErr_SetString(PyExc_RuntimeError, "can't allocate lock");
    return NULL;
  }
  if (active) {
    announce(self, 0);
    self->tracked = 1;
  }
  return (PyObject *)self;
}

static void lock_dealloc(lock_t *self) {
  if (self->weakrefs) PyObject_ClearWeakRefs((PyObject *)self);
  if (self->tracked) api.forget(self);
  if (self->lock) {
    if (self->locked) PyThread_release_lock(self->lock);
    PyThread_free_lock(self->lock);
  }
  Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A Lock used as a signal is no lock: forgotten, never announced again. */
static void lock_untrack(lock_t *self) {
  self->tracked = 0;
  api.forget(self);
}

static PyObject *lock_take(lock_t *self, unsigned flags, PY_TIMEOUT_T us) {
  unsigned long me = PyThread_get_thread_ident();
  if (self->tracked && self->locked && self->owner == me && !(flags & LOCKWATCH_ACQ_TRY))
    lock_untrack(self); /* its holder waits for it again: only another thread can end this */
  int tracked = self->tracked;
  if (tracked) api.before(self, flags, site_of(current_frame()), frames_from, current_frame());
  int r = take(self->lock, us);
  if (tracked) api.after(self, flags, r == 1);
  if (r < 0) return NULL;
  if (r) {
    self->locked = 1;
    self->owner = me;
  }
  return PyBool_FromLong(r);
}

static PyObject *lock_acquire(lock_t *self, PyObject *args, PyObject *kw) {
  unsigned flags;
  PY_TIMEOUT_T us;
  if (parse_acquire(args, kw, &flags, &us) < 0) return NULL;
  return lock_take(self, flags, us);
}

static PyObject *lock_enter(lock_t *self, PyObject *unused) {
  (void)unused;
  return lock_take(self, 0, -1);
}

static PyObject *lock_release(lock_t *self, PyObject *unused) {
  (void)unused;
  if (!self->locked) {
    PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
    return NULL;
  }
  unsigned long owner = self->owner;
  self->locked = 0;
  self->owner = 0;
  PyThread_release_lock(self->lock);
  if (self->tracked) {
    if (owner != PyThread_get_thread_ident()) lock_untrack(self);
    else api.release(self, 0, NULL, 0);
  }
  Py_RETURN_NONE;
}

static PyObject *lock_exit(lock_t *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)args;
  (void)nargs;
  return lock_release(self, NULL);
}

static PyObject *lock_locked(lock_t *self, PyObject *unused) {
  (void)unused;
  return PyBool_FromLong(self->locked);
}

static PyObject *lock_at_fork_reinit(lock_t *self, PyObject *unused) {
  (void)unused;
  PyThread_type_lock l = new_lock();
  if (!l) {
    PyErr_SetString(PyExc_MemoryError, "can't allocate lock");
    return NULL;
  }
  if (self->tracked) api.forget(self);
  PyThread_free_lock(self->lock); /* (the child's copy: nobody else can have it) */
  self->lock = l;
  self->locked = 0;
  self->owner = 0;
  self->tracked = 0;
  if (active) {
    announce(self, 0);
    self->tracked = 1;
  }
  Py_RETURN_NONE;
}

static PyObject *lock_repr(lock_t *self) {
  return PyUnicode_FromFormat("<%s %s object at %p>", self->locked ? "locked" : "unlocked",
                              Py_TYPE(self)->tp_name, self);
}

static PyMethodDef lock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))lock_acquire, METH_VARARGS | METH_KEYWORDS, NULL},
    {"acquire_lock", (PyCFunction)(void (*)(void))lock_acquire, METH_VARARGS | METH_KEYWORDS,
     NULL},
    {"release", (PyCFunction)lock_release, METH_NOARGS, NULL},
    {"release_lock", (PyCFunction)lock_release, METH_NOARGS, NULL},
    {"locked", (PyCFunction)lock_locked, METH_NOARGS, NULL},
    {"locked_lock", (PyCFunction)lock_locked, METH_NOARGS, NULL},
    {"__enter__", (PyCFunction)lock_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))lock_exit, METH_FASTCALL, NULL},
    {"_at_fork_reinit", (PyCFunction)lock_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}};

static PyTypeObject lock_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_thread.lock",
    .tp_basicsize = sizeof(lock_t),
    .tp_dealloc = (destructor)lock_dealloc,
    .tp_repr = (reprfunc)lock_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A threading.Lock that lockwatch checks.",
    .tp_weaklistoffset = offsetof(lock_t, weakrefs),
    .tp_methods = lock_methods,
    .tp_new = lock_new,
};

/* ---- RLock -------------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD PyThread_type_lock lock;
  unsigned long owner; /* 0 when free */
  unsigned long count;
  char tracked;
  PyObject *weakrefs;
} rlock_t;

static PyObject *rlock_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  (void)args;
  (void)kw;
  rlock_t *self = (rlock_t *)type->tp_alloc(type, 0);
  if (!self) return NULL;
  self->lock = new_lock();
  if (!self->lock) {
    Py_DECREF(self);
    PyErr_SetString(PyExc_RuntimeError, "can't allocate lock");
    return NULL;
  }
  if (active) {
    announce(self, LOCKWATCH_LOCK_RECURSIVE);
    self->tracked = 1;
  }
  return (PyObject *)self;
}

static void rlock_dealloc(rlock_t *self) {
  if (self->weakrefs) PyObject_ClearWeakRefs((PyObject *)self);
  if (self->tracked) api.forget(self);
  if (self->lock) {
    if (self->count) PyThread_release_lock(self->lock);
    PyThread_free_lock(self->lock);
  }
  Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Takes it first time (the count is the caller's): 1, 0 or -1 as take(). */
static int rlock_take_first(rlock_t *self, unsigned flags, PY_TIMEOUT_T us) {
  int tracked = self->tracked;
  if (tracked) api.before(self, flags, site_of(current_frame()), frames_from, current_frame());
  int r = take(self->lock, us);
  if (tracked) api.after(self, flags, r == 1);
  return r;
}

static PyObject *rlock_take(rlock_t *self, unsigned flags, PY_TIMEOUT_T us) {
  unsigned long me = PyThread_get_thread_ident();
  if (self->count > 0 && self->owner == me) {
    if (self->count == ULONG_MAX) {
      PyErr_SetString(PyExc_OverflowError, "Internal lock count overflowed");
      return NULL;
    }
    self->count++;
    Py_RETURN_TRUE;
  }
  int r = rlock_take_first(self, flags, us);
  if (r < 0) return NULL;
  if (r) {
    self->owner = me;
    self->count = 1;
  }
  return PyBool_FromLong(r);
}

static PyObject *rlock_acquire(rlock_t *self, PyObject *args, PyObject *kw) {
  unsigned flags;
  PY_TIMEOUT_T us;
  if (parse_acquire(args, kw, &flags, &us) < 0) return NULL;
  return rlock_take(self, flags, us);
}

static PyObject *rlock_enter(rlock_t *self, PyObject *unused) {
  (void)unused;
  return rlock_take(self, 0, -1);
}

/* Lets it go entirely (the caller owns it). */
static void rlock_let_go(rlock_t *self) {
  self->owner = 0;
  self->count = 0;
  PyThread_release_lock(self->lock);
  if (self->tracked) api.release(self, 0, NULL, 0);
}

static PyObject *rlock_release(rlock_t *self, PyObject *unused) {
  (void)unused;
  if (self->count == 0 || self->owner != PyThread_get_thread_ident()) {
    PyErr_SetString(PyExc_RuntimeError, "cannot release un-acquired lock");
    return NULL;
  }
  if (self->count == 1) rlock_let_go(self);
  else self->count--;
  Py_RETURN_NONE;
}

static PyObject *rlock_exit(rlock_t *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)args;
  (void)nargs;
  return rlock_release(self, NULL);
}

static PyObject *rlock_is_owned(rlock_t *self, PyObject *unused) {
  (void)unused;
  return PyBool_FromLong(self->count > 0 && self->owner == PyThread_get_thread_ident());
}

static PyObject *rlock_recursion_count(rlock_t *self, PyObject *unused) {
  (void)unused;
  return PyLong_FromUnsignedLong(self->owner == PyThread_get_thread_ident() ? self->count : 0);
}

static PyObject *rlock_release_save(rlock_t *self, PyObject *unused) {
  (void)unused;
  if (self->count == 0) {
    PyErr_SetString(PyExc_RuntimeError, "cannot release un-acquired lock");
    return NULL;
  }
  unsigned long count = self->count, owner = self->owner;
  rlock_let_go(self);
  return Py_BuildValue("(kk)", count, owner);
}

static PyObject *rlock_acquire_restore(rlock_t *self, PyObject *state) {
  unsigned long count, owner;
  if (!PyArg_ParseTuple(state, "kk:_acquire_restore", &count, &owner)) return NULL;
  int r = rlock_take_first(self, 0, -1);
  if (r < 0) return NULL;
  self->owner = owner;
  self->count = count;
  Py_RETURN_NONE;
}

static PyObject *rlock_at_fork_reinit(rlock_t *self, PyObject *unused) {
  (void)unused;
  PyThread_type_lock l = new_lock();
  if (!l) {
    PyErr_SetString(PyExc_MemoryError, "can't allocate lock");
    return NULL;
  }
  if (self->tracked) api.forget(self);
  PyThread_free_lock(self->lock);
  self->lock = l;
  self->owner = 0;
  self->count = 0;
  self->tracked = 0;
  if (active) {
    announce(self, LOCKWATCH_LOCK_RECURSIVE);
    self->tracked = 1;
  }
  Py_RETURN_NONE;
}

static PyObject *rlock_repr(rlock_t *self) {
  return PyUnicode_FromFormat("<%s %s object owner=%lu count=%lu at %p>",
                              self->count ? "locked" : "unlocked", Py_TYPE(self)->tp_name,
                              self->owner, self->count, self);
}

static PyMethodDef rlock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))rlock_acquire, METH_VARARGS | METH_KEYWORDS, NULL},
    {"release", (PyCFunction)rlock_release, METH_NOARGS, NULL},
    {"__enter__", (PyCFunction)rlock_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))rlock_exit, METH_FASTCALL, NULL},
    {"_is_owned", (PyCFunction)rlock_is_owned, METH_NOARGS, NULL},
    {"_recursion_count", (PyCFunction)rlock_recursion_count, METH_NOARGS, NULL},
    {"_release_save", (PyCFunction)rlock_release_save, METH_NOARGS, NULL},
    {"_acquire_restore", (PyCFunction)rlock_acquire_restore, METH_O, NULL},
    {"_at_fork_reinit", (PyCFunction)rlock_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}};

static PyTypeObject rlock_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_thread.RLock",
    .tp_basicsize = sizeof(rlock_t),
    .tp_dealloc = (destructor)rlock_dealloc,
    .tp_repr = (reprfunc)rlock_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A threading.RLock that lockwatch checks.",
    .tp_weaklistoffset = offsetof(rlock_t, weakrefs),
    .tp_methods = rlock_methods,
    .tp_new = rlock_new,
};

/* ---- Semaphore(1): a lock while it behaves as one ----------------------------------- */

/*
 * The layer's Semaphore and BoundedSemaphore (lockwatch/__init__.py) are
 * threading's, whose acquire and release also call the functions below, on
 * the semaphore object's address. Only a semaphore made with value 1 is
 * announced; the first sign of signalling use (a release by a thread that
 * does not hold it, or of more than 1, which covers a value above 1; a
 * blocking acquisition by its holder) forgets it, as rules.md "Semaphores"
 * says. Its state is a small object the semaphore keeps, changed only here,
 * with the GIL held: each decision and its call are one step.
 */
typedef struct {
  PyObject_HEAD unsigned long owner; /* the thread holding it as a lock, while held */
  char held;
  char tracked; /* announced, and no sign of signalling use seen */
} semstate_t;

static PyTypeObject semstate_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lockwatch._lockwatch.SemState",
    .tp_basicsize = sizeof(semstate_t),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "What the layer knows of a Semaphore(1): held, by whom, still a lock.",
};

/* The Python frame that called the layer's method (the method's caller), new reference. */
static PyFrameObject *caller_frame(void) {
  PyFrameObject *f = current_frame();
  return f ? PyFrame_GetBack(f) : NULL;
}

static semstate_t *semstate_arg(PyObject *o) {
  if (Py_TYPE(o) != &semstate_type) {
    PyErr_SetString(PyExc_TypeError, "lockwatch: a semaphore state is needed");
    return NULL;
  }
  return (semstate_t *)o;
}

/*
 * sem_create(sem, value): the state of a new semaphore, announced as a lock
 * (classed by the frames outside the layer's __init__ and threading.py)
 * when lockwatch is there and value is 1.
 */
static PyObject *sem_create(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
  (void)mod;
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "sem_create(sem, value)");
    return NULL;
  }
  long value = PyLong_AsLong(args[1]);
  if (value == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    value = -1;
  }
  semstate_t *st = PyObject_New(semstate_t, &semstate_type);
  if (!st) return NULL;
  st->owner = 0;
  st->held = 0;
  st->tracked = 0;
  if (active && value == 1) {
    PyFrameObject *f = caller_frame();
    announce_from(args[0], 0, f);
    Py_XDECREF(f);
    st->tracked = 1;
  }
  return (PyObject *)st;
}

static void sem_untrack(PyObject *sem, semstate_t *st) {
  st->tracked = 0;
  st->held = 0;
  api.forget(sem);
}

/*
 * sem_before(sem, state, blocking, timeout): before the acquisition; returns
 * the flags to give sem_after, or -1 when lockwatch is not told (not a lock,
 * a sign of signalling use now, or arguments threading will refuse).
 */
static PyObject *sem_before(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
  (void)mod;
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError, "sem_before(sem, state, blocking, timeout)");
    return NULL;
  }
  semstate_t *st = semstate_arg(args[1]);
  if (!st) return NULL;
  int blocking = PyObject_IsTrue(args[2]);
  if (blocking < 0) return NULL;
  int timed = args[3] != Py_None;
  if (!st->tracked || (!blocking && timed)) return PyLong_FromLong(-1);
  unsigned flags = !blocking ? LOCKWATCH_ACQ_TRY : timed ? LOCKWATCH_ACQ_TIMED : 0;
  if (st->held && st->owner == PyThread_get_thread_ident() && blocking) {
    sem_untrack(args[0], st); /* its holder waits for it: only another thread can end this */
    return PyLong_FromLong(-1);
  }
  PyFrameObject *f = caller_frame();
  api.before(args[0], flags, site_of(f), frames_from, f);
  Py_XDECREF(f);
  return PyLong_FromLong(flags);
}

/* sem_after(sem, state, flags, acquired): after it, with sem_before's flags. */
static PyObject *sem_after(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
  (void)mod;
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError, "sem_after(sem, state, flags, acquired)");
    return NULL;
  }
  semstate_t *st = semstate_arg(args[1]);
  if (!st) return NULL;
  long flags = PyLong_AsLong(args[2]);
  int ok = PyObject_IsTrue(args[3]);
  if ((flags == -1 && PyErr_Occurred()) || ok < 0) return NULL;
  if (flags < 0) Py_RETURN_NONE;
  api.after(args[0], (unsigned)flags, ok);
  if (ok && st->tracked) {
    st->held = 1;
    st->owner = PyThread_get_thread_ident();
  }
  Py_RETURN_NONE;
}

/* sem_release(sem, state, n): before release(n); a release by its holder, or a sign. */
static PyObject *sem_release(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
  (void)mod;
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "sem_release(sem, state, n)");
    return NULL;
  }
  semstate_t *st = semstate_arg(args[1]);
  if (!st) return NULL;
  if (!st->tracked) Py_RETURN_NONE;
  long n = PyLong_AsLong(args[2]);
  if (n == -1 && PyErr_Occurred()) PyErr_Clear();
  if (n == 1 && st->held && st->owner == PyThread_get_thread_ident()) {
    st->held = 0;
    st->owner = 0;
    api.release(args[0], 0, NULL, 0); /* before the post: nobody can take it in between */
  } else {
    sem_untrack(args[0], st);
  }
  Py_RETURN_NONE;
}

/* sem_forget(sem, state): the semaphore is going away. */
static PyObject *sem_forget(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
  (void)mod;
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "sem_forget(sem, state)");
    return NULL;
  }
  semstate_t *st = semstate_arg(args[1]);
  if (!st) return NULL;
  if (st->tracked) sem_untrack(args[0], st);
  Py_RETURN_NONE;
}

/* ---- the module --------------------------------------------------------------- */

/* Finds the entry points; all or none. */
static void resolve(void) {
  void *p[6] = {dlsym(RTLD_DEFAULT, "lw_api_lock_create"),
                dlsym(RTLD_DEFAULT, "lw_api_before_acquire_lazy"),
                dlsym(RTLD_DEFAULT, "lw_api_after_acquire"),
                dlsym(RTLD_DEFAULT, "lw_api_release"),
                dlsym(RTLD_DEFAULT, "lw_api_lock_forget"),
                dlsym(RTLD_DEFAULT, "lw_api_suspend")};
  for (int i = 0; i < 6; i++)
    if (!p[i]) return;
  memcpy(&api.create, &p[0], sizeof p[0]);
  memcpy(&api.before, &p[1], sizeof p[1]);
  memcpy(&api.after, &p[2], sizeof p[2]);
  memcpy(&api.release, &p[3], sizeof p[3]);
  memcpy(&api.forget, &p[4], sizeof p[4]);
  memcpy(&api.suspend, &p[5], sizeof p[5]);
  active = 1;
}

/* set_threading_file(path): frames of this file are skipped when a lock's class is chosen. */
static PyObject *set_threading_file(PyObject *mod, PyObject *path) {
  (void)mod;
  if (!PyUnicode_Check(path)) {
    PyErr_SetString(PyExc_TypeError, "set_threading_file: a str is needed");
    return NULL;
  }
  Py_INCREF(path);
  Py_XSETREF(threading_file, path);
  Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"set_threading_file", set_threading_file, METH_O, NULL},
    {"sem_create", (PyCFunction)(void (*)(void))sem_create, METH_FASTCALL, NULL},
    {"sem_before", (PyCFunction)(void (*)(void))sem_before, METH_FASTCALL, NULL},
    {"sem_after", (PyCFunction)(void (*)(void))sem_after, METH_FASTCALL, NULL},
    {"sem_release", (PyCFunction)(void (*)(void))sem_release, METH_FASTCALL, NULL},
    {"sem_forget", (PyCFunction)(void (*)(void))sem_forget, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_lockwatch",
    .m_doc = "threading locks that lockwatch checks", .m_size = -1, .m_methods = module_methods};

PyMODINIT_FUNC PyInit__lockwatch(void) {
  resolve();
  if (PyType_Ready(&lock_type) < 0 || PyType_Ready(&rlock_type) < 0 ||
      PyType_Ready(&semstate_type) < 0)
    return NULL;
  PyObject *m = PyModule_Create(&module);
  if (!m) return NULL;
  Py_INCREF(&lock_type);
  Py_INCREF(&rlock_type);
  if (PyModule_AddObject(m, "Lock", (PyObject *)&lock_type) < 0 ||
      PyModule_AddObject(m, "RLock", (PyObject *)&rlock_type) < 0 ||
      PyModule_AddIntConstant(m, "active", active) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
