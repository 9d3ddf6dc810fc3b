// SPDX-License-Identifier: MIT
/* The bridge from the kernel engine's records to feedback entries; kept
 * apart from feedback.c so the formatter and the hook do not depend on the
 * engine's headers. */
#include "feedback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/event_json.h"
#include "policy/ast.h"
#include "policy/lower.h"

/* ---- from an engine record ---- */

int ap_feedback__record_event(struct ap_feedback *fb,
			      const struct ap_compiled *c,
			      const struct ap_event_rec *ev,
			      const char *approval)
{
	struct ap_fb_match m = { 0 };
	const char *labels[AP_MAX_LABELS];
	char prov[512] = "";
	uint64_t bits;

	if (ev->kind != AP_EVENT_VIOLATION)
		return 0;
	m.ts_ns = ev->ts_ns;
	m.effect = ev->effect;
	m.action = ev->action;
	m.degraded = ev->degraded;
	m.op = ev->op;
	m.target = ev->target;
	/* an exec record may leave the target out when it is the program */
	if (ev->op == AP_OP_EXEC && (!m.target || !*m.target || !strcmp(m.target, "?")) &&
	    ev->exe && ev->exe[0] == '/')
		m.target = ev->exe;
	m.target2 = ev->target2;
	m.argv = ev->argv;
	m.argc = ev->argc;
	m.pid = ev->pid;
	m.comm = ev->comm;
	m.exe = ev->exe;
	m.approval = approval;
	m.clause = -1;
	if (c && ev->rule < c->nrules) {
		m.rule = c->rule_info[ev->rule].name;
		m.because = c->rule_info[ev->rule].because;
		m.rule_ast = c->rule_info[ev->rule].ast;
	} else {
		m.rule = "session-guard";
	}
	bits = ev->mattered ? ev->mattered : 0;
	for (unsigned i = 0; c && i < c->nlabels && i < AP_MAX_LABELS; i++)
		if (bits & (1ull << i))
			labels[m.nlabels++] = c->labels[i].name;
	m.labels = labels;
	for (uint32_t k = 0; c && k < c->nkeeps; k++) {
		const struct ap_keep *kp = &c->keeps[k];
		if (kp->kind == AP_KEEP_DECLASSIFY && (bits & (1ull << kp->label)) &&
		    (uint32_t)kp->label < c->nlabels &&
		    (uint32_t)kp->program < c->npatterns) {
			m.declass_label = c->labels[kp->label].name;
			m.declass_prog = c->patterns[kp->program].text;
			break;
		}
	}
	if (ev->nprov && ev->prov) {
		const struct ap_event_prov *p = &ev->prov[0];
		if (p->target && !strcmp(p->target, "run.seed"))
			snprintf(prov, sizeof(prov), "given to the session by `actplane run`");
		else
			snprintf(prov, sizeof(prov), "%s %s by %s, pid %d", ap_ev__op_name(p->op),
				 p->target ? p->target : "?", p->comm, p->pid);
		m.prov = prov;
	}
	return ap_feedback__record(fb, &m);
}

struct ap_feedback *ap_feedback__open_for(const struct ap_compiled *c,
					  const char *root,
					  const char *feedback_path,
					  uid_t uid, gid_t gid)
{
	struct ap_feedback_opts o = {
		.path = feedback_path,
		.root = root && *root ? root : (c ? c->root : NULL),
		.uid = uid,
		.gid = gid,
	};
	struct ap_feedback *fb = NULL;

	if (ap_feedback__new(&o, &fb))
		return NULL;
	if (ap_feedback__file(fb)[0] == '/')
		setenv("ACTPLANE_FEEDBACK_FILE", ap_feedback__file(fb), 1);
	return fb;
}
