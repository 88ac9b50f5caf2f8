/* ZMQ_HAVE_IFADDRS: getifaddrs() resolves interface names such as tcp://lo:port. */
#include <sys/types.h>
#include <ifaddrs.h>
int main(void) {
    struct ifaddrs *ifa = 0;
    if (getifaddrs(&ifa) != 0) return 1;
    freeifaddrs(ifa);
    return 0;
}
