// SPDX-License-Identifier: MIT
/* In-process compile phases for bench/compile.sh: parse (YAML + DSL +
 * domains), lower (labels, DNF, tables and the automaton), blob. Best of N
 * runs each, in milliseconds, so process start and the fsync of
 * `compile --out` are left out.
 *   compile_phases POLICY.yaml [N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/lower.h"
#include "policy/policy.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct ap_load_opts lo = { 0 };
	double best[3] = { 1e9, 1e9, 1e9 };
	int n = argc > 2 ? atoi(argv[2]) : 10;

	if (argc < 2) {
		fprintf(stderr, "usage: compile_phases POLICY.yaml [N]\n");
		return 2;
	}
	lo.policy_path = argv[1];
	for (int i = 0; i < n; i++) {
		struct ap_diags d = { 0 };
		struct ap_policy *pol = NULL;
		struct ap_compiled *c = NULL;
		void *blob = NULL;
		size_t size;
		double t0 = now_ms(), t1, t2, t3;

		if (ap_policy_load(&lo, &d, &pol))
			goto fail;
		t1 = now_ms();
		if (ap_lower(pol, NULL, &d, &c))
			goto fail;
		t2 = now_ms();
		if (ap_compiled__to_blob(c, &blob, &size))
			goto fail;
		t3 = now_ms();
		best[0] = t1 - t0 < best[0] ? t1 - t0 : best[0];
		best[1] = t2 - t1 < best[1] ? t2 - t1 : best[1];
		best[2] = t3 - t2 < best[2] ? t3 - t2 : best[2];
		free(blob);
		ap_compiled__free(c);
		ap_diags__free(&d);
		ap_policy__free(pol);
		continue;
fail:
		ap_diags__print(&d, pol ? pol->srcs : NULL, pol ? pol->nsrcs : 0, stderr);
		return 1;
	}
	printf("%.2f %.2f %.2f\n", best[0], best[1], best[2]);
	return 0;
}
