/*
 * fake_database.c - two workers update one value: the lost update.
 *
 * A C port of a short Python lesson on race conditions. FakeDatabase.update
 * reads the value, adds 10, sleeps, writes it back; two workers run it at
 * once ("thread 1", "thread 2").
 *
 *   --variant=unlocked  no lock: both read 0 before either writes, and the
 *                       value ends at 10 instead of 20.
 *   --variant=locked    (default) pthread_mutex_lock/unlock around the body;
 *                       the value ends at 20.
 *   --variant=scoped    the same lock taken by SCOPED_LOCK, a guard object
 *                       that unlocks when it goes out of scope (the C
 *                       counterpart of Python's `with lock:`); ends at 20.
 *
 * Exit status: 0 in every variant, 1 if a thread cannot be started, 2 on a
 * bad command line.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    NUM_WORKERS = 2,
    INCREMENT = 10,
    WORK_MS = 20,   /* the sleep between read and write-back */
};

enum variant { VARIANT_UNLOCKED, VARIANT_LOCKED, VARIANT_SCOPED };

struct fake_database {
    int value;
    pthread_mutex_t lock;           /* guards value in the locked variants */
    pthread_barrier_t both_read;    /* unlocked: both workers read before either writes */
};

static struct fake_database db = { .value = 0, .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- scoped lock ------------------------------------------------------- */

/* A held mutex that SCOPED_LOCK releases when the guard goes out of scope. */
struct scoped_lock {
    pthread_mutex_t *mutex;
};

/* Cleanup handler of a SCOPED_LOCK guard: unlocks the guarded mutex. */
static void scoped_lock_release(struct scoped_lock *guard)
{
    pthread_mutex_unlock(guard->mutex); /* LW:db-scope-exit */
}

#define SCOPED_LOCK_JOIN_(a, b) a##b
#define SCOPED_LOCK_JOIN(a, b) SCOPED_LOCK_JOIN_(a, b)
#define SCOPED_LOCK_GUARD SCOPED_LOCK_JOIN(scoped_lock_guard_, __LINE__)

/*
 * SCOPED_LOCK(m): locks mutex m until the end of the enclosing block, on
 * every way out of it (return, break, goto, falling off the end). Use it as
 * a statement of its own, one per line. The lock call expands on the line
 * where the macro is written, so a stack trace points at the user's line.
 */
#define SCOPED_LOCK(m)                                                      \
    struct scoped_lock SCOPED_LOCK_GUARD                                    \
        __attribute__((cleanup(scoped_lock_release))) = { .mutex = (m) };   \
    pthread_mutex_lock(SCOPED_LOCK_GUARD.mutex)

/* ---- the database ------------------------------------------------------ */

/* Sleeps for ms milliseconds, resuming after signals. Cannot fail. */
static void sleep_ms(long ms)
{
    struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        continue;
}

/*
 * The body of FakeDatabase.update: read, add INCREMENT, sleep, write back.
 * If `both_read` is not NULL the worker waits there after reading, so both
 * workers hold the same stale copy and one update is always lost.
 */
static void update_body(const char *name, pthread_barrier_t *both_read)
{
    printf("%s: starting update\n", name);
    int local_copy = db.value;
    if (both_read)
        pthread_barrier_wait(both_read);
    local_copy += INCREMENT;
    sleep_ms(WORK_MS);
    db.value = local_copy;
    printf("%s: finishing update\n", name);
}

/* update() with no lock: loses an update on every run. */
static void update_unlocked(const char *name)
{
    update_body(name, &db.both_read);
}

/* update() with an explicit lock and unlock around the body. */
static void update_locked(const char *name)
{
    pthread_mutex_lock(&db.lock); /* LW:db-lock */
    update_body(name, NULL);
    pthread_mutex_unlock(&db.lock); /* LW:db-unlock */
}

/* update() with the lock held by a guard for the whole function. */
static void update_scoped(const char *name)
{
    SCOPED_LOCK(&db.lock); /* LW:db-scoped */
    update_body(name, NULL);
}

/* ---- workers and main -------------------------------------------------- */

struct worker {
    const char *name;
    void (*update)(const char *name);
};

/* Thread body: runs one update. Returns NULL. */
static void *worker_main(void *arg)
{
    const struct worker *self = arg;

    self->update(self->name);
    return NULL;
}

/* Prints the usage to `out`. */
static void print_usage(FILE *out)
{
    fprintf(out, "usage: fake_database [--variant=unlocked|locked|scoped]\n"
                 "  unlocked  no lock: one update is lost, the value ends at 10\n"
                 "  locked    lock and unlock around the update (default)\n"
                 "  scoped    a guard that unlocks at the end of its scope\n");
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
        } else if (strcmp(arg, "--variant=scoped") == 0) {
            *variant = VARIANT_SCOPED;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "fake_database: unknown argument '%s'\n", arg);
            print_usage(stderr);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    static void (*const updates[])(const char *) = {
        [VARIANT_UNLOCKED] = update_unlocked,
        [VARIANT_LOCKED] = update_locked,
        [VARIANT_SCOPED] = update_scoped,
    };
    enum variant variant;
    struct worker workers[NUM_WORKERS] = { { .name = "thread 1" }, { .name = "thread 2" } };
    pthread_t threads[NUM_WORKERS];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!parse_args(argc, argv, &variant))
        return 2;

    pthread_barrier_init(&db.both_read, NULL, NUM_WORKERS);
    printf("Testing update. Starting value is %d.\n", db.value);
    for (int i = 0; i < NUM_WORKERS; i++) {
        workers[i].update = updates[variant];
        int err = pthread_create(&threads[i], NULL, worker_main, &workers[i]);
        if (err != 0) {
            fprintf(stderr, "fake_database: pthread_create: %s\n", strerror(err));
            return 1;
        }
    }
    for (int i = 0; i < NUM_WORKERS; i++)
        pthread_join(threads[i], NULL);
    printf("Testing update. Ending value is %d.\n", db.value);

    pthread_barrier_destroy(&db.both_read);
    return 0;
}
