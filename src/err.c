/*
 * err.c - error reports.  The library never prints: a failing function
 * fills a struct mq_err with an errno-style code and a complete one-line
 * message, and the command decides how to show it and which status to exit
 * with.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mq.h"

int
mq_err_set(struct mq_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	errno = code;
	return -1;
}

int
mq_err_sys(struct mq_err *e, const char *fmt, ...)
{
	int code = errno;
	va_list ap;
	size_t n;

	if (!e)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	/* mq_openat's refusals (io.c) say what was refused and why. */
	snprintf(e->msg + n, sizeof e->msg - n, ": %s",
		 code == ELOOP ? "it is a symbolic link (refused)" :
		 code == EMLINK ? "it has another hard link (refused)" :
		 code == EFTYPE_MQ ? "not a regular file (refused)" :
		 strerror(code));
	errno = code;
	return -1;
}
