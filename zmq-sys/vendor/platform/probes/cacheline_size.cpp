/* ZMQ_CACHELINE_SIZE: the L1 data cache line, as libzmq's build reads it with getconf (64 if unknown). */
#include <stdio.h>
#include <unistd.h>
int main(void) {
    long n = -1;
#ifdef _SC_LEVEL1_DCACHE_LINESIZE
    n = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
#endif
    if (n <= 0) return 1;
    printf("%ld\n", n);
    return 0;
}
