/* ZMQ_HAVE_PTHREAD_SET_NAME: pthread_set_name_np(thread, name), as FreeBSD and OpenBSD have it. */
#include <pthread.h>
#include <pthread_np.h>
int main(void) {
    pthread_set_name_np(pthread_self(), "zmq-probe");
    return 0;
}
