/*
 * failpoint.c - crash and fault injection for tests, compiled into every
 * build (without the variables each point costs one test of a flag).
 *
 * MQ_FAILPOINT=NAME[:N] makes the process kill itself with SIGKILL when it
 * reaches the point called NAME for the first (or the N-th) time, so a
 * test can stop a command at any step of a protocol and check what the
 * next command finds.  The points are named where they are reached and
 * listed in mq-compact(1).
 *
 * MQ_FAULT=OP:N[:ACTION][,OP:N[:ACTION]]... makes the N-th call of OP in
 * this process fail.  OP counts the calls that change stored data:
 *
 *   write      write/pwrite of a spool file (segments, indexes, heads,
 *              offset files, configs, archives)
 *   fdatasync  fsync or fdatasync of a file
 *   dirsync    fsync of a directory
 *   rename     rename of a file or directory
 *   ftruncate  ftruncate
 *
 * ACTION is eio (the default) or enospc: the call fails with that errno
 * (a write first writes half its bytes and reports them, as a disk that
 * fills up mid-write does; the failure comes on the call that continues
 * it); or kill: the process dies of SIGKILL instead of making the call (a
 * write dies after writing half).  The commands refuse a malformed spec
 * (mq_fault_check), so a typo cannot make a test believe it injected a
 * fault it did not.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mq.h"

static const char *spec;
static size_t speclen;
static unsigned long target = 1, hits;
static int loaded;

static void
load(void)
{
	const char *s = getenv("MQ_FAILPOINT"), *colon;

	loaded = 1;
	if (!s || !*s)
		return;
	colon = strchr(s, ':');
	speclen = colon ? (size_t)(colon - s) : strlen(s);
	if (colon) {
		char *end;
		unsigned long n = strtoul(colon + 1, &end, 10);
		if (*end || n == 0)
			return;   /* a malformed spec never fires */
		target = n;
	}
	spec = s;
}

void
mq_failpoint(const char *name)
{
	if (!loaded)
		load();
	if (!spec || strlen(name) != speclen ||
	    strncmp(name, spec, speclen) != 0)
		return;
	if (++hits == target)
		raise(SIGKILL);
}

/* ---- MQ_FAULT ---- */

enum { F_WRITE, F_FDATASYNC, F_DIRSYNC, F_RENAME, F_FTRUNCATE, F_OPS };
static const char *const op_names[F_OPS] = {
	"write", "fdatasync", "dirsync", "rename", "ftruncate"
};
enum { A_EIO, A_ENOSPC, A_KILL };

#define MAX_FAULTS 8

static struct fault {
	int op, action;
	unsigned long n;
} faults[MAX_FAULTS];
static size_t nfaults;
static unsigned long calls[F_OPS];
static int faults_loaded, pending_errno;

/* Parses one OP:N[:ACTION]; 0 if it is malformed. */
static int
parse_fault(const char *s, size_t len, struct fault *f)
{
	char buf[64], *tok, *save, *end;

	if (len >= sizeof buf)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!(tok = strtok_r(buf, ":", &save)))
		return 0;
	for (f->op = 0; f->op < F_OPS; f->op++)
		if (strcmp(tok, op_names[f->op]) == 0)
			break;
	if (f->op == F_OPS || !(tok = strtok_r(NULL, ":", &save)))
		return 0;
	errno = 0;
	f->n = strtoul(tok, &end, 10);
	if (*end || f->n == 0 || errno)
		return 0;
	f->action = A_EIO;
	if ((tok = strtok_r(NULL, ":", &save))) {
		if (strcmp(tok, "eio") == 0)
			f->action = A_EIO;
		else if (strcmp(tok, "enospc") == 0)
			f->action = A_ENOSPC;
		else if (strcmp(tok, "kill") == 0)
			f->action = A_KILL;
		else
			return 0;
	}
	return strtok_r(NULL, ":", &save) == NULL;
}

static void
load_faults(void)
{
	const char *s = getenv("MQ_FAULT");

	faults_loaded = 1;
	while (s && *s && nfaults < MAX_FAULTS) {
		size_t len = strcspn(s, ",");
		if (parse_fault(s, len, &faults[nfaults]))
			nfaults++;
		s += len;
		if (*s == ',')
			s++;
	}
}

/*
 * Counts a call of op: returns 0 to go ahead, or the action to take when
 * this is the call a fault names.
 */
static int
fault(int op, int *action)
{
	if (!faults_loaded)
		load_faults();
	if (!nfaults)
		return 0;
	calls[op]++;
	for (size_t i = 0; i < nfaults; i++) {
		if (faults[i].op == op && faults[i].n == calls[op]) {
			*action = faults[i].action;
			if (*action == A_KILL && op != F_WRITE)
				raise(SIGKILL);
			return 1;
		}
	}
	return 0;
}

static int
fail_with(int action)
{
	errno = action == A_ENOSPC ? ENOSPC : EIO;
	return -1;
}

static ssize_t
faulty_write(int fd, const void *buf, size_t n, off_t off, bool positioned)
{
	int action;
	ssize_t r;

	if (pending_errno) {
		/* The rest of a write that a full disk cut short. */
		errno = pending_errno;
		pending_errno = 0;
		return -1;
	}
	if (!fault(F_WRITE, &action))
		return positioned ? pwrite(fd, buf, n, off) : write(fd, buf, n);
	if (n < 2) {
		if (action == A_KILL)
			raise(SIGKILL);
		return fail_with(action);
	}
	r = positioned ? pwrite(fd, buf, n / 2, off) : write(fd, buf, n / 2);
	if (action == A_KILL)
		raise(SIGKILL);
	if (r > 0)
		pending_errno = action == A_ENOSPC ? ENOSPC : EIO;
	return r;
}

ssize_t
mq_sys_write(int fd, const void *buf, size_t n)
{
	return faulty_write(fd, buf, n, 0, false);
}

ssize_t
mq_sys_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return faulty_write(fd, buf, n, off, true);
}

int
mq_fdatasync(int fd)
{
	int action;

	if (fault(F_FDATASYNC, &action))
		return fail_with(action);
	return fdatasync(fd);
}

int
mq_fsync(int fd)
{
	int action;

	if (fault(F_FDATASYNC, &action))
		return fail_with(action);
	return fsync(fd);
}

int
mq_fsync_dir(int dirfd)
{
	int action;

	if (fault(F_DIRSYNC, &action))
		return fail_with(action);
	return fsync(dirfd);
}

int
mq_renameat(int olddir, const char *oldname, int newdir, const char *newname)
{
	int action;

	if (fault(F_RENAME, &action))
		return fail_with(action);
	return renameat(olddir, oldname, newdir, newname);
}

int
mq_rename_noreplace(int olddir, const char *oldname, int newdir,
		    const char *newname)
{
	int action;

	if (fault(F_RENAME, &action))
		return fail_with(action);
#ifdef HAVE_RENAMEAT2
	if (renameat2(olddir, oldname, newdir, newname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
#endif
	/* Without RENAME_NOREPLACE there is a window; only tests and
	 * unusual file systems reach it. */
	if (faccessat(newdir, newname, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return errno = EEXIST, -1;
	return renameat(olddir, oldname, newdir, newname);
}

int
mq_ftruncate(int fd, off_t len)
{
	int action;

	if (fault(F_FTRUNCATE, &action))
		return fail_with(action);
	return ftruncate(fd, len);
}

int
mq_fault_check(struct mq_err *e)
{
	const char *s = getenv("MQ_FAULT"), *f = getenv("MQ_FAILPOINT");

	while (s && *s) {
		size_t len = strcspn(s, ",");
		struct fault x;
		if (!parse_fault(s, len, &x))
			return mq_err_set(e, EINVAL, "MQ_FAULT: bad fault '%.*s': "
					  "use OP:N[:eio|enospc|kill] with OP "
					  "write, fdatasync, dirsync, rename or "
					  "ftruncate", (int)(len > 60 ? 60 : len),
					  s);
		s += len;
		if (*s == ',')
			s++;
	}
	if (f && *f) {
		const char *colon = strchr(f, ':');
		char *end;
		if (colon == f || (colon && (strtoul(colon + 1, &end, 10) == 0 ||
					     *end)))
			return mq_err_set(e, EINVAL, "MQ_FAILPOINT: bad value "
					  "'%.60s': use NAME[:N]", f);
	}
	return 0;
}
