// SPDX-License-Identifier: Apache-2.0
/*
 * CPU templates without KVM: Firecracker's JSON (every refusal), the static
 * templates and the hosts they fit, the CPUID modifiers on a made-up KVM
 * table, and the snapshot section's encoding.
 */
#include <jansson.h>
#include <stdio.h>

#include "unit.h"

#include "api_cpu.h"
#include "cpuid.h"
#include "snap_cpu.h"

static struct cpu_template tmpl; /* ~30 KiB: not on cmocka's stack */

/* Parses @json into tmpl; returns the rc, with the message in @err. */
static int parse(const char *json, char *err, size_t errlen)
{
	json_t *o = json_loads(json, 0, NULL);
	int rc;

	assert_non_null(o);
	rc = api_parse_cpu_config(o, &tmpl, err, errlen);
	json_decref(o);
	return rc;
}

static void refused(const char *json, const char *needle)
{
	char err[256];

	memset(&tmpl, 0x5a, sizeof(tmpl));
	if (parse(json, err, sizeof(err)) != -EINVAL)
		fail_msg("accepted: %s", json);
	if (!strstr(err, needle))
		fail_msg("'%s' lacks '%s'", err, needle);
	assert_int_equal(strncmp(err, "cpu-config: ", 12), 0);
	assert_int_equal(tmpl.nr_leaves, 0x5a5a5a5a); /* untouched */
}

/* Firecracker's documented example, in all its forms. */
static const char example[] =
    "{\"kvm_capabilities\": [\"171\", \"!172\"],"
    " \"cpuid_modifiers\": [{\"leaf\": \"0x1\", \"subleaf\": \"0b0\", \"flags\": 0,"
    "   \"modifiers\": [{\"register\": \"eax\", \"bitmap\": "
    "\"0bxxxx000000000011xx00011011110010\"},"
    "                  {\"register\": \"ecx\", \"bitmap\": \"0bxxxxxxxxxxxxx0xx00xx00x0000000xx\"},"
    "                  {\"register\": \"edx\", \"bitmap\": \"1x0_1\"}]},"
    "  {\"leaf\": \"0x7\", \"subleaf\": \"0x0\", \"flags\": 1, \"modifiers\": []}],"
    " \"msr_modifiers\": [{\"addr\": \"0x10a\", \"bitmap\": "
    "\"0b0000000000000000000000000000000000000000000000000000000000000001\"},"
    "  {\"addr\": \"0b11\", \"bitmap\": \"0bx1\"}]}";

static void test_parse(void **state)
{
	char err[256];
	json_t *back;
	char *s;

	(void)state;
	assert_int_equal(parse(example, err, sizeof(err)), 0);
	assert_int_equal(tmpl.nr_caps, 2);
	assert_int_equal(tmpl.caps[0].cap, 171);
	assert_false(tmpl.caps[0].remove);
	assert_int_equal(tmpl.caps[1].cap, 172);
	assert_true(tmpl.caps[1].remove);
	assert_int_equal(tmpl.nr_leaves, 2);
	assert_int_equal(tmpl.leaves[0].leaf, 1);
	assert_int_equal(tmpl.leaves[0].nr_mods, 3);
	assert_int_equal(tmpl.leaves[0].mods[0].reg, CPUT_EAX);
	assert_int_equal(tmpl.leaves[0].mods[0].filter, 0x0fff3fff);
	assert_int_equal(tmpl.leaves[0].mods[0].value, 0x000306f2);
	/* Short bitmaps touch only their low bits; '_' is a separator. */
	assert_int_equal(tmpl.leaves[0].mods[2].reg, CPUT_EDX);
	assert_int_equal(tmpl.leaves[0].mods[2].filter, 0xb);
	assert_int_equal(tmpl.leaves[0].mods[2].value, 0x9);
	assert_int_equal(tmpl.leaves[1].leaf, 7);
	assert_int_equal(tmpl.leaves[1].flags, 1);
	assert_int_equal(tmpl.leaves[1].nr_mods, 0);
	assert_int_equal(tmpl.nr_msrs, 2);
	assert_int_equal(tmpl.msrs[0].addr, 0x10a);
	assert_true(tmpl.msrs[0].filter == UINT64_MAX && tmpl.msrs[0].value == 1);
	assert_int_equal(tmpl.msrs[1].addr, 3);
	assert_true(tmpl.msrs[1].filter == 1 && tmpl.msrs[1].value == 1);

	/* Printed back (GET /vm/config) and read again: the same template. */
	back = api_json_cpu_config(&tmpl);
	assert_non_null(back);
	s = json_dumps(back, JSON_COMPACT);
	json_decref(back);
	assert_non_null(strstr(s, "\"leaf\":\"0x1\""));
	assert_non_null(strstr(s, "\"kvm_capabilities\":[\"171\",\"!172\"]"));
	assert_non_null(strstr(s, "\"bitmap\":\"0bxxxxxxxxxxxxxxxxxxxxxxxxxxxx1x01\""));
	{
		static struct cpu_template first;

		first = tmpl;
		assert_int_equal(parse(s, err, sizeof(err)), 0);
		assert_memory_equal(&first, &tmpl, sizeof(tmpl));
	}
	free(s);
	/* Everything is optional; null arrays are empty ones. */
	assert_int_equal(parse("{}", err, sizeof(err)), 0);
	assert_int_equal(tmpl.nr_leaves + tmpl.nr_msrs + tmpl.nr_caps, 0);
	assert_int_equal(parse("{\"msr_modifiers\":null,\"cpuid_modifiers\":[]}", err, sizeof(err)),
			 0);
	/* Unknown keys inside a modifier are ignored, as serde does for Firecracker. */
	assert_int_equal(parse("{\"msr_modifiers\":[{\"addr\":\"0x1\",\"bitmap\":\"1\",\"x\":1}]}",
			       err, sizeof(err)),
			 0);
}

static void test_refusals(void **state)
{
	char big[20000];
	size_t n;

	(void)state;
	refused("[]", "expected a JSON object");
	refused("{\"reg_modifiers\":[]}", "unknown field `reg_modifiers`");
	refused("{\"cpuid_modifiers\":{}}", "\"cpuid_modifiers\" must be an array");
	/* Numbers: a 0x or 0b prefix, digits of that base, 32 bits. */
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"1\",\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[]}]}",
		"No supported number system prefix found in value [1]");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0xg\",\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[]}]}",
		"Failed to parse string [0xg] of \"leaf\"");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0b2\",\"flags\":0,"
		"\"modifiers\":[]}]}",
		"[0b2] of \"subleaf\"");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x100000000\",\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[]}]}",
		"as a 32-bit number");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x\",\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[]}]}",
		"[0x]");
	refused("{\"cpuid_modifiers\":[{\"leaf\":1,\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[]}]}",
		"\"leaf\" must be a string");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"flags\":-1,"
		"\"modifiers\":[]}]}",
		"\"flags\" of leaf 0x1");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"flags\":1.5,"
		"\"modifiers\":[]}]}",
		"\"flags\" of leaf 0x1");
	/* Missing fields. */
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"flags\":0,\"modifiers\":[]}]}",
		"missing field `subleaf`");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"modifiers\":[]}]}",
		"missing field `flags`");
	refused("{\"msr_modifiers\":[{\"addr\":\"0x1\"}]}", "missing field `bitmap`");
	refused("{\"msr_modifiers\":[{\"bitmap\":\"1\"}]}", "missing field `addr`");
	refused("{\"msr_modifiers\":[7]}", "an MSR modifier must be an object");
	/* Registers and bitmaps. */
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[{\"register\":\"rax\",\"bitmap\":\"0b1\"}]}]}",
		"Invalid CPUID register. Must be one of [eax, ebx, ecx, edx]");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[{\"register\":\"EAX\",\"bitmap\":\"0b1\"}]}]}",
		"Invalid CPUID register");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[{\"register\":\"eax\",\"bitmap\":\"0b102\"}]}]}",
		"as a bitmap - unknown character: '2'");
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[{\"register\":\"eax\","
		"\"bitmap\":\"0b100000000000000000000000000000000\"}]}]}",
		"string is too long (a 32-bit register)");
	refused("{\"msr_modifiers\":[{\"addr\":\"0x1\",\"bitmap\":\"0b1"
		"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
		"string is too long (a 64-bit register)");
	refused("{\"msr_modifiers\":[{\"addr\":\"0x1\",\"bitmap\":\"0xff\"}]}",
		"unknown character");
	refused("{\"msr_modifiers\":[{\"addr\":\"0x1\",\"bitmap\":1}]}",
		"\"bitmap\" must be a string");
	/* KVM capabilities. */
	refused("{\"kvm_capabilities\":[\"x1\"]}", "[x1] as a kvm capability");
	refused("{\"kvm_capabilities\":[\"!\"]}", "as a kvm capability");
	refused("{\"kvm_capabilities\":[\"-1\"]}", "as a kvm capability");
	refused("{\"kvm_capabilities\":[\"4294967296\"]}", "as a kvm capability");
	refused("{\"kvm_capabilities\":[171]}", "must be a string");
	/* Too many of anything. */
	refused("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"flags\":0,"
		"\"modifiers\":[{\"register\":\"eax\",\"bitmap\":\"1\"},{\"register\":\"eax\","
		"\"bitmap\":\"1\"},"
		"{\"register\":\"eax\",\"bitmap\":\"1\"},{\"register\":\"eax\",\"bitmap\":\"1\"},"
		"{\"register\":\"eax\",\"bitmap\":\"1\"},{\"register\":\"eax\",\"bitmap\":\"1\"},"
		"{\"register\":\"eax\",\"bitmap\":\"1\"},{\"register\":\"eax\",\"bitmap\":\"1\"},"
		"{\"register\":\"eax\",\"bitmap\":\"1\"}]}]}",
		"9 register modifiers, more than 8");
	n = (size_t)snprintf(big, sizeof(big), "{\"msr_modifiers\":[");
	for (int i = 0; i <= CPUT_MAX_MSRS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
				      "%s{\"addr\":\"0x1\",\"bitmap\":\"1\"}", i ? "," : "");
	snprintf(big + n, sizeof(big) - n, "]}");
	refused(big, "\"msr_modifiers\" has 257 entries, more than 256");
	n = (size_t)snprintf(big, sizeof(big), "{\"kvm_capabilities\":[");
	for (int i = 0; i <= CPUT_MAX_CAPS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"1\"", i ? "," : "");
	snprintf(big + n, sizeof(big) - n, "]}");
	refused(big, "\"kvm_capabilities\" has 65 entries");
}

/* A made-up supported-CPUID table: leaves 0, 1, 7.0 and 0xd.0. */
static void fake_table(struct kvm_cpuid_entry2 *e)
{
	memset(e, 0, 4 * sizeof(*e));
	e[0] = (struct kvm_cpuid_entry2){.function = 0, .eax = 0xd, .ebx = 0x68747541};
	e[1] = (struct kvm_cpuid_entry2){
	    .function = 1, .eax = 0x00800f12, .ecx = 0xf6d83203, .edx = 0x178bfbff};
	e[2] = (struct kvm_cpuid_entry2){
	    .function = 7, .flags = 1, .ebx = 0xffffffff, .ecx = 0xffffffff};
	e[3] = (struct kvm_cpuid_entry2){.function = 0xd, .flags = 1, .eax = 0x2e7};
}

static void test_apply_cpuid(void **state)
{
	struct kvm_cpuid_entry2 e[4];
	char err[256];

	(void)state;
	fake_table(e);
	assert_int_equal(parse("{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
			       "\"flags\":0,\"modifiers\":[{\"register\":\"ecx\",\"bitmap\":"
			       "\"0bxxxxxx0xxxxxxxxxxxxxxxxxxxxxxxx1\"}]}]}",
			       err, sizeof(err)),
			 0);
	assert_int_equal(cpuid_apply_template(e, 4, &tmpl, err, sizeof(err)), 0);
	/* AES (bit 25) off, bit 0 forced on, the rest as KVM said. */
	assert_int_equal(e[1].ecx, (0xf6d83203u & ~(1u << 25)) | 1u);
	assert_int_equal(e[1].edx, 0x178bfbff);
	/* A leaf KVM does not report: Firecracker's message, nothing else matters. */
	assert_int_equal(parse("{\"cpuid_modifiers\":[{\"leaf\":\"0x8000001f\",\"subleaf\":\"0x2\","
			       "\"flags\":0,\"modifiers\":[]}]}",
			       err, sizeof(err)),
			 0);
	assert_int_equal(cpuid_apply_template(e, 4, &tmpl, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "Template changes a CPUID entry not supported by KVM: Leaf: "
				 "0x8000001f, Subleaf: 0x2");
}

static void test_static_templates(void **state)
{
	const uint32_t milan = 0x00a00f11, naples = 0x00800f12, cascade_lake = 0x00050657;
	struct kvm_cpuid_entry2 e[8];
	const struct cpu_template *t2a = cput_static_get(CPUT_T2A);
	char err[256];

	(void)state;
	assert_null(cput_static_get(CPUT_NONE));
	assert_string_equal(cput_static_name(CPUT_T2CL), "T2CL");
	assert_string_equal(cput_static_name(CPUT_NONE), "None");
	for (int s = CPUT_C3; s < CPUT_NR_STATIC; s++)
		assert_true(cput_static_get((enum cput_static)s)->nr_leaves >= 5);
	/* Vendors and models, in Firecracker's words. */
	assert_int_equal(cput_static_check(CPUT_T2A, "AuthenticAMD", milan, err, sizeof(err)), 0);
	assert_int_equal(cput_static_check(CPUT_T2A, "AuthenticAMD", naples, err, sizeof(err)),
			 -ENOTSUP);
	assert_string_equal(err, "Failed to get CPU template: The current CPU model is not "
				 "permitted to apply the CPU template.");
	assert_int_equal(cput_static_check(CPUT_T2, "AuthenticAMD", milan, err, sizeof(err)),
			 -ENOTSUP);
	assert_string_equal(err, "Failed to get CPU template: CPU vendor mismatched between actual "
				 "CPU and CPU template.");
	assert_int_equal(
	    cput_static_check(CPUT_T2A, "GenuineIntel", cascade_lake, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "vendor mismatched"));
	assert_int_equal(
	    cput_static_check(CPUT_T2CL, "GenuineIntel", cascade_lake, err, sizeof(err)), 0);
	assert_int_equal(cput_static_check(CPUT_T2S, "GenuineIntel", 0x000606a6, err, sizeof(err)),
			 -ENOTSUP); /* Ice Lake: not T2S's */
	assert_int_equal(cput_static_check(CPUT_NONE, "Anything....", 0, err, sizeof(err)), 0);

	/* T2A on an AMD table: AVX-512F (leaf 7 EBX bit 16) off, ERMS (bit 9) on. */
	memset(e, 0, sizeof(e));
	fake_table(e);
	e[4] = (struct kvm_cpuid_entry2){.function = 0xd, .index = 1, .flags = 1, .eax = 0xf};
	e[5] =
	    (struct kvm_cpuid_entry2){.function = 0x80000001, .ecx = 0xffffffff, .edx = 0xffffffff};
	e[6] = (struct kvm_cpuid_entry2){.function = 0x80000008, .ebx = 0xffffffff};
	e[2].ebx = 1u << 16;
	assert_int_equal(cpuid_apply_template(e, 7, t2a, err, sizeof(err)), 0);
	assert_int_equal(e[2].ebx, 1u << 9);
	assert_int_equal(e[1].eax, 0x000306f2); /* T2A's family/model/stepping */
	assert_int_equal(e[4].eax, 0x1);	/* XSAVEC, XGETBV1, XSAVES off */
	/* Without its leaves (a KVM that lacks 0xd.1), T2A fails like Firecracker. */
	assert_int_equal(cpuid_apply_template(e, 4, t2a, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "Leaf: 0xd, Subleaf: 0x1"));
}

static void test_snapshot_encoding(void **state)
{
	static struct cpu_template back;
	struct pw w;
	const char *why;
	unsigned st;
	bool custom;
	char err[256];

	(void)state;
	assert_int_equal(parse(example, err, sizeof(err)), 0);
	pw_init(&w);
	snap_cpu_encode(CPUT_T2A, &tmpl, &w);
	assert_int_equal(w.err, 0);
	memset(&back, 0, sizeof(back));
	assert_int_equal(snap_cpu_decode(w.buf, w.len, &st, &custom, &back, &why), 0);
	assert_int_equal(st, CPUT_T2A);
	assert_true(custom);
	assert_int_equal(back.nr_leaves, 2);
	assert_int_equal(back.leaves[0].mods[0].filter, 0x0fff3fff);
	assert_true(back.msrs[0].filter == UINT64_MAX);
	assert_int_equal(back.caps[1].cap, 172);
	assert_true(back.caps[1].remove);
	/* Every truncation and a trailing byte are refused. */
	for (size_t n = 0; n < w.len; n++)
		assert_int_equal(snap_cpu_decode(w.buf, n, &st, &custom, &back, &why), -EINVAL);
	/* Hostile counts and values. */
	w.buf[0] = 2; /* version */
	assert_int_equal(snap_cpu_decode(w.buf, w.len, &st, &custom, &back, &why), -EINVAL);
	assert_string_equal(why, "unknown version");
	w.buf[0] = 1;
	w.buf[4] = CPUT_NR_STATIC;
	assert_int_equal(snap_cpu_decode(w.buf, w.len, &st, &custom, &back, &why), -EINVAL);
	w.buf[4] = CPUT_T2A;
	w.buf[9] = 0xff; /* nr_caps: 255 */
	assert_int_equal(snap_cpu_decode(w.buf, w.len, &st, &custom, &back, &why), -EINVAL);
	assert_string_equal(why, "too many KVM capabilities");
	w.buf[9] = 2;
	/* The first leaf's register count: after version, static, custom, the caps
	 * (u32 + 2 x 5 bytes), the leaf count and leaf, subleaf, flags. */
	w.buf[4 + 4 + 1 + 4 + 10 + 4 + 12] = CPUT_MAX_REG_MODS + 1;
	assert_int_equal(snap_cpu_decode(w.buf, w.len, &st, &custom, &back, &why), -EINVAL);
	assert_string_equal(why, "too many register modifiers");
	pw_free(&w);
	/* A static template alone. */
	pw_init(&w);
	snap_cpu_encode(CPUT_C3, NULL, &w);
	assert_int_equal(snap_cpu_decode(w.buf, w.len, &st, &custom, &back, &why), 0);
	assert_int_equal(st, CPUT_C3);
	assert_false(custom);
	pw_u8(&w, 0);
	assert_int_equal(snap_cpu_decode(w.buf, w.len, &st, &custom, &back, &why), -EINVAL);
	pw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_apply_cpuid),
	    cmocka_unit_test(test_static_templates),
	    cmocka_unit_test(test_snapshot_encoding),
	};
	return cmocka_run_group_tests_name("cpu_template", tests, NULL, NULL);
}
