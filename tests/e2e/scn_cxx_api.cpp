/*
 * scn_cxx_api.cpp - the C++ standard library's locks, which lockwatch sees
 * through the pthread functions they call.
 *
 * Threads run one after the other (joined) unless stated otherwise.
 *
 *   mutex         std::mutex: T1 takes A then B (std::lock_guard), T2 B then
 *                 A: an inversion. --ordered: T2 takes A then B.
 *   scoped-lock   two threads at the same time, many rounds each:
 *                 std::scoped_lock(A, B) and std::scoped_lock(B, A). The
 *                 library locks one and tries the others, backing off:
 *                 nothing to report (and no deadlock, natively either).
 *   std-lock      the same with std::lock(A, B) / std::lock(B, A) and
 *                 std::adopt_lock guards.
 *   recursive     a std::recursive_mutex locked three times, another mutex
 *                 taken inside: nothing to report.
 *   shared-read   std::shared_mutex: T1 std::shared_lock on A then B, T2 on
 *                 B then A: readers do not block readers, nothing to report.
 *   shared-write  the same with std::unique_lock: an inversion.
 *   timed         std::timed_mutex: T1 locks A, then B with try_lock_for;
 *                 T2 locks B then A: an inversion (a timed lock can wait).
 *                 --ordered: T2 takes A then B.
 *   cv            T1 locks L, takes M with try_lock, waits on a
 *                 std::condition_variable with M until main notifies it; T2
 *                 locks M then L: an inversion. --ordered: L then M.
 *   heap          two heap objects, each with a std::mutex: T1 locks the
 *                 first's then the second's. Both are deleted and made again
 *                 (the allocator hands back the same addresses, printed
 *                 "address reused: yes"), and T2 locks the new objects in
 *                 the opposite order of addresses: nothing to report.
 *                 --keep: the objects are kept alive: an inversion.
 *
 * Exit status 0; 3 if a lock that must succeed fails.
 */
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include <semaphore.h>

static bool flag(int argc, char **argv, const char *f)
{
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], f) == 0)
            return true;
    return false;
}

static void run(void (*fn)())
{
    std::thread t(fn); /* LW:cxx-create */
    t.join();
}

static bool ordered;
static long work;

// ---- mutex
static std::mutex mx_a, mx_b;

static void mutex_t1()
{
    std::lock_guard<std::mutex> ga(mx_a); /* LW:cxx-mutex-t1-a */
    std::lock_guard<std::mutex> gb(mx_b); /* LW:cxx-mutex-t1-b */
    work++;
}

static void mutex_t2()
{
    if (ordered) {
        std::lock_guard<std::mutex> ga(mx_a);
        std::lock_guard<std::mutex> gb(mx_b);
        work++;
    } else {
        std::lock_guard<std::mutex> gb(mx_b); /* LW:cxx-mutex-t2-b */
        std::lock_guard<std::mutex> ga(mx_a); /* LW:cxx-mutex-t2-a */
        work++;
    }
}

// ---- scoped-lock, std-lock
enum { ROUNDS = 2000 };
static long shared_counter;

static void scoped_ab()
{
    for (int i = 0; i < ROUNDS; i++) {
        std::scoped_lock g(mx_a, mx_b);
        shared_counter++;
    }
}

static void scoped_ba()
{
    for (int i = 0; i < ROUNDS; i++) {
        std::scoped_lock g(mx_b, mx_a);
        shared_counter++;
    }
}

static void stdlock_ab()
{
    for (int i = 0; i < ROUNDS; i++) {
        std::lock(mx_a, mx_b);
        std::lock_guard<std::mutex> ga(mx_a, std::adopt_lock);
        std::lock_guard<std::mutex> gb(mx_b, std::adopt_lock);
        shared_counter++;
    }
}

static void stdlock_ba()
{
    for (int i = 0; i < ROUNDS; i++) {
        std::lock(mx_b, mx_a);
        std::lock_guard<std::mutex> gb(mx_b, std::adopt_lock);
        std::lock_guard<std::mutex> ga(mx_a, std::adopt_lock);
        shared_counter++;
    }
}

static void at_once(void (*f)(), void (*g)())
{
    std::thread t1(f), t2(g);
    t1.join();
    t2.join();
    std::printf("counter %ld (expected %d)\n", shared_counter, 2 * ROUNDS);
}

// ---- recursive
static std::recursive_mutex rec;

static void recursive()
{
    std::lock_guard<std::recursive_mutex> g1(rec);
    std::lock_guard<std::mutex> ga(mx_a);
    std::lock_guard<std::recursive_mutex> g2(rec);
    std::lock_guard<std::recursive_mutex> g3(rec);
    work++;
}

// ---- shared
static std::shared_mutex sh_a, sh_b;

static void shared_read_t1()
{
    std::shared_lock<std::shared_mutex> la(sh_a); /* LW:cxx-shr-t1-a */
    std::shared_lock<std::shared_mutex> lb(sh_b); /* LW:cxx-shr-t1-b */
    work++;
}

static void shared_read_t2()
{
    std::shared_lock<std::shared_mutex> lb(sh_b); /* LW:cxx-shr-t2-b */
    std::shared_lock<std::shared_mutex> la(sh_a); /* LW:cxx-shr-t2-a */
    work++;
}

static void shared_write_t1()
{
    std::unique_lock<std::shared_mutex> la(sh_a); /* LW:cxx-shw-t1-a */
    std::unique_lock<std::shared_mutex> lb(sh_b); /* LW:cxx-shw-t1-b */
    work++;
}

static void shared_write_t2()
{
    std::unique_lock<std::shared_mutex> lb(sh_b); /* LW:cxx-shw-t2-b */
    std::unique_lock<std::shared_mutex> la(sh_a); /* LW:cxx-shw-t2-a */
    work++;
}

// ---- timed
static std::timed_mutex tm_a, tm_b;

static void timed_t1()
{
    std::lock_guard<std::timed_mutex> ga(tm_a); /* LW:cxx-timed-t1-a */
    if (!tm_b.try_lock_for(std::chrono::seconds(10))) { /* LW:cxx-timed-t1-b */
        std::fprintf(stderr, "scn_cxx_api: try_lock_for failed\n");
        std::exit(3);
    }
    work++;
    tm_b.unlock();
}

static void timed_t2()
{
    std::timed_mutex &first = ordered ? tm_a : tm_b, &second = ordered ? tm_b : tm_a;
    std::lock_guard<std::timed_mutex> g1(first); /* LW:cxx-timed-t2-first */
    std::lock_guard<std::timed_mutex> g2(second); /* LW:cxx-timed-t2-second */
    work++;
}

// ---- cv
static std::mutex mx_l, mx_m;
static std::condition_variable cv;
static bool cv_flag;
static sem_t ready;

static void cv_waiter()
{
    std::lock_guard<std::mutex> gl(mx_l); /* LW:cxx-cv-l */
    if (!mx_m.try_lock()) {
        std::fprintf(stderr, "scn_cxx_api: try_lock of M failed\n");
        std::exit(3);
    }
    std::unique_lock<std::mutex> lm(mx_m, std::adopt_lock);
    sem_post(&ready);
    while (!cv_flag)
        cv.wait(lm); /* LW:cxx-cv-wait */
    work++;
}

static void cv_t2()
{
    std::mutex &first = ordered ? mx_l : mx_m, &second = ordered ? mx_m : mx_l;
    std::lock_guard<std::mutex> g1(first); /* LW:cxx-cv-t2-first */
    std::lock_guard<std::mutex> g2(second); /* LW:cxx-cv-t2-second */
    work++;
}

static void cv_scenario()
{
    sem_init(&ready, 0, 0);
    std::thread t(cv_waiter);
    sem_wait(&ready);
    {
        std::lock_guard<std::mutex> g(mx_m); // free once the waiter waits
        cv_flag = true;
    }
    cv.notify_one();
    t.join();
    run(cv_t2);
}

// ---- heap
struct Account {
    std::mutex m;
    long balance = 100;
};

static Account *acc1, *acc2;

static void heap_t1()
{
    std::lock_guard<std::mutex> g1(acc1->m); /* LW:cxx-heap-t1-first */
    std::lock_guard<std::mutex> g2(acc2->m); /* LW:cxx-heap-t1-second */
    acc1->balance -= 10;
    acc2->balance += 10;
}

static void heap_t2()
{
    // acc2 holds the address acc1 had and the other way round, or they are
    // the same objects (--keep): lock the one at the higher address first.
    Account *hi = acc1 > acc2 ? acc1 : acc2, *lo = acc1 > acc2 ? acc2 : acc1;
    std::lock_guard<std::mutex> g1(hi->m); /* LW:cxx-heap-t2-first */
    std::lock_guard<std::mutex> g2(lo->m); /* LW:cxx-heap-t2-second */
    hi->balance -= 10;
    lo->balance += 10;
}

static int heap(bool keep)
{
    acc1 = new Account;
    acc2 = new Account;
    if (acc1 > acc2)
        std::swap(acc1, acc2); // T1 locks the lower address first
    run(heap_t1);
    if (!keep) {
        Account *old1 = acc1, *old2 = acc2;
        delete acc1;
        delete acc2;
        acc1 = new Account;
        acc2 = new Account;
        bool reused = (acc1 == old1 && acc2 == old2) || (acc1 == old2 && acc2 == old1);
        std::printf("address reused: %s\n", reused ? "yes" : "no");
    }
    run(heap_t2);
    delete acc1;
    delete acc2;
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "mutex";

    ordered = flag(argc, argv, "--ordered");
    if (std::strcmp(mode, "mutex") == 0) {
        run(mutex_t1);
        run(mutex_t2);
    } else if (std::strcmp(mode, "scoped-lock") == 0) {
        at_once(scoped_ab, scoped_ba);
    } else if (std::strcmp(mode, "std-lock") == 0) {
        at_once(stdlock_ab, stdlock_ba);
    } else if (std::strcmp(mode, "recursive") == 0) {
        run(recursive);
    } else if (std::strcmp(mode, "shared-read") == 0) {
        run(shared_read_t1);
        run(shared_read_t2);
    } else if (std::strcmp(mode, "shared-write") == 0) {
        run(shared_write_t1);
        run(shared_write_t2);
    } else if (std::strcmp(mode, "timed") == 0) {
        run(timed_t1);
        run(timed_t2);
    } else if (std::strcmp(mode, "cv") == 0) {
        cv_scenario();
    } else if (std::strcmp(mode, "heap") == 0) {
        heap(flag(argc, argv, "--keep"));
    } else {
        std::fprintf(stderr, "scn_cxx_api: unknown mode %s\n", mode);
        return 2;
    }
    std::printf("work %ld\n", work);
    return 0;
}
