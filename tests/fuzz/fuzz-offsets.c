/*
 * fuzz-offsets.c - the text of a committed-offset file (groups/GROUP/P):
 * mq_group_parse on any bytes.  What it accepts must be an offset and an
 * epoch within int64, and must read back the same once written out in
 * the canonical form "N\n" or "N\nepoch E\n".
 */
#include <config.h>

#include <inttypes.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), canon[64];
	struct mq_gpos pos, back;

	FUZZ_CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&pos, 0, sizeof pos);
	if (mq_group_parse(text, &pos) == 0) {
		FUZZ_CHECK(pos.exists);
		FUZZ_CHECK(pos.offset <= INT64_MAX && pos.epoch <= INT64_MAX);
		if (pos.epoch)
			snprintf(canon, sizeof canon, "%" PRIu64 "\nepoch %"
				 PRIu64 "\n", pos.offset, pos.epoch);
		else
			snprintf(canon, sizeof canon, "%" PRIu64 "\n",
				 pos.offset);
		memset(&back, 0, sizeof back);
		FUZZ_CHECK(mq_group_parse(canon, &back) == 0);
		FUZZ_CHECK(back.offset == pos.offset &&
			   back.epoch == pos.epoch && back.exists);
	}
	free(text);
	return 0;
}
