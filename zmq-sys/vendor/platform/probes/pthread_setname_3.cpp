/* ZMQ_HAVE_PTHREAD_SETNAME_3: pthread_setname_np(thread, fmt, arg), as NetBSD has it. */
#include <pthread.h>
int main(void) {
    return pthread_setname_np(pthread_self(), "%s", (void *) "zmq-probe") != 0;
}
