/*
 * io.c - the one place that retries EINTR and short reads and writes, plus
 * the small-file recipe every metadata update uses: write a temporary file,
 * sync it, rename it over the old one, sync the directory.  After a crash a
 * reader finds either the old file or the new one, never a mix.
 */
#include <config.h>

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mq.h"

static mq_progress_fn progress_fn;

void
mq_progress_setup(mq_progress_fn fn)
{
	progress_fn = fn;
}

void
mq_progress(uint64_t bytes)
{
	if (progress_fn)
		progress_fn(bytes);
}

ssize_t
mq_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t
mq_pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got,
				  off + (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Writes all n bytes, at off when at; through the fault-injection layer
 * (failpoint.c) when faults: spool files, not pipes. */
static int
write_all(int fd, const void *buf, size_t n, off_t off, bool at, bool faults)
{
	size_t done = 0;

	while (done < n) {
		const char *p = (const char *)buf + done;
		off_t o = off + (off_t)done;
		ssize_t r = faults ? (at ? mq_sys_pwrite(fd, p, n - done, o)
					 : mq_sys_write(fd, p, n - done))
				   : (at ? pwrite(fd, p, n - done, o)
					 : write(fd, p, n - done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

int
mq_write_full(int fd, const void *buf, size_t n)
{
	return write_all(fd, buf, n, 0, false, false);
}

int
mq_pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
	return write_all(fd, buf, n, off, true, false);
}

int
mq_write_file(int fd, const void *buf, size_t n)
{
	return write_all(fd, buf, n, 0, false, true);
}

int
mq_pwrite_file(int fd, const void *buf, size_t n, off_t off)
{
	return write_all(fd, buf, n, off, true, true);
}

int64_t
mq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mq_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool shared;

void
mq_io_set_shared(bool on)
{
	shared = on;
}

bool
mq_io_shared(void)
{
	return shared;
}

/* Is fd a regular file with no other name?  Else closes it, errno set. */
static int
check_file(int fd)
{
	struct stat st;
	int err;

	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = S_ISDIR(st.st_mode) ? EISDIR : EFTYPE_MQ;
	else if (st.st_nlink > 1)
		err = EMLINK;
	else
		return fd;
	close(fd);
	errno = err;
	return -1;
}

/* Opens name as it is (never creating or truncating it first), refusing
 * anything but a regular single-link file; O_TRUNC applies after that. */
static int
open_existing(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags & ~(O_CREAT | O_EXCL | O_TRUNC));

	if (fd < 0 || (fd = check_file(fd)) < 0)
		return -1;
	if ((flags & O_TRUNC) && ftruncate(fd, 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
mq_openat(int dirfd, const char *name, int flags)
{
	int fd;

	/* O_NONBLOCK: a FIFO planted in the spool must not hang the open
	 * (it is refused below); on regular files it changes nothing. */
	flags |= O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	if (!(flags & O_CREAT))
		return open_existing(dirfd, name, flags);
	for (int tries = 0; tries < 100; tries++) {
		struct stat st;
		/* Most such files exist already: one call for them. */
		if (!(flags & O_EXCL) &&
		    ((fd = open_existing(dirfd, name, flags)) >= 0 ||
		     errno != ENOENT))
			return fd;
		fd = mq_createat(dirfd, name, flags & ~(O_EXCL | O_NONBLOCK));
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -1;
		if (!(flags & O_EXCL))
			continue;   /* made meanwhile: open it after all */
		/* A temporary name that is taken: a killed process's file
		 * goes, anything else is refused. */
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		if (S_ISLNK(st.st_mode))
			return errno = ELOOP, -1;
		if (!S_ISREG(st.st_mode))
			return errno = S_ISDIR(st.st_mode) ? EISDIR : EFTYPE_MQ, -1;
		if (st.st_nlink > 1)
			return errno = EMLINK, -1;
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return -1;
	}
	return errno = EEXIST, -1;
}

int
mq_createat(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC, 0666);

	if (fd >= 0 && shared)
		(void)fchmod(fd, 0660);
	return fd;
}

int
mq_opendirat(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		      O_CLOEXEC);
}

int
mq_mkdirat(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0777) < 0)
		return -1;
	if (shared && (fd = mq_opendirat(dirfd, name)) >= 0) {
		(void)fchmod(fd, 02770);
		close(fd);
	}
	return 0;
}

int
mq_file_replace(int dirfd, const char *name, const void *data, size_t n,
		struct mq_err *e)
{
	char tmp[300];
	int fd;

	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", name, (long)getpid());
	fd = mq_openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL);
	if (fd < 0)
		return mq_err_sys(e, "cannot create '%s'", tmp);
	if (mq_write_file(fd, data, n) < 0 || mq_fsync(fd) < 0) {
		mq_err_sys(e, "cannot write '%s'", tmp);
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (close(fd) < 0) {
		mq_err_sys(e, "cannot write '%s'", tmp);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (mq_renameat(dirfd, tmp, dirfd, name) < 0) {
		mq_err_sys(e, "cannot rename '%s' to '%s'", tmp, name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (mq_fsync_dir(dirfd) < 0)
		return mq_err_sys(e, "cannot sync directory of '%s'", name);
	return 0;
}

int
mq_file_read(int dirfd, const char *name, size_t max, char **out,
	     size_t *len, struct mq_err *e)
{
	int fd;
	char *buf;
	ssize_t r;

	fd = mq_openat(dirfd, name, O_RDONLY);
	if (fd < 0)
		return mq_err_sys(e, "cannot open '%s'", name);
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return mq_err_sys(e, "cannot read '%s'", name);
	}
	r = mq_read_full(fd, buf, max + 1);
	if (r < 0) {
		mq_err_sys(e, "cannot read '%s'", name);
		close(fd);
		free(buf);
		return -1;
	}
	close(fd);
	if ((size_t)r > max) {
		free(buf);
		return mq_err_set(e, EBADMSG, "'%s' is larger than %zu bytes",
				  name, max);
	}
	buf[r] = '\0';
	*out = buf;
	if (len)
		*len = (size_t)r;
	return 0;
}

int
mq_wait(struct pollfd *fds, size_t n, int timeout_ms,
	volatile sig_atomic_t *stop)
{
	struct timespec ts, *tp = NULL;
	sigset_t block, old;
	int rc;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tp = &ts;
	}
	/* SIGINT and SIGTERM are let in only inside ppoll, so one that
	 * arrives after the check of *stop still ends the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (*stop) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -2;
	}
	rc = ppoll(fds, (nfds_t)n, tp, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc < 0 && errno == EINTR)
		return *stop ? -2 : 0;
	return rc;
}

static volatile sig_atomic_t alarm_fired;

static void
on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

void
mq_alarm(int64_t ms)
{
	static bool handler_set;
	struct itimerval it = {{0, 0}, {(time_t)(ms / 1000),
					(suseconds_t)(ms % 1000) * 1000}};

	if (!handler_set) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;   /* no SA_RESTART: interrupt */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		handler_set = true;
	}
	if (ms > 0)
		alarm_fired = 0;
	setitimer(ITIMER_REAL, &it, NULL);
}

bool
mq_alarm_fired(void)
{
	return alarm_fired;
}

/* Removes name (a file or a whole tree) under dirfd, never following links. */
int
mq_rmtree(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dfd, name, 0) < 0 && errno != ENOENT
			       ? -1 : 0;
		return errno == ENOENT ? 0 : -1;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			if (mq_rmtree(dirfd(d), de->d_name) < 0)
				rc = -1;
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 &&
			   errno != ENOENT) {
			rc = -1;
		}
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}


static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
mq_dir_names(int dirfd, bool (*keep)(int dirfd, const char *name,
				     unsigned char type, void *arg),
	     void *arg, char ***out, size_t *n)
{
	/* A descriptor of its own: a dup would share dirfd's position. */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t len = 0, cap = 0;
	int err;

	if (fd < 0 || !(d = fdopendir(fd))) {
		err = errno;
		if (fd >= 0)
			close(fd);
		return errno = err, -1;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (keep && !keep(dirfd, de->d_name, de->d_type, arg)))
			continue;
		if (len == cap) {
			char **nv;
			cap = cap ? cap * 2 : 16;
			if (!(nv = realloc(v, cap * sizeof *v)))
				goto fail;
			v = nv;
		}
		if (!(v[len] = strdup(de->d_name)))
			goto fail;
		len++;
	}
	if (errno)
		goto fail;
	closedir(d);
	if (len)
		qsort(v, len, sizeof *v, cmp_name);
	*out = v;
	*n = len;
	return 0;
fail:
	err = errno;
	closedir(d);
	mq_names_free(v, len);
	return errno = err, -1;
}
