/* ZMQ_HAVE_EVENTFD_CLOEXEC: eventfd accepts EFD_CLOEXEC and the flag sticks. */
#include <sys/eventfd.h>
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0) return 1;
    int ok = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
    close(fd);
    return ok ? 0 : 1;
}
