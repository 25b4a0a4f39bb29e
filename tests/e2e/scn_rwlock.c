/*
 * scn_rwlock.c - reader-writer locks: orders by mode, re-locks, upgrades.
 *
 * Two rwlocks A and B, reader-preferring (glibc's default) unless
 * --writer-nr makes them PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP.
 * Threads run one after the other (joined), so no run ever deadlocks,
 * except "upgrade", which hangs natively (see below).
 *
 *   write-abba    T1 write-locks A then B, T2 B then A: an inversion.
 *                 --ordered: T2 takes A then B too: nothing to report.
 *   read-cycle    T1 read-locks A then B, T2 B then A. Two readers never
 *                 block each other on a reader-preferring rwlock: nothing to
 *                 report. With --writer-nr a queued writer makes a reader
 *                 wait: an inversion.
 *   mixed         T1 reads A then writes B, T2 reads B then writes A: each
 *                 write waits for the other's read, an inversion.
 *                 --read-second: T2 reads A instead (a read cannot wait for
 *                 T1's read of A): nothing to report.
 *   try           T1 writes A then try-locks B (trywrlock, or tryrdlock with
 *                 --read), T2 writes B then A: a trylock adds no order,
 *                 nothing to report.
 *   timed         T1 writes A then B with pthread_rwlock_timedwrlock, T2
 *                 writes B then reads A with pthread_rwlock_timedrdlock
 *                 (--clock: the clockwrlock/clockrdlock variants): an
 *                 inversion. --ordered: T2 takes A (timed read) then B.
 *   reread        one thread read-locks A twice (then unlocks twice):
 *                 counted on a reader-preferring rwlock; with --writer-nr a
 *                 double-lock that may block.
 *   rewrite       write-locks A twice: glibc says EDEADLK (printed
 *                 "EDEADLK seen"); --read-after-write: read after write, the
 *                 same. --unlock-first: unlocks in between, nothing wrong.
 *   upgrade       read-locks A, then write-locks A: waits for itself
 *                 forever (never run this natively). --unlock-first:
 *                 unlocks in between, nothing wrong.
 *
 * Exit status 0; 3 if a lock call does not return what glibc documents;
 * 99 if a pthread call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scn_util.h"

static pthread_rwlock_t rw_a, rw_b;
static int ordered, use_clock, read_flag, writer_nr;
static long work;

static struct timespec deadline(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_sec += 10;
    return ts;
}

static void expect(int got, int want, const char *what)
{
    if (got != want) {
        fprintf(stderr, "scn_rwlock: %s returned %s, expected %s\n", what, strerror(got),
                strerror(want));
        exit(3);
    }
}

/* ---- write-abba ---- */
static void *wab_t1(void *arg)
{
    (void)arg;
    pthread_rwlock_wrlock(&rw_a); /* LW:rw-wab-t1-a */
    pthread_rwlock_wrlock(&rw_b); /* LW:rw-wab-t1-b */
    work++;
    pthread_rwlock_unlock(&rw_b);
    pthread_rwlock_unlock(&rw_a);
    return NULL;
}

static void *wab_t2(void *arg)
{
    (void)arg;
    if (ordered) {
        pthread_rwlock_wrlock(&rw_a);
        pthread_rwlock_wrlock(&rw_b);
    } else {
        pthread_rwlock_wrlock(&rw_b); /* LW:rw-wab-t2-b */
        pthread_rwlock_wrlock(&rw_a); /* LW:rw-wab-t2-a */
    }
    work++;
    pthread_rwlock_unlock(&rw_a);
    pthread_rwlock_unlock(&rw_b);
    return NULL;
}

/* ---- read-cycle ---- */
static void *rc_t1(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&rw_a); /* LW:rw-rc-t1-a */
    pthread_rwlock_rdlock(&rw_b); /* LW:rw-rc-t1-b */
    work++;
    pthread_rwlock_unlock(&rw_b);
    pthread_rwlock_unlock(&rw_a);
    return NULL;
}

static void *rc_t2(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&rw_b); /* LW:rw-rc-t2-b */
    pthread_rwlock_rdlock(&rw_a); /* LW:rw-rc-t2-a */
    work++;
    pthread_rwlock_unlock(&rw_a);
    pthread_rwlock_unlock(&rw_b);
    return NULL;
}

/* ---- mixed ---- */
static void *mx_t1(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&rw_a); /* LW:rw-mx-t1-a */
    pthread_rwlock_wrlock(&rw_b); /* LW:rw-mx-t1-b */
    work++;
    pthread_rwlock_unlock(&rw_b);
    pthread_rwlock_unlock(&rw_a);
    return NULL;
}

static void *mx_t2(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&rw_b); /* LW:rw-mx-t2-b */
    if (read_flag)
        pthread_rwlock_rdlock(&rw_a); /* LW:rw-mx-t2-a-read */
    else
        pthread_rwlock_wrlock(&rw_a); /* LW:rw-mx-t2-a */
    work++;
    pthread_rwlock_unlock(&rw_a);
    pthread_rwlock_unlock(&rw_b);
    return NULL;
}

/* ---- try ---- */
static void *try_t1(void *arg)
{
    (void)arg;
    pthread_rwlock_wrlock(&rw_a); /* LW:rw-try-t1-a */
    if (read_flag)
        expect(pthread_rwlock_tryrdlock(&rw_b), 0, "tryrdlock"); /* LW:rw-try-t1-b-rd */
    else
        expect(pthread_rwlock_trywrlock(&rw_b), 0, "trywrlock"); /* LW:rw-try-t1-b-wr */
    work++;
    pthread_rwlock_unlock(&rw_b);
    pthread_rwlock_unlock(&rw_a);
    return NULL;
}

/* ---- timed ---- */
static void *timed_t1(void *arg)
{
    (void)arg;
    pthread_rwlock_wrlock(&rw_a); /* LW:rw-timed-t1-a */
    if (use_clock) {
        struct timespec ts = deadline(CLOCK_MONOTONIC);
        int r = pthread_rwlock_clockwrlock(&rw_b, CLOCK_MONOTONIC, &ts); /* LW:rw-clock-t1-b */
        expect(r, 0, "clockwrlock");
    } else {
        struct timespec ts = deadline(CLOCK_REALTIME);
        expect(pthread_rwlock_timedwrlock(&rw_b, &ts), 0, "timedwrlock"); /* LW:rw-timed-t1-b */
    }
    work++;
    pthread_rwlock_unlock(&rw_b);
    pthread_rwlock_unlock(&rw_a);
    return NULL;
}

static void *timed_t2(void *arg)
{
    (void)arg;
    if (ordered) {
        struct timespec ts = deadline(CLOCK_REALTIME);
        expect(pthread_rwlock_timedrdlock(&rw_a, &ts), 0, "timedrdlock");
        pthread_rwlock_wrlock(&rw_b);
    } else {
        pthread_rwlock_wrlock(&rw_b); /* LW:rw-timed-t2-b */
        if (use_clock) {
            struct timespec ts = deadline(CLOCK_MONOTONIC);
            int r = pthread_rwlock_clockrdlock(&rw_a, CLOCK_MONOTONIC, &ts); /* LW:rw-clock-t2-a */
            expect(r, 0, "clockrdlock");
        } else {
            struct timespec ts = deadline(CLOCK_REALTIME);
            expect(pthread_rwlock_timedrdlock(&rw_a, &ts), 0, "timedrdlock"); /* LW:rw-timed-t2-a */
        }
    }
    work++;
    pthread_rwlock_unlock(&rw_a);
    pthread_rwlock_unlock(&rw_b);
    return NULL;
}

/* ---- one-thread re-locks ---- */
static void reread(void)
{
    pthread_rwlock_rdlock(&rw_a); /* LW:rw-reread-first */
    expect(pthread_rwlock_rdlock(&rw_a), 0, "second rdlock"); /* LW:rw-reread-second */
    work++;
    pthread_rwlock_unlock(&rw_a);
    pthread_rwlock_unlock(&rw_a);
}

static void rewrite(int unlock_first)
{
    int r;

    pthread_rwlock_wrlock(&rw_a); /* LW:rw-rewrite-first */
    if (unlock_first) {
        pthread_rwlock_unlock(&rw_a);
        pthread_rwlock_wrlock(&rw_a);
        work++;
    } else {
        if (read_flag)
            r = pthread_rwlock_rdlock(&rw_a); /* LW:rw-rewrite-read */
        else
            r = pthread_rwlock_wrlock(&rw_a); /* LW:rw-rewrite-second */
        expect(r, EDEADLK, "re-lock after write");
        printf("EDEADLK seen\n");
    }
    pthread_rwlock_unlock(&rw_a);
}

static void upgrade(int unlock_first)
{
    pthread_rwlock_rdlock(&rw_a); /* LW:rw-upgrade-read */
    if (unlock_first)
        pthread_rwlock_unlock(&rw_a);
    printf("upgrading\n");
    fflush(stdout);
    pthread_rwlock_wrlock(&rw_a); /* LW:rw-upgrade-write */
    printf("upgraded\n");
    pthread_rwlock_unlock(&rw_a);
    if (!unlock_first)
        pthread_rwlock_unlock(&rw_a);
}

int main(int argc, char **argv)
{
    pthread_rwlockattr_t attr;
    const char *mode = argc > 1 ? argv[1] : "write-abba";

    ordered = scn_flag(argc, argv, "--ordered");
    use_clock = scn_flag(argc, argv, "--clock");
    writer_nr = scn_flag(argc, argv, "--writer-nr");
    read_flag = scn_flag(argc, argv, "--read") || scn_flag(argc, argv, "--read-second") ||
                scn_flag(argc, argv, "--read-after-write");
    SCN_CHECK(pthread_rwlockattr_init(&attr));
    if (writer_nr)
        SCN_CHECK(pthread_rwlockattr_setkind_np(&attr,
                                                PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
    SCN_CHECK(pthread_rwlock_init(&rw_a, &attr));
    SCN_CHECK(pthread_rwlock_init(&rw_b, &attr));

    if (strcmp(mode, "write-abba") == 0) {
        scn_run_thread(wab_t1, NULL);
        scn_run_thread(wab_t2, NULL);
    } else if (strcmp(mode, "read-cycle") == 0) {
        scn_run_thread(rc_t1, NULL);
        scn_run_thread(rc_t2, NULL);
    } else if (strcmp(mode, "mixed") == 0) {
        scn_run_thread(mx_t1, NULL);
        scn_run_thread(mx_t2, NULL);
    } else if (strcmp(mode, "try") == 0) {
        scn_run_thread(try_t1, NULL);
        scn_run_thread(wab_t2, NULL);
    } else if (strcmp(mode, "timed") == 0) {
        scn_run_thread(timed_t1, NULL);
        scn_run_thread(timed_t2, NULL);
    } else if (strcmp(mode, "reread") == 0) {
        reread();
    } else if (strcmp(mode, "rewrite") == 0) {
        rewrite(scn_flag(argc, argv, "--unlock-first"));
    } else if (strcmp(mode, "upgrade") == 0) {
        upgrade(scn_flag(argc, argv, "--unlock-first"));
    } else {
        fprintf(stderr, "scn_rwlock: unknown mode %s\n", mode);
        return 2;
    }
    printf("work %ld\n", work);
    return 0;
}
