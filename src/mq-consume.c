/*
 * mq-consume - write a topic's messages to stdout, from an offset or a
 * time, to the end of the log or (-f) as they arrive.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mqcmd.h"

static const char usage_text[] =
"Usage: mq-consume [-d DIR] [-p N]... [-o beginning|end|N|-N|@TIME] [-c N]\n"
"                  [--until N|@TIME] [-f] [-D DELIM | -0] [-K DELIM]\n"
"                  [-F FORMAT] [--null-marker STR] TOPIC...\n"
"       mq-consume --help | --version\n"
"\n"
"  -d, --spool DIR       the spool (default $MQ_SPOOL, else ~/.mq)\n"
"  -p, --partition N     read partition N only (repeatable)\n"
"  -o, --offset WHERE    start at: beginning (default), end, offset N,\n"
"                        N before the end (-N), or the first message at\n"
"                        or after TIME (@epoch-ms or @ISO-8601)\n"
"  -c, --count N         stop after N messages\n"
"      --until N|@TIME   stop each partition before offset N or before\n"
"                        the first message at or after TIME\n"
"  -f, --follow          wait for new messages, like tail -f\n"
"  -D, --delimiter DELIM written after each message (default \\n)\n"
"  -0                    messages end with NUL (-D '\\0')\n"
"  -K, --key-delimiter DELIM  print the key and DELIM before the value\n"
"  -F, --format FORMAT   kcat format: %s value, %k key, %t topic,\n"
"                        %p partition, %o offset, %T timestamp (ms),\n"
"                        %h headers, %S value size, %K key size, %%;\n"
"                        escapes \\n \\t \\r \\0 \\\\ \\xNN\n"
"      --null-marker STR print STR for a null key or value (default: "
"nothing)\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n";

enum { OPT_UNTIL = 256, OPT_NULL };

static const struct option longopts[] = {
	{"spool", required_argument, NULL, 'd'},
	{"partition", required_argument, NULL, 'p'},
	{"offset", required_argument, NULL, 'o'},
	{"count", required_argument, NULL, 'c'},
	{"until", required_argument, NULL, OPT_UNTIL},
	{"follow", no_argument, NULL, 'f'},
	{"delimiter", required_argument, NULL, 'D'},
	{"key-delimiter", required_argument, NULL, 'K'},
	{"format", required_argument, NULL, 'F'},
	{"null-marker", required_argument, NULL, OPT_NULL},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

static void
parse_offset(const char *s, struct mq_consumer_opts *o)
{
	struct mq_err e;
	uint64_t v;

	if (!strcmp(s, "beginning") || !strcmp(s, "earliest")) {
		o->whence = MQ_FROM_BEGINNING;
	} else if (!strcmp(s, "end") || !strcmp(s, "latest")) {
		o->whence = MQ_FROM_END;
	} else if (s[0] == '@') {
		o->whence = MQ_FROM_TIME;
		if (mq_parse_time(s + 1, &o->arg, &e) < 0)
			cli_usage("-o: %s", e.msg);
	} else if (s[0] == '-' && mq_parse_u64(s + 1, 1, INT64_MAX, &v) == 0) {
		o->whence = MQ_FROM_TAIL;
		o->arg = (int64_t)v;
	} else if (mq_parse_u64(s, 0, INT64_MAX, &v) == 0) {
		o->whence = MQ_FROM_OFFSET;
		o->arg = (int64_t)v;
	} else {
		cli_usage("bad offset '%s': use beginning, end, N, -N or @TIME",
			  s);
	}
}

static void
parse_until(const char *s, struct mq_consumer_opts *o)
{
	struct mq_err e;
	uint64_t v;

	o->has_until = true;
	if (s[0] == '@') {
		o->until_time = true;
		if (mq_parse_time(s + 1, &o->until, &e) < 0)
			cli_usage("--until: %s", e.msg);
	} else if (mq_parse_u64(s, 0, INT64_MAX, &v) == 0) {
		o->until = (int64_t)v;
	} else {
		cli_usage("bad --until '%s': use an offset N or @TIME", s);
	}
}

/* The default output: [key KDELIM] value DELIM. */
static inline int
put_plain(struct mq_out *o, const struct mq_record *r, const char *kdelim,
	  size_t kdlen, const char *delim, size_t dlen, const char *null_marker,
	  size_t nl)
{
	if (kdelim && ((r->key ? mq_out_put(o, r->key, r->klen) :
			mq_out_put(o, null_marker, nl)) < 0 ||
		       mq_out_put(o, kdelim, kdlen) < 0))
		return -1;
	if (r->value && dlen == 1 && o->len + r->vlen + 1 <= o->cap) {
		/* The common case, without a library call for the delimiter. */
		memcpy(o->buf + o->len, r->value, r->vlen);
		o->buf[o->len + r->vlen] = (unsigned char)delim[0];
		o->len += r->vlen + 1;
		return 0;
	}
	if ((r->value ? mq_out_put(o, r->value, r->vlen) :
	     mq_out_put(o, null_marker, nl)) < 0)
		return -1;
	return mq_out_put(o, delim, dlen);
}

static inline int
emit(struct mq_out *o, const struct mq_fmt *fmt, const char *format,
     const struct mq_cpart *cp, const struct mq_record *r, const char *kdelim,
     size_t kdlen, const char *delim, size_t dlen, const char *null_marker,
     size_t nl)
{
	if (format)
		return mq_fmt_render(fmt, o, cp->t->name, cp->partition, r,
				     null_marker);
	return put_plain(o, r, kdelim, kdlen, delim, dlen, null_marker, nl);
}

/* A closed stdout ends the consumer quietly: the reader has had enough. */
static void
out_error(void)
{
	if (errno == EPIPE)
		exit(CLI_OK);
	cli_die(CLI_ERROR, "cannot write to standard output: %s",
		strerror(errno));
}

int
main(int argc, char **argv)
{
	struct mq_consumer_opts o = {.whence = MQ_FROM_BEGINNING};
	uint32_t *parts = calloc((size_t)argc, sizeof *parts);
	const char *dir = NULL, *format = NULL, *null_marker = "";
	char *delim = NULL, *kdelim = NULL;
	size_t dlen = 0, kdlen = 0, nl;
	uint64_t count = 0, limit = UINT64_MAX;
	bool nul = false;
	struct mq_spool sp;
	struct mq_consumer c;
	struct mq_out out;
	struct mq_fmt fmt = {0};
	struct mq_err e;
	struct stat st;
	int ch, watch_fd = -1;

	cli_init(argv[0]);
	if (!parts)
		cli_die(CLI_ERROR, "out of memory");
	while ((ch = getopt_long(argc, argv, ":d:p:o:c:fD:0K:F:hV", longopts,
				 NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'p':
			parts[o.nparts++] = (uint32_t)cli_u64("-p", optarg, 0,
							MQ_MAX_PARTITIONS - 1);
			break;
		case 'o': parse_offset(optarg, &o); break;
		case 'c': limit = cli_u64("-c", optarg, 1, UINT64_MAX); break;
		case OPT_UNTIL: parse_until(optarg, &o); break;
		case 'f': o.follow = true; break;
		case 'D':
			free(delim);
			if (mq_parse_delim(optarg, &delim, &dlen, &e) < 0)
				cli_usage("-D: %s", e.msg);
			break;
		case '0': nul = true; break;
		case 'K':
			free(kdelim);
			if (mq_parse_delim(optarg, &kdelim, &kdlen, &e) < 0)
				cli_usage("-K: %s", e.msg);
			break;
		case 'F': format = optarg; break;
		case OPT_NULL: null_marker = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			free(parts);
			return CLI_OK;
		case 'V': cli_version();
		default: cli_bad_option(ch, argv);
		}
	}
	if (nul && delim)
		cli_usage("-0 and -D cannot be combined");
	if (format && (delim || nul || kdelim))
		cli_usage("-F cannot be combined with -D, -0 or -K (write "
			  "delimiters and %%k into the format)");
	if (!delim) {
		delim = strdup(nul ? "" : "\n");
		dlen = 1;
	}
	if (format && mq_fmt_compile(&fmt, format, &e) < 0)
		cli_usage("%s", e.msg);
	if (optind >= argc)
		cli_usage("missing topic");
	for (int i = optind; i < argc; i++)
		if (mq_topic_name_check(argv[i], &e) < 0)
			cli_usage("%s", e.msg);
	if (o.nparts)
		o.parts = parts;

	cli_open_spool(&sp, dir, false, argv[optind]);
	if (mq_consumer_open(&c, &sp, argv + optind, (size_t)(argc - optind),
			     &o, &e) < 0)
		cli_fail(&e);
	if (mq_out_init(&out, 1) < 0)
		cli_die(CLI_ERROR, "out of memory");
	if (o.follow && fstat(1, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		watch_fd = 1;
	nl = strlen(null_marker);
	while (count < limit && !cli_stop) {
		struct mq_cpart *cp;
		struct mq_record rec;
		int rc = mq_consumer_next(&c, &cp, &rec, &e);

		if (rc == 0) {
			uint64_t last = rec.offset;
			if (emit(&out, &fmt, format, cp, &rec, kdelim, kdlen,
				 delim, dlen, null_marker, nl) < 0)
				out_error();
			count++;
			if (!mq_consumer_can_stream(&c, cp))
				continue;
			/* The rest of this batch, without the per-message
			 * bookkeeping of mq_consumer_next. */
			struct mq_rec_iter it = cp->r.it;
			while (count < limit &&
			       mq_rec_iter_next(&it, &rec) == 0) {
				if (emit(&out, &fmt, format, cp, &rec, kdelim,
					 kdlen, delim, dlen, null_marker,
					 nl) < 0)
					out_error();
				last = rec.offset;
				count++;
			}
			mq_consumer_put_iter(&c, cp, &it, last + 1);
			continue;
		}
		if (mq_out_flush(&out) < 0)
			out_error();
		if (rc == 1)
			break;
		if (rc < 0)
			cli_fail(&e);
		rc = mq_consumer_wait(&c, watch_fd, &cli_stop, &e);
		if (rc == 1)
			exit(CLI_OK);
		if (rc < 0)
			cli_fail(&e);
	}
	if (mq_out_flush(&out) < 0)
		out_error();
	mq_consumer_close(&c);
	mq_spool_close(&sp);
	mq_out_free(&out);
	mq_fmt_free(&fmt);
	free(parts);
	free(delim);
	free(kdelim);
	return CLI_OK;
}
