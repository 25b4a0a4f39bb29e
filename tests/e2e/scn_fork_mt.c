/*
 * scn_fork_mt.c - fork from a multithreaded program while other threads
 * lock, and hold, mutexes.
 *
 * Before the fork: worker 1 locks mu_a then mu_b in a loop; worker 2 locks
 * mu_a, then a mutex it has just initialised (and destroys after), in a loop;
 * a holder thread holds mu_h across the fork. Main forks once every worker
 * has looped 100 times and the holder holds mu_h.
 *
 * The child (it prints child_pid=PID on stderr) starts a thread that takes
 * mu_c then mu_d, joins it, then takes mu_d then mu_c itself: an inversion
 * in the child only. It prints "child: done" and exits 0 (66 under a checker
 * that reported something in it).
 *
 * The parent waits for the child, prints its exit status, stops its threads
 * and returns 0.
 *
 *   --child-ordered      the child takes mu_c then mu_d both times.
 *   --atfork             pthread_atfork handlers lock mu_p then mu_q in the
 *                        prepare handler and unlock them in the parent and
 *                        child handlers; worker 1 takes mu_p then mu_q in its
 *                        loop too, and the child takes them once.
 *   --parent-inversion   after the child has ended, the parent takes mu_e then
 *                        mu_f on a thread, then mu_f then mu_e on main.
 *   --inversion-before   the same mu_e/mu_f inversion, made before the fork.
 *
 * 99 if a pthread call or fork fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scn_util.h"

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_d = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_e = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_f = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_h = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_p = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_q = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stop;
static sem_t warmed, held, release_h;
static int atfork, child_ordered;

static void sem_wait_intr(sem_t *s)
{
    while (sem_wait(s) != 0 && errno == EINTR)
        continue;
}

static void prepare(void)
{
    pthread_mutex_lock(&mu_p); /* LW:fmt-prepare-p */
    pthread_mutex_lock(&mu_q); /* LW:fmt-prepare-q */
}

static void after_fork(void)
{
    pthread_mutex_unlock(&mu_q);
    pthread_mutex_unlock(&mu_p);
}

static void *worker1(void *arg)
{
    (void)arg;
    for (long i = 0; !atomic_load(&stop); i++) {
        pthread_mutex_lock(&mu_a); /* LW:fmt-w1-a */
        pthread_mutex_lock(&mu_b); /* LW:fmt-w1-b */
        pthread_mutex_unlock(&mu_b);
        pthread_mutex_unlock(&mu_a);
        if (atfork) {
            pthread_mutex_lock(&mu_p); /* LW:fmt-w1-p */
            pthread_mutex_lock(&mu_q); /* LW:fmt-w1-q */
            pthread_mutex_unlock(&mu_q);
            pthread_mutex_unlock(&mu_p);
        }
        if (i == 100)
            sem_post(&warmed);
    }
    return NULL;
}

static void *worker2(void *arg)
{
    (void)arg;
    for (long i = 0; !atomic_load(&stop); i++) {
        pthread_mutex_t fresh;
        SCN_CHECK(pthread_mutex_init(&fresh, NULL));
        pthread_mutex_lock(&mu_a); /* LW:fmt-w2-a */
        pthread_mutex_lock(&fresh); /* LW:fmt-w2-fresh */
        pthread_mutex_unlock(&fresh);
        pthread_mutex_unlock(&mu_a);
        SCN_CHECK(pthread_mutex_destroy(&fresh));
        if (i == 100)
            sem_post(&warmed);
    }
    return NULL;
}

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_h); /* LW:fmt-holder */
    sem_post(&held);
    sem_wait_intr(&release_h);
    pthread_mutex_unlock(&mu_h);
    return NULL;
}

static void *take_cd(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_c); /* LW:fmt-child-t-c */
    pthread_mutex_lock(&mu_d); /* LW:fmt-child-t-d */
    pthread_mutex_unlock(&mu_d);
    pthread_mutex_unlock(&mu_c);
    return NULL;
}

static void *take_ef(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_e); /* LW:fmt-parent-t-e */
    pthread_mutex_lock(&mu_f); /* LW:fmt-parent-t-f */
    pthread_mutex_unlock(&mu_f);
    pthread_mutex_unlock(&mu_e);
    return NULL;
}

static void parent_inversion(void)
{
    scn_run_thread(take_ef, NULL);
    pthread_mutex_lock(&mu_f); /* LW:fmt-parent-f */
    pthread_mutex_lock(&mu_e); /* LW:fmt-parent-e */
    pthread_mutex_unlock(&mu_e);
    pthread_mutex_unlock(&mu_f);
}

static void child_main(void)
{
    fprintf(stderr, "child_pid=%d\n", (int)getpid());
    if (atfork) {
        pthread_mutex_lock(&mu_p); /* LW:fmt-child-p */
        pthread_mutex_lock(&mu_q); /* LW:fmt-child-q */
        pthread_mutex_unlock(&mu_q);
        pthread_mutex_unlock(&mu_p);
    }
    scn_run_thread(take_cd, NULL);
    if (child_ordered) {
        pthread_mutex_lock(&mu_c); /* LW:fmt-child-c-first */
        pthread_mutex_lock(&mu_d); /* LW:fmt-child-d-second */
    } else {
        pthread_mutex_lock(&mu_d); /* LW:fmt-child-d-first */
        pthread_mutex_lock(&mu_c); /* LW:fmt-child-c-second */
    }
    pthread_mutex_unlock(&mu_c);
    pthread_mutex_unlock(&mu_d);
    printf("child: done\n");
    exit(0);
}

int main(int argc, char **argv)
{
    pthread_t w1, w2, h;

    atfork = scn_flag(argc, argv, "--atfork");
    child_ordered = scn_flag(argc, argv, "--child-ordered");
    if (sem_init(&warmed, 0, 0) || sem_init(&held, 0, 0) || sem_init(&release_h, 0, 0))
        return SCN_FAILED;
    if (atfork)
        SCN_CHECK(pthread_atfork(prepare, after_fork, after_fork));
    if (scn_flag(argc, argv, "--inversion-before"))
        parent_inversion();

    SCN_CHECK(pthread_create(&w1, NULL, worker1, NULL));
    SCN_CHECK(pthread_create(&w2, NULL, worker2, NULL));
    SCN_CHECK(pthread_create(&h, NULL, holder, NULL));
    sem_wait_intr(&warmed);
    sem_wait_intr(&warmed);
    sem_wait_intr(&held);

    printf("parent: forking\n");
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return SCN_FAILED;
    if (child == 0)
        child_main();

    int status;
    if (waitpid(child, &status, 0) != child)
        return SCN_FAILED;
    printf("parent: child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    sem_post(&release_h);
    atomic_store(&stop, 1);
    SCN_CHECK(pthread_join(w1, NULL));
    SCN_CHECK(pthread_join(w2, NULL));
    SCN_CHECK(pthread_join(h, NULL));
    if (scn_flag(argc, argv, "--parent-inversion"))
        parent_inversion();
    printf("parent: done\n");
    return 0;
}
