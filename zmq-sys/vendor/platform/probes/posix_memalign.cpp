/* HAVE_POSIX_MEMALIGN: cache-line aligned queue chunks. */
#include <stdlib.h>
int main(void) {
    void *p = 0;
    if (posix_memalign(&p, 64, 128) != 0) return 1;
    free(p);
    return 0;
}
