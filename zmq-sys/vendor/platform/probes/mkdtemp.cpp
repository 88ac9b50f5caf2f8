/* HAVE_MKDTEMP: wildcard IPC endpoints (ipc://*) get a private temporary directory. */
#include <stdlib.h>
int main(void) {
    char *(*f)(char *) = mkdtemp;
    return f == 0;
}
