#!/usr/bin/env python3
"""ticket_office.py - nine buyers share one stock of ten tickets.

The Python original of demos/ticket_office.c: a ticket office with a stock
of 10 and nine buyer threads asking for 1..9 tickets at once. Buying is
check-then-act: look at the stock, pause, take the tickets.

  --variant=unlocked  no lock. Every buyer checks before anyone takes, so all
                      nine see enough tickets and the stock ends at -35.
  --variant=locked    (default) one threading.Lock makes check and act one
                      step; it is released on the early "not enough" return
                      too, and the stock never goes below 0.

Prints one line per buyer, then "final stock: N". Exit status: 0 in both
variants (the unlocked one shows a race, it does not fail), 2 on a bad
command line.
"""
import sys
import threading
import time

INITIAL_STOCK = 10
NUM_BUYERS = 9  # buyer n asks for n tickets, n = 1..9
PAUSE = 0.002   # the pause between check and act


class TicketOffice:
    def __init__(self, stock, locked):
        self.stock = stock
        self.locked = locked
        self.lock = threading.Lock()
        # unlocked: every buyer has checked before anyone takes
        self.all_checked = threading.Barrier(NUM_BUYERS)

    def buy(self, quantity):
        if self.locked:
            self.lock.acquire()
        if self.stock < quantity:
            print(f"buyer {quantity}: not enough tickets")
            if self.locked:
                self.lock.release()  # the early return releases too
            return
        if not self.locked:
            self.all_checked.wait()
        time.sleep(PAUSE)
        self.stock -= quantity
        print(f"buyer {quantity}: bought {quantity}")
        if self.locked:
            self.lock.release()


def main(argv):
    variant = "locked"
    for arg in argv[1:]:
        if arg.startswith("--variant=") and arg[10:] in ("locked", "unlocked"):
            variant = arg[10:]
        elif arg in ("-h", "--help"):
            print("usage: ticket_office.py [--variant=locked|unlocked]")
            return 0
        else:
            print(f"ticket_office.py: unknown argument '{arg}'", file=sys.stderr)
            print("usage: ticket_office.py [--variant=locked|unlocked]", file=sys.stderr)
            return 2
    office = TicketOffice(INITIAL_STOCK, variant == "locked")
    buyers = [threading.Thread(target=office.buy, args=(n,)) for n in range(1, NUM_BUYERS + 1)]
    for b in buyers:
        b.start()
    for b in buyers:
        b.join()
    print(f"final stock: {office.stock}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
