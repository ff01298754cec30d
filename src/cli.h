/*
 * cli.h - front-end helpers shared by the mq commands (libmqcli): the
 * program name, diagnostics on stderr in one format, the exit statuses,
 * signal set-up and spool opening.  Only commands link this; the library
 * proper never prints or exits.
 */
#ifndef MQ_CLI_H
#define MQ_CLI_H

#include <signal.h>
#include <stdio.h>

#include "mq.h"

/* Exit statuses shared by every command (mq(7)). */
enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

extern const char *cli_prog;
extern volatile sig_atomic_t cli_stop;
/* What a usage error exits with (2; mq-group lag makes it 3, UNKNOWN). */
extern int cli_usage_status;
/* If set, a usage error is also printed on stdout after this prefix. */
extern const char *cli_usage_stdout;

/* Names the program, ignores SIGPIPE, makes SIGINT/SIGTERM set cli_stop. */
void cli_init(const char *argv0);
/* Sets the lock timeout (see mq_lock_setup) from a duration; exit 2 if bad. */
void cli_lock_timeout(const char *what, const char *s);
/*
 * Diagnostics: "PROG: message" and a newline on stderr, the message with
 * its control bytes (below 0x20, and DEL) escaped as \n, \t, \r or \xNN,
 * so names and paths quoted in it can neither split the line nor send
 * escape sequences to a terminal.
 */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void cli_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A usage error: the message on one line, exit 2. */
_Noreturn void cli_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/*
 * Reports what getopt_long rejected (it returned c, '?' or ':', with the
 * option string starting with ':'), and exits 2.
 */
_Noreturn void cli_bad_option(int c, char **argv);
/* A message escaped as cli_warn's, after prefix, on f (say, stdout). */
void cli_print(FILE *f, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Exits with the error's message: 2 for EINVAL (bad input), else 1. */
_Noreturn void cli_fail(const struct mq_err *e);
/* Prints "PROG (mq) VERSION" and exits 0. */
_Noreturn void cli_version(void);
/* The value of -d/--spool: an empty one is a usage error (exit 2). */
const char *cli_spool_arg(const char *arg);
/*
 * Opens the spool named by -d, $MQ_SPOOL or the default, creating it if
 * create.  A spool directory that does not exist is an error naming it
 * (exit 1) unless create; an empty directory is a spool without topics.
 */
void cli_open_spool(struct mq_spool *sp, const char *dir, bool create);
/*
 * A progress line on stderr for work that takes seconds, only when stderr
 * is a terminal.  cli_progress_start decides that (and routes the
 * library's mq_progress byte counts here); every other call is then one
 * test of a flag when it is not.  The line is redrawn at most five times a
 * second, cut to the terminal's width, and erased before any diagnostic,
 * by cli_progress_clear (call it before printing on stdout, which may be
 * the same terminal) and at exit.
 */
bool cli_progress_start(void);
/* Draws "PROG: TEXT" in place, if the last drawing is old enough. */
void cli_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What the library's bytes are about: drawn as "PROG: LABEL: N.N MB read". */
void cli_progress_label(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void cli_progress_clear(void);
/* Strict numeric option parsing that dies with a usage error. */
uint64_t cli_u64(const char *opt, const char *s, uint64_t min, uint64_t max);

#endif
