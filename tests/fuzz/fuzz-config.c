/*
 * fuzz-config.c - topic configuration text: mq_config_parse on a whole
 * TOPIC/config file and mq_config_set_kv on a -c KEY=VALUE argument.  A
 * config that parses must format (mq_config_format) to text that parses
 * to the same values; a refusal must say why with the right code
 * (EBADMSG for a file, EINVAL for an argument).
 */
#include <config.h>

#include <errno.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *fmt, buf[8];
	struct mq_config c, back;
	struct mq_err e;

	FUZZ_CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	if (mq_config_parse(&c, text, size, &e) == 0) {
		fmt = mq_config_format(&c);
		FUZZ_CHECK(fmt);
		FUZZ_CHECK(mq_config_parse(&back, fmt, strlen(fmt), &e) == 0);
		FUZZ_CHECK(memcmp(&c, &back, sizeof c) == 0);
		free(fmt);
		for (size_t i = 0; i < mq_config_count(); i++)
			FUZZ_CHECK(mq_config_get(&c, i, buf, sizeof buf));
	} else {
		FUZZ_CHECK(e.code == EBADMSG && e.msg[0]);
	}
	mq_config_defaults(&c);
	if (mq_config_set_kv(&c, text, &e) < 0)
		FUZZ_CHECK(e.code == EINVAL && e.msg[0]);
	free(text);
	return 0;
}
