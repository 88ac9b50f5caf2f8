/* ZMQ_IOTHREAD_POLLER_USE_EPOLL_CLOEXEC: epoll_create1(EPOLL_CLOEXEC) works. */
#include <sys/epoll.h>
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return 1;
    int ok = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
    close(fd);
    return ok ? 0 : 1;
}
