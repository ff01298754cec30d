/*
 * mq-group - list, describe, reset and delete consumer groups, and check
 * their lag the way monitoring plugins do.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
"Usage: mq-group [-d DIR] list\n"
"       mq-group [-d DIR] describe GROUP [--json]\n"
"       mq-group [-d DIR] reset GROUP TOPIC (--to-earliest | --to-latest |\n"
"                --to-offset N | --to-datetime TIME | --by-duration DURATION |\n"
"                --shift-by [+|-]N) [-p N]... [--dry-run]\n"
"                [--lock-timeout DURATION]\n"
"       mq-group [-d DIR] lag GROUP [TOPIC] [--warn N] [--crit N]\n"
"       mq-group [-d DIR] delete GROUP [--lock-timeout DURATION]\n"
"       mq-group --help | --version\n"
"\n"
"  -d, --spool DIR       the spool (default $MQ_SPOOL, else ~/.mq)\n"
"      --json            describe: print JSON\n"
"      --to-earliest     reset: to the first offset still stored\n"
"      --to-latest       reset: to the end (skip everything stored)\n"
"      --to-offset N     reset: to offset N\n"
"      --to-datetime TIME  reset: to the first message at or after TIME\n"
"                        (epoch ms or ISO-8601)\n"
"      --by-duration DURATION  reset: to the first message of the last\n"
"                        DURATION (e.g. 2h)\n"
"      --shift-by N      reset: move the committed offset by N (+ or -)\n"
"  -p, --partition N     reset: only partition N (repeatable)\n"
"      --dry-run         reset: show the new offsets, change nothing\n"
"      --lock-timeout DURATION  reset, delete: wait at most this long for\n"
"                        the group lock another process holds (60s)\n"
"      --warn N          lag: WARNING (exit 1) at a total lag of N or more\n"
"      --crit N          lag: CRITICAL (exit 2) at a total lag of N or more\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n";

enum { OPT_JSON = 256, OPT_EARLIEST, OPT_LATEST, OPT_OFFSET, OPT_DATETIME,
       OPT_DURATION, OPT_SHIFT, OPT_DRY, OPT_WARN, OPT_CRIT, OPT_LOCK };

static const struct option longopts[] = {
	{"spool", required_argument, NULL, 'd'},
	{"json", no_argument, NULL, OPT_JSON},
	{"to-earliest", no_argument, NULL, OPT_EARLIEST},
	{"to-latest", no_argument, NULL, OPT_LATEST},
	{"to-offset", required_argument, NULL, OPT_OFFSET},
	{"to-datetime", required_argument, NULL, OPT_DATETIME},
	{"by-duration", required_argument, NULL, OPT_DURATION},
	{"shift-by", required_argument, NULL, OPT_SHIFT},
	{"partition", required_argument, NULL, 'p'},
	{"dry-run", no_argument, NULL, OPT_DRY},
	{"warn", required_argument, NULL, OPT_WARN},
	{"crit", required_argument, NULL, OPT_CRIT},
	{"lock-timeout", required_argument, NULL, OPT_LOCK},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

struct opts {
	const char *dir;
	bool json, has_warn, has_crit;
	uint64_t warn, crit;
	struct mq_reset reset;
	int resets;              /* how many --to-.../--shift-by were given */
	uint32_t *parts;
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

static void
open_topic(struct mq_topic *t, struct mq_spool *sp, const char *name)
{
	struct mq_err e;

	if (mq_topic_open(t, sp, name, &e) < 0)
		fail(&e);
}

static void
table(char **cells, size_t rows, size_t cols)
{
	size_t w[8] = {0};

	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			if (strlen(cells[r * cols + c]) > w[c])
				w[c] = strlen(cells[r * cols + c]);
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++) {
			if (c + 1 < cols)
				printf("%-*s  ", (int)w[c], cells[r * cols + c]);
			else
				printf("%s\n", cells[r * cols + c]);
		}
}

static char *
num(uint64_t v)
{
	char *s;
	return asprintf(&s, "%llu", (unsigned long long)v) < 0 ? NULL : s;
}

static void
describe(struct mq_spool *sp, const char *group, bool json)
{
	struct mq_err e;
	char **topics, **cells = NULL;
	size_t nt, rows = 1, cols = 7;

	if (mq_group_topics(sp, group, &topics, &nt, &e) < 0)
		fail(&e);
	if (json)
		printf("{\"group\":\"%s\",\"topics\":[", group);
	else {
		static const char *const head[] = {"GROUP", "TOPIC",
			"PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
			"OWNER"};
		cells = malloc(cols * sizeof *cells);
		for (size_t c = 0; c < cols; c++)
			cells[c] = strdup(head[c]);
	}
	for (size_t i = 0; i < nt; i++) {
		struct mq_topic t;
		struct mq_gpart *g;
		size_t n;
		uint32_t members;
		open_topic(&t, sp, topics[i]);
		if (mq_group_state(&t, group, &g, &n, &members, &e) < 0)
			fail(&e);
		if (json)
			printf("%s{\"topic\":\"%s\",\"live_members\":%u,"
			       "\"partitions\":[", i ? "," : "", t.name,
			       members);
		else
			cells = realloc(cells, (rows + n) * cols *
					sizeof *cells);
		for (size_t k = 0; k < n; k++) {
			if (json) {
				printf("%s{\"partition\":%u,\"committed_offset\":",
				       k ? "," : "", g[k].partition);
				if (g[k].committed.exists)
					printf("%llu", (unsigned long long)
					       g[k].committed.offset);
				else
					printf("null");
				printf(",\"log_start_offset\":%llu,"
				       "\"log_end_offset\":%llu,\"lag\":%llu,"
				       "\"owner\":",
				       (unsigned long long)g[k].start,
				       (unsigned long long)g[k].end,
				       (unsigned long long)g[k].lag);
				printf(g[k].owned ? "\"%s\"}" : "null}",
				       g[k].owner);
				continue;
			}
			char **row = cells + rows * cols;
			row[0] = strdup(group);
			row[1] = strdup(t.name);
			row[2] = num(g[k].partition);
			row[3] = g[k].committed.exists ?
				 num(g[k].committed.offset) : strdup("-");
			row[4] = num(g[k].end);
			row[5] = num(g[k].lag);
			row[6] = strdup(g[k].owned ? g[k].owner : "-");
			rows++;
		}
		if (json)
			printf("]}");
		free(g);
		mq_topic_close(&t);
	}
	if (json)
		printf("]}\n");
	else
		table(cells, rows, cols);
	for (size_t i = 0; cells && i < rows * cols; i++)
		free(cells[i]);
	free(cells);
	mq_names_free(topics, nt);
}

static void
reset(struct mq_spool *sp, const char *group, const char *topic,
      const struct opts *o)
{
	struct mq_topic t;
	struct mq_reset_row *rows;
	struct mq_err e;
	size_t n;
	char **cells;

	open_topic(&t, sp, topic);
	if (mq_group_reset(&t, group, &o->reset, &rows, &n, &e) < 0)
		fail(&e);
	cells = calloc((n + 1) * 4, sizeof *cells);
	cells[0] = strdup("TOPIC");
	cells[1] = strdup("PARTITION");
	cells[2] = strdup("OLD-OFFSET");
	cells[3] = strdup(o->reset.dry_run ? "NEW-OFFSET (dry run)" :
			  "NEW-OFFSET");
	for (size_t i = 0; i < n; i++) {
		char **row = cells + (i + 1) * 4;
		row[0] = strdup(t.name);
		row[1] = num(rows[i].partition);
		row[2] = rows[i].old.exists ? num(rows[i].old.offset)
					    : strdup("-");
		row[3] = num(rows[i].new_offset);
	}
	table(cells, n + 1, 4);
	for (size_t i = 0; i < (n + 1) * 4; i++)
		free(cells[i]);
	free(cells);
	free(rows);
	mq_topic_close(&t);
}

static int
lag(struct mq_spool *sp, const char *group, const char *topic,
    const struct opts *o)
{
	struct mq_err e;
	char **topics;
	size_t nt, parts = 0;
	uint64_t total = 0;
	int status = LAG_OK;

	if (topic) {
		struct mq_topic t;
		uint32_t m;
		struct mq_gpart *g;
		open_topic(&t, sp, topic);
		if (mq_group_state(&t, group, &g, &parts, &m, &e) < 0) {
			if (e.code == ENOENT)
				mq_err_set(&e, ENOENT, "group '%s' does not "
					   "exist on topic '%s'", group, topic);
			fail(&e);
		}
		for (size_t k = 0; k < parts; k++)
			total += g[k].lag;
		free(g);
		mq_topic_close(&t);
		nt = 1;
	} else {
		if (mq_group_topics(sp, group, &topics, &nt, &e) < 0)
			fail(&e);
		for (size_t i = 0; i < nt; i++) {
			struct mq_topic t;
			struct mq_gpart *g;
			size_t n;
			uint32_t m;
			open_topic(&t, sp, topics[i]);
			if (mq_group_state(&t, group, &g, &n, &m, &e) < 0)
				fail(&e);
			for (size_t k = 0; k < n; k++)
				total += g[k].lag;
			parts += n;
			free(g);
			mq_topic_close(&t);
		}
		mq_names_free(topics, nt);
	}
	if (o->has_crit && total >= o->crit)
		status = LAG_CRITICAL;
	else if (o->has_warn && total >= o->warn)
		status = LAG_WARNING;
	printf("LAG %s - group '%s': lag %llu over %zu partition%s of ",
	       lag_word[status], group, (unsigned long long)total, parts,
	       parts == 1 ? "" : "s");
	if (topic)
		printf("'%s'", topic);
	else
		printf("%zu topic%s", nt, nt == 1 ? "" : "s");
	printf(" | lag=%llu;", (unsigned long long)total);
	if (o->has_warn)
		printf("%llu", (unsigned long long)o->warn);
	printf(";");
	if (o->has_crit)
		printf("%llu", (unsigned long long)o->crit);
	printf(";0\n");
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
	const char *cmd;
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
	if (!o.parts)
		cli_die(CLI_ERROR, "out of memory");
	while ((c = getopt_long(argc, argv, ":d:p:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = cli_spool_arg(optarg); break;
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
			int64_t d;
			o.reset.how = MQ_TO_TIME;
			if (mq_parse_duration(optarg, false, &d, &e) < 0)
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
		case OPT_DRY: o.reset.dry_run = true; break;
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
		case 'h':
			fputs(usage_text, stdout);
			free(o.parts);
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
	if ((o.resets || o.reset.nparts || o.reset.dry_run) &&
	    strcmp(cmd, "reset"))
		cli_usage("--to-*, --by-duration, --shift-by, -p and --dry-run "
			  "apply to reset only");
	if ((o.has_warn || o.has_crit) && !lag_mode)
		cli_usage("--warn and --crit apply to lag only");
	if (!strcmp(cmd, "list") ? nargs != 0 :
	    !strcmp(cmd, "reset") ? nargs != 2 :
	    !strcmp(cmd, "lag") ? nargs < 1 || nargs > 2 : nargs != 1)
		cli_usage("%s: wrong number of arguments (see '%s --help')",
			  cmd, cli_prog);
	if (!strcmp(cmd, "reset") && o.resets != 1)
		cli_usage("reset needs exactly one of --to-earliest, "
			  "--to-latest, --to-offset, --to-datetime, "
			  "--by-duration, --shift-by");
	if (o.has_warn && o.has_crit && o.crit < o.warn)
		cli_usage("--crit must not be below --warn");
	if (nargs >= 1 && mq_group_name_check(args[0], &e) < 0)
		cli_usage("%s", e.msg);
	if (nargs >= 2 && mq_topic_name_check(args[1], &e) < 0)
		cli_usage("%s", e.msg);
	if (o.reset.nparts)
		o.reset.parts = o.parts;

	/* Not cli_open_spool: lag reports a missing spool as UNKNOWN. */
	{
		char *path = mq_spool_path(o.dir, &e);
		if (!path || mq_spool_open(&sp, path, false, &e) < 0)
			fail(&e);
		free(path);
	}
	if (!strcmp(cmd, "list")) {
		char **names;
		size_t n;
		if (mq_spool_groups(&sp, &names, &n, &e) < 0)
			fail(&e);
		for (size_t i = 0; i < n; i++)
			printf("%s\n", names[i]);
		mq_names_free(names, n);
	} else if (!strcmp(cmd, "describe")) {
		describe(&sp, args[0], o.json);
	} else if (!strcmp(cmd, "reset")) {
		reset(&sp, args[0], args[1], &o);
	} else if (!strcmp(cmd, "lag")) {
		rc = lag(&sp, args[0], nargs == 2 ? args[1] : NULL, &o);
	} else if (mq_group_delete(&sp, args[0], &e) < 0) {
		fail(&e);
	}
	mq_spool_close(&sp);
	free(o.parts);
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_die(lag_mode ? LAG_UNKNOWN : CLI_ERROR,
			"cannot write output");
	return rc;
}
