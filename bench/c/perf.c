/*
 * The C baseline of zmqx's benchmarks: the six perf tools of libzmq
 * (local_thr, remote_thr, local_lat, remote_lat, inproc_thr, inproc_lat),
 * written for this repository after the documented behaviour of libzmq's
 * perf/ programs: same arguments, same output lines, same socket types.
 *
 * Each tool is a function `c_<tool>(argc, argv)` that returns 0 on success,
 * so the Rust binaries of zmqx-bench can run either this code or the zmqx
 * code in the same process image, linked against the very same static
 * libzmq (the one zmq-sys built).
 *
 * Two deliberate differences from libzmq's programs, shared with the zmqx
 * versions so both sides do exactly the same work:
 *
 * - Senders send a pre-filled buffer with zmq_send (libzmq copies it into a
 *   new message), which is what an application sending its own bytes does,
 *   instead of sending uninitialised zmq_msg_init_size messages.
 * - When the bind endpoint has a wildcard port (`tcp://127.0.0.1:*` or
 *   `:0`), the binding tool prints one extra first line,
 *   `endpoint: tcp://127.0.0.1:<port>`, so a runner can start the peer.
 *
 * Time is measured with CLOCK_MONOTONIC, as Rust's Instant does.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int fail(const char *what)
{
    printf("error in %s: %s\n", what, zmq_strerror(zmq_errno()));
    fflush(stdout);
    return -1;
}

/* Prints the real endpoint when a wildcard port was bound. */
static int report_endpoint(void *s, const char *bind_to)
{
    size_t n = strlen(bind_to);
    int wildcard = (n >= 2 && strcmp(bind_to + n - 2, ":*") == 0) ||
                   (n >= 2 && strcmp(bind_to + n - 2, ":0") == 0);
    if (!wildcard)
        return 0;
    char endpoint[256];
    size_t len = sizeof endpoint;
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0)
        return fail("zmq_getsockopt");
    printf("endpoint: %s\n", endpoint);
    fflush(stdout);
    return 0;
}

static void print_thr(int size, int count, long long elapsed)
{
    if (elapsed <= 0)
        elapsed = 1;
    double throughput = (double) count / (double) elapsed * 1000000.0;
    double megabits = throughput * size * 8 / 1000000.0;
    printf("message size: %d [B]\n", size);
    printf("message count: %d\n", count);
    printf("mean throughput: %d [msg/s]\n", (int) throughput);
    printf("mean throughput: %.3f [Mb/s]\n", megabits);
    fflush(stdout);
}

static void print_lat(int size, int roundtrips, long long elapsed)
{
    double latency = (double) elapsed / (roundtrips * 2.0);
    printf("message size: %d [B]\n", size);
    printf("roundtrip count: %d\n", roundtrips);
    printf("average latency: %.3f [us]\n", latency);
    fflush(stdout);
}

/* Rejects a negative size or a count below one. */
static int bad_numbers(int size, int count)
{
    if (size >= 0 && count >= 1)
        return 0;
    printf("message size must be >= 0 and counts >= 1\n");
    fflush(stdout);
    return 1;
}

/* Receives `count` messages of `size` bytes on s; the clock starts after the
 * first one. Returns the elapsed microseconds, or -1. */
static long long receive_all(void *s, int size, int count)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    long long start = 0;
    for (int i = 0; i != count; i++) {
        if (zmq_msg_recv(&msg, s, 0) < 0) {
            fail("zmq_msg_recv");
            return -1;
        }
        if (zmq_msg_size(&msg) != (size_t) size) {
            printf("message of incorrect size received\n");
            fflush(stdout);
            return -1;
        }
        if (i == 0)
            start = now_us();
    }
    long long elapsed = now_us() - start;
    zmq_msg_close(&msg);
    return elapsed;
}

/* Sends `count` messages of `size` bytes from one buffer. */
static int send_all(void *s, int size, int count)
{
    char *buf = calloc(size ? (size_t) size : 1, 1);
    if (!buf)
        return -1;
    for (int i = 0; i != count; i++) {
        if (zmq_send(s, buf, (size_t) size, 0) < 0) {
            free(buf);
            return fail("zmq_send");
        }
    }
    free(buf);
    return 0;
}

/* Echoes `roundtrips` messages back (the REP side of a latency test). */
static int echo_all(void *s, int size, int roundtrips)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (int i = 0; i != roundtrips; i++) {
        if (zmq_msg_recv(&msg, s, 0) < 0)
            return fail("zmq_msg_recv");
        if (zmq_msg_size(&msg) != (size_t) size) {
            printf("message of incorrect size received\n");
            fflush(stdout);
            return -1;
        }
        if (zmq_msg_send(&msg, s, 0) < 0)
            return fail("zmq_msg_send");
    }
    zmq_msg_close(&msg);
    return 0;
}

/* Sends and receives back `roundtrips` messages (the REQ side). Returns the
 * elapsed microseconds, or -1. */
static long long ping_all(void *s, int size, int roundtrips)
{
    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, (size_t) size) != 0) {
        fail("zmq_msg_init_size");
        return -1;
    }
    memset(zmq_msg_data(&msg), 0, (size_t) size);
    long long start = now_us();
    for (int i = 0; i != roundtrips; i++) {
        if (zmq_msg_send(&msg, s, 0) < 0) {
            fail("zmq_msg_send");
            return -1;
        }
        if (zmq_msg_recv(&msg, s, 0) < 0) {
            fail("zmq_msg_recv");
            return -1;
        }
        if (zmq_msg_size(&msg) != (size_t) size) {
            printf("message of incorrect size received\n");
            fflush(stdout);
            return -1;
        }
    }
    long long elapsed = now_us() - start;
    zmq_msg_close(&msg);
    return elapsed;
}

static int close_all(void *s, void *ctx)
{
    if (zmq_close(s) != 0)
        return fail("zmq_close");
    if (zmq_ctx_term(ctx) != 0)
        return fail("zmq_ctx_term");
    return 0;
}

/* local_thr <bind-to> <message-size> <message-count> */
int c_local_thr(int argc, char **argv)
{
    if (argc != 4) {
        printf("usage: local_thr <bind-to> <message-size> <message-count>\n");
        return 1;
    }
    int size = atoi(argv[2]), count = atoi(argv[3]);
    if (bad_numbers(size, count))
        return 1;
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PULL);
    if (!s)
        return fail("zmq_socket");
    if (zmq_bind(s, argv[1]) != 0)
        return fail("zmq_bind");
    if (report_endpoint(s, argv[1]) != 0)
        return -1;
    long long elapsed = receive_all(s, size, count);
    if (elapsed < 0)
        return -1;
    print_thr(size, count, elapsed);
    return close_all(s, ctx);
}

/* remote_thr <connect-to> <message-size> <message-count> */
int c_remote_thr(int argc, char **argv)
{
    if (argc != 4) {
        printf("usage: remote_thr <connect-to> <message-size> <message-count>\n");
        return 1;
    }
    int size = atoi(argv[2]), count = atoi(argv[3]);
    if (bad_numbers(size, count))
        return 1;
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    if (!s)
        return fail("zmq_socket");
    if (zmq_connect(s, argv[1]) != 0)
        return fail("zmq_connect");
    if (send_all(s, size, count) != 0)
        return -1;
    /* libzmq's default linger is infinite: closing waits for delivery. */
    return close_all(s, ctx);
}

/* local_lat <bind-to> <message-size> <roundtrip-count> */
int c_local_lat(int argc, char **argv)
{
    if (argc != 4) {
        printf("usage: local_lat <bind-to> <message-size> <roundtrip-count>\n");
        return 1;
    }
    int size = atoi(argv[2]), roundtrips = atoi(argv[3]);
    if (bad_numbers(size, roundtrips))
        return 1;
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REP);
    if (!s)
        return fail("zmq_socket");
    if (zmq_bind(s, argv[1]) != 0)
        return fail("zmq_bind");
    if (report_endpoint(s, argv[1]) != 0)
        return -1;
    if (echo_all(s, size, roundtrips) != 0)
        return -1;
    return close_all(s, ctx);
}

/* remote_lat <connect-to> <message-size> <roundtrip-count> */
int c_remote_lat(int argc, char **argv)
{
    if (argc != 4) {
        printf("usage: remote_lat <connect-to> <message-size> <roundtrip-count>\n");
        return 1;
    }
    int size = atoi(argv[2]), roundtrips = atoi(argv[3]);
    if (bad_numbers(size, roundtrips))
        return 1;
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REQ);
    if (!s)
        return fail("zmq_socket");
    if (zmq_connect(s, argv[1]) != 0)
        return fail("zmq_connect");
    long long elapsed = ping_all(s, size, roundtrips);
    if (elapsed < 0)
        return -1;
    print_lat(size, roundtrips, elapsed);
    return close_all(s, ctx);
}

struct worker_args {
    void *ctx;
    const char *endpoint;
    int type;
    int size;
    int count;
    int rc;
};

static void *thr_worker(void *p)
{
    struct worker_args *a = p;
    void *s = zmq_socket(a->ctx, a->type);
    if (!s) {
        a->rc = fail("zmq_socket");
        return NULL;
    }
    if (zmq_connect(s, a->endpoint) != 0) {
        a->rc = fail("zmq_connect");
        zmq_close(s);
        return NULL;
    }
    if (a->type == ZMQ_PUSH)
        a->rc = send_all(s, a->size, a->count);
    else
        a->rc = echo_all(s, a->size, a->count);
    if (zmq_close(s) != 0 && a->rc == 0)
        a->rc = fail("zmq_close");
    return NULL;
}

/* inproc_thr <message-size> <message-count> */
int c_inproc_thr(int argc, char **argv)
{
    if (argc != 3) {
        printf("usage: inproc_thr <message-size> <message-count>\n");
        return 1;
    }
    int size = atoi(argv[1]), count = atoi(argv[2]);
    if (bad_numbers(size, count))
        return 1;
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PULL);
    if (!s)
        return fail("zmq_socket");
    if (zmq_bind(s, "inproc://thr_test") != 0)
        return fail("zmq_bind");
    struct worker_args args = {ctx, "inproc://thr_test", ZMQ_PUSH, size, count, 0};
    pthread_t worker;
    int rc = pthread_create(&worker, NULL, thr_worker, &args);
    if (rc != 0) {
        printf("error in pthread_create: %s\n", strerror(rc));
        return -1;
    }
    long long elapsed = receive_all(s, size, count);
    pthread_join(worker, NULL);
    if (elapsed < 0 || args.rc != 0)
        return -1;
    print_thr(size, count, elapsed);
    return close_all(s, ctx);
}

/* inproc_lat <message-size> <roundtrip-count> */
int c_inproc_lat(int argc, char **argv)
{
    if (argc != 3) {
        printf("usage: inproc_lat <message-size> <roundtrip-count>\n");
        return 1;
    }
    int size = atoi(argv[1]), roundtrips = atoi(argv[2]);
    if (bad_numbers(size, roundtrips))
        return 1;
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REQ);
    if (!s)
        return fail("zmq_socket");
    if (zmq_bind(s, "inproc://lat_test") != 0)
        return fail("zmq_bind");
    struct worker_args args = {ctx, "inproc://lat_test", ZMQ_REP, size, roundtrips, 0};
    pthread_t worker;
    int rc = pthread_create(&worker, NULL, thr_worker, &args);
    if (rc != 0) {
        printf("error in pthread_create: %s\n", strerror(rc));
        return -1;
    }
    long long elapsed = ping_all(s, size, roundtrips);
    pthread_join(worker, NULL);
    if (elapsed < 0 || args.rc != 0)
        return -1;
    print_lat(size, roundtrips, elapsed);
    return close_all(s, ctx);
}
