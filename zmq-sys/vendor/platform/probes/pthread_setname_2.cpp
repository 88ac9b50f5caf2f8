/* ZMQ_HAVE_PTHREAD_SETNAME_2: pthread_setname_np(thread, name), as glibc has it (ZMQ_THREAD_NAME_PREFIX). */
#include <pthread.h>
int main(void) {
    return pthread_setname_np(pthread_self(), "zmq-probe") != 0;
}
