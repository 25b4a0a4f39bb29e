/*
 * ticket_office.c - nine buyers share one stock of ten tickets.
 *
 * A C port of a short Python lesson on threads: a ticket office with a
 * stock of 10 and nine buyer threads asking for 1..9 tickets at once.
 * Buying is check-then-act: look at the stock, pause, take the tickets.
 *
 *   --variant=unlocked  no lock. Every buyer checks before anyone takes, so
 *                       all nine see enough tickets and the stock ends at -35.
 *   --variant=locked    (default) one mutex makes check and act one step; it
 *                       is released on the early "not enough" return too, and
 *                       the stock never goes below 0.
 *
 * Prints one line per buyer, then "final stock: N". Exit status: 0 in both
 * variants (the unlocked one shows a race, it does not fail), 1 if a thread
 * cannot be started, 2 on a bad command line.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    INITIAL_STOCK = 10,
    NUM_BUYERS = 9,  /* buyer n asks for n tickets, n = 1..9 */
    PAUSE_MS = 2,    /* the pause between check and act */
};

enum variant { VARIANT_UNLOCKED, VARIANT_LOCKED };

/*
 * The stock is atomic so that the unlocked variant shows only the
 * check-then-act race, never a torn or lost subtraction: what goes wrong is
 * that the check and the act are two steps, and only the lock joins them.
 */
static atomic_int stock = INITIAL_STOCK;

/* Guards the check and the act in the locked variant. */
static pthread_mutex_t stock_lock = PTHREAD_MUTEX_INITIALIZER;

/* All buyers arrive before anyone looks at the stock. */
static pthread_barrier_t doors_open;

/* Unlocked variant: all buyers have checked before anyone takes tickets. */
static pthread_barrier_t all_checked;

struct buyer {
    int wanted;            /* tickets asked for; also the buyer's number */
    enum variant variant;
};

/* Sleeps for ms milliseconds, resuming after signals. Cannot fail. */
static void sleep_ms(long ms)
{
    struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        continue;
}

/*
 * Buys `wanted` tickets with no lock. The barrier between check and act
 * widens the race window to the whole program, so every buyer passes the
 * check on the full stock and the result is the same on every run.
 */
static void buy_unlocked(int wanted)
{
    bool enough = atomic_load(&stock) >= wanted;   /* check */

    pthread_barrier_wait(&all_checked);
    if (!enough) {
        printf("buyer %d: not enough tickets\n", wanted);
        return;
    }
    sleep_ms(PAUSE_MS);
    int left = atomic_fetch_sub(&stock, wanted) - wanted;   /* act */
    printf("buyer %d: bought %d ticket(s), %d left in stock\n", wanted, wanted, left);
}

/*
 * Buys `wanted` tickets holding stock_lock from the check to the act, and
 * releases it on both ways out, as the seed does with acquire/release.
 */
static void buy_locked(int wanted)
{
    pthread_mutex_lock(&stock_lock); /* LW:ticket-lock */
    if (atomic_load(&stock) < wanted) {
        printf("buyer %d: not enough tickets\n", wanted);
        pthread_mutex_unlock(&stock_lock); /* LW:ticket-unlock-early */
        return;
    }
    sleep_ms(PAUSE_MS);
    int left = atomic_fetch_sub(&stock, wanted) - wanted;
    printf("buyer %d: bought %d ticket(s), %d left in stock\n", wanted, wanted, left);
    pthread_mutex_unlock(&stock_lock); /* LW:ticket-unlock */
}

/* Thread body: waits for the doors to open, then buys. Returns NULL. */
static void *buyer_main(void *arg)
{
    const struct buyer *self = arg;

    pthread_barrier_wait(&doors_open);
    if (self->variant == VARIANT_LOCKED)
        buy_locked(self->wanted);
    else
        buy_unlocked(self->wanted);
    return NULL;
}

/* Prints the usage to `out`. */
static void print_usage(FILE *out)
{
    fprintf(out, "usage: ticket_office [--variant=unlocked|locked]\n"
                 "  unlocked  check-then-act without a lock: the stock goes negative\n"
                 "  locked    one mutex around check and act (default)\n");
}

/*
 * Reads the command line into *variant. Returns true on success; on a bad
 * argument prints a line naming it and the usage to stderr, returns false.
 */
static bool parse_args(int argc, char **argv, enum variant *variant)
{
    *variant = VARIANT_LOCKED;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (strcmp(arg, "--variant=unlocked") == 0) {
            *variant = VARIANT_UNLOCKED;
        } else if (strcmp(arg, "--variant=locked") == 0) {
            *variant = VARIANT_LOCKED;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "ticket_office: unknown argument '%s'\n", arg);
            print_usage(stderr);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    enum variant variant;
    struct buyer buyers[NUM_BUYERS];
    pthread_t threads[NUM_BUYERS];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!parse_args(argc, argv, &variant))
        return 2;

    pthread_barrier_init(&doors_open, NULL, NUM_BUYERS);
    pthread_barrier_init(&all_checked, NULL, NUM_BUYERS);
    printf("ticket office (%s): %d tickets in stock\n",
           variant == VARIANT_LOCKED ? "locked" : "unlocked", INITIAL_STOCK);

    for (int i = 0; i < NUM_BUYERS; i++) {
        buyers[i] = (struct buyer){ .wanted = i + 1, .variant = variant };
        int err = pthread_create(&threads[i], NULL, buyer_main, &buyers[i]);
        if (err != 0) {
            fprintf(stderr, "ticket_office: pthread_create: %s\n", strerror(err));
            return 1;
        }
    }
    for (int i = 0; i < NUM_BUYERS; i++)
        pthread_join(threads[i], NULL);

    printf("final stock: %d\n", atomic_load(&stock));
    pthread_barrier_destroy(&all_checked);
    pthread_barrier_destroy(&doors_open);
    return 0;
}
