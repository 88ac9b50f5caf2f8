/* ZMQ_HAVE_TCP_KEEPALIVE: TCP_KEEPALIVE can be set on a keepalive TCP socket. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
int main(void) {
    int opt = 1, s = socket(PF_INET, SOCK_STREAM, 0);
    if (s < 0) return 1;
    int rc = setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, (char *) &opt, sizeof opt);
    if (rc == 0) rc = setsockopt(s, IPPROTO_TCP, TCP_KEEPALIVE, (char *) &opt, sizeof opt);
    close(s);
    return rc != 0;
}
