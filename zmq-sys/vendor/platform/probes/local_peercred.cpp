/* ZMQ_HAVE_LOCAL_PEERCRED: the BSD spelling of peer credentials. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(void) {
    int opt = LOCAL_PEERCRED;
    return opt == 0;
}
