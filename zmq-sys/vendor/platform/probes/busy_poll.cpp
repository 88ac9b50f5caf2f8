/* ZMQ_HAVE_BUSY_POLL: SO_BUSY_POLL exists (ZMQ_BUSY_POLL). */
#include <sys/types.h>
#include <sys/socket.h>
int main(void) {
    int opt = SO_BUSY_POLL;
    return opt == 0;
}
