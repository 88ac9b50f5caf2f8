/* ZMQ_HAVE_SO_PRIORITY: SO_PRIORITY can be set on a TCP socket (ZMQ_PRIORITY). */
#include <sys/types.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
    int opt = 1, s = socket(PF_INET, SOCK_STREAM, 0);
    if (s < 0) return 1;
    int rc = setsockopt(s, SOL_SOCKET, SO_PRIORITY, (char *) &opt, sizeof opt);
    close(s);
    return rc != 0;
}
