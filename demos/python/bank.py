#!/usr/bin/env python3
"""bank.py - tellers move money between accounts while a validator counts it.

The Python original of demos/bank.c (after unsafe_bank.py and
safe_bank_improved.py). Every account has its own threading.Lock and a
balance, and the bank's total must never change. Teller 1 moves money from
account A to account B, teller 2 from B to A.

  --variant=unsafe   no locks. A transfer withdraws, then deposits; the
                     validator is made to count while the money is in
                     flight, and sees a wrong total.
  --variant=coarse   one bank-wide RLock around every transfer and every
                     count; a transfer counts the books before it lets go,
                     re-entering the lock it already holds.
  --variant=naive    (default) lock the account money leaves, then the
                     account it enters: A->B and B->A is a lock-order
                     inversion. Teller 2 starts when teller 1 is done (an
                     Event), so this run never deadlocks.
  --variant=ordered  lock the two accounts in a fixed global order (by
                     index); the tellers run A->B and B->A at the same time.
  --deadlock         naive only: the tellers meet at a barrier while each
                     holds its first account, then each asks for the other's.
                     A real deadlock: the program hangs until killed.

Prints a short narrative and "total: N (expected N)". Exit status: 0 when
the books balance and no locked count saw a wrong total (always 0 for
unsafe, which shows a race and does not fail); 1 otherwise; 2 on a bad
command line.
"""
import sys
import threading

NUM_ACCOUNTS = 4
INITIAL_BALANCE = 10000
TRANSFERS_PER_TELLER = 1000
AMOUNT = 10
EXPECTED_TOTAL = NUM_ACCOUNTS * INITIAL_BALANCE
VARIANTS = ("unsafe", "coarse", "naive", "ordered")
USAGE = "usage: bank.py [--variant=unsafe|coarse|naive|ordered] [--deadlock]"


def say(line):
    """Prints a whole line at once (threads print too)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Account:
    def __init__(self, index, name):
        self.index = index
        self.name = name
        self.balance = INITIAL_BALANCE
        self.lock = threading.Lock()


class Bank:
    def __init__(self, variant, deadlock):
        self.variant = variant
        self.accounts = [Account(i, n) for i, n in enumerate("ABCD")]
        self.lock = threading.RLock()  # coarse: bank-wide, re-entered by a count
        self.nested_wrong_totals = 0
        self.deadlock_barrier = threading.Barrier(2) if deadlock else None
        # unsafe: the first transfer stops halfway and lets the validator count
        self.halfway_armed = variant == "unsafe"
        self.money_in_flight = threading.Event()
        self.counted = threading.Event()

    def total(self):
        return sum(a.balance for a in self.accounts)

    def validate(self):
        """Counts the books the variant's way; returns the total."""
        if self.variant == "coarse":
            with self.lock:
                return self.total()
        return self.total()

    def transfer(self, source, target, amount, teller):
        getattr(self, "transfer_" + self.variant)(source, target, amount, teller)

    def transfer_unsafe(self, source, target, amount, teller):
        source.balance -= amount
        if self.halfway_armed:
            self.halfway_armed = False
            self.money_in_flight.set()
            self.counted.wait()
        target.balance += amount

    def transfer_coarse(self, source, target, amount, teller):
        with self.lock:
            source.balance -= amount
            target.balance += amount
            if self.validate() != EXPECTED_TOTAL:  # re-enters the RLock
                self.nested_wrong_totals += 1

    def transfer_naive(self, source, target, amount, teller):
        with source.lock:
            if self.deadlock_barrier is not None:
                say(f"teller {teller}: holding {source.name}, now asking for {target.name}")
                self.deadlock_barrier.wait()
            with target.lock:
                source.balance -= amount
                target.balance += amount

    def transfer_ordered(self, source, target, amount, teller):
        first, second = sorted((source, target), key=lambda a: a.index)
        with first.lock:
            with second.lock:
                source.balance -= amount
                target.balance += amount


def main(argv):
    variant, deadlock = "naive", False
    for arg in argv[1:]:
        if arg.startswith("--variant=") and arg[10:] in VARIANTS:
            variant = arg[10:]
        elif arg == "--deadlock":
            deadlock = True
        elif arg in ("-h", "--help"):
            print(USAGE)
            return 0
        else:
            print(f"bank.py: unknown argument '{arg}'\n{USAGE}", file=sys.stderr)
            return 2
    if deadlock and variant != "naive":
        print(f"bank.py: --deadlock needs --variant=naive, not --variant={variant}",
              file=sys.stderr)
        return 2
    bank = Bank(variant, deadlock)
    a, b = bank.accounts[0], bank.accounts[1]
    teller1_done = threading.Event()
    wrong = 0

    def teller(number, source, target):
        if variant == "naive" and number == 2 and not deadlock:
            say("teller 2: waiting for teller 1 to finish")
            teller1_done.wait()
        say(f"teller {number}: moving {TRANSFERS_PER_TELLER} x {AMOUNT} "
            f"from {source.name} to {target.name}")
        for _ in range(TRANSFERS_PER_TELLER):
            bank.transfer(source, target, AMOUNT, number)
        say(f"teller {number}: done")
        if number == 1:
            teller1_done.set()

    tellers = [threading.Thread(target=teller, args=(1, a, b)),
               threading.Thread(target=teller, args=(2, b, a))]
    for t in tellers:
        t.start()
    if variant == "unsafe":
        bank.money_in_flight.wait()
        seen = bank.total()
        say(f"validator: counted {seen} halfway through a transfer (expected "
              f"{EXPECTED_TOTAL}): {'wrong' if seen != EXPECTED_TOTAL else 'right'}")
        bank.counted.set()
    elif variant in ("coarse", "ordered"):
        counts = 0
        while any(t.is_alive() for t in tellers):
            counts += 1
            if bank.validate() != EXPECTED_TOTAL and variant == "coarse":
                wrong += 1
        say(f"validator: {counts} counts while the tellers worked, {wrong} saw a wrong total"
            if variant == "coarse" else "validator: counted while the tellers worked")
    for t in tellers:
        t.join()
    total = bank.total()
    say(f"total: {total} (expected {EXPECTED_TOTAL})")
    return 0 if total == EXPECTED_TOTAL and wrong == 0 and bank.nested_wrong_totals == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
