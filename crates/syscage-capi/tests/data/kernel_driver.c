/* Kernel-sample driver: builds filters through libseccomp's C API from a
 * script on stdin, then for each "call" forks a child that loads the filter
 * with seccomp_load and makes one harmless syscall with syscall(2). The
 * filter is never installed in this process (only in the children). Run
 * once with the real libseccomp and once with syscage's on LD_LIBRARY_PATH;
 * the test compares the two and syscage's emulator.
 *
 * Script, one command a line:
 *   init ACTION              start a case: seccomp_init, then an ALLOW rule
 *                            for exit_group (the child reports through its
 *                            exit status)
 *   rule ACTION NAME N [ARG OP A B W]*N
 *                            seccomp_rule_add_array; W is 32 (SCMP_CMP32,
 *                            the SCMP_Ax_32 macros) or 64 (SCMP_CMP64)
 *   export                   seccomp_export_bpf, printed "bpf HEX" (or "bpf! RC")
 *   call NAME A0 A1 A2 A3 A4 A5
 *                            in a forked child: seccomp_load, then
 *                            syscall(NAME, A0..A5); printed "out ok",
 *                            "out errno N", "out trap", "out signal N",
 *                            "out load RC" or "out exit N"
 * Output lines also: "rc VALUE" per init/rule call, "end" per case. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <seccomp.h>

/* Exit codes of the child, out of the errno range the test uses. */
#define CODE_TRAP 253
#define CODE_LOAD 252
#define CODE_BIG_ERRNO 251

static void on_sigsys(int sig)
{
	(void)sig;
	_exit(CODE_TRAP);
}

static void call(scmp_filter_ctx ctx, const char *name, unsigned long long a[6])
{
	int nr = seccomp_syscall_resolve_name(name);
	int status, rc;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		struct sigaction sa;
		long r;

		setrlimit(RLIMIT_CORE, &no_core);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigsys;
		sigaction(SIGSYS, &sa, NULL);
		rc = seccomp_load(ctx);
		if (rc != 0)
			_exit(CODE_LOAD);
		r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r == -1)
			_exit(errno < CODE_BIG_ERRNO ? errno : CODE_BIG_ERRNO);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		exit(2);
	}
	if (WIFSIGNALED(status))
		printf("out signal %d\n", WTERMSIG(status));
	else if (WEXITSTATUS(status) == 0)
		printf("out ok\n");
	else if (WEXITSTATUS(status) == CODE_TRAP)
		printf("out trap\n");
	else if (WEXITSTATUS(status) == CODE_LOAD)
		printf("out load\n");
	else if (WEXITSTATUS(status) < CODE_BIG_ERRNO)
		printf("out errno %d\n", WEXITSTATUS(status));
	else
		printf("out exit %d\n", WEXITSTATUS(status));
}

static int export(scmp_filter_ctx ctx, FILE *tmp)
{
	long len, i;
	int rc;

	rewind(tmp);
	if (ftruncate(fileno(tmp), 0) != 0)
		return -1;
	rc = seccomp_export_bpf(ctx, fileno(tmp));
	if (rc != 0) {
		printf("bpf! %d\n", rc);
		return 0;
	}
	len = lseek(fileno(tmp), 0, SEEK_END);
	lseek(fileno(tmp), 0, SEEK_SET);
	printf("bpf ");
	for (i = 0; i < len; i++) {
		unsigned char c;
		if (read(fileno(tmp), &c, 1) != 1)
			return -1;
		printf("%02x", c);
	}
	printf("\n");
	return 0;
}

int main(void)
{
	char line[4096];
	scmp_filter_ctx ctx = NULL;
	FILE *tmp = tmpfile();

	if (!tmp)
		return 2;
	while (fgets(line, sizeof(line), stdin)) {
		char cmd[16], name[64];
		unsigned long long a, b;
		int n, off;

		if (sscanf(line, "%15s%n", cmd, &off) != 1)
			continue;
		if (!strcmp(cmd, "init")) {
			if (ctx) {
				seccomp_release(ctx);
				printf("end\n");
			}
			if (sscanf(line + off, "%llu", &a) != 1)
				return 2;
			ctx = seccomp_init((uint32_t)a);
			if (!ctx)
				return 2;
			printf("rc %d\n", seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0));
		} else if (!ctx) {
			return 2;
		} else if (!strcmp(cmd, "rule")) {
			struct scmp_arg_cmp args[6];
			unsigned long long act;
			int used, i;
			char *p = line + off;

			if (sscanf(p, "%llu %63s %d%n", &act, name, &n, &used) != 3 || n > 6)
				return 2;
			p += used;
			for (i = 0; i < n; i++) {
				unsigned int arg, op, width;
				if (sscanf(p, "%u %u %llu %llu %u%n", &arg, &op, &a, &b, &width, &used) != 5)
					return 2;
				p += used;
				if (width == 32)
					args[i] = SCMP_CMP32(arg, (enum scmp_compare)op, a, b);
				else
					args[i] = SCMP_CMP64(arg, (enum scmp_compare)op, a, b);
			}
			printf("rc %d\n", seccomp_rule_add_array(ctx, (uint32_t)act,
								 seccomp_syscall_resolve_name(name), n, args));
		} else if (!strcmp(cmd, "export")) {
			if (export(ctx, tmp) != 0)
				return 2;
		} else if (!strcmp(cmd, "call")) {
			unsigned long long v[6];
			if (sscanf(line + off, "%63s %llu %llu %llu %llu %llu %llu", name,
				   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 7)
				return 2;
			call(ctx, name, v);
		} else {
			return 2;
		}
	}
	if (ctx) {
		seccomp_release(ctx);
		printf("end\n");
	}
	return 0;
}
