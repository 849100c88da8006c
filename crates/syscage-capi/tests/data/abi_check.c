/* Checks syscage's libseccomp.so.2 against the system's seccomp.h: struct
 * layouts and constants at compile time (the library's Rust side declares
 * the same layouts; see src/ctx.rs and src/load.rs), then prints what the
 * API returns for good and bad input, one "name value" line each. The test
 * runs it with the real libseccomp and with syscage's and compares, and
 * checks the documented values. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <seccomp.h>

static_assert(sizeof(struct scmp_arg_cmp) == 24, "scmp_arg_cmp size");
static_assert(offsetof(struct scmp_arg_cmp, op) == 4, "op offset");
static_assert(offsetof(struct scmp_arg_cmp, datum_a) == 8, "datum_a offset");
static_assert(offsetof(struct scmp_arg_cmp, datum_b) == 16, "datum_b offset");
static_assert(sizeof(enum scmp_compare) == 4, "enum size");
static_assert(sizeof(struct scmp_version) == 12, "scmp_version size");
static_assert(sizeof(struct seccomp_notif) == 80, "seccomp_notif size");
static_assert(sizeof(struct seccomp_notif_resp) == 24, "seccomp_notif_resp size");
static_assert(SCMP_CMP_NE == 1 && SCMP_CMP_LT == 2 && SCMP_CMP_LE == 3 &&
	      SCMP_CMP_EQ == 4 && SCMP_CMP_GE == 5 && SCMP_CMP_GT == 6 &&
	      SCMP_CMP_MASKED_EQ == 7, "scmp_compare");
static_assert(SCMP_FLTATR_ACT_DEFAULT == 1 && SCMP_FLTATR_ACT_BADARCH == 2 &&
	      SCMP_FLTATR_CTL_NNP == 3 && SCMP_FLTATR_CTL_TSYNC == 4 &&
	      SCMP_FLTATR_API_TSKIP == 5 && SCMP_FLTATR_CTL_LOG == 6 &&
	      SCMP_FLTATR_CTL_SSB == 7 && SCMP_FLTATR_CTL_OPTIMIZE == 8 &&
	      SCMP_FLTATR_API_SYSRAWRC == 9, "scmp_filter_attr");
static_assert(SCMP_ARCH_X32 == 0x4000003e, "x32 token");
static_assert(SCMP_ACT_KILL_PROCESS == 0x80000000U && SCMP_ACT_KILL == 0 &&
	      SCMP_ACT_TRAP == 0x00030000U && SCMP_ACT_NOTIFY == 0x7fc00000U &&
	      SCMP_ACT_ERRNO(5) == 0x00050005U && SCMP_ACT_TRACE(5) == 0x7ff00005U &&
	      SCMP_ACT_LOG == 0x7ffc0000U && SCMP_ACT_ALLOW == 0x7fff0000U, "actions");

#define SHOW(name, expr) printf("%s %ld\n", name, (long)(expr))

int main(int argc, char *argv[])
{
	/* libseccomp 2.5.4 dereferences a NULL context in these: only with an argument */
	int null_arch = argc > 1 && argv[1][0] == 'n';
	scmp_filter_ctx ctx, other;
	struct scmp_arg_cmp bad_arg = SCMP_CMP(6, SCMP_CMP_EQ, 1);
	struct scmp_arg_cmp bad_op = { 0, 9, 1, 0 };
	struct scmp_arg_cmp two[2] = { SCMP_A0(SCMP_CMP_EQ, 1), SCMP_A0(SCMP_CMP_EQ, 2) };
	const struct scmp_version *v = seccomp_version();
	uint32_t val = 0;
	char *name;

	printf("version %u.%u.%u\n", v->major, v->minor, v->micro);
	SHOW("init_bad_action", seccomp_init(0x12345678) == NULL);
	SHOW("init_errno_4095", seccomp_init(SCMP_ACT_ERRNO(4095)) == NULL);
	SHOW("init_trap_data", seccomp_init(SCMP_ACT_TRAP | 1) == NULL);

	/* NULL ctx */
	SHOW("null_rule_add", seccomp_rule_add(NULL, SCMP_ACT_ALLOW, 0, 0));
	if (null_arch) {
		SHOW("null_arch_add", seccomp_arch_add(NULL, SCMP_ARCH_X86));
		SHOW("null_arch_remove", seccomp_arch_remove(NULL, SCMP_ARCH_X86));
		SHOW("null_arch_exist", seccomp_arch_exist(NULL, SCMP_ARCH_X86));
	}
	SHOW("null_load", seccomp_load(NULL));
	SHOW("null_export_bpf", seccomp_export_bpf(NULL, 1));
	SHOW("null_export_pfc", seccomp_export_pfc(NULL, 1));
	SHOW("null_attr_get", seccomp_attr_get(NULL, SCMP_FLTATR_CTL_NNP, &val));
	SHOW("null_attr_set", seccomp_attr_set(NULL, SCMP_FLTATR_CTL_NNP, 0));
	SHOW("null_priority", seccomp_syscall_priority(NULL, 0, 1));
	SHOW("null_merge", seccomp_merge(NULL, NULL));
	SHOW("null_notify_fd", seccomp_notify_fd(NULL));
	seccomp_release(NULL);

	ctx = seccomp_init(SCMP_ACT_ERRNO(1));
	/* arches */
	SHOW("arch_native", seccomp_arch_native() == SCMP_ARCH_X86_64);
	SHOW("arch_resolve_x32", seccomp_arch_resolve_name("x32") == SCMP_ARCH_X32);
	SHOW("arch_resolve_bogus", seccomp_arch_resolve_name("bogus"));
	SHOW("arch_resolve_null", seccomp_arch_resolve_name(NULL));
	SHOW("arch_add_unknown", seccomp_arch_add(ctx, 0x1234));
	SHOW("arch_exist_unknown", seccomp_arch_exist(ctx, 0x1234));
	SHOW("arch_add_native_again", seccomp_arch_add(ctx, SCMP_ARCH_NATIVE));
	SHOW("arch_exist_x86", seccomp_arch_exist(ctx, SCMP_ARCH_X86));
	SHOW("arch_add_x86", seccomp_arch_add(ctx, SCMP_ARCH_X86));
	SHOW("arch_exist_x86_now", seccomp_arch_exist(ctx, SCMP_ARCH_X86));
	SHOW("arch_add_s390x", seccomp_arch_add(ctx, SCMP_ARCH_S390X));
	SHOW("arch_remove_arm", seccomp_arch_remove(ctx, SCMP_ARCH_ARM));

	/* rules */
	SHOW("rule_arg6", seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, &bad_arg));
	SHOW("rule_bad_op", seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, &bad_op));
	SHOW("rule_same_arg_twice", seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 2, two));
	SHOW("rule_7_args", seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 7, two));
	SHOW("rule_null_array", seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, NULL));
	SHOW("rule_syscall_minus1", seccomp_rule_add(ctx, SCMP_ACT_ALLOW, -1, 0));
	SHOW("rule_syscall_minus50", seccomp_rule_add(ctx, SCMP_ACT_ALLOW, -50, 0));
	SHOW("rule_default_action", seccomp_rule_add(ctx, SCMP_ACT_ERRNO(1), SCMP_SYS(read), 0));
	SHOW("rule_bad_action", seccomp_rule_add(ctx, 0x12345678, SCMP_SYS(read), 0));
	SHOW("rule_ok", seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, SCMP_A0(SCMP_CMP_EQ, 0)));
	SHOW("rule_same_again", seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, SCMP_A0(SCMP_CMP_EQ, 0)));
	SHOW("rule_same_conds_other_action", seccomp_rule_add(ctx, SCMP_ACT_LOG, SCMP_SYS(read), 1, SCMP_A0(SCMP_CMP_EQ, 0)));
	SHOW("rule_socket_x86", seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, 1)));
	SHOW("exact_multi_arch", seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 0));
	SHOW("tskip_set", seccomp_attr_set(ctx, SCMP_FLTATR_API_TSKIP, 1));
	SHOW("rule_syscall_minus1_tskip", seccomp_rule_add(ctx, SCMP_ACT_ALLOW, -1, 0));

	/* attributes */
	SHOW("attr_set_default", seccomp_attr_set(ctx, SCMP_FLTATR_ACT_DEFAULT, SCMP_ACT_ALLOW));
	SHOW("attr_set_badarch_bad", seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, 0x12345678));
	SHOW("attr_set_badarch", seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS));
	SHOW("attr_set_optimize_3", seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 3));
	SHOW("attr_set_optimize_2", seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2));
	SHOW("attr_set_unknown", seccomp_attr_set(ctx, 99, 1));
	SHOW("attr_get_unknown", seccomp_attr_get(ctx, 99, &val));
	SHOW("attr_set_log", seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1));
	SHOW("attr_set_ssb", seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1));
	SHOW("attr_set_tsync", seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1));
	SHOW("attr_set_sysrawrc", seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1));
	for (int a = SCMP_FLTATR_ACT_DEFAULT; a <= SCMP_FLTATR_API_SYSRAWRC; a++) {
		char n[32];
		val = 0xdead;
		snprintf(n, sizeof(n), "attr_get_%d", a);
		SHOW(n, seccomp_attr_get(ctx, a, &val));
		snprintf(n, sizeof(n), "attr_val_%d", a);
		SHOW(n, val);
	}

	/* merge */
	other = seccomp_init(SCMP_ACT_ALLOW);
	seccomp_arch_remove(other, SCMP_ARCH_NATIVE);
	seccomp_arch_add(other, SCMP_ARCH_AARCH64);
	SHOW("merge_other_default", seccomp_merge(ctx, other));
	seccomp_release(other);
	other = seccomp_init(SCMP_ACT_ERRNO(1));
	seccomp_attr_set(other, SCMP_FLTATR_CTL_TSYNC, 1);
	SHOW("merge_same_arch", seccomp_merge(ctx, other));
	seccomp_arch_remove(other, SCMP_ARCH_NATIVE);
	seccomp_arch_add(other, SCMP_ARCH_AARCH64);
	seccomp_attr_set(other, SCMP_FLTATR_CTL_NNP, 0);
	SHOW("merge_other_nnp", seccomp_merge(ctx, other));
	seccomp_attr_set(other, SCMP_FLTATR_CTL_NNP, 1);
	seccomp_attr_set(other, SCMP_FLTATR_CTL_TSYNC, 0);
	SHOW("merge_other_tsync", seccomp_merge(ctx, other));
	seccomp_attr_set(other, SCMP_FLTATR_CTL_TSYNC, 1);
	SHOW("merge_ok", seccomp_merge(ctx, other)); /* frees other */
	SHOW("merged_has_aarch64", seccomp_arch_exist(ctx, SCMP_ARCH_AARCH64));
	SHOW("merge_self", seccomp_merge(ctx, ctx));

	/* syscall names */
	SHOW("resolve_read", seccomp_syscall_resolve_name("read"));
	SHOW("resolve_bogus", seccomp_syscall_resolve_name("bogus"));
	SHOW("resolve_null", seccomp_syscall_resolve_name(NULL));
	SHOW("resolve_x86_socket", seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "socket"));
	SHOW("resolve_x86_socketcall", seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "socketcall"));
	SHOW("resolve_x32_read", seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "read"));
	SHOW("resolve_socketcall_native", seccomp_syscall_resolve_name("socketcall"));
	SHOW("resolve_rewrite_x86_socket", seccomp_syscall_resolve_name_rewrite(SCMP_ARCH_X86, "socket"));
	SHOW("resolve_rewrite_x86_read", seccomp_syscall_resolve_name_rewrite(SCMP_ARCH_X86, "read"));
	SHOW("resolve_bad_arch", seccomp_syscall_resolve_name_arch(0x1234, "read"));
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, 59);
	printf("resolve_num_59 %s\n", name ? name : "(null)");
	free(name);
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86, 102);
	printf("resolve_num_x86_102 %s\n", name ? name : "(null)");
	free(name);
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, -101);
	printf("resolve_num_pnr_socket %s\n", name ? name : "(null)");
	free(name);
	SHOW("resolve_num_bad_arch", seccomp_syscall_resolve_num_arch(0x1234, 1) == NULL);
	SHOW("priority_ok", seccomp_syscall_priority(ctx, SCMP_SYS(read), 200));
	SHOW("priority_minus50", seccomp_syscall_priority(ctx, -50, 1));

	/* api level */
	SHOW("api_set_0", seccomp_api_set(0));
	SHOW("api_set_99", seccomp_api_set(99));
	SHOW("api_set_2", seccomp_api_set(2));
	SHOW("api_get_2", seccomp_api_get());
	SHOW("log_at_level_2", seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1));
	SHOW("init_log_at_level_2", seccomp_init(SCMP_ACT_LOG) == NULL);
	SHOW("reset_null", seccomp_reset(NULL, 0));
	SHOW("api_get_after_reset", seccomp_api_get() >= 5);

	/* exports to a bad fd */
	SHOW("export_bpf_bad_fd", seccomp_export_bpf(ctx, -1));
	SHOW("reset_bad_action", seccomp_reset(ctx, 0x12345678));
	SHOW("reset_ok", seccomp_reset(ctx, SCMP_ACT_ALLOW));
	SHOW("after_reset_x86_gone", seccomp_arch_exist(ctx, SCMP_ARCH_X86));
	SHOW("export_bpf_devnull", seccomp_export_bpf(ctx, open("/dev/null", 1)));
	/* every arch removed: the context is no longer valid */
	SHOW("remove_native", seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE));
	SHOW("rule_on_empty", seccomp_rule_add(ctx, SCMP_ACT_KILL, SCMP_SYS(read), 0));
	SHOW("export_empty", seccomp_export_bpf(ctx, 1));
	seccomp_release(ctx);
	return 0;
}
