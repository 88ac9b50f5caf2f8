/* HAVE_IF_NAMETOINDEX: scoped IPv6 addresses such as fe80::1%lo. */
#include <net/if.h>
int main(void) {
    return if_nametoindex("lo") == 0 && if_nametoindex("lo0") == 0 ? 0 : 0;
}
