/*
 * failpoint.c - crash injection for tests.  MQ_FAILPOINT=NAME (or
 * NAME:N) makes the process kill itself with SIGKILL when it reaches the
 * point called NAME for the first (or the N-th) time, so a test can stop
 * a command at any step of a protocol and check what the next command
 * finds.  Without the variable a failpoint costs one test of a cached
 * pointer.  The points are named in the code where they are reached and
 * listed in mq-compact(1).
 */
#include <config.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

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
