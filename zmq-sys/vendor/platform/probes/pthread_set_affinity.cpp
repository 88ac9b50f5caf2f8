/* ZMQ_HAVE_PTHREAD_SET_AFFINITY: I/O threads can be pinned to CPUs (ZMQ_THREAD_AFFINITY_CPU_ADD). */
#include <pthread.h>
#include <sched.h>
int main(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0;
}
