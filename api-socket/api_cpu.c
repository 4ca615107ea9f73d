// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /cpu-config and the config file's "cpu-config": Firecracker's custom
 * CPU template in its JSON form (docs/cpu_templates/cpu-templates.md):
 *
 *   {"kvm_capabilities": ["171", "!172"],
 *    "cpuid_modifiers": [{"leaf": "0x1", "subleaf": "0x0", "flags": 0,
 *                         "modifiers": [{"register": "ecx",
 *                                        "bitmap": "0bxxxx...0xxx"}]}],
 *    "msr_modifiers": [{"addr": "0x10a", "bitmap": "0b...x1x0"}]}
 *
 * As in Firecracker: leaf, subleaf and addr need a "0x" or "0b" prefix;
 * a bitmap is read from its last character (bit 0) up, "0b" optional, '_'
 * ignored, 'x' leaves the bit alone, and may be shorter than the register
 * (the missing high bits stay as they are) but not longer; unknown
 * top-level keys are refused, unknown keys inside a modifier ignored.
 * ember adds limits (cpu_template.h) where Firecracker has none.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_cpu.h"

static int cpu_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cpu_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "cpu-config: ");

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "0x1f" or "0b101": Firecracker takes no other form (no decimal, no sign). */
static int parse_number(json_t *v, const char *what, uint32_t *out, char *err, size_t errlen)
{
	const char *s = json_string_value(v), *p;
	unsigned base, digits = 0;
	uint64_t n = 0;

	if (!s)
		return cpu_err(err, errlen, "\"%s\" must be a string such as \"0x1f\".", what);
	if (!strncmp(s, "0x", 2))
		base = 16;
	else if (!strncmp(s, "0b", 2))
		base = 2;
	else
		return cpu_err(err, errlen,
			       "No supported number system prefix found in value [%.40s] of "
			       "\"%s\". Make sure to prefix the number with '0x' for hexadecimal "
			       "numbers or '0b' for binary numbers.",
			       s, what);
	for (p = s + 2; *p; p++, digits++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			d = base;
		if (d >= base)
			break;
		n = n * base + d;
		if (n > UINT32_MAX)
			break;
	}
	if (*p || !digits)
		return cpu_err(err, errlen,
			       "Failed to parse string [%.40s] of \"%s\" as a 32-bit number.", s,
			       what);
	*out = (uint32_t)n;
	return 0;
}

/* Firecracker's tri-state bitmap; @bits is 32 or 64. */
static int parse_bitmap(json_t *v, unsigned bits, uint64_t *filter, uint64_t *value, char *err,
			size_t errlen)
{
	const char *s = json_string_value(v), *body;
	unsigned i = 0;

	if (!s)
		return cpu_err(err, errlen, "\"bitmap\" must be a string such as \"0bxx10\".");
	body = strncmp(s, "0b", 2) ? s : s + 2;
	*filter = *value = 0;
	for (size_t k = strlen(body); k-- > 0;) {
		char c = body[k];

		if (c == '_')
			continue;
		if (i == bits)
			return cpu_err(err, errlen,
				       "Failed to parse string [%.80s] as a bitmap - string is too "
				       "long (a %u-bit register).",
				       s, bits);
		if (c == '0' || c == '1') {
			*filter |= 1ull << i;
			*value |= (uint64_t)(c == '1') << i;
		} else if (c != 'x') {
			return cpu_err(err, errlen,
				       "Failed to parse string [%.80s] as a bitmap - unknown "
				       "character: '%c' (0, 1, x or _ only).",
				       s, c >= 0x20 && c < 0x7f ? c : '?');
		}
		i++;
	}
	return 0;
}

/* The object @o's key @k, which must be there. */
static json_t *need(json_t *o, const char *k, const char *what, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, k);

	if (!v)
		cpu_err(err, errlen, "missing field `%s` in %s.", k, what);
	return v;
}

static int parse_reg_mod(json_t *o, struct cput_reg_mod *m, char *err, size_t errlen)
{
	static const char *const regs[] = {"eax", "ebx", "ecx", "edx"};
	json_t *reg, *bm;
	const char *name;
	uint64_t f, v;

	if (!json_is_object(o))
		return cpu_err(err, errlen, "a CPUID register modifier must be an object.");
	if (!(reg = need(o, "register", "a CPUID register modifier", err, errlen)) ||
	    !(bm = need(o, "bitmap", "a CPUID register modifier", err, errlen)))
		return -EINVAL;
	name = json_string_value(reg);
	for (m->reg = 0; name && m->reg < 4 && strcmp(name, regs[m->reg]); m->reg++)
		;
	if (!name || m->reg == 4)
		return cpu_err(err, errlen,
			       "Invalid CPUID register. Must be one of [eax, ebx, ecx, edx].");
	if (parse_bitmap(bm, 32, &f, &v, err, errlen))
		return -EINVAL;
	m->filter = (uint32_t)f;
	m->value = (uint32_t)v;
	return 0;
}

static int parse_leaf(json_t *o, struct cput_leaf *l, char *err, size_t errlen)
{
	const char *what = "a CPUID leaf modifier";
	json_t *leaf, *sub, *flags, *mods, *m;
	size_t i;

	if (!json_is_object(o))
		return cpu_err(err, errlen, "a CPUID leaf modifier must be an object.");
	if (!(leaf = need(o, "leaf", what, err, errlen)) ||
	    !(sub = need(o, "subleaf", what, err, errlen)) ||
	    !(flags = need(o, "flags", what, err, errlen)) ||
	    !(mods = need(o, "modifiers", what, err, errlen)))
		return -EINVAL;
	if (parse_number(leaf, "leaf", &l->leaf, err, errlen) ||
	    parse_number(sub, "subleaf", &l->subleaf, err, errlen))
		return -EINVAL;
	if (!json_is_integer(flags) || json_integer_value(flags) < 0 ||
	    json_integer_value(flags) > UINT32_MAX)
		return cpu_err(err, errlen,
			       "\"flags\" of leaf 0x%x must be a 32-bit unsigned integer.",
			       l->leaf);
	l->flags = (uint32_t)json_integer_value(flags);
	if (!json_is_array(mods))
		return cpu_err(err, errlen, "\"modifiers\" of leaf 0x%x must be an array.",
			       l->leaf);
	if (json_array_size(mods) > CPUT_MAX_REG_MODS)
		return cpu_err(err, errlen,
			       "leaf 0x%x subleaf 0x%x has %zu register modifiers, more than %d.",
			       l->leaf, l->subleaf, json_array_size(mods), CPUT_MAX_REG_MODS);
	l->nr_mods = 0;
	json_array_foreach(mods, i, m)
	{
		if (parse_reg_mod(m, &l->mods[l->nr_mods], err, errlen))
			return -EINVAL;
		l->nr_mods++;
	}
	return 0;
}

static int parse_msr(json_t *o, struct cput_msr *r, char *err, size_t errlen)
{
	json_t *addr, *bm;

	if (!json_is_object(o))
		return cpu_err(err, errlen, "an MSR modifier must be an object.");
	if (!(addr = need(o, "addr", "an MSR modifier", err, errlen)) ||
	    !(bm = need(o, "bitmap", "an MSR modifier", err, errlen)))
		return -EINVAL;
	if (parse_number(addr, "addr", &r->addr, err, errlen))
		return -EINVAL;
	return parse_bitmap(bm, 64, &r->filter, &r->value, err, errlen);
}

/* "171" adds a capability to those checked at start, "!171" removes it. */
static int parse_cap(json_t *v, struct cpu_template *t, char *err, size_t errlen)
{
	const char *s = json_string_value(v), *num;
	uint64_t n;

	if (!s)
		return cpu_err(err, errlen,
			       "a KVM capability must be a string such as \"171\" or \"!171\".");
	num = s[0] == '!' ? s + 1 : s;
	if (str_to_u64(num, UINT32_MAX, &n))
		return cpu_err(err, errlen,
			       "Failed to parse string [%.40s] as a kvm capability - can not "
			       "convert to numeric.",
			       s);
	t->caps[t->nr_caps].cap = (uint32_t)n;
	t->caps[t->nr_caps].remove = s[0] == '!';
	t->nr_caps++;
	return 0;
}

/* One of the three arrays in *@a: absent and null mean empty (NULL, which iterates as []). */
static int get_array(json_t *o, const char *k, size_t max, json_t **a, char *err, size_t errlen)
{
	*a = json_object_get(o, k);
	if (!*a || json_is_null(*a)) {
		*a = NULL;
		return 0;
	}
	if (!json_is_array(*a))
		return cpu_err(err, errlen, "\"%s\" must be an array.", k);
	if (json_array_size(*a) > max)
		return cpu_err(err, errlen, "\"%s\" has %zu entries, more than %zu.", k,
			       json_array_size(*a), max);
	return 0;
}

int api_parse_cpu_config(json_t *o, struct cpu_template *out, char *err, size_t errlen)
{
	static const char *const keys[] = {"kvm_capabilities", "cpuid_modifiers", "msr_modifiers"};
	struct cpu_template *t;
	json_t *caps, *leaves, *msrs, *v;
	const char *key;
	size_t i;
	int rc = -EINVAL;

	if (!json_is_object(o))
		return cpu_err(err, errlen, "expected a JSON object.");
	json_object_foreach(o, key, v)
	{
		for (i = 0; i < 3 && strcmp(key, keys[i]); i++)
			;
		if (i == 3)
			return cpu_err(err, errlen,
				       "unknown field `%.64s`, expected one of `kvm_capabilities`, "
				       "`cpuid_modifiers`, `msr_modifiers`.",
				       key);
	}
	if (get_array(o, keys[0], CPUT_MAX_CAPS, &caps, err, errlen) ||
	    get_array(o, keys[1], CPUT_MAX_LEAVES, &leaves, err, errlen) ||
	    get_array(o, keys[2], CPUT_MAX_MSRS, &msrs, err, errlen))
		return -EINVAL;
	t = calloc(1, sizeof(*t)); /* ~30 KiB: not on the API thread's stack */
	if (!t)
		return cpu_err(err, errlen, "out of memory.");
	json_array_foreach(caps, i, v)
	{
		if (parse_cap(v, t, err, errlen))
			goto out;
	}
	json_array_foreach(leaves, i, v)
	{
		if (parse_leaf(v, &t->leaves[i], err, errlen))
			goto out;
		t->nr_leaves++;
	}
	json_array_foreach(msrs, i, v)
	{
		if (parse_msr(v, &t->msrs[i], err, errlen))
			goto out;
		t->nr_msrs++;
	}
	*out = *t;
	rc = 0;
out:
	free(t);
	return rc;
}

/* The tri-state string of @bits bits, as Firecracker prints it back. */
static json_t *bitmap_json(uint64_t filter, uint64_t value, unsigned bits)
{
	char s[2 + 64 + 1] = "0b";

	for (unsigned i = 0; i < bits; i++) {
		unsigned b = bits - 1 - i;

		s[2 + i] = !(filter >> b & 1) ? 'x' : (value >> b & 1) ? '1' : '0';
	}
	s[2 + bits] = '\0';
	return json_string(s);
}

static json_t *hex_json(uint32_t n)
{
	char s[16];

	snprintf(s, sizeof(s), "0x%" PRIx32, n);
	return json_string(s);
}

json_t *api_json_cpu_config(const struct cpu_template *t)
{
	static const char *const regs[] = {"eax", "ebx", "ecx", "edx"};
	json_t *caps = json_array(), *leaves = json_array(), *msrs = json_array();
	char s[16];

	for (uint32_t i = 0; caps && i < t->nr_caps; i++) {
		snprintf(s, sizeof(s), "%s%" PRIu32, t->caps[i].remove ? "!" : "", t->caps[i].cap);
		json_array_append_new(caps, json_string(s));
	}
	for (uint32_t i = 0; leaves && i < t->nr_leaves; i++) {
		const struct cput_leaf *l = &t->leaves[i];
		json_t *mods = json_array();

		for (uint32_t j = 0; mods && j < l->nr_mods; j++)
			json_array_append_new(
			    mods,
			    json_pack("{s:s, s:o}", "register", regs[l->mods[j].reg & 3], "bitmap",
				      bitmap_json(l->mods[j].filter, l->mods[j].value, 32)));
		json_array_append_new(leaves,
				      json_pack("{s:o, s:o, s:I, s:o}", "leaf", hex_json(l->leaf),
						"subleaf", hex_json(l->subleaf), "flags",
						(json_int_t)l->flags, "modifiers", mods));
	}
	for (uint32_t i = 0; msrs && i < t->nr_msrs; i++)
		json_array_append_new(
		    msrs, json_pack("{s:o, s:o}", "addr", hex_json(t->msrs[i].addr), "bitmap",
				    bitmap_json(t->msrs[i].filter, t->msrs[i].value, 64)));
	return json_pack("{s:o, s:o, s:o}", "kvm_capabilities", caps, "cpuid_modifiers", leaves,
			 "msr_modifiers", msrs);
}

#define CPU_CONFIG_FILE_MAX (4u << 20) /* a full template is ~100 KiB of JSON */

int api_cpu_config_section(json_t *v, struct api_vm_config *cfg, char *err, size_t errlen)
{
	char why[API_ERR_MAX], *buf;
	json_error_t jerr;
	json_t *doc;
	size_t len;
	int rc;

	if (json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		rc = api_parse_cpu_config(v, &cfg->cpu_config, err, errlen);
		cfg->has_cpu_config |= !rc;
		return rc;
	}
	/* A path: a regular file of sane size (never waited on), then the same parser. */
	rc = file_read_all(json_string_value(v), CPU_CONFIG_FILE_MAX, &buf, &len, why, sizeof(why));
	if (rc)
		return cpu_err(err, errlen, "%s.", why);
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!doc)
		return cpu_err(err, errlen, "%.200s: invalid JSON: %s at line %d column %d.",
			       json_string_value(v), jerr.text, jerr.line, jerr.column);
	rc = api_parse_cpu_config(doc, &cfg->cpu_config, err, errlen);
	cfg->has_cpu_config |= !rc;
	json_decref(doc);
	return rc;
}
