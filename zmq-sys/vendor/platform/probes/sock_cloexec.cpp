/* ZMQ_HAVE_SOCK_CLOEXEC: socket() accepts SOCK_CLOEXEC in its type. */
#include <sys/types.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    int s = socket(PF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return 1;
    int ok = (fcntl(s, F_GETFD) & FD_CLOEXEC) != 0;
    close(s);
    return ok ? 0 : 1;
}
