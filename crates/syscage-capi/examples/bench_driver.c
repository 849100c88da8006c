/* Benchmark driver: replays a filter script (tests/data/diff_driver.c's
 * format: init, arch, rule lines) N times through libseccomp's C API, from
 * seccomp_init to exported bytes (seccomp_export_bpf into a temp file),
 * and prints the mean time per build and the last export in hex. Rules
 * whose syscall name the library does not know are skipped, as runc does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <seccomp.h>

#define MAX_LINES 4096

int main(int argc, char *argv[])
{
	static char *lines[MAX_LINES];
	char buf[4096];
	int n = 0, iters = argc > 1 ? atoi(argv[1]) : 100;
	FILE *tmp = tmpfile();
	struct timespec t0, t1;
	long len = 0;

	while (n < MAX_LINES && fgets(buf, sizeof(buf), stdin))
		lines[n++] = strdup(buf);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int it = 0; it < iters; it++) {
		scmp_filter_ctx ctx = NULL;
		for (int i = 0; i < n; i++) {
			char cmd[16], name[64], *p;
			unsigned long long a, b;
			int off, used;

			if (sscanf(lines[i], "%15s%n", cmd, &off) != 1)
				continue;
			p = lines[i] + off;
			if (!strcmp(cmd, "init")) {
				sscanf(p, "%llu", &a);
				ctx = seccomp_init((uint32_t)a);
			} else if (!strcmp(cmd, "attr")) {
				sscanf(p, "%llu %llu", &a, &b);
				seccomp_attr_set(ctx, (enum scmp_filter_attr)a, (uint32_t)b);
			} else if (!strcmp(cmd, "arch")) {
				sscanf(p, "%llu", &a);
				seccomp_arch_add(ctx, (uint32_t)a);
			} else if (!strcmp(cmd, "rule")) {
				struct scmp_arg_cmp args[6];
				unsigned long long act;
				int cnt, nr;
				if (sscanf(p, "%llu %63s %d%n", &act, name, &cnt, &used) != 3)
					return 2;
				p += used;
				for (int k = 0; k < cnt; k++) {
					unsigned int arg, op;
					if (sscanf(p, "%u %u %llu %llu%n", &arg, &op, &a, &b, &used) != 4)
						return 2;
					p += used;
					args[k] = (struct scmp_arg_cmp){ arg, (enum scmp_compare)op, a, b };
				}
				nr = seccomp_syscall_resolve_name(name);
				if (nr == __NR_SCMP_ERROR)
					continue;
				if (seccomp_rule_add_array(ctx, (uint32_t)act, nr, cnt, args) != 0)
					return 3;
			}
		}
		rewind(tmp);
		if (ftruncate(fileno(tmp), 0) != 0 || seccomp_export_bpf(ctx, fileno(tmp)) != 0)
			return 4;
		seccomp_release(ctx);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("ns_per_build %.0f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / iters);
	len = lseek(fileno(tmp), 0, SEEK_END);
	lseek(fileno(tmp), 0, SEEK_SET);
	printf("bpf ");
	for (long i = 0; i < len; i++) {
		unsigned char c;
		if (read(fileno(tmp), &c, 1) != 1)
			return 5;
		printf("%02x", c);
	}
	printf("\n");
	return 0;
}
