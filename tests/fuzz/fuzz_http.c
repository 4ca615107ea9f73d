// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the API socket: raw bytes -> HTTP parser (fed in chunks
 * whose sizes come from the input, so split reads are exercised) -> router
 * -> a fake VMM verdict -> api_complete.  Any crash, leak or sanitizer report
 * is a bug.  fuzz_api.c drives the JSON layer without the framing,
 * fuzz_config.c the --config-file documents.
 *
 * libFuzzer (clang): the Makefile says how (FUZZ_SAN, FUZZ_ENGINE); seeds in
 * tests/fuzz/corpus/http, -max_len=8192.
 *
 * Without libFuzzer: `make fuzz` builds it with gcc and ASan/UBSan and runs
 * it over the corpus (part of `make test`; driver.h), or by hand:
 *   build/fuzz_http tests/fuzz/corpus/http      # every file in the directory, then
 *                                               # 2000 random mutations of each
 *   build/fuzz_http FILE...                     # just these inputs
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http.h"

#define FUZZ_DICT "\r\n: {}\",0123456789-"
#include "driver.h"

static void fuzz_serve(struct api_state *st, const struct http_request *req, uint8_t verdict)
{
	struct api_response resp;
	struct api_cmd cmd;

	if (api_handle(st, req, &resp, &cmd) == API_EXEC)
		api_complete(st, &cmd, verdict & 1 ? -EINVAL : 0, verdict & 2 ? "vmm said no" : "",
			     &resp);
	api_response_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_state st; /* large; reset every run, so no state leaks between inputs */
	struct http_parser p;
	size_t off = 0, step = 1, used;

	if (size < 1)
		return 0;
	api_state_init(&st, NULL);
	http_parser_init(&p, 4096);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		enum http_parse_result r = http_parser_feed(&p, (const char *)data + off, n, &used);

		off += used;
		if (r == HTTP_PARSE_READY) {
			fuzz_serve(&st, &p.req, data[off - 1]);
			http_parser_next(&p);
		} else if (r == HTTP_PARSE_ERROR) {
			struct api_response resp;

			api_fault(&resp, p.err_status, "%s", p.err_msg);
			api_response_free(&resp);
			break;
		}
		step = (size_t)data[off % size] % 64 + 1;
	}
	http_parser_free(&p);
	return 0;
}
