/* ZMQ_HAVE_TIPC: the TIPC transport, only when the kernel offers AF_TIPC sockets. */
#include <sys/socket.h>
#include <linux/tipc.h>
#include <unistd.h>
int main(void) {
    int s = socket(AF_TIPC, SOCK_RDM, 0);
    if (s < 0) return 1;
    close(s);
    return 0;
}
