// SPDX-License-Identifier: MIT
/* What check says about enforcement: the AP_CAPS test hook, mode choice,
 * per-effect enforcement and the degraded mask the compiler uses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/kernel_caps.h"

static void test_fake_kernels(void **state)
{
	struct ap_kernel_caps c;

	/* a BPF-LSM kernel: this build has no LSM engine, so `run` (and
	 * check's description of it) uses the supervisor */
	setenv("AP_CAPS", "lsm", 1);
	assert_int_equal(ap_kernel_caps__probe(&c), 0);
	assert_int_equal(c.bpf_lsm, AP_YES);
	assert_int_equal(c.mode, AP_LSM_ENGINE_AVAILABLE ? AP_MODE_LSM : AP_MODE_SUPERVISED);
	assert_string_equal(c.source, "AP_CAPS");
	assert_int_equal(ap_kernel_caps__degraded_effects(&c), 0);

	setenv("AP_CAPS", "tracepoint", 1);
	assert_int_equal(ap_kernel_caps__probe(&c), 0);
	assert_int_equal(c.mode, AP_MODE_TRACEPOINT);
	assert_int_equal(ap_kernel_caps__degraded_effects(&c),
			 1u << AP_EFFECT_BLOCK | 1u << AP_EFFECT_ASK);

	/* seccomp notify without BPF-LSM: the supervisor honours everything */
	setenv("AP_CAPS", "supervised", 1);
	assert_int_equal(ap_kernel_caps__probe(&c), 0);
	assert_int_equal(c.mode, AP_MODE_SUPERVISED);
	assert_int_equal(ap_kernel_caps__degraded_effects(&c), 0);

	setenv("AP_CAPS", "bogus", 1);
	assert_int_equal(ap_kernel_caps__probe(&c), -EINVAL);
	unsetenv("AP_CAPS");
	/* the real probe never fails */
	assert_int_equal(ap_kernel_caps__probe(&c), 0);
	assert_string_equal(c.source, "probe");
	assert_true(c.mode == AP_MODE_LSM || c.mode == AP_MODE_TRACEPOINT ||
		    c.mode == AP_MODE_SUPERVISED);
	assert_true(c.mode != AP_MODE_LSM || c.bpf_lsm == AP_YES);
}

static void test_enforcement(void **state)
{
	struct ap_kernel_caps c = { .mode = AP_MODE_TRACEPOINT, .bpf_lsm = AP_NO };
	struct ap_enforcement e;

	ap_enforcement__describe(AP_EFFECT_BLOCK, &c, AP_FALLBACK_NONE, &e);
	assert_true(e.degraded);
	assert_true(e.refused);
	assert_non_null(e.why);
	ap_enforcement__describe(AP_EFFECT_BLOCK, &c, AP_FALLBACK_KILL, &e);
	assert_true(e.degraded);
	assert_false(e.refused);
	assert_int_equal(e.lands_as, AP_EFFECT_KILL);
	assert_non_null(strstr(e.how, "a block lands as a kill when the system call returns"));
	assert_non_null(strstr(e.how, "may already have happened"));
	ap_enforcement__describe(AP_EFFECT_ASK, &c, AP_FALLBACK_NOTIFY, &e);
	assert_int_equal(e.lands_as, AP_EFFECT_NOTIFY);
	ap_enforcement__describe(AP_EFFECT_KILL, &c, AP_FALLBACK_NONE, &e);
	assert_false(e.degraded);
	assert_non_null(strstr(e.how, "SIGKILL"));
	ap_enforcement__describe(AP_EFFECT_NOTIFY, &c, AP_FALLBACK_NONE, &e);
	assert_false(e.degraded);

	c.mode = AP_MODE_LSM;
	c.bpf_lsm = AP_YES;
	for (int x = 0; x < AP_EFFECT__COUNT; x++) {
		ap_enforcement__describe((enum ap_effect)x, &c, AP_FALLBACK_NONE, &e);
		assert_false(e.degraded);
		assert_int_equal(e.lands_as, x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fake_kernels),
		cmocka_unit_test(test_enforcement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
