/*
 * scn_cxx.cpp - C++ locking through the standard library (which calls the
 * pthread functions underneath).
 *
 *   (default)      thread 1: std::lock_guard on A then B; after it is joined,
 *                  thread 2: B then A. One inversion.
 *   --ordered      thread 2 takes A then B: nothing to report.
 *   --scoped-lock  thread 1: std::scoped_lock(A, B); thread 2:
 *                  std::scoped_lock(B, A). std::lock takes one mutex and
 *                  tries the others, so no order is made: nothing to report.
 *   --heap-reuse   A is a heap std::mutex (new). Thread 1 takes A then B;
 *                  A is deleted (std::mutex has no destructor to speak of:
 *                  nothing tells the pthread layer), a new std::mutex is
 *                  made, at the same address if the allocator reuses it,
 *                  and thread 2 takes B then the new A. Nothing to report.
 *   --keep         with --heap-reuse: the same A is kept (not deleted): one
 *                  inversion.
 *
 * Exit status 0.
 */
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

static std::mutex mu_a_static, mu_b;
static std::mutex *mu_a = &mu_a_static;
static int work;

static bool flag(int argc, char **argv, const char *f)
{
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], f) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    bool ordered = flag(argc, argv, "--ordered");
    bool scoped = flag(argc, argv, "--scoped-lock");
    bool heap = flag(argc, argv, "--heap-reuse");
    bool keep = flag(argc, argv, "--keep");

    if (heap)
        mu_a = new std::mutex;
    std::thread([&] {
        if (scoped) {
            std::scoped_lock both(*mu_a, mu_b);
            work++;
        } else {
            std::lock_guard<std::mutex> first(*mu_a); /* LW:cxx-t1-first */
            std::lock_guard<std::mutex> second(mu_b); /* LW:cxx-t1-second */
            work++;
        }
    }).join();
    if (heap && !keep) {
        std::mutex *old = mu_a;
        delete mu_a;
        mu_a = new std::mutex;
        std::printf("address reused: %s\n", mu_a == old ? "yes" : "no");
    }
    std::thread([&] {
        if (scoped) {
            std::scoped_lock both(mu_b, *mu_a);
            work++;
        } else if (ordered) {
            std::lock_guard<std::mutex> first(*mu_a);
            std::lock_guard<std::mutex> second(mu_b);
            work++;
        } else {
            std::lock_guard<std::mutex> first(mu_b); /* LW:cxx-t2-first */
            std::lock_guard<std::mutex> second(*mu_a); /* LW:cxx-t2-second */
            work++;
        }
    }).join();
    std::printf("work %d\n", work);
    return 0;
}
