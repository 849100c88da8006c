/* Differential driver: builds filters through libseccomp's C API from a
 * script on stdin and prints, per case, every call's return value and the
 * exported program in hex. Run once with the real libseccomp and once with
 * syscage's on LD_LIBRARY_PATH; the test compares.
 *
 * Script, one command a line:
 *   init ACTION            start a case (seccomp_init)
 *   arch TOKEN             seccomp_arch_add
 *   unarch TOKEN           seccomp_arch_remove
 *   attr ATTR VALUE        seccomp_attr_set
 *   rule ACTION NAME N [ARG OP A B]*N   seccomp_rule_add_array
 *   exact ACTION NAME N [ARG OP A B]*N  seccomp_rule_add_exact_array
 *   export                 seccomp_export_bpf_mem-free export: via a pipe-less
 *                          temp file, printed as "bpf HEX" (or "bpf! RC")
 * Output lines: "rc VALUE" per call, "bpf HEX" per export, "end" per case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <seccomp.h>

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
		int n, off, rc;

		if (sscanf(line, "%15s%n", cmd, &off) != 1)
			continue;
		if (!strcmp(cmd, "init")) {
			if (ctx) {
				seccomp_release(ctx);
				printf("end\n");
			}
			sscanf(line + off, "%llu", &a);
			ctx = seccomp_init((uint32_t)a);
			printf("init %d\n", ctx != NULL);
		} else if (!ctx) {
			continue;
		} else if (!strcmp(cmd, "arch")) {
			sscanf(line + off, "%llu", &a);
			printf("rc %d\n", seccomp_arch_add(ctx, (uint32_t)a));
		} else if (!strcmp(cmd, "unarch")) {
			sscanf(line + off, "%llu", &a);
			printf("rc %d\n", seccomp_arch_remove(ctx, (uint32_t)a));
		} else if (!strcmp(cmd, "attr")) {
			sscanf(line + off, "%llu %llu", &a, &b);
			printf("rc %d\n", seccomp_attr_set(ctx, (enum scmp_filter_attr)a, (uint32_t)b));
		} else if (!strcmp(cmd, "rule") || !strcmp(cmd, "exact")) {
			struct scmp_arg_cmp args[6];
			unsigned long long act;
			int used, nr, i;
			char *p = line + off;

			if (sscanf(p, "%llu %63s %d%n", &act, name, &n, &used) != 3 || n > 6)
				return 2;
			p += used;
			for (i = 0; i < n; i++) {
				unsigned int arg, op;
				if (sscanf(p, "%u %u %llu %llu%n", &arg, &op, &a, &b, &used) != 4)
					return 2;
				p += used;
				args[i].arg = arg;
				args[i].op = (enum scmp_compare)op;
				args[i].datum_a = a;
				args[i].datum_b = b;
			}
			nr = seccomp_syscall_resolve_name(name);
			if (!strcmp(cmd, "rule"))
				rc = seccomp_rule_add_array(ctx, (uint32_t)act, nr, n, args);
			else
				rc = seccomp_rule_add_exact_array(ctx, (uint32_t)act, nr, n, args);
			printf("rc %d\n", rc);
		} else if (!strcmp(cmd, "export")) {
			long len, i;
			rewind(tmp);
			if (ftruncate(fileno(tmp), 0) != 0)
				return 2;
			rc = seccomp_export_bpf(ctx, fileno(tmp));
			if (rc != 0) {
				printf("bpf! %d\n", rc);
				continue;
			}
			len = lseek(fileno(tmp), 0, SEEK_END);
			lseek(fileno(tmp), 0, SEEK_SET);
			printf("bpf ");
			for (i = 0; i < len; i++) {
				unsigned char c;
				if (read(fileno(tmp), &c, 1) != 1)
					return 2;
				printf("%02x", c);
			}
			printf("\n");
		}
	}
	if (ctx) {
		seccomp_release(ctx);
		printf("end\n");
	}
	return 0;
}
