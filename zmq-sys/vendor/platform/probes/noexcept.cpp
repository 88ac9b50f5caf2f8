// ZMQ_HAVE_NOEXCEPT: the C++ compiler understands noexcept.
struct s { s() noexcept {} };
int main() { s x; (void) x; return 0; }
