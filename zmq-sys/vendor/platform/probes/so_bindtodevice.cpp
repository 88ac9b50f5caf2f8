/* ZMQ_HAVE_SO_BINDTODEVICE: the SO_BINDTODEVICE option exists (ZMQ_BINDTODEVICE).
 * Setting it needs CAP_NET_RAW, so only its presence is checked, as libzmq's build does. */
#include <sys/types.h>
#include <sys/socket.h>
int main(void) {
    int opt = SO_BINDTODEVICE;
    return opt == 0;
}
