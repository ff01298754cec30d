/*
 * exec.c - mq-consume --exec: hand messages to a command, one run per
 * message (or per --batch of messages of one partition), and report which
 * ones were handled.
 *
 * A job holds copies of its messages (a reader's buffers move on at the
 * next batch).  Running it spawns "sh -c CMD" with the message(s) on
 * standard input and MQ_TOPIC, MQ_PARTITION, MQ_OFFSET, MQ_KEY,
 * MQ_TIMESTAMP (and for batches MQ_LAST_OFFSET and MQ_COUNT; MQ_ATTEMPT,
 * MQ_GROUP) in its environment.  Exit status 0 means handled.  Otherwise
 * the job is run again up to --retries times, waiting backoff, 2 x backoff,
 * ... (at most 30 s) in between; after the last failure its messages go to
 * the dead-letter topic with headers saying why (and the dead-letter topic
 * is synced before the caller commits past them), or, without one, the
 * caller stops with the job's offsets uncommitted.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mqcmd.h"

extern char **environ;

#define BACKOFF_MAX_MS 30000

int
mq_exec_init(struct mq_exec *x, const struct mq_exec_opts *o)
{
	memset(x, 0, sizeof *x);
	x->o = *o;
	if (x->o.batch == 0)
		x->o.batch = 1;
	return 0;
}

void
mq_exec_free(struct mq_exec *x)
{
	free(x->recs);
	free(x->data);
	free(x->input);
	memset(x, 0, sizeof *x);
}

static int
grow(unsigned char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 4096;
	while (c < need)
		c *= 2;
	unsigned char *p = realloc(*buf, c);
	if (!p)
		return -1;
	*buf = p;
	*cap = c;
	return 0;
}

/* Appends n bytes to the job's copies; returns their offset there. */
static size_t
keep(struct mq_exec *x, const void *p, size_t n, bool *oom)
{
	size_t at = x->used;

	if (grow(&x->data, &x->dcap, x->used + n) < 0) {
		*oom = true;
		return 0;
	}
	if (n)
		memcpy(x->data + at, p, n);
	x->used += n;
	return at;
}

int
mq_exec_add(struct mq_exec *x, struct mq_cpart *cp, const struct mq_record *r,
	    struct mq_err *e)
{
	struct mq_exec_rec *v;
	bool oom = false;

	if (x->n == x->ncap) {
		size_t cap = x->ncap ? x->ncap * 2 : 16;
		v = realloc(x->recs, cap * sizeof *v);
		if (!v)
			return mq_err_sys(e, "out of memory");
		x->recs = v;
		x->ncap = cap;
	}
	v = &x->recs[x->n];
	v->offset = r->offset;
	v->ts = r->ts;
	v->has_key = r->key != NULL;
	v->has_value = r->value != NULL;
	v->klen = r->klen;
	v->vlen = r->vlen;
	v->hlen = r->hlen;
	v->nh = r->nheaders;
	v->koff = keep(x, r->key, r->klen, &oom);
	v->voff = keep(x, r->value, r->vlen, &oom);
	v->hoff = keep(x, r->headers, r->hlen, &oom);
	if (oom)
		return mq_err_sys(e, "out of memory");
	x->cp = cp;
	x->n++;
	return 0;
}

/* The environment of a run: ours without MQ_ names we set, then those. */
static char **
environment(struct mq_exec *x, uint32_t attempt)
{
	static const char *const ours[] = {
		"MQ_TOPIC=", "MQ_PARTITION=", "MQ_OFFSET=", "MQ_LAST_OFFSET=",
		"MQ_COUNT=", "MQ_KEY=", "MQ_TIMESTAMP=", "MQ_ATTEMPT=",
		"MQ_GROUP=", NULL
	};
	const struct mq_exec_rec *first = &x->recs[0];
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 10, sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool skip = false;
		for (const char *const *o = ours; *o; o++)
			skip |= strncmp(environ[i], *o, strlen(*o)) == 0;
		if (!skip)
			env[k++] = strdup(environ[i]);
	}
	if (asprintf(&env[k++], "MQ_TOPIC=%s", x->cp->t->name) < 0 ||
	    asprintf(&env[k++], "MQ_PARTITION=%u", x->cp->partition) < 0 ||
	    asprintf(&env[k++], "MQ_OFFSET=%llu",
		     (unsigned long long)first->offset) < 0 ||
	    asprintf(&env[k++], "MQ_TIMESTAMP=%lld", (long long)first->ts) < 0
	    || asprintf(&env[k++], "MQ_ATTEMPT=%u", attempt) < 0)
		goto fail;
	if (x->o.batched &&
	    (asprintf(&env[k++], "MQ_LAST_OFFSET=%llu",
		      (unsigned long long)x->recs[x->n - 1].offset) < 0 ||
	     asprintf(&env[k++], "MQ_COUNT=%zu", x->n) < 0))
		goto fail;
	if (first->has_key &&
	    asprintf(&env[k++], "MQ_KEY=%.*s", (int)first->klen,
		     (const char *)x->data + first->koff) < 0)
		goto fail;
	if (x->o.group && asprintf(&env[k++], "MQ_GROUP=%s", x->o.group) < 0)
		goto fail;
	return env;
fail:
	env[k - 1] = NULL;
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
	return NULL;
}

static void
free_env(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/* What the command reads: the value, or each value and the delimiter. */
static int
build_input(struct mq_exec *x)
{
	x->ilen = 0;
	for (size_t i = 0; i < x->n; i++) {
		const struct mq_exec_rec *r = &x->recs[i];
		size_t need = x->ilen + r->vlen + x->o.dlen;
		if (grow(&x->input, &x->icap, need) < 0)
			return -1;
		if (r->vlen)
			memcpy(x->input + x->ilen, x->data + r->voff, r->vlen);
		x->ilen += r->vlen;
		if (x->o.batched) {
			memcpy(x->input + x->ilen, x->o.delim, x->o.dlen);
			x->ilen += x->o.dlen;
		}
	}
	return 0;
}

/* Runs the command once; *status is its wait status. */
static int
spawn(struct mq_exec *x, uint32_t attempt, int *status, struct mq_err *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	char *argv[] = {"sh", "-c", (char *)x->o.cmd, NULL};
	char **env = environment(x, attempt);
	int fds[2], rc;
	pid_t pid;

	if (!env)
		return mq_err_sys(e, "cannot build the command's environment");
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free_env(env);
		return mq_err_sys(e, "cannot make a pipe for the command");
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	posix_spawnattr_init(&at);
	/* We ignore SIGPIPE; the command should not inherit that. */
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free_env(env);
	close(fds[0]);
	if (rc != 0) {
		close(fds[1]);
		errno = rc;
		return mq_err_sys(e, "cannot run '%s'", x->o.cmd);
	}
	/* A command that does not read all of its input is its business. */
	if (mq_write_full(fds[1], x->input, x->ilen) < 0 && errno != EPIPE) {
		int err = errno;
		close(fds[1]);
		waitpid(pid, status, 0);
		errno = err;
		return mq_err_sys(e, "cannot write to '%s'", x->o.cmd);
	}
	close(fds[1]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return mq_err_sys(e, "cannot wait for '%s'", x->o.cmd);
	return 0;
}

static void
describe_status(int status, char *why, size_t n, char *code, size_t m)
{
	if (WIFEXITED(status)) {
		snprintf(why, n, "exit status %d", WEXITSTATUS(status));
		snprintf(code, m, "%d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		snprintf(why, n, "killed by signal %d", WTERMSIG(status));
		snprintf(code, m, "signal %d", WTERMSIG(status));
	} else {
		snprintf(why, n, "wait status %d", status);
		snprintf(code, m, "%d", status);
	}
}

/* Writes the job's messages to the dead-letter topic and syncs it. */
static int
dead_letter(struct mq_exec *x, uint32_t attempts, int status,
	    struct mq_err *e)
{
	char why[64], code[32], tries[16], part[16], off[24], ts[24];
	struct mq_header h[9];
	size_t nh = 0;

	describe_status(status, why, sizeof why, code, sizeof code);
	snprintf(tries, sizeof tries, "%u", attempts);
	snprintf(part, sizeof part, "%u", x->cp->partition);
#define HDR(n, v) (h[nh++] = (struct mq_header){n, strlen(n), v, \
						(ssize_t)strlen(v)})
	for (size_t i = 0; i < x->n; i++) {
		const struct mq_exec_rec *r = &x->recs[i];
		unsigned char *dh = NULL, *all;
		size_t dlen, size;
		int rc;
		nh = 0;
		snprintf(off, sizeof off, "%llu", (unsigned long long)r->offset);
		snprintf(ts, sizeof ts, "%lld", (long long)r->ts);
		HDR("mq.dlq.error", why);
		HDR("mq.dlq.exit.status", code);
		HDR("mq.dlq.attempts", tries);
		HDR("mq.dlq.topic", x->cp->t->name);
		HDR("mq.dlq.partition", part);
		HDR("mq.dlq.offset", off);
		HDR("mq.dlq.timestamp", ts);
		HDR("mq.dlq.command", x->o.cmd);
		if (x->o.group)
			HDR("mq.dlq.group", x->o.group);
		if (mq_headers_encode(h, nh, &dh, &dlen) < 0)
			return mq_err_sys(e, "out of memory");
		/* The message's own headers first, then ours. */
		all = malloc(r->hlen + dlen + 1);
		if (!all) {
			free(dh);
			return mq_err_sys(e, "out of memory");
		}
		memcpy(all, x->data + r->hoff, r->hlen);
		memcpy(all + r->hlen, dh, dlen);
		free(dh);
		rc = mq_producer_send_h(x->o.dlq,
					r->has_key ? x->data + r->koff : NULL,
					r->klen,
					r->has_value ? x->data + r->voff : NULL,
					r->vlen, all, r->hlen + dlen,
					r->nh + (uint32_t)nh, &size, e);
		free(all);
		if (rc < 0)
			return -1;
	}
#undef HDR
	return mq_producer_finish(x->o.dlq, e);
}

/*
 * Did the command die of SIGPIPE because our own standard output, which it
 * inherits, was closed by its reader?  That is the reader's doing, not the
 * message's: no retry, no dead letter.
 */
static bool
output_closed(int status)
{
	struct pollfd p = {1, 0, 0};

	return WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE &&
	       poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

int
mq_exec_run(struct mq_exec *x, volatile sig_atomic_t *stop, struct mq_err *e)
{
	int status = 0;
	uint32_t attempt;
	int64_t wait = x->o.backoff_ms;
	/* Waits double up to 30 s, or up to the first wait if it is longer. */
	int64_t cap = wait > BACKOFF_MAX_MS ? wait : BACKOFF_MAX_MS;

	if (x->n == 0)
		return 0;
	if (build_input(x) < 0)
		return mq_err_sys(e, "out of memory");
	for (attempt = 1;; attempt++) {
		if (spawn(x, attempt, &status, e) < 0)
			return -1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
		if (output_closed(status)) {
			x->failed_offset = x->recs[0].offset;
			x->n = 0;
			x->used = 0;
			return 4;
		}
		if (attempt > x->o.retries || *stop)
			break;
		if (mq_wait(NULL, 0, (int)wait, stop) == -2)
			break;
		wait = wait * 2 > cap ? cap : wait * 2;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		x->runs++;
	} else if (*stop) {
		/* Interrupted before the job was done: it stays undone. */
		x->failed_offset = x->recs[0].offset;
		x->n = 0;
		x->used = 0;
		return 3;
	} else if (x->o.dlq) {
		if (dead_letter(x, attempt, status, e) < 0)
			return -1;
		x->dead_lettered += x->n;
	} else {
		x->failed = true;
		x->failed_offset = x->recs[0].offset;
		x->attempts = attempt;
		describe_status(status, x->why, sizeof x->why, x->code,
				sizeof x->code);
		x->n = 0;
		x->used = 0;
		return 1;
	}
	x->n = 0;
	x->used = 0;
	return 0;
}
