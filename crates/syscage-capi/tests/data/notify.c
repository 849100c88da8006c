/* The user-notification API: the child's getppid(2) goes to a listener
 * (SCMP_ACT_NOTIFY); the parent receives the request, checks it is
 * getppid, answers 4242, and the child prints what getppid returned. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <seccomp.h>

int main(void)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	scmp_filter_ctx ctx;
	int fd, status, rc;
	pid_t child;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	printf("rule %d\n", seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getppid), 0));
	printf("fd_before_load %d\n", seccomp_notify_fd(ctx) >= 0);
	fflush(stdout);
	/* Load in this process, answer from a forked child. */
	rc = seccomp_load(ctx);
	printf("load %d\n", rc);
	fd = seccomp_notify_fd(ctx);
	printf("fd %d\n", fd >= 0);
	fflush(stdout);
	child = fork();
	if (child == 0) {
		/* The answering side (filtered too, but it never calls getppid). */
		printf("alloc %d\n", seccomp_notify_alloc(&req, &resp));
		printf("receive %d\n", seccomp_notify_receive(fd, req));
		printf("is_getppid %d\n", req->data.nr == SCMP_SYS(getppid));
		printf("id_valid %d\n", seccomp_notify_id_valid(fd, req->id));
		resp->id = req->id;
		resp->val = 4242;
		resp->error = 0;
		resp->flags = 0;
		printf("respond %d\n", seccomp_notify_respond(fd, resp));
		printf("id_valid_after %d\n", seccomp_notify_id_valid(fd, req->id));
		seccomp_notify_free(req, resp);
		fflush(stdout);
		_exit(0);
	}
	rc = (int)syscall(SYS_getppid);
	waitpid(child, &status, 0);
	printf("getppid %d\n", rc);
	printf("bad_fd_receive %d\n", seccomp_notify_receive(-1, req));
	seccomp_release(ctx);
	return 0;
}
