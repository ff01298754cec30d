/*
 * cli.c - front-end helpers for the mq commands: one diagnostic format
 * ("PROG: message", lowercase, no full stop, on stderr), the exit statuses
 * of mq(7), signal set-up, spool opening and the progress line.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"

const char *cli_prog = "mq";
volatile sig_atomic_t cli_stop;
int cli_usage_status = CLI_USAGE;
const char *cli_usage_stdout;

static void
on_signal(int sig)
{
	(void)sig;
	cli_stop = 1;
}

void
cli_init(const char *argv0)
{
	struct sigaction sa;
	struct rlimit rl;
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

	/* cron and some daemons start us with 0, 1 or 2 closed: the next
	 * open would get that number, and a message meant for stderr could
	 * land in a segment.  Fill them with /dev/null first. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int nfd = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
			if (nfd < 0)
				_exit(CLI_ERROR);
			if (nfd != fd)
				close(nfd);  /* a lower one was free: odd */
		}
	cli_prog = slash ? slash + 1 : argv0 ? argv0 : "mq";
	opterr = 0;
	/* "lt-" is what a libtool wrapper would add; keep names stable. */
	if (strncmp(cli_prog, "lt-", 3) == 0)
		cli_prog += 3;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mq_lock_setup(MQ_LOCK_TIMEOUT_DEFAULT, &cli_stop);
	{
		struct mq_err e;
		if (mq_fault_check(&e) < 0)
			cli_usage("%s", e.msg);
	}
	if (getenv("MQ_LOCK_TIMEOUT"))
		cli_lock_timeout("MQ_LOCK_TIMEOUT", getenv("MQ_LOCK_TIMEOUT"));
	/* Many partitions mean many open files: use what we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * The progress line.  It is erased as "\r", spaces over what it showed,
 * "\r", and drawn as the same erasure followed by the text: no escape
 * sequence, so any terminal shows it right.  A line longer than the
 * terminal would wrap, and "\r" could not go back over it: the text is
 * cut to the width counting a column a byte, never fewer than the
 * terminal uses (a character is never cut in two).  Control bytes (names
 * are user input) are shown as '?'.
 */
#define PROGRESS_MS 200          /* at most five drawings a second */
#define PROGRESS_COLS 511        /* the widest line drawn */

static struct {
	bool on;                 /* stderr is a terminal */
	bool drawn;              /* drawn at least once */
	int64_t drawn_ms;        /* when it was last drawn */
	size_t shown;            /* bytes of the line on the screen (0: none) */
	uint64_t bytes;          /* the library's mq_progress so far */
	char label[256];
} prog;

/* Is it time to draw again?  Notes the time if so. */
static bool
progress_due(void)
{
	int64_t now = mq_mono_ms();

	if (prog.drawn && now - prog.drawn_ms < PROGRESS_MS)
		return false;
	prog.drawn = true;
	prog.drawn_ms = now;
	return true;
}

/* Puts the erasure of what is shown in buf (2 + PROGRESS_COLS bytes). */
static size_t
progress_erase(char *buf)
{
	size_t n = 0;

	buf[n++] = '\r';
	memset(buf + n, ' ', prog.shown);
	n += prog.shown;
	buf[n++] = '\r';
	prog.shown = 0;
	return n;
}

static void
progress_draw(const char *text)
{
	struct winsize ws;
	size_t width = 80, len, n = 0;
	char line[PROGRESS_COLS + 200], buf[2 * PROGRESS_COLS + 2];

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	width = width - 1 < PROGRESS_COLS ? width - 1 : PROGRESS_COLS;
	snprintf(line, sizeof line, "%s: %s", cli_prog, text);
	len = strlen(line);
	if (len > width) {
		len = width;
		/* line[len] is the first byte left out: not a character's
		 * continuation, or its first bytes go too. */
		while (len > 0 && ((unsigned char)line[len] & 0xc0) == 0x80)
			len--;
	}
	if (prog.shown)
		n = progress_erase(buf);
	else
		buf[n++] = '\r';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		buf[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	prog.shown = len;
	mq_write_full(STDERR_FILENO, buf, n);
}

static void
progress_bytes(uint64_t bytes)
{
	char text[400];

	prog.bytes += bytes;
	if (!progress_due())
		return;
	snprintf(text, sizeof text, "%s: %.1f MB read", prog.label,
		 (double)prog.bytes / 1e6);
	progress_draw(text);
}

bool
cli_progress_start(void)
{
	if (prog.on || !isatty(STDERR_FILENO))
		return prog.on;
	prog.on = true;
	mq_progress_setup(progress_bytes);
	atexit(cli_progress_clear);
	return true;
}

void
cli_progress(const char *fmt, ...)
{
	char text[400];
	va_list ap;

	if (!prog.on || !progress_due())
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	progress_draw(text);
}

void
cli_progress_label(const char *fmt, ...)
{
	va_list ap;

	if (!prog.on)
		return;
	va_start(ap, fmt);
	vsnprintf(prog.label, sizeof prog.label, fmt, ap);
	va_end(ap);
}

void
cli_progress_clear(void)
{
	char buf[PROGRESS_COLS + 2];

	if (prog.shown)
		mq_write_full(STDERR_FILENO, buf, progress_erase(buf));
}

/*
 * Copies s into out (cap bytes, at least 5) with every control byte (below
 * 0x20, and DEL) written as \n, \t, \r or \xNN, cutting it short rather
 * than overflowing.  Messages quote what users and file systems supply
 * (names, paths, file contents): a newline in a name must not split a
 * diagnostic over two lines, nor an escape sequence reach the terminal.
 * Every message goes through here, and none needs a raw control byte.
 */
static void
escape(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *s && n + 5 <= cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != 0x7f) {
			out[n++] = (char)c;
			continue;
		}
		out[n++] = '\\';
		switch (c) {
		case '\n': out[n++] = 'n'; break;
		case '\t': out[n++] = 't'; break;
		case '\r': out[n++] = 'r'; break;
		default:
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

/* The message of fmt, escaped, in out (4 bytes for each byte of it). */
static void
format_msg(char *out, size_t cap, const char *fmt, va_list ap)
{
	char buf[1024];

	cli_progress_clear();
	vsnprintf(buf, sizeof buf, fmt, ap);
	escape(buf, out, cap);
}

static void
vwarn(const char *fmt, va_list ap)
{
	char prog[256], msg[4096];

	escape(cli_prog, prog, sizeof prog);
	format_msg(msg, sizeof msg, fmt, ap);
	fprintf(stderr, "%s: %s\n", prog, msg);
}

void
cli_print(FILE *f, const char *prefix, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	format_msg(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(f, "%s%s\n", prefix, msg);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
cli_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void
cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	if (cli_usage_stdout) {
		char msg[4096];
		va_start(ap, fmt);
		format_msg(msg, sizeof msg, fmt, ap);
		va_end(ap);
		cli_print(stdout, cli_usage_stdout, "%s", msg);
	}
	exit(cli_usage_status);
}

void
cli_bad_option(int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		cli_usage("option '%s' needs a value (see '%s --help')", arg,
			  cli_prog);
	if (optopt && strncmp(arg, "--", 2) != 0)
		cli_usage("unknown option '-%c' (see '%s --help')", optopt,
			  cli_prog);
	cli_usage("unknown option '%s' (see '%s --help')", arg, cli_prog);
}

void
cli_fail(const struct mq_err *e)
{
	cli_die(e->code == EINVAL ? cli_usage_status : CLI_ERROR, "%s",
		e->msg);
}

void
cli_version(void)
{
	printf("%s (mq) %s\n", cli_prog, PACKAGE_VERSION);
	exit(CLI_OK);
}

const char *
cli_spool_arg(const char *arg)
{
	/* "-d $UNSET_VARIABLE" must not quietly mean the default spool. */
	if (!*arg)
		cli_usage("bad value '' for -d: expected a spool directory");
	return arg;
}

void
cli_open_spool(struct mq_spool *sp, const char *dir, bool create)
{
	struct mq_err e;
	char *path = mq_spool_path(dir, &e);

	if (!path)
		cli_fail(&e);
	if (mq_spool_open(sp, path, create, &e) < 0)
		cli_die(CLI_ERROR, "%s", e.msg);
	free(path);
}

uint64_t
cli_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (mq_parse_u64(s, min, max, &v) < 0)
		cli_usage("bad value '%s' for %s: expected a number from "
			  "%llu to %llu", s, opt, (unsigned long long)min,
			  (unsigned long long)max);
	return v;
}

void
cli_lock_timeout(const char *what, const char *s)
{
	struct mq_err e;
	int64_t ms;

	if (mq_parse_duration(s, false, &ms, &e) < 0)
		cli_usage("%s: %s", what, e.msg);
	mq_lock_setup(ms, &cli_stop);
}
