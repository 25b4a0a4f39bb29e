/*
 * memcached_client.c - a small loopback load for memcached that checks
 * every reply (used by bench/real.sh).
 *
 * C connections, one thread each, talk memcached's text protocol. Each
 * connection owns K keys ("c<conn>:k<index>"); it first sets all of them,
 * then makes N operations: every fourth one sets a key to a new value
 * (whose bytes follow from connection, key and version), the others get a
 * key and compare the value with the one it last set. Any unexpected reply
 * ends the program with status 1 and a line on stderr saying what came.
 *
 *   memcached_client [-H HOST] [-p PORT] [-c CONNECTIONS] [-n OPS_PER_CONNECTION]
 *                    [-k KEYS_PER_CONNECTION] [-s VALUE_BYTES] [-w WAIT_SECONDS]
 *
 * It retries connecting for up to WAIT_SECONDS (default 10) while the
 * server starts. Prints one line:
 *   bench=memcached_client connections=C ops=N sets=S gets=G checksum=X seconds=W
 * checksum depends only on the values received, so two correct runs with
 * the same arguments print the same one; seconds is the wall time from the
 * moment every connection is open to the last reply.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static const char *prog = "memcached_client";

struct conn {
    _Alignas(BENCH_LINE) int fd;
    unsigned id;
    unsigned long ops;
    unsigned long keys;
    unsigned long vsize;
    unsigned *version;       /* per key: the version last set */
    char *out;               /* a request being built */
    char *expect;            /* the value expected back */
    char in[65536];          /* bytes received, not yet consumed */
    size_t in_start, in_end;
    unsigned long sets, gets;
    uint64_t checksum;
    uint64_t start_ns, end_ns; /* the timed part: after every connection is open */
    struct bench_gate *gate;
};

static struct sockaddr_in server;
static unsigned wait_seconds = 10;

/* Prints what went wrong on connection c and exits with status 1. */
static void fail(const struct conn *c, const char *what, const char *got)
{
    fprintf(stderr, "%s: connection %u: %s%s%s\n", prog, c->id, what, got ? ": " : "",
            got ? got : "");
    exit(1);
}

/* Connects to the server, retrying while it starts. Returns the socket; exits on failure. */
static int connect_server(const struct conn *c)
{
    uint64_t deadline = bench_now_ns() + (uint64_t)wait_seconds * 1000000000u;

    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            bench_die(prog, "socket", errno);
        if (connect(fd, (const struct sockaddr *)&server, sizeof server) == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        int err = errno;
        close(fd);
        if (bench_now_ns() > deadline)
            fail(c, "cannot connect", strerror(err));
        usleep(20000);
    }
}

/* Writes all n bytes of buf; exits on failure. */
static void send_all(const struct conn *c, const char *buf, size_t n)
{
    while (n) {
        ssize_t k = send(c->fd, buf, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            fail(c, "send", strerror(errno));
        buf += k;
        n -= (size_t)k;
    }
}

/* Makes at least `want` unread bytes available in c->in; exits if the server closes. */
static void fill(struct conn *c, size_t want)
{
    if (c->in_end - c->in_start >= want)
        return;
    if (c->in_start) {
        memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
        c->in_end -= c->in_start;
        c->in_start = 0;
    }
    while (c->in_end < want) {
        ssize_t k = recv(c->fd, c->in + c->in_end, sizeof c->in - c->in_end, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            fail(c, "the server closed the connection", k < 0 ? strerror(errno) : NULL);
        c->in_end += (size_t)k;
    }
}

/*
 * Reads one line ending in "\r\n" and returns it without them (valid until
 * the next read); exits if none comes or it is too long.
 */
static const char *read_line(struct conn *c)
{
    for (size_t scanned = 0;;) {
        char *start = c->in + c->in_start;
        size_t avail = c->in_end - c->in_start;
        for (size_t i = scanned; i + 1 < avail; i++) {
            if (start[i] == '\r' && start[i + 1] == '\n') {
                start[i] = '\0';
                c->in_start += i + 2;
                return start;
            }
        }
        scanned = avail ? avail - 1 : 0;
        if (avail + 1 >= sizeof c->in)
            fail(c, "reply line too long", NULL);
        fill(c, avail + 1);
    }
}

/* Fills c->expect with the value of key k at version v. */
static void make_value(struct conn *c, unsigned long k, unsigned v)
{
    uint64_t x = ((uint64_t)c->id << 40) ^ ((uint64_t)k << 16) ^ v ^ 0x9E3779B97F4A7C15ULL;

    for (unsigned long i = 0; i < c->vsize; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c->expect[i] = (char)('a' + x % 26);
    }
}

/* Sets key k to its next version and checks the reply. */
static void do_set(struct conn *c, unsigned long k)
{
    unsigned v = ++c->version[k];

    make_value(c, k, v);
    int n = sprintf(c->out, "set c%u:k%lu 0 0 %lu\r\n", c->id, k, c->vsize);
    memcpy(c->out + n, c->expect, c->vsize);
    memcpy(c->out + n + c->vsize, "\r\n", 2);
    send_all(c, c->out, (size_t)n + c->vsize + 2);
    const char *line = read_line(c);
    if (strcmp(line, "STORED") != 0)
        fail(c, "set: unexpected reply", line);
    c->sets++;
}

/* Gets key k and checks that the value is the one last set. */
static void do_get(struct conn *c, unsigned long k)
{
    char header[128];
    int n = sprintf(c->out, "get c%u:k%lu\r\n", c->id, k);

    send_all(c, c->out, (size_t)n);
    snprintf(header, sizeof header, "VALUE c%u:k%lu 0 %lu", c->id, k, c->vsize);
    const char *line = read_line(c);
    if (strcmp(line, header) != 0)
        fail(c, "get: unexpected reply", line);
    fill(c, c->vsize + 2);
    const char *data = c->in + c->in_start;
    make_value(c, k, c->version[k]);
    if (memcmp(data, c->expect, c->vsize) != 0 || data[c->vsize] != '\r' || data[c->vsize + 1] != '\n')
        fail(c, "get: wrong value", NULL);
    for (unsigned long i = 0; i < c->vsize; i++)
        c->checksum = (c->checksum ^ (unsigned char)data[i]) * 0x100000001B3ULL;
    c->in_start += c->vsize + 2;
    line = read_line(c);
    if (strcmp(line, "END") != 0)
        fail(c, "get: unexpected end of reply", line);
    c->gets++;
}

/* Thread body: connects, sets every key, then runs the mix. Returns NULL. */
static void *conn_main(void *arg)
{
    struct conn *c = arg;
    uint64_t state = 0x243F6A8885A308D3ULL + c->id;

    c->fd = connect_server(c);
    bench_gate_wait(c->gate);
    c->start_ns = bench_now_ns();
    for (unsigned long k = 0; k < c->keys; k++)
        do_set(c, k);
    for (unsigned long i = 0; i < c->ops; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        unsigned long k = (unsigned long)(state % c->keys);
        if (i % 4 == 3)
            do_set(c, k);
        else
            do_get(c, k);
    }
    c->end_ns = bench_now_ns();
    close(c->fd);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    unsigned long port = 11211, nconn = 4, ops = 100000, keys = 10000, vsize = 512;
    int opt;

    while ((opt = getopt(argc, argv, "H:p:c:n:k:s:w:")) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = bench_number(prog, 'p', optarg, 1, 65535); break;
        case 'c': nconn = bench_number(prog, 'c', optarg, 1, 1024); break;
        case 'n': ops = bench_number(prog, 'n', optarg, 0, 1UL << 40); break;
        case 'k': keys = bench_number(prog, 'k', optarg, 1, 1UL << 24); break;
        case 's': vsize = bench_number(prog, 's', optarg, 1, 16384); break;
        case 'w': wait_seconds = (unsigned)bench_number(prog, 'w', optarg, 0, 3600); break;
        default:
            fprintf(stderr, "usage: %s [-H HOST] [-p PORT] [-c CONNECTIONS] [-n OPS_PER_CONNECTION]\n"
                            "       [-k KEYS_PER_CONNECTION] [-s VALUE_BYTES] [-w WAIT_SECONDS]\n", prog);
            return 2;
        }
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1) {
        fprintf(stderr, "%s: -H wants an IPv4 address, not '%s'\n", prog, host);
        return 2;
    }

    struct bench_gate gate = { .n = (unsigned)nconn };
    struct conn *conns = aligned_alloc(BENCH_LINE, sizeof *conns * nconn);
    if (!conns)
        bench_die(prog, "aligned_alloc", errno);
    for (unsigned i = 0; i < nconn; i++) {
        struct conn *c = &conns[i];
        memset(c, 0, sizeof *c);
        c->id = i;
        c->ops = ops;
        c->keys = keys;
        c->vsize = vsize;
        c->gate = &gate;
        c->version = calloc(keys, sizeof *c->version);
        c->out = malloc(vsize + 128);
        c->expect = malloc(vsize);
        if (!c->version || !c->out || !c->expect)
            bench_die(prog, "allocation", errno);
    }

    bench_run_threads(prog, (unsigned)nconn, conn_main, conns, sizeof *conns);

    unsigned long sets = 0, gets = 0;
    uint64_t checksum = 0, start = UINT64_MAX, end = 0;
    for (unsigned i = 0; i < nconn; i++) {
        if (conns[i].start_ns < start)
            start = conns[i].start_ns;
        if (conns[i].end_ns > end)
            end = conns[i].end_ns;
        sets += conns[i].sets;
        gets += conns[i].gets;
        checksum = checksum * 31 + conns[i].checksum;
        free(conns[i].version);
        free(conns[i].out);
        free(conns[i].expect);
    }
    printf("bench=memcached_client connections=%lu ops=%lu sets=%lu gets=%lu checksum=%016llx seconds=%.3f\n",
           nconn, ops, sets, gets, (unsigned long long)checksum, (end - start) / 1e9);
    free(conns);
    return 0;
}
