/* ZMQ_HAVE_PTHREAD_SETNAME_1: pthread_setname_np(name), as macOS has it. */
#include <pthread.h>
int main(void) {
    return pthread_setname_np("zmq-probe") != 0;
}
