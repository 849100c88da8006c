/* The article shows a decompiled CTF sandbox (IDA output); the calls are
 * as shown, wrapped in a function and a main that exercises the filter:
 * write and exit_group pass, getpid (not in the list) kills. */
#include <unistd.h>
#include <sys/syscall.h>
#include <seccomp.h>

static int sandbox(void)
{
scmp_filter_ctx v1 = seccomp_init(0LL); // kill

seccomp_rule_add(v1, 2147418112LL, 2LL, 0LL); // open allow

seccomp_rule_add(v1, 2147418112LL, 0LL, 0LL); // read allow

seccomp_rule_add(v1, 2147418112LL, 1LL, 0LL); // write allow

seccomp_rule_add(v1, 2147418112LL, 60LL, 0LL);// exit allow

seccomp_rule_add(v1, 2147418112LL, 231LL, 0LL);// exit_group

return seccomp_load(v1);
}

int main(int argc, char *argv[])
{
if (sandbox() != 0)
return 3;
write(1, "sandboxed\n", 10);
if (argc > 1)
syscall(SYS_getpid);
syscall(SYS_exit_group, 0);
return 0;
}
