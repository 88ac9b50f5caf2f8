/* HAVE_ACCEPT4: accept4() exists, so accepted sockets are close-on-exec atomically. */
#include <sys/types.h>
#include <sys/socket.h>
int main(void) {
    int (*f)(int, struct sockaddr *, socklen_t *, int) = accept4;
    return f == 0;
}
