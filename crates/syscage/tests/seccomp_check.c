/* Asks the running kernel whether it accepts seccomp filters.
 *
 * Reads one filter per line on stdin, each instruction written as 16 hex
 * digits: code (4), jt (2), jf (2), k (8). For each, forks a child that sets
 * no_new_privs and installs the filter with prctl(PR_SET_SECCOMP,
 * SECCOMP_MODE_FILTER), and prints "accept" or "reject" (EINVAL) or
 * "error N" (anything else). The filters only ever run in the children.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static char line[16 * 4200 + 64];
static struct sock_filter insns[4200];

int main(void) {
    while (fgets(line, sizeof line, stdin)) {
        size_t digits = strspn(line, "0123456789abcdef");
        size_t n = digits / 16;
        for (size_t i = 0; i < n; i++) {
            unsigned code, jt, jf, k;
            if (sscanf(line + 16 * i, "%4x%2x%2x%8x", &code, &jt, &jf, &k) != 4) {
                puts("error 1");
                return 1;
            }
            insns[i].code = (unsigned short)code;
            insns[i].jt = (unsigned char)jt;
            insns[i].jf = (unsigned char)jf;
            insns[i].k = k;
        }
        struct sock_fprog prog = { .len = (unsigned short)n, .filter = insns };
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            puts("error 2");
            return 1;
        }
        if (pid == 0) {
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
                _exit(201);
            if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
                _exit(errno == EINVAL ? 100 : 202);
            /* Installed: exit_group now goes through the filter, which may
             * kill the child; either way it is not status 100. */
            _exit(0);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid) {
            puts("error 3");
            return 1;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 100)
            puts("reject");
        else if (WIFEXITED(status) && WEXITSTATUS(status) > 200)
            printf("error %d\n", WEXITSTATUS(status));
        else
            puts("accept");
    }
    return 0;
}
