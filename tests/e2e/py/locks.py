#!/usr/bin/env python3
"""locks.py - Python's threading locks under lockwatch (end-to-end tests).

CPython up to 3.13.0 builds threading.Lock on a POSIX semaphore; lockwatch
takes it as a lock while it behaves as one (docs/rules.md, "Semaphores").

  abba       T1 takes A then B; once it is joined, T2 takes B then A: an
             inversion. --ordered: T2 takes A then B too.
  deadlock   T1 takes A, T2 takes B, they meet at a barrier, then T1 asks
             for B and T2 for A: a real deadlock (never run it natively).
             --ordered: they meet first, then both take A then B.
  signal     Locks used as signals, as Python allows: one released by a
             thread that did not take it, one waited for again by the thread
             holding it (until another releases it); their orders with a
             real lock, taken both ways, are no inversion.
  sync       queue.Queue, Condition, Event, Semaphore, BoundedSemaphore,
             Barrier and ThreadPoolExecutor used heavily and correctly, with
             nested locks always in one order. Prints a digest.
  sem-signal Semaphores used as signals: Semaphore(0) posted by another
             thread; Semaphore(1) and BoundedSemaphore(1) handed over (released
             by a thread that does not hold them, taken again by their holder,
             posted above 1); their orders with a real lock, taken both ways,
             are no inversion.
  --kind=Lock|RLock|Semaphore|BoundedSemaphore
             the lock type of A and B (default Lock); a semaphore is made
             with value 1 and used as a lock.

Prints "done" at the end (deadlock: "starting" first, "no deadlock" if the
threads finish). Exit status 0; 2 on a bad command line.
"""
import concurrent.futures
import hashlib
import queue
import sys
import threading


def abba(make, ordered):
    a, b = make(), make()

    def t1():
        with a:  # /* py-t1-a */
            with b:  # /* py-t1-b */
                pass

    def t2():
        first, second = (a, b) if ordered else (b, a)
        with first:  # /* py-t2-first */
            with second:  # /* py-t2-second */
                pass

    for fn in (t1, t2):
        t = threading.Thread(target=fn)
        t.start()
        t.join()


def deadlock(make, ordered):
    a, b = make(), make()
    meet = threading.Barrier(2)

    def worker(first, second):
        if ordered:
            meet.wait()
            first, second = a, b
        with first:
            if not ordered:
                meet.wait()
            with second:
                pass

    print("starting", flush=True)
    threads = [threading.Thread(target=worker, args=(a, b)),
               threading.Thread(target=worker, args=(b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("no deadlock")


def signal(make):
    """Locks that are signals: no report may name them."""
    ready, other = threading.Lock(), make()
    ready.acquire()
    with other:  # ready -> other, while ready is a lock
        pass

    def releaser():
        with other:
            ready.release()  # released by a thread that did not take it: a signal

    t = threading.Thread(target=releaser)
    t.start()
    t.join()
    with other:  # other -> ready: no inversion, ready is a signal
        ready.acquire()
        ready.release()

    done = threading.Lock()
    done.acquire()
    with other:  # done -> other
        pass

    def finisher():
        done.release()

    t = threading.Thread(target=finisher)
    t.start()
    done.acquire()  # its holder waits for it again: only finisher can end this
    done.release()
    with other:
        with done:  # other -> done
            pass
    t.join()


def sem_signal(make):
    """Semaphores that are signals: no report may name them."""
    other = make()

    # a counting semaphore, posted by another thread
    items = threading.Semaphore(0)

    def poster():
        for _ in range(3):
            with other:
                items.release()

    t = threading.Thread(target=poster)
    t.start()
    for _ in range(3):
        items.acquire()
        with other:
            pass
    t.join()

    # Semaphore(1) handed over: taken here, released by another thread
    baton = threading.Semaphore(1)
    baton.acquire()
    with other:  # baton -> other, while baton looks like a lock
        pass

    def passer():
        with other:
            baton.release()  # released by a thread that does not hold it: a signal

    t = threading.Thread(target=passer)
    t.start()
    t.join()
    with other:  # other -> baton: no inversion, baton is a signal
        with baton:
            pass

    # BoundedSemaphore(1) waited for again by its holder, until another releases it
    gate = threading.BoundedSemaphore(1)
    gate.acquire()
    with other:  # gate -> other
        pass
    opened = threading.Event()

    def opener():
        opened.wait()
        gate.release()

    t = threading.Thread(target=opener)
    t.start()
    opened.set()
    gate.acquire()  # its holder waits for it again: only opener can end this
    gate.release()
    t.join()
    with other:
        with gate:  # other -> gate
            pass

    # Semaphore(1) posted above 1 by a thread that never took it
    extra = threading.Semaphore(1)
    with extra:
        with other:  # extra -> other
            pass
    extra.release()  # value 2: a signal
    with other:
        with extra:  # other -> extra
            pass


def sync(make):
    """Every synchronisation object of the threading module, used correctly."""
    digest = hashlib.sha256()
    outer, inner = make(), make()  # always outer, then inner
    tally = {}

    # producers and consumers on a bounded queue
    work = queue.Queue(maxsize=8)
    results = queue.Queue()

    def producer(p):
        for i in range(3000):
            work.put((p, i))

    def consumer():
        while True:
            item = work.get()
            if item is None:
                work.task_done()
                return
            p, i = item
            with outer:
                with inner:
                    tally[p] = tally.get(p, 0) + i
            results.put(p * 100003 + i)
            work.task_done()

    producers = [threading.Thread(target=producer, args=(p,)) for p in range(3)]
    consumers = [threading.Thread(target=consumer) for _ in range(3)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    for _ in consumers:
        work.put(None)
    work.join()
    for t in consumers:
        t.join()
    got = sorted(results.get() for _ in range(results.qsize()))
    digest.update(repr(got).encode())
    digest.update(repr(sorted(tally.items())).encode())

    # a condition with a predicate, notified one by one
    cond = threading.Condition()
    box = []

    def waiter(n):
        with cond:
            cond.wait_for(lambda: len(box) > n)
            box.append(-n)

    waiters = [threading.Thread(target=waiter, args=(n,)) for n in range(6)]
    for t in waiters:
        t.start()
    for n in range(6):
        with cond:
            box.append(n)
            cond.notify_all()
    for t in waiters:
        t.join()
    digest.update(repr(sorted(box)).encode())

    # events, semaphores, a barrier, timed waits
    ready, go = threading.Event(), threading.Event()
    slots = threading.BoundedSemaphore(2)
    counting = threading.Semaphore(0)
    barrier = threading.Barrier(4)
    inside, most = [0], [0]
    count_lock = make()

    def runner(n):
        ready.wait()
        for _ in range(200):
            with slots:
                with count_lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                with count_lock:
                    inside[0] -= 1
        barrier.wait()
        counting.release()
        go.wait(timeout=30)

    runners = [threading.Thread(target=runner, args=(n,)) for n in range(4)]
    for t in runners:
        t.start()
    ready.set()
    for _ in runners:
        counting.acquire()
    go.set()
    for t in runners:
        t.join()
    digest.update(repr((most[0] <= 2, inside[0])).encode())
    if not outer.acquire(timeout=1):  # free: a timed acquire that succeeds
        raise SystemExit("outer lock not free")
    outer.release()

    # a thread pool
    def square(x):
        with outer:
            with inner:
                return x * x

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        squares = list(pool.map(square, range(2000)))
        futures = [pool.submit(square, x) for x in range(500)]
        done = sum(f.result() for f in concurrent.futures.as_completed(futures))
    digest.update(repr((sum(squares), done)).encode())
    print("digest:", digest.hexdigest())


USAGE = ("usage: locks.py abba|deadlock|signal|sem-signal|sync [--ordered]\n"
         "                [--kind=Lock|RLock|Semaphore|BoundedSemaphore]")


def main(argv):
    mode, ordered, kind = None, False, "Lock"
    for arg in argv[1:]:
        if arg in ("abba", "deadlock", "signal", "sem-signal", "sync") and mode is None:
            mode = arg
        elif arg == "--ordered":
            ordered = True
        elif arg in ("--kind=Lock", "--kind=RLock", "--kind=Semaphore",
                     "--kind=BoundedSemaphore"):
            kind = arg[7:]
        else:
            print(f"locks.py: unknown argument '{arg}'\n" + USAGE, file=sys.stderr)
            return 2
    if mode is None:
        print(USAGE, file=sys.stderr)
        return 2
    make = getattr(threading, kind)
    if mode == "abba":
        abba(make, ordered)
    elif mode == "deadlock":
        deadlock(make, ordered)
    elif mode == "signal":
        signal(make)
    elif mode == "sem-signal":
        sem_signal(make)
    else:
        sync(make)
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
