/* ZMQ_HAVE_EVENTFD: the internal signaler can be one eventfd instead of a socketpair. */
#include <sys/eventfd.h>
#include <unistd.h>
int main(void) {
    int fd = eventfd(0, 0);
    if (fd < 0) return 1;
    close(fd);
    return 0;
}
