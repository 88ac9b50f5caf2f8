/* HAVE_FORK: fork() exists, so libzmq can detect use of a context after fork. */
#include <unistd.h>
int main(void) {
    pid_t (*f)(void) = fork;
    return f == 0;
}
