/* ZMQ_HAVE_SO_PEERCRED: SO_PEERCRED and struct ucred give an IPC peer's uid/gid/pid. */
#include <sys/types.h>
#include <sys/socket.h>
int main(void) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    int opt = SO_PEERCRED;
    (void) len;
    cred.pid = 0;
    return opt == 0 || cred.pid != 0;
}
