// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for --config-file documents (api_config_from_json: every
 * section validated as its PUT would be).  Beyond not crashing, what is
 * accepted must survive the trip ember itself makes with it: GET /vm/config
 * writes a config back as a document (api_config_to_json) that must be
 * accepted again and come out the same; otherwise a snapshot's or a
 * client's copy of a config would not be the config.  A broken trip aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define FUZZ_DICT "\": {}[],0123456789-truefalsenull"
#define FUZZ_HAVE_REPORT
#include "driver.h"

static struct {
	size_t inputs, accepted;
} depth;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_vm_config a, b; /* large */
	char err[API_ERR_MAX];
	char *ja, *jb;

	depth.inputs++;
	if (api_config_from_json((const char *)data, size, &a, err, sizeof(err)))
		return 0;
	depth.accepted++;
	ja = api_config_to_json(&a);
	if (!ja)
		return 0;
	if (api_config_from_json(ja, strlen(ja), &b, err, sizeof(err))) {
		fprintf(stderr, "fuzz_config: ember refuses its own document: %s\n%s\n", err, ja);
		abort();
	}
	jb = api_config_to_json(&b);
	if (jb && strcmp(ja, jb)) {
		fprintf(stderr, "fuzz_config: the config changed on the way:\n%s\n%s\n", ja, jb);
		abort();
	}
	free(ja);
	free(jb);
	return 0;
}

#ifndef EMBER_LIBFUZZER
static int fuzz_report(void)
{
	printf("fuzz_config: %zu documents, %zu accepted and written back the same\n", depth.inputs,
	       depth.accepted);
	return !depth.accepted;
}
#endif
