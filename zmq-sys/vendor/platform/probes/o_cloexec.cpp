/* ZMQ_HAVE_O_CLOEXEC: open() accepts O_CLOEXEC. */
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    int ok = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
    close(fd);
    return ok ? 0 : 1;
}
