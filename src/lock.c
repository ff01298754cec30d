/*
 * lock.c - taking a flock that another process may hold, for at most the
 * lock timeout.
 *
 * Appends, commits, resets and configuration changes hold their lock for
 * microseconds, so a wait longer than the timeout (default 60 s, Kafka's
 * max.block.ms) means the holder is stuck: stopped with ^Z, hung on a dead
 * NFS server, traced.  The wait is a blocking flock, woken every 100 ms by
 * SIGALRM (a handler that does nothing, installed without SA_RESTART) to
 * look at the clock and at the stop flag (SIGINT and SIGTERM), so the lock
 * is taken the moment it is released and a signal still ends the wait:
 * within a second, which lets a command that is stopping still take a
 * lock held for a moment (a consumer's last commit) but not wait on a
 * stuck holder.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "mq.h"

#define SLICE_MS 100
#define STOP_GRACE_MS 1000   /* after SIGINT/SIGTERM, wait this much more */

static int64_t timeout_ms = MQ_LOCK_TIMEOUT_DEFAULT;
static volatile sig_atomic_t *stop_flag;

void
mq_lock_setup(int64_t ms, volatile sig_atomic_t *stop)
{
	timeout_ms = ms;
	stop_flag = stop;
}

int64_t
mq_lock_timeout(void)
{
	return timeout_ms;
}

int
mq_flock_wait(int fd, int op, struct mq_err *e, const char *fmt, ...)
{
	int64_t start, left, stop_at = -1;
	char d[32], what[MQ_ERR_MAX / 2];
	va_list ap;
	int err;

	if (flock(fd, op | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR)
		goto fail;
	start = mq_mono_ms();
	for (;;) {
		int rc;
		int64_t now = mq_mono_ms();
		if (stop_flag && *stop_flag && stop_at < 0)
			stop_at = now + STOP_GRACE_MS;
		if (stop_at >= 0 && now >= stop_at) {
			va_start(ap, fmt);
			vsnprintf(what, sizeof what, fmt, ap);
			va_end(ap);
			return mq_err_set(e, EINTR, "interrupted while waiting "
					  "for the lock on %s", what);
		}
		left = timeout_ms - (now - start);
		if (stop_at >= 0 && stop_at - now < left)
			left = stop_at - now;
		else if (left <= 0)
			break;
		mq_alarm(left < SLICE_MS ? left : SLICE_MS);
		rc = flock(fd, op);
		err = errno;
		mq_alarm(0);
		if (rc == 0)
			return 0;
		if (err != EINTR) {
			errno = err;
			goto fail;
		}
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (timeout_ms % 1000 == 0)
		snprintf(d, sizeof d, "%llds", (long long)(timeout_ms / 1000));
	else
		snprintf(d, sizeof d, "%lldms", (long long)timeout_ms);
	return mq_err_set(e, ETIMEDOUT, "%s is locked by another process: "
			  "gave up after %s (see --lock-timeout)", what, d);
fail:
	err = errno;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	errno = err;
	return mq_err_sys(e, "cannot lock %s", what);
}
