/* The C-variadic entry points of libseccomp's API, which stable Rust
 * cannot define: collect up to six `struct scmp_arg_cmp` and call the
 * `_array` versions (implemented in Rust). Declared here without the
 * system header so the crate builds without libseccomp-dev. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>

struct syscage_arg_cmp {
	unsigned int arg;
	unsigned int op;
	uint64_t datum_a;
	uint64_t datum_b;
};

int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall,
			   unsigned int arg_cnt,
			   const struct syscage_arg_cmp *arg_array);
int seccomp_rule_add_exact_array(void *ctx, uint32_t action, int syscall,
				 unsigned int arg_cnt,
				 const struct syscage_arg_cmp *arg_array);

#define ARG_COUNT_MAX 6

int seccomp_rule_add(void *ctx, uint32_t action, int syscall,
		     unsigned int arg_cnt, ...)
{
	struct syscage_arg_cmp args[ARG_COUNT_MAX];
	va_list ap;
	unsigned int i;

	if (arg_cnt > ARG_COUNT_MAX)
		return -EINVAL;
	va_start(ap, arg_cnt);
	for (i = 0; i < arg_cnt; i++)
		args[i] = va_arg(ap, struct syscage_arg_cmp);
	va_end(ap);
	return seccomp_rule_add_array(ctx, action, syscall, arg_cnt, args);
}

int seccomp_rule_add_exact(void *ctx, uint32_t action, int syscall,
			   unsigned int arg_cnt, ...)
{
	struct syscage_arg_cmp args[ARG_COUNT_MAX];
	va_list ap;
	unsigned int i;

	if (arg_cnt > ARG_COUNT_MAX)
		return -EINVAL;
	va_start(ap, arg_cnt);
	for (i = 0; i < arg_cnt; i++)
		args[i] = va_arg(ap, struct syscage_arg_cmp);
	va_end(ap);
	return seccomp_rule_add_exact_array(ctx, action, syscall, arg_cnt,
					    args);
}
