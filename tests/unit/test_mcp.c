// SPDX-License-Identifier: MIT
/* The MCP server's messages: negotiation, truthful capabilities, resources,
 * subscriptions, tools, JSON-RPC errors, batches, the stateless revision,
 * and that no tool can weaken the policy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/feedback.h"
#include "agent/mcp.h"

static char dir[64];
static struct ap_mcp *M;

static void put(const char *name, const char *text, const char *mode)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, mode);
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **st)
{
	char fake[256];
	struct ap_mcp_opts o = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/ap-mcp-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	put("actplane.yaml",
	    "version: 1\npolicy: |\n  source AGENT = exec \"claude\"\n  rule no-push:\n"
	    "    kill exec \"git\" \"push\" if AGENT\n    because \"pushing is done by the release job\"\n",
	    "w");
	snprintf(fake, sizeof(fake), "%s/.actplane", dir);
	mkdir(fake, 0755);
	/* stands in for the actplane binary: `pending --json` prints [] and
	 * `attach` fails the way a missing daemon does */
	put("fake-actplane",
	    "#!/bin/sh\ncase \"$1\" in pending) echo '[]';; *) echo \"actplane: no watch daemon\" >&2; exit 3;; esac\n",
	    "w");
	snprintf(fake, sizeof(fake), "%s/fake-actplane", dir);
	chmod(fake, 0755);
	o.cwd = dir;
	o.self_exe = fake;
	unsetenv("ACTPLANE_FEEDBACK_FILE");
	return ap_mcp__new(&o, &M);
}

static int teardown(void **st)
{
	char cmd[128];
	ap_mcp__free(M);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* send one message, parse the reply (NULL when there is none) */
static struct json_object *rpc(const char *msg)
{
	char *reply = NULL;
	struct json_object *o;

	assert_int_equal(ap_mcp__handle(M, msg, strlen(msg), &reply), 0);
	if (!reply)
		return NULL;
	assert_null(strchr(reply, '\n')); /* one line per message */
	o = json_tokener_parse(reply);
	assert_non_null(o);
	free(reply);
	return o;
}

static struct json_object *get(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL;
	struct json_object *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(v, json_type_array))
			v = json_object_array_get_idx(v, (size_t)atoi(k));
		else if (!json_object_object_get_ex(v, k, &v))
			return NULL;
	}
	return v;
}

static const char *str(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);
	return v ? json_object_get_string(v) : NULL;
}

static void test_initialize_versions(void **st)
{
	const char *const vs[][2] = {
		{ "2025-11-25", "2025-11-25" }, { "2025-06-18", "2025-06-18" },
		{ "2025-03-26", "2025-03-26" }, { "2024-11-05", "2024-11-05" },
		{ "2099-01-01", "2025-11-25" },
	};
	char msg[512];

	for (unsigned i = 0; i < 5; i++) {
		snprintf(msg, sizeof(msg),
			 "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
			 "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}", i, vs[i][0]);
		struct json_object *r = rpc(msg);
		assert_string_equal(str(r, "jsonrpc"), "2.0");
		assert_int_equal(json_object_get_int(get(r, "id")), i);
		assert_string_equal(str(r, "result.protocolVersion"), vs[i][1]);
		assert_string_equal(str(r, "result.serverInfo.name"), "actplane");
		/* exactly what is implemented */
		assert_true(json_object_get_boolean(get(r, "result.capabilities.resources.subscribe")));
		assert_false(json_object_get_boolean(get(r, "result.capabilities.resources.listChanged")));
		assert_false(json_object_get_boolean(get(r, "result.capabilities.tools.listChanged")));
		assert_null(get(r, "result.capabilities.prompts"));
		assert_null(get(r, "result.capabilities.logging"));
		json_object_put(r);
	}
	assert_null(rpc("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
	struct json_object *r = rpc("{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
	assert_string_equal(str(r, "id"), "p");
	assert_non_null(get(r, "result"));
	json_object_put(r);
}

static void test_errors_and_batch(void **st)
{
	struct json_object *r;

	r = rpc("{not json");
	assert_int_equal(json_object_get_int(get(r, "error.code")), -32700);
	assert_true(json_object_is_type(get(r, "id"), json_type_null));
	json_object_put(r);
	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}");
	assert_int_equal(json_object_get_int(get(r, "error.code")), -32601);
	json_object_put(r);
	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"approve\",\"arguments\":{}}}");
	assert_int_equal(json_object_get_int(get(r, "error.code")), -32602);
	json_object_put(r);
	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"actplane:///nope\"}}");
	assert_int_equal(json_object_get_int(get(r, "error.code")), -32002);
	json_object_put(r);
	r = rpc("[{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"},"
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"nope\"}]");
	assert_true(json_object_is_type(r, json_type_array));
	assert_int_equal(json_object_array_length(r), 2);
	assert_int_equal(json_object_get_int(get(r, "1.error.code")), -32601);
	json_object_put(r);
	assert_null(rpc("   "));
}

static void test_tools_read_only(void **st)
{
	struct json_object *r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	struct json_object *tools = get(r, "result.tools");
	const char *const names[] = { "check_policy", "explain_last_violation", "pending_approvals" };

	assert_int_equal(json_object_array_length(tools), 3);
	for (unsigned i = 0; i < 3; i++) {
		struct json_object *t = json_object_array_get_idx(tools, i);
		assert_string_equal(str(t, "name"), names[i]);
		assert_string_equal(str(t, "inputSchema.type"), "object");
		assert_true(json_object_get_boolean(get(t, "annotations.readOnlyHint")));
		assert_false(json_object_get_boolean(get(t, "annotations.destructiveHint")));
	}
	json_object_put(r);
}

static void test_check_policy(void **st)
{
	struct json_object *r;

	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"check_policy\","
		"\"arguments\":{\"policy\":\"rule r:\\n  kill exec \\\"git\\\" \\\"push\\\" if NOPE\\n\"}}}");
	assert_false(json_object_get_boolean(get(r, "result.structuredContent.valid")));
	assert_non_null(strstr(str(r, "result.content.0.text"), "unknown label 'NOPE'"));
	assert_non_null(strstr(str(r, "result.structuredContent.diagnostics.0"), ":2:"));
	json_object_put(r);

	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"check_policy\","
		"\"arguments\":{\"policy\":\"version: 1\\npolicy: |\\n  rule r:\\n    notify read \\\"**/.env\\\"\\n\"}}}");
	assert_true(json_object_get_boolean(get(r, "result.structuredContent.valid")));
	assert_non_null(strstr(str(r, "result.content.0.text"), "valid"));
	json_object_put(r);

	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"check_policy\",\"arguments\":{}}}");
	assert_int_equal(json_object_get_int(get(r, "error.code")), -32602);
	json_object_put(r);
}

static void test_resources_and_subscriptions(void **st)
{
	struct json_object *r;
	char *notes[4];
	char fb[256];
	int n;

	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}");
	assert_int_equal(json_object_array_length(get(r, "result.resources")), 3);
	assert_string_equal(str(r, "result.resources.0.uri"), "actplane:///policy");
	json_object_put(r);

	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/read\",\"params\":{\"uri\":\"actplane:///policy\"}}");
	assert_non_null(strstr(str(r, "result.contents.0.text"), "no-push"));
	json_object_put(r);
	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"actplane:///status\"}}");
	struct json_object *s = json_tokener_parse(str(r, "result.contents.0.text"));
	assert_non_null(s);
	assert_non_null(get(s, "mode"));
	json_object_put(s);
	json_object_put(r);

	/* nothing is sent for resources nobody subscribed to */
	assert_int_equal(ap_mcp__changes(M, notes, 4), 0);
	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/subscribe\",\"params\":{\"uri\":\"actplane:///feedback\"}}");
	assert_non_null(get(r, "result"));
	json_object_put(r);
	assert_int_equal(ap_mcp__changes(M, notes, 4), 0);

	snprintf(fb, sizeof(fb), "%s/.actplane/last-violation.txt", dir);
	struct ap_feedback *w;
	struct ap_feedback_opts o = { .path = fb, .uid = -1, .gid = -1 };
	struct ap_fb_match m = { .effect = AP_EFFECT_KILL, .action = AP_ACTION_KILLED,
		.rule = "no-push", .because = "pushing is done by the release job",
		.op = AP_OP_EXEC, .target = "/usr/bin/git" };
	assert_int_equal(ap_feedback__new(&o, &w), 0);
	assert_int_equal(ap_feedback__record(w, &m), 0);
	ap_feedback__free(w);

	n = ap_mcp__changes(M, notes, 4);
	assert_int_equal(n, 1);
	r = json_tokener_parse(notes[0]);
	assert_string_equal(str(r, "method"), "notifications/resources/updated");
	assert_string_equal(str(r, "params.uri"), "actplane:///feedback");
	assert_null(get(r, "id"));
	json_object_put(r);
	free(notes[0]);
	assert_int_equal(ap_mcp__changes(M, notes, 4), 0);

	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"explain_last_violation\",\"arguments\":{}}}");
	assert_non_null(strstr(str(r, "result.content.0.text"), "because: pushing is done by the release job"));
	json_object_put(r);
	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"resources/read\",\"params\":{\"uri\":\"actplane:///feedback\"}}");
	assert_non_null(strstr(str(r, "result.contents.0.text"), "[actplane] killed"));
	json_object_put(r);

	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/unsubscribe\",\"params\":{\"uri\":\"actplane:///feedback\"}}");
	json_object_put(r);
	put(".actplane/last-violation.txt", "more\n", "a");
	assert_int_equal(ap_mcp__changes(M, notes, 4), 0);
}

static void test_pending_and_attach(void **st)
{
	struct json_object *r;

	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"pending_approvals\",\"arguments\":{}}}");
	assert_string_equal(str(r, "result.content.0.text"), "[]");
	assert_false(json_object_get_boolean(get(r, "result.isError")));
	json_object_put(r);

	/* the daemon is not there: said clearly, not fatal */
	assert_true(ap_mcp__attach_parent(M) < 0);
	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/read\",\"params\":{\"uri\":\"actplane:///status\"}}");
	struct json_object *s = json_tokener_parse(str(r, "result.contents.0.text"));
	assert_false(json_object_get_boolean(get(s, "auto_attach_parent.attached")));
	assert_non_null(strstr(str(s, "auto_attach_parent.detail"), "NOT under the policy"));
	assert_non_null(strstr(str(s, "auto_attach_parent.detail"), "no watch daemon"));
	json_object_put(s);
	json_object_put(r);
}

static void test_stateless_revision(void **st)
{
	struct json_object *r;

	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{\"_meta\":{"
		"\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
		"\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
	assert_string_equal(str(r, "result.supportedVersions.0"), "2026-07-28");
	assert_string_equal(str(r, "result.resultType"), "complete");
	json_object_put(r);
	r = rpc("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
		"\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
		"\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
	assert_string_equal(str(r, "result.resultType"), "complete");
	assert_int_equal(json_object_array_length(get(r, "result.tools")), 3);
	json_object_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initialize_versions),
		cmocka_unit_test(test_errors_and_batch),
		cmocka_unit_test(test_tools_read_only),
		cmocka_unit_test(test_check_policy),
		cmocka_unit_test(test_resources_and_subscriptions),
		cmocka_unit_test(test_pending_and_attach),
		cmocka_unit_test(test_stateless_revision),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
