/* ZMQ_HAVE_PPOLL: zmq_ppoll() (DRAFT) and signal-safe polling. */
#include <poll.h>
#include <signal.h>
int main(void) {
    struct timespec ts = {0, 0};
    return ppoll(0, 0, &ts, 0) < 0;
}
