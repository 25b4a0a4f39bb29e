/*
 * scn_dlopen.c LIB MODE [--keep-open] - a library (scn_dl_lib) loaded,
 * unloaded and loaded again while its static mutexes are in lock orders.
 *
 *   reload   Load LIB; scn_dl_with(&mu_p, 0) takes mu_p then lib_m;
 *            dlclose; load LIB again (stderr tells whether it was mapped
 *            at the same address); scn_dl_with(&mu_p, 1) takes lib_m then
 *            mu_p; dlclose. The lib_m of the second load is a new mutex:
 *            nothing to report.
 *     --keep-open   a second handle keeps LIB loaded across the dlclose: it
 *                   is the same lib_m both times, an inversion.
 *   once     Load LIB, take mu_p then lib_m, then lib_m then mu_p (within
 *            one load: an inversion), dlclose.
 *     --ordered     lib_m after mu_p both times.
 *   dtor     Load LIB and have its destructor take lib_n then lib_m, which
 *            its constructor took lib_m then lib_n; dlclose: an inversion
 *            made in the destructor, found while dlclose runs.
 *     --ordered     the destructor keeps the constructor's order.
 *
 * Prints each step; exit status 0. 99 if dlopen or dlsym fails.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scn_util.h"

static pthread_mutex_t mu_p = PTHREAD_MUTEX_INITIALIZER;

typedef void (*with_fn)(pthread_mutex_t *, int);
typedef void *(*addr_fn)(void);

static void *load(const char *path, with_fn *with, addr_fn *addr)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        exit(SCN_FAILED);
    }
    *with = (with_fn)dlsym(h, "scn_dl_with");
    *addr = (addr_fn)dlsym(h, "scn_dl_lock_address");
    if (!*with || !*addr)
        exit(SCN_FAILED);
    return h;
}

int main(int argc, char **argv)
{
    with_fn with;
    addr_fn addr;

    if (argc < 3) {
        fprintf(stderr, "usage: scn_dlopen LIB reload|once|dtor [--keep-open] [--ordered]\n");
        return 2;
    }
    const char *lib = argv[1], *mode = argv[2];
    int ordered = scn_flag(argc, argv, "--ordered");

    if (strcmp(mode, "reload") == 0) {
        void *keep = scn_flag(argc, argv, "--keep-open") ? load(lib, &with, &addr) : NULL;
        void *h = load(lib, &with, &addr);
        uintptr_t first = (uintptr_t)addr();
        with(&mu_p, 0);
        printf("first load: mu_p then lib_m\n");
        if (dlclose(h) != 0)
            return SCN_FAILED;
        h = load(lib, &with, &addr);
        fprintf(stderr, "dl: mapped at the same address: %s\n",
                (uintptr_t)addr() == first ? "yes" : "no");
        with(&mu_p, 1);
        printf("second load: lib_m then mu_p\n");
        if (dlclose(h) != 0 || (keep && dlclose(keep) != 0))
            return SCN_FAILED;
    } else if (strcmp(mode, "once") == 0) {
        void *h = load(lib, &with, &addr);
        with(&mu_p, 0);
        with(&mu_p, !ordered);
        printf("one load: both orders taken\n");
        if (dlclose(h) != 0)
            return SCN_FAILED;
    } else if (strcmp(mode, "dtor") == 0) {
        void *h = load(lib, &with, &addr);
        int *reverse = dlsym(h, "scn_dl_reverse_in_destructor");
        if (!reverse)
            return SCN_FAILED;
        *reverse = !ordered;
        if (dlclose(h) != 0)
            return SCN_FAILED;
        printf("unloaded\n");
    } else {
        return 2;
    }
    printf("done\n");
    return 0;
}
