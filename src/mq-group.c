/*
 * mq-group - list, describe, reset and delete consumer groups, and check
 * their lag the way monitoring plugins do.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
"Usage: mq-group [-d DIR] list\n"
"       mq-group [-d DIR] describe (GROUP | --all-groups) [--json]\n"
"       mq-group [-d DIR] reset GROUP TOPIC (--to-earliest | --to-latest |\n"
"                --to-offset N | --to-datetime TIME | --by-duration DURATION |\n"
"                --shift-by [+|-]N) [-p N]... [--execute | --dry-run]\n"
"                [--lock-timeout DURATION]\n"
"       mq-group [-d DIR] lag (GROUP | --all-groups) [TOPIC] [--warn N]\n"
"                [--crit N]\n"
"       mq-group [-d DIR] delete GROUP [--topic TOPIC]...\n"
"                [--lock-timeout DURATION]\n"
"       mq-group --help | --version\n"
"\n"
"  -d, --spool DIR       the spool (default $MQ_SPOOL, else ~/.mq)\n"
"      --all-groups      describe, lag: every group of the spool\n"
"      --json            describe: print JSON\n"
"      --to-earliest     reset: to the first offset still stored\n"
"      --to-latest       reset: to the end (skip everything stored)\n"
"      --to-offset N     reset: to offset N (clamped to the log)\n"
"      --to-datetime TIME  reset: to the first message at or after TIME\n"
"                        (epoch ms or ISO-8601)\n"
"      --by-duration DURATION  reset: to the first message of the last\n"
"                        DURATION (e.g. 2h, or ISO-8601 PT2H, P1DT30M)\n"
"      --shift-by N      reset: move the committed offset by N (+ or -)\n"
"  -p, --partition N     reset: only partition N (repeatable)\n"
"      --execute         reset: write the new offsets (without it, a reset\n"
"                        only shows them)\n"
"      --dry-run         reset: show the new offsets, change nothing\n"
"      --lock-timeout DURATION  reset, delete: wait at most this long for\n"
"                        the group lock another process holds (60s)\n"
"      --warn N          lag: WARNING (exit 1) at a total lag of N or more\n"
"      --crit N          lag: CRITICAL (exit 2) at a total lag of N or more\n"
"      --topic TOPIC     delete: only the group's offsets on TOPIC\n"
"                        (repeatable)\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n";

enum { OPT_JSON = 256, OPT_EARLIEST, OPT_LATEST, OPT_OFFSET, OPT_DATETIME,
       OPT_DURATION, OPT_SHIFT, OPT_DRY, OPT_EXECUTE, OPT_WARN, OPT_CRIT,
       OPT_LOCK, OPT_ALL, OPT_TOPIC };

static const struct option longopts[] = {
	{"spool", required_argument, NULL, 'd'},
	{"all-groups", no_argument, NULL, OPT_ALL},
	{"json", no_argument, NULL, OPT_JSON},
	{"to-earliest", no_argument, NULL, OPT_EARLIEST},
	{"to-latest", no_argument, NULL, OPT_LATEST},
	{"to-offset", required_argument, NULL, OPT_OFFSET},
	{"to-datetime", required_argument, NULL, OPT_DATETIME},
	{"by-duration", required_argument, NULL, OPT_DURATION},
	{"shift-by", required_argument, NULL, OPT_SHIFT},
	{"partition", required_argument, NULL, 'p'},
	{"execute", no_argument, NULL, OPT_EXECUTE},
	{"dry-run", no_argument, NULL, OPT_DRY},
	{"warn", required_argument, NULL, OPT_WARN},
	{"crit", required_argument, NULL, OPT_CRIT},
	{"topic", required_argument, NULL, OPT_TOPIC},
	{"lock-timeout", required_argument, NULL, OPT_LOCK},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

struct opts {
	const char *dir;
	bool json, all, has_warn, has_crit, execute, dry_run;
	uint64_t warn, crit;
	struct mq_reset reset;
	int resets;              /* how many --to-.../--shift-by were given */
	uint32_t *parts;
	char **topics;           /* delete --topic */
	size_t ntopics;
};

/* Monitoring-plugin statuses of "lag". */
enum { LAG_OK, LAG_WARNING, LAG_CRITICAL, LAG_UNKNOWN };
static const char *const lag_word[] = {"OK", "WARNING", "CRITICAL",
				       "UNKNOWN"};
static bool lag_mode;

/* For "lag", every failure is UNKNOWN (3), as monitoring plugins do. */
static _Noreturn void
fail(const struct mq_err *e)
{
	if (lag_mode) {
		cli_print(stdout, "LAG UNKNOWN - ", "%s", e->msg);
		exit(LAG_UNKNOWN);
	}
	cli_fail(e);
}

static _Noreturn void
oom(void)
{
	struct mq_err e;

	mq_err_set(&e, ENOMEM, "out of memory");
	fail(&e);
}

static void
open_topic(struct mq_topic *t, struct mq_spool *sp, const char *name)
{
	struct mq_err e;

	if (mq_topic_open(t, sp, name, &e) < 0)
		fail(&e);
}

/*
 * Opens the spool.  A failure, a spool directory that does not exist
 * included, is fatal: for "lag", UNKNOWN (cli_open_spool would exit 1).
 */
static void
open_spool(struct mq_spool *sp, const char *dir)
{
	struct mq_err e;
	char *path = mq_spool_path(dir, &e);

	if (!path || mq_spool_open(sp, path, false, &e) < 0)
		fail(&e);
	free(path);
}

/* A table of text cells, printed with columns padded to the widest. */
struct table {
	char **cells;
	size_t n, cap, cols;
};

static void
cell(struct table *tb, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	if (tb->n == tb->cap) {
		size_t c = tb->cap ? tb->cap * 2 : 64;
		char **v = realloc(tb->cells, c * sizeof *v);
		if (!v)
			oom();
		tb->cells = v;
		tb->cap = c;
	}
	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		oom();
	tb->cells[tb->n++] = s;
}

static void
table_print(const struct table *tb)
{
	size_t w[8] = {0};

	for (size_t i = 0; i < tb->n; i++)
		if (strlen(tb->cells[i]) > w[i % tb->cols])
			w[i % tb->cols] = strlen(tb->cells[i]);
	for (size_t i = 0; i < tb->n; i++) {
		if ((i + 1) % tb->cols)
			printf("%-*s  ", (int)w[i % tb->cols], tb->cells[i]);
		else
			printf("%s\n", tb->cells[i]);
	}
}

static void
table_free(struct table *tb)
{
	for (size_t i = 0; i < tb->n; i++)
		free(tb->cells[i]);
	free(tb->cells);
}

/*
 * The groups a command works on: the one named, or with --all-groups
 * every group of the spool.
 */
static void
groups_of(struct mq_spool *sp, const char *group, char ***names, size_t *n)
{
	struct mq_err e;

	if (group) {
		if (!(*names = malloc(sizeof **names)) ||
		    !(**names = strdup(group)))
			oom();
		*n = 1;
	} else if (mq_spool_groups(sp, names, n, &e) < 0) {
		fail(&e);
	}
}

/*
 * The topics of one group; false when --all-groups listed a group that
 * was deleted since.
 */
static bool
topics_of(struct mq_spool *sp, const char *group, bool all, char ***names,
	  size_t *n)
{
	struct mq_err e;

	if (mq_group_topics(sp, group, names, n, &e) == 0)
		return true;
	if (all && e.code == ENOENT)
		return false;
	fail(&e);
}

static const char footnote[] =
	"* below the log start: retention removed messages the group never "
	"read\n";

/* One partition of describe's table. */
static void
row_text(struct table *tb, const char *group, const char *topic,
	 const struct mq_gpart *g)
{
	cell(tb, "%s", group);
	cell(tb, "%s", topic);
	cell(tb, "%u", g->partition);
	if (g->committed.exists) {
		cell(tb, "%llu%s", (unsigned long long)g->committed.offset,
		     g->below_start ? "*" : "");
	} else {
		cell(tb, "-");
	}
	cell(tb, "%llu", (unsigned long long)g->end);
	if (g->committed.exists)
		cell(tb, "%llu", (unsigned long long)g->lag);
	else
		cell(tb, "-");
	cell(tb, "%s", g->owned ? g->owner : "-");
}

/* One partition of describe --json (names need no escaping). */
static void
row_json(const struct mq_gpart *g, bool first)
{
	bool has = g->committed.exists;

	printf("%s{\"partition\":%u,\"committed_offset\":", first ? "" : ",",
	       g->partition);
	printf(has ? "%llu" : "null", (unsigned long long)g->committed.offset);
	printf(",\"log_start_offset\":%llu,\"log_end_offset\":%llu,\"lag\":",
	       (unsigned long long)g->start, (unsigned long long)g->end);
	printf(has ? "%llu" : "null", (unsigned long long)g->lag);
	printf(",\"below_log_start\":%s,\"owner\":",
	       g->below_start ? "true" : "false");
	printf(g->owned ? "\"%s\"}" : "null}", g->owner);
}

/* describe: one group (or every group) as a table or JSON lines. */
static void
describe(struct mq_spool *sp, const char *group, bool json)
{
	static const char *const head[] = {"GROUP", "TOPIC", "PARTITION",
		"CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "OWNER"};
	struct table tb = {.cols = 7};
	char **groups;
	size_t ng;
	bool below = false;

	groups_of(sp, group, &groups, &ng);
	for (size_t gi = 0; gi < ng; gi++) {
		const char *name = groups[gi];
		char **topics;
		size_t nt;
		if (!topics_of(sp, name, !group, &topics, &nt))
			continue;
		if (json)
			printf("{\"group\":\"%s\",\"topics\":[", name);
		else if (tb.n == 0)
			for (size_t c = 0; c < tb.cols; c++)
				cell(&tb, "%s", head[c]);
		for (size_t i = 0; i < nt; i++) {
			struct mq_topic t;
			struct mq_gpart *g;
			struct mq_err e;
			size_t n;
			uint32_t members;
			open_topic(&t, sp, topics[i]);
			if (mq_group_state(&t, name, &g, &n, &members, &e) < 0)
				fail(&e);
			if (json)
				printf("%s{\"topic\":\"%s\",\"live_members\":%u,"
				       "\"partitions\":[", i ? "," : "", t.name,
				       members);
			for (size_t k = 0; k < n; k++) {
				below |= g[k].below_start;
				if (json)
					row_json(&g[k], k == 0);
				else
					row_text(&tb, name, t.name, &g[k]);
			}
			if (json)
				printf("]}");
			free(g);
			mq_topic_close(&t);
		}
		if (json)
			printf("]}\n");
		mq_names_free(topics, nt);
	}
	if (!json && tb.n) {
		table_print(&tb);
		if (below)
			fputs(footnote, stdout);
	}
	table_free(&tb);
	mq_names_free(groups, ng);
}

/* What a reset prints before it writes anything (struct mq_reset.show). */
struct plan {
	const char *spool, *topic, *group;
	bool execute;
};

static int
show_plan(void *arg, const struct mq_reset_row *rows, size_t n,
	  struct mq_err *e)
{
	const struct plan *pl = arg;
	struct table tb = {.cols = 4};

	for (size_t i = 0; i < n; i++) {
		const struct mq_reset_row *r = &rows[i];
		if (r->damaged)
			cli_warn("%s damaged offset file '%s/%s/groups/%s/%u'",
				 pl->execute ? "replacing" : "would replace",
				 pl->spool, pl->topic, pl->group, r->partition);
		if (r->clamped)
			cli_warn("offset %lld is %s of '%s' partition %u "
				 "(%llu to %llu): using %llu",
				 (long long)r->asked,
				 r->asked < (int64_t)r->start ?
				 "below the start" : "past the end",
				 pl->topic, r->partition,
				 (unsigned long long)r->start,
				 (unsigned long long)r->end,
				 (unsigned long long)r->new_offset);
	}
	cell(&tb, "TOPIC");
	cell(&tb, "PARTITION");
	cell(&tb, "OLD-OFFSET");
	cell(&tb, pl->execute ? "NEW-OFFSET" : "NEW-OFFSET (dry run)");
	for (size_t i = 0; i < n; i++) {
		cell(&tb, "%s", pl->topic);
		cell(&tb, "%u", rows[i].partition);
		if (rows[i].old.exists)
			cell(&tb, "%llu",
			     (unsigned long long)rows[i].old.offset);
		else
			cell(&tb, rows[i].damaged ? "damaged" : "-");
		cell(&tb, "%llu", (unsigned long long)rows[i].new_offset);
	}
	table_print(&tb);
	table_free(&tb);
	/* Shown in full, or nothing is written. */
	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (!errno)
			errno = EIO;
		return mq_err_sys(e, "nothing reset: cannot write the plan to "
				  "standard output");
	}
	return 0;
}

static void
reset(struct mq_spool *sp, const char *group, const char *topic,
      struct opts *o)
{
	struct mq_topic t;
	struct mq_reset_row *rows;
	struct mq_err e;
	struct plan pl = {sp->path, topic, group, o->execute};
	size_t n;

	open_topic(&t, sp, topic);
	o->reset.dry_run = !o->execute;
	o->reset.show = show_plan;
	o->reset.show_arg = &pl;
	if (mq_group_reset(&t, group, &o->reset, &rows, &n, &e) < 0)
		fail(&e);
	if (!o->execute && !o->dry_run)
		cli_warn("nothing changed: this only shows the reset; add "
			 "--execute to apply it");
	free(rows);
	mq_topic_close(&t);
}

/* The lag of one group, and its plugin status. */
struct glag {
	char *group;
	struct mq_glag l;
	int status;
};

/* false when the group has nothing there and --all-groups skips it. */
static bool
group_lag(struct mq_spool *sp, const char *group, const char *topic,
	  bool all, const struct opts *o, struct glag *v)
{
	struct mq_err e;

	memset(v, 0, sizeof *v);
	if (mq_group_lag(sp, group, topic, &v->l, &e) < 0) {
		if (all && e.code == ENOENT)
			return false;
		if (topic && e.code == ENOENT)
			mq_err_set(&e, ENOENT, "group '%s' does not exist on "
				   "topic '%s'", group, topic);
		fail(&e);
	}
	if (!(v->group = strdup(group)))
		oom();
	if (o->has_crit && v->l.lag >= o->crit)
		v->status = LAG_CRITICAL;
	else if ((o->has_warn && v->l.lag >= o->warn) || v->l.below_start)
		v->status = LAG_WARNING;
	return true;
}

/* The end of a plugin line: performance data, label=value;warn;crit;min. */
static void
perfdata(uint64_t total, const struct opts *o)
{
	printf(" | lag=%llu;", (unsigned long long)total);
	if (o->has_warn)
		printf("%llu", (unsigned long long)o->warn);
	printf(";");
	if (o->has_crit)
		printf("%llu", (unsigned long long)o->crit);
	printf(";0\n");
}

static void
lag_print(const struct glag *v, const char *topic, const struct opts *o)
{
	const struct mq_glag *l = &v->l;

	printf("LAG %s - group '%s': lag %llu over %zu partition%s of ",
	       lag_word[v->status], v->group, (unsigned long long)l->lag,
	       l->partitions, l->partitions == 1 ? "" : "s");
	if (topic)
		printf("'%s'", topic);
	else
		printf("%zu topic%s", l->topics, l->topics == 1 ? "" : "s");
	if (l->below_start)
		printf(", %zu below the log start (messages removed unread)",
		       l->below_start);
	perfdata(l->lag, o);
}

/* Worst status first, then by name. */
static int
cmp_lag(const void *a, const void *b)
{
	const struct glag *x = a, *y = b;

	if (x->status != y->status)
		return y->status - x->status;
	return strcmp(x->group, y->group);
}

/*
 * lag: one plugin line per group (with --all-groups, worst first, so the
 * first line is the one that decides the status); returns the worst.
 */
static int
lag(struct mq_spool *sp, const char *group, const char *topic,
    const struct opts *o)
{
	char **groups;
	size_t ng, n = 0;
	struct glag *v;
	int status = LAG_OK;

	if (topic) {
		/* A topic that does not exist is UNKNOWN, groups or not. */
		struct mq_topic t;
		open_topic(&t, sp, topic);
		mq_topic_close(&t);
	}
	groups_of(sp, group, &groups, &ng);
	if (!(v = calloc(ng ? ng : 1, sizeof *v)))
		oom();
	/* With --all-groups and a topic, groups not on it are skipped. */
	for (size_t i = 0; i < ng; i++)
		if (group_lag(sp, groups[i], topic, !group, o, &v[n]))
			n++;
	mq_names_free(groups, ng);
	if (n == 0) {
		printf("LAG OK - no groups ");
		if (topic)
			printf("on topic '%s'", topic);
		else
			printf("in '%s'", sp->path);
		perfdata(0, o);
	}
	qsort(v, n, sizeof *v, cmp_lag);
	for (size_t i = 0; i < n; i++) {
		lag_print(&v[i], topic, o);
		if (v[i].status > status)
			status = v[i].status;
		free(v[i].group);
	}
	free(v);
	return status;
}

/*
 * The subcommand: the first operand, wherever the options are.  getopt
 * reorders what it scans, so this scans a copy of argv.
 */
static const char *
subcommand(int argc, char **argv)
{
	char **copy = malloc(((size_t)argc + 1) * sizeof *copy);
	const char *cmd = NULL;

	if (!copy)
		cli_die(CLI_ERROR, "out of memory");
	memcpy(copy, argv, ((size_t)argc + 1) * sizeof *copy);
	while (getopt_long(argc, copy, ":d:p:hV", longopts, NULL) != -1)
		;
	if (optind < argc)
		cmd = copy[optind];
	free(copy);
	return cmd;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	struct mq_spool sp;
	struct mq_err e;
	const char *cmd, *group, *topic = NULL;
	char **args;
	int c, nargs, rc = CLI_OK;

	cli_init(argv[0]);
	cmd = subcommand(argc, argv);
	lag_mode = cmd && strcmp(cmd, "lag") == 0;
	if (lag_mode) {
		/* Monitoring plugins: UNKNOWN, and a status line on stdout. */
		cli_usage_status = LAG_UNKNOWN;
		cli_usage_stdout = "LAG UNKNOWN - ";
	}
	optind = 0;
	o.parts = calloc((size_t)argc, sizeof *o.parts);
	o.topics = calloc((size_t)argc, sizeof *o.topics);
	if (!o.parts || !o.topics)
		cli_die(CLI_ERROR, "out of memory");
	while ((c = getopt_long(argc, argv, ":d:p:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = cli_spool_arg(optarg); break;
		case OPT_ALL: o.all = true; break;
		case OPT_JSON: o.json = true; break;
		case OPT_EARLIEST: o.reset.how = MQ_TO_EARLIEST; o.resets++;
			break;
		case OPT_LATEST: o.reset.how = MQ_TO_LATEST; o.resets++; break;
		case OPT_OFFSET:
			o.reset.how = MQ_TO_OFFSET;
			o.reset.arg = (int64_t)cli_u64("--to-offset", optarg, 0,
						       INT64_MAX);
			o.resets++;
			break;
		case OPT_DATETIME:
			o.reset.how = MQ_TO_TIME;
			if (mq_parse_time(optarg, &o.reset.arg, &e) < 0)
				cli_usage("--to-datetime: %s", e.msg);
			o.resets++;
			break;
		case OPT_DURATION: {
			/* Kafka's ISO-8601 form starts with P, after a sign. */
			const char *p = optarg + (*optarg == '+' ||
						  *optarg == '-');
			int64_t d;
			o.reset.how = MQ_TO_TIME;
			if ((*p == 'P' || *p == 'p' ?
			     mq_parse_iso_duration(optarg, &d, &e) :
			     mq_parse_duration(optarg, false, &d, &e)) < 0)
				cli_usage("--by-duration: %s", e.msg);
			o.reset.arg = mq_now_ms() - d;
			o.resets++;
			break;
		}
		case OPT_SHIFT:
			o.reset.how = MQ_SHIFT;
			if (mq_parse_i64(optarg, -INT64_MAX / 2, INT64_MAX / 2,
					 &o.reset.arg) < 0)
				cli_usage("bad --shift-by '%s': expected a "
					  "number like +10 or -10", optarg);
			o.resets++;
			break;
		case 'p':
			o.parts[o.reset.nparts++] = (uint32_t)cli_u64("-p",
						optarg, 0, MQ_MAX_PARTITIONS - 1);
			break;
		case OPT_DRY: o.dry_run = true; break;
		case OPT_EXECUTE: o.execute = true; break;
		case OPT_LOCK:
			cli_lock_timeout("--lock-timeout", optarg);
			break;
		case OPT_WARN:
			o.warn = cli_u64("--warn", optarg, 0, UINT64_MAX);
			o.has_warn = true;
			break;
		case OPT_CRIT:
			o.crit = cli_u64("--crit", optarg, 0, UINT64_MAX);
			o.has_crit = true;
			break;
		case OPT_TOPIC:
			if (mq_topic_name_check(optarg, &e) < 0)
				cli_usage("%s", e.msg);
			o.topics[o.ntopics++] = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			free(o.parts);
			free(o.topics);
			return CLI_OK;
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (!cmd)
		cli_usage("missing command: list, describe, reset, lag or "
			  "delete");
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	if (strcmp(cmd, "list") && strcmp(cmd, "describe") &&
	    strcmp(cmd, "reset") && strcmp(cmd, "lag") && strcmp(cmd, "delete"))
		cli_usage("unknown command '%s': use list, describe, reset, "
			  "lag or delete", cmd);
	if (o.json && strcmp(cmd, "describe"))
		cli_usage("--json applies to describe only");
	if (o.all && strcmp(cmd, "describe") && !lag_mode)
		cli_usage("--all-groups applies to describe and lag only");
	if ((o.resets || o.reset.nparts || o.dry_run || o.execute) &&
	    strcmp(cmd, "reset"))
		cli_usage("--to-*, --by-duration, --shift-by, -p, --dry-run and "
			  "--execute apply to reset only");
	if ((o.has_warn || o.has_crit) && !lag_mode)
		cli_usage("--warn and --crit apply to lag only");
	if (o.ntopics && strcmp(cmd, "delete"))
		cli_usage("--topic applies to delete only");
	if (!strcmp(cmd, "list") ? nargs != 0 :
	    !strcmp(cmd, "reset") ? nargs != 2 :
	    !strcmp(cmd, "lag") ? nargs < !o.all || nargs > 2 - o.all :
	    nargs != 1 - o.all)
		cli_usage("%s: wrong number of arguments (see '%s --help')",
			  cmd, cli_prog);
	if (!strcmp(cmd, "reset") && o.resets != 1)
		cli_usage("reset needs exactly one of --to-earliest, "
			  "--to-latest, --to-offset, --to-datetime, "
			  "--by-duration, --shift-by");
	if (o.dry_run && o.execute)
		cli_usage("reset takes --execute or --dry-run, not both");
	if (o.has_warn && o.has_crit && o.crit < o.warn)
		cli_usage("--crit must not be below --warn");
	group = o.all || !nargs ? NULL : args[0];
	if (nargs > !o.all)
		topic = args[!o.all];
	if (group && mq_group_name_check(group, &e) < 0)
		cli_usage("%s", e.msg);
	if (topic && mq_topic_name_check(topic, &e) < 0)
		cli_usage("%s", e.msg);
	if (o.reset.nparts)
		o.reset.parts = o.parts;

	open_spool(&sp, o.dir);
	if (!strcmp(cmd, "list")) {
		char **names;
		size_t n;
		if (mq_spool_groups(&sp, &names, &n, &e) < 0)
			fail(&e);
		for (size_t i = 0; i < n; i++)
			printf("%s\n", names[i]);
		mq_names_free(names, n);
	} else if (!strcmp(cmd, "describe")) {
		describe(&sp, group, o.json);
	} else if (!strcmp(cmd, "reset")) {
		reset(&sp, group, topic, &o);
	} else if (!strcmp(cmd, "lag")) {
		rc = lag(&sp, group, topic, &o);
	} else if (mq_group_delete(&sp, group, o.ntopics ? o.topics : NULL,
				   o.ntopics, &e) < 0) {
		fail(&e);
	}
	mq_spool_close(&sp);
	free(o.parts);
	free(o.topics);
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_die(lag_mode ? LAG_UNKNOWN : CLI_ERROR,
			"cannot write output");
	return rc;
}
