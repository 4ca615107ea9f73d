/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_schema.h - internal to api-socket/: the field tables the API's JSON
 * objects are checked against (api_json.c's walker), for the files that
 * define objects of their own (api_balloon.c), so every object refuses
 * unknown fields, wrong types and missing fields with the same messages.
 */
#ifndef EMBER_API_SCHEMA_H
#define EMBER_API_SCHEMA_H

#include <jansson.h>

#include "ember.h"

/* AF_OBJECT and AF_ARRAY only check the JSON type; the caller walks them. */
enum api_ftype { AF_STR, AF_BOOL, AF_U32, AF_U64, AF_ENUM, AF_OBJECT, AF_ARRAY, AF_UNSUPPORTED };

#define AF_NO_DST ((size_t)-1) /* validate the value, store nothing */

struct api_field {
	const char *name;
	enum api_ftype type;
	bool required;
	bool nonempty;		    /* AF_STR */
	size_t off, size;	    /* destination in the output struct; size for AF_STR */
	uint64_t min, max;	    /* AF_U32, AF_U64 */
	const char *const *choices; /* AF_ENUM: NULL-terminated, stored as an unsigned index */
	bool nocase;		    /* AF_ENUM */
};

#define STR(s, f, ...)                                                                             \
	{                                                                                          \
		.name = #f, .type = AF_STR, .off = offsetof(s, f), .size = sizeof(((s *)0)->f),    \
		__VA_ARGS__                                                                        \
	}
#define BOOL(s, f, ...)                                                                            \
	{                                                                                          \
		.name = #f, .type = AF_BOOL, .off = offsetof(s, f), __VA_ARGS__                    \
	}
#define NOTSUP(n)                                                                                  \
	{                                                                                          \
		.name = n, .type = AF_UNSUPPORTED                                                  \
	}

/* "<what>: ..." into @err; returns -EINVAL. */
int api_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Walks @o against @fields.  A null value counts as absent (as serde's
 * Option does in Firecracker), so documents from GET /vm/config round-trip.
 * @seen gets bit i for each field i present; @partial skips required checks.
 */
int api_json_obj(json_t *o, const char *what, const struct api_field *fields, size_t n,
		 bool partial, void *dst, uint32_t *seen, char *err, size_t errlen);

#endif /* EMBER_API_SCHEMA_H */
