/*
 * bank.c - tellers move money between accounts while a validator counts it.
 *
 * A C port of a short Python lesson on thread safety (unsafe_bank.py and
 * safe_bank_improved.py). Every account has its own mutex and a balance,
 * and the bank's total must never change. Teller 1 moves money from
 * account A to account B, teller 2 from B to A.
 *
 *   --variant=unsafe   no locks. A transfer withdraws, then deposits; the
 *                      validator is made to count while the money is in
 *                      flight, and sees a wrong total.
 *   --variant=coarse   one recursive bank-wide mutex around every transfer
 *                      and every count; a transfer counts the books before it
 *                      lets go, re-entering the lock it already holds.
 *   --variant=naive    (default) lock the account money leaves, then the
 *                      account it enters: A->B and B->A is a lock-order
 *                      inversion. The tellers are sequenced by a semaphore
 *                      (not a mutex), so this run never deadlocks.
 *   --variant=ordered  lock the two accounts in index order; the tellers run
 *                      A->B and B->A at the same time, with no inversion.
 *   --deadlock         naive only: the tellers meet at a barrier while each
 *                      holds its first account, then each asks for the
 *                      other's. A real deadlock: the program hangs until killed.
 *
 * Prints a short narrative and "total: N (expected N)". Exit status: 0 when
 * the books balance and no locked count saw a wrong total (always 0 for
 * unsafe, which shows a race and does not fail); 1 otherwise or if a thread
 * cannot be started; 2 on a bad command line.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    NUM_ACCOUNTS = 4,
    INITIAL_BALANCE = 10000,
    TRANSFERS_PER_TELLER = 1000,
    AMOUNT = 10,                  /* moved by each transfer */
    NUM_TELLERS = 2,
};

#define EXPECTED_TOTAL ((long)NUM_ACCOUNTS * INITIAL_BALANCE)

/*
 * One account per cache line. The lock is the first member, so the lock of
 * accounts[i] sits at byte 64 * i of the array ("accounts+64" is B's lock).
 */
struct account {
    _Alignas(64) pthread_mutex_t lock;
    long balance;
    const char *name;
};

#define ACCOUNT_INIT(label) \
    { .lock = PTHREAD_MUTEX_INITIALIZER, .balance = INITIAL_BALANCE, .name = (label) }

static struct account accounts[NUM_ACCOUNTS] = {
    ACCOUNT_INIT("A"), ACCOUNT_INIT("B"), ACCOUNT_INIT("C"), ACCOUNT_INIT("D"),
};

/* Coarse variant: the bank-wide lock, recursive; set up by bank_lock_init. */
static pthread_mutex_t bank_lock;

/* Coarse variant: counts made inside a transfer that saw a wrong total. */
static long nested_wrong_totals;   /* guarded by bank_lock */

/* Naive variant with --deadlock: tellers meet here holding their first lock. */
static bool deadlock_wanted;
static pthread_barrier_t deadlock_barrier;

/*
 * Unsafe variant: teller 1's first transfer stops halfway, lets the
 * validator count, and only then deposits.
 */
static struct {
    bool armed;                 /* the next unsafe transfer stops halfway */
    sem_t money_in_flight;      /* posted by the transfer after withdrawing */
    sem_t counted;              /* posted by the validator after counting */
} halfway;

/* The number of the teller running on this thread, 0 on other threads. */
static _Thread_local int current_teller;

/* Set by main once both tellers are done; the validator loop stops then. */
static atomic_bool tellers_done;

/* ---- helpers ----------------------------------------------------------- */

/* sem_wait that resumes after signals. Cannot fail on a valid semaphore. */
static void sem_wait_fully(sem_t *sem)
{
    while (sem_wait(sem) != 0 && errno == EINTR)
        continue;
}

/* Returns the sum of all balances, taking no lock. */
static long sum_balances(void)
{
    long total = 0;

    for (int i = 0; i < NUM_ACCOUNTS; i++)
        total += accounts[i].balance;
    return total;
}

/*
 * Makes bank_lock a recursive mutex. Returns 0, or the pthread error number
 * if the attribute or the mutex cannot be set up.
 */
static int bank_lock_init(void)
{
    pthread_mutexattr_t attr;
    int err = pthread_mutexattr_init(&attr);

    if (err != 0)
        return err;
    err = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    if (err == 0)
        err = pthread_mutex_init(&bank_lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return err;
}

/* ---- unsafe: no locks -------------------------------------------------- */

/*
 * If armed, disarms and lets the validator count the books while the money
 * is out of every account, waiting until it has. Otherwise does nothing.
 */
static void let_validator_look_halfway(void)
{
    if (!halfway.armed)
        return;
    halfway.armed = false;
    sem_post(&halfway.money_in_flight);
    sem_wait_fully(&halfway.counted);
}

/* Moves `amount` from `from` to `to` with no lock at all. */
static __attribute__((noinline)) void
transfer_unsafe(struct account *from, struct account *to, long amount)
{
    from->balance -= amount;
    let_validator_look_halfway();   /* the bank is in an invalid state here */
    to->balance += amount;
}

/* Unsafe validator thread: counts once, halfway through a transfer. Returns NULL. */
static void *validator_halfway_main(void *unused)
{
    (void)unused;
    sem_wait_fully(&halfway.money_in_flight);
    long total = sum_balances();
    printf("validator: counted %ld halfway through a transfer (expected %ld): %s\n",
           total, EXPECTED_TOTAL,
           total == EXPECTED_TOTAL ? "the books balance" : "the bank is in an invalid state");
    sem_post(&halfway.counted);
    return NULL;
}

/* ---- coarse: one recursive bank-wide lock ------------------------------ */

/* Returns the bank's total, counted under bank_lock (which may already be held). */
static long validate_coarse(void)
{
    pthread_mutex_lock(&bank_lock); /* LW:validate-coarse */
    long total = sum_balances();
    pthread_mutex_unlock(&bank_lock); /* LW:unlock-validate-coarse */
    return total;
}

/*
 * Moves `amount` from `from` to `to` under bank_lock, then counts the books
 * before letting go: validate_coarse takes bank_lock again, which only a
 * recursive mutex allows (a plain one would deadlock on itself).
 */
static __attribute__((noinline)) void
transfer_coarse(struct account *from, struct account *to, long amount)
{
    pthread_mutex_lock(&bank_lock); /* LW:coarse */
    from->balance -= amount;
    to->balance += amount;
    if (validate_coarse() != EXPECTED_TOTAL)
        nested_wrong_totals++;
    pthread_mutex_unlock(&bank_lock); /* LW:unlock-coarse */
}

/* ---- naive and ordered: one lock per account --------------------------- */

/*
 * Returns the bank's total, counted holding every account lock, taken in
 * index order (the order the ordered variant uses).
 */
static long validate_accounts(void)
{
    for (int i = 0; i < NUM_ACCOUNTS; i++)
        pthread_mutex_lock(&accounts[i].lock); /* LW:validate-all */
    long total = sum_balances();
    for (int i = NUM_ACCOUNTS - 1; i >= 0; i--)
        pthread_mutex_unlock(&accounts[i].lock); /* LW:unlock-validate-all */
    return total;
}

/*
 * --deadlock: announces the lock held and the one wanted, then waits at the
 * barrier until the other teller holds its first lock as well.
 */
static void wait_for_other_teller(const struct account *held, const struct account *wanted)
{
    printf("teller %d: holding %s, now asking for %s\n", current_teller, held->name, wanted->name);
    pthread_barrier_wait(&deadlock_barrier);
}

/*
 * Moves `amount` from `from` to `to`, locking in argument order: first the
 * account money leaves, then the account it enters. A->B in one thread and
 * B->A in another take the same two locks in opposite orders. from != to.
 */
static __attribute__((noinline)) void
transfer_naive(struct account *from, struct account *to, long amount)
{
    /* First lock: the account the money leaves. */
    pthread_mutex_lock(&from->lock); /* LW:naive-first */
    if (deadlock_wanted)
        wait_for_other_teller(from, to);
    /* Second lock: the account the money enters, taken while holding the first. */
    pthread_mutex_lock(&to->lock); /* LW:naive-second */
    from->balance -= amount;
    to->balance += amount;
    pthread_mutex_unlock(&to->lock); /* LW:unlock-naive-second */
    pthread_mutex_unlock(&from->lock); /* LW:unlock-naive-first */
}

/*
 * Moves `amount` from `from` to `to`, locking the two accounts in one global
 * order (lower index first) whatever the direction. from != to.
 */
static __attribute__((noinline)) void
transfer_ordered(struct account *from, struct account *to, long amount)
{
    struct account *first = from < to ? from : to;
    struct account *second = from < to ? to : from;

    pthread_mutex_lock(&first->lock); /* LW:ordered-first */
    pthread_mutex_lock(&second->lock); /* LW:ordered-second */
    from->balance -= amount;
    to->balance += amount;
    pthread_mutex_unlock(&second->lock); /* LW:unlock-ordered-second */
    pthread_mutex_unlock(&first->lock); /* LW:unlock-ordered-first */
}

/* ---- variants ---------------------------------------------------------- */

struct variant {
    const char *name;
    void (*transfer)(struct account *from, struct account *to, long amount);
    long (*validate)(void);         /* counts the books the variant's way */
    void *(*validator)(void *);     /* thread run beside the tellers, or NULL */
    bool sequenced;                 /* teller 2 waits until teller 1 is done */
    bool must_balance;              /* a wrong total is a failure */
};

static void *validator_loop_main(void *arg);

/*
 * The naive variant has no validator beside the tellers: counting locks the
 * accounts in index order, which would deadlock against teller 2 (B then A).
 * Its books are counted once the tellers are done.
 */
static const struct variant variants[] = {
    { "unsafe", transfer_unsafe, sum_balances, validator_halfway_main, true, false },
    { "coarse", transfer_coarse, validate_coarse, validator_loop_main, false, true },
    { "naive", transfer_naive, validate_accounts, NULL, true, true },
    { "ordered", transfer_ordered, validate_accounts, validator_loop_main, false, true },
};

/* Validator result of the looping validator. */
static long validator_checks, validator_wrong;

/*
 * Locked validator thread: counts the books again and again until the
 * tellers are done, recording how many counts saw a wrong total. Returns NULL.
 */
static void *validator_loop_main(void *arg)
{
    const struct variant *variant = arg;

    do {
        if (variant->validate() != EXPECTED_TOTAL)
            validator_wrong++;
        validator_checks++;
        sched_yield();
    } while (!atomic_load(&tellers_done));
    printf("validator: %ld counts while the tellers worked, %ld saw a wrong total\n",
           validator_checks, validator_wrong);
    return NULL;
}

/* ---- tellers ----------------------------------------------------------- */

struct teller {
    int id;
    struct account *from;
    struct account *to;
    const struct variant *variant;
    sem_t *wait_before;     /* NULL, or wait here for the previous teller */
    sem_t *post_after;      /* NULL, or hand the turn on here when done */
};

/* Teller thread: makes TRANSFERS_PER_TELLER transfers. Returns NULL. */
static void *teller_main(void *arg)
{
    const struct teller *self = arg;

    current_teller = self->id;
    if (self->wait_before) {
        printf("teller %d: waiting for teller 1 to finish\n", self->id);
        sem_wait_fully(self->wait_before);
    }
    printf("teller %d: moving %d x %d from %s to %s\n", self->id,
           TRANSFERS_PER_TELLER, AMOUNT, self->from->name, self->to->name);
    for (int i = 0; i < TRANSFERS_PER_TELLER; i++)
        self->variant->transfer(self->from, self->to, AMOUNT);
    printf("teller %d: done\n", self->id);
    if (self->post_after)
        sem_post(self->post_after);
    return NULL;
}

/* ---- command line and main --------------------------------------------- */

/* Returns the variant called `name`, or NULL if there is none. */
static const struct variant *find_variant(const char *name)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        if (strcmp(name, variants[i].name) == 0)
            return &variants[i];
    }
    return NULL;
}

/* Prints the usage to `out`. */
static void print_usage(FILE *out)
{
    fprintf(out, "usage: bank [--variant=unsafe|coarse|naive|ordered] [--deadlock]\n"
                 "  unsafe    no locks: the validator sees money in flight\n"
                 "  coarse    one recursive bank-wide lock\n"
                 "  naive     per-account locks in argument order (default)\n"
                 "  ordered   per-account locks in index order\n"
                 "  --deadlock  with naive: make the A->B / B->A tellers really deadlock\n");
}

/*
 * Reads the command line. Returns true on success; on a bad argument prints
 * a line naming it and the usage to stderr, returns false.
 */
static bool parse_args(int argc, char **argv, const struct variant **variant, bool *deadlock)
{
    static const char prefix[] = "--variant=";

    *variant = find_variant("naive");
    *deadlock = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool known = false;

        if (strncmp(arg, prefix, sizeof prefix - 1) == 0) {
            const struct variant *named = find_variant(arg + sizeof prefix - 1);
            if (named) {
                *variant = named;
                known = true;
            }
        } else if (strcmp(arg, "--deadlock") == 0) {
            *deadlock = true;
            known = true;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout);
            exit(0);
        }
        if (!known) {
            fprintf(stderr, "bank: unknown argument '%s'\n", arg);
            print_usage(stderr);
            return false;
        }
    }
    if (*deadlock && (*variant)->transfer != transfer_naive) {
        fprintf(stderr, "bank: --deadlock needs --variant=naive, not --variant=%s\n",
                (*variant)->name);
        return false;
    }
    return true;
}

/*
 * Sets up what `variant` needs before any thread starts. Returns 0, or a
 * pthread / errno error number.
 */
static int prepare(const struct variant *variant, bool deadlock, sem_t *turn)
{
    int err = 0;

    if (variant->transfer == transfer_coarse)
        err = bank_lock_init();
    if (err == 0 && variant->transfer == transfer_unsafe) {
        halfway.armed = true;
        if (sem_init(&halfway.money_in_flight, 0, 0) != 0 || sem_init(&halfway.counted, 0, 0) != 0)
            err = errno;
    }
    if (err == 0 && deadlock) {
        deadlock_wanted = true;
        err = pthread_barrier_init(&deadlock_barrier, NULL, NUM_TELLERS);
    }
    if (err == 0 && sem_init(turn, 0, 0) != 0)
        err = errno;
    return err;
}

/* Starts a thread running fn(arg) into *thread; exits with status 1 if it cannot. */
static void start_thread(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    int err = pthread_create(thread, NULL, fn, arg);

    if (err != 0) {
        fprintf(stderr, "bank: pthread_create: %s\n", strerror(err));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    const struct variant *variant;
    bool deadlock;
    sem_t turn;     /* teller 1 posts it when done; a sequenced teller 2 waits */
    pthread_t validator, tellers[NUM_TELLERS];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!parse_args(argc, argv, &variant, &deadlock))
        return 2;
    int err = prepare(variant, deadlock, &turn);
    if (err != 0) {
        fprintf(stderr, "bank: setup failed: %s\n", strerror(err));
        return 1;
    }

    bool sequenced = variant->sequenced && !deadlock;
    struct teller plan[NUM_TELLERS] = {
        { .id = 1, .from = &accounts[0], .to = &accounts[1], .variant = variant,
          .post_after = sequenced ? &turn : NULL },
        { .id = 2, .from = &accounts[1], .to = &accounts[0], .variant = variant,
          .wait_before = sequenced ? &turn : NULL },
    };

    printf("bank (%s%s): %d accounts of %d, total %ld\n", variant->name,
           deadlock ? ", deadlock" : "", NUM_ACCOUNTS, INITIAL_BALANCE, EXPECTED_TOTAL);
    if (variant->validator)
        start_thread(&validator, variant->validator, (void *)variant);
    for (int i = 0; i < NUM_TELLERS; i++)
        start_thread(&tellers[i], teller_main, &plan[i]);
    for (int i = 0; i < NUM_TELLERS; i++)
        pthread_join(tellers[i], NULL);
    atomic_store(&tellers_done, true);
    if (variant->validator)
        pthread_join(validator, NULL);

    if (variant->transfer == transfer_coarse)
        printf("tellers: %d counts inside transfers, %ld saw a wrong total\n",
               NUM_TELLERS * TRANSFERS_PER_TELLER, nested_wrong_totals);
    long total = variant->validate();
    printf("total: %ld (expected %ld)\n", total, EXPECTED_TOTAL);

    bool balanced = total == EXPECTED_TOTAL && validator_wrong == 0 && nested_wrong_totals == 0;
    return balanced || !variant->must_balance ? 0 : 1;
}
