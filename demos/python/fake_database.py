#!/usr/bin/env python3
"""fake_database.py - two workers update one value: the lost update.

The Python original of demos/fake_database.c. FakeDatabase.update reads
the value, adds 10, sleeps, writes it back; two workers of a thread pool
run it at once ("thread 1", "thread 2").

  --variant=unlocked  no lock: both read 0 before either writes, and the
                      value ends at 10 instead of 20.
  --variant=locked    (default) lock.acquire() and lock.release() around the
                      body; the value ends at 20.
  --variant=scoped    the same lock taken with `with lock:`; ends at 20.

Exit status: 0 in every variant, 2 on a bad command line.
"""
import concurrent.futures
import sys
import threading
import time

NUM_WORKERS = 2
INCREMENT = 10
WORK = 0.02  # the sleep between read and write-back


class FakeDatabase:
    def __init__(self, variant):
        self.value = 0
        self.variant = variant
        self._lock = threading.Lock()
        self._both_read = threading.Barrier(NUM_WORKERS)  # unlocked: both read first

    def _body(self, name):
        local_copy = self.value
        if self.variant == "unlocked":
            self._both_read.wait()
        local_copy += INCREMENT
        time.sleep(WORK)
        self.value = local_copy

    def update(self, name):
        # one write per line: two threads printing at once never mix their lines
        print(f"{name}: starting update\n", end="", flush=True)
        if self.variant == "locked":
            self._lock.acquire()
            self._body(name)
            self._lock.release()
        elif self.variant == "scoped":
            with self._lock:
                self._body(name)
        else:
            self._body(name)
        # one write per line: two threads printing at once never mix their lines
        print(f"{name}: finishing update\n", end="", flush=True)


def main(argv):
    variant = "locked"
    usage = "usage: fake_database.py [--variant=unlocked|locked|scoped]"
    for arg in argv[1:]:
        if arg.startswith("--variant=") and arg[10:] in ("unlocked", "locked", "scoped"):
            variant = arg[10:]
        elif arg in ("-h", "--help"):
            print(usage)
            return 0
        else:
            print(f"fake_database.py: unknown argument '{arg}'\n{usage}", file=sys.stderr)
            return 2
    db = FakeDatabase(variant)
    print(f"Testing update. Starting value is {db.value}.")
    with concurrent.futures.ThreadPoolExecutor(max_workers=NUM_WORKERS) as executor:
        # reading the results makes an error in a worker an error here
        list(executor.map(db.update, ("thread 1", "thread 2")))
    print(f"Testing update. Ending value is {db.value}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
