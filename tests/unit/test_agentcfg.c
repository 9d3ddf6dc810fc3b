// SPDX-License-Identifier: MIT
/* Config merging: Claude Code settings, Codex hooks.json and config.toml,
 * .mcp.json. Existing entries and unrelated keys stay, a second run changes
 * nothing, a file we cannot read safely is never overwritten, and the
 * TOML we write is valid (checked with Python's tomllib when present). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/agentcfg.h"

static char dir[64];

static int setup(void **st)
{
	snprintf(dir, sizeof(dir), "/tmp/ap-cfg-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static char *path(const char *name)
{
	static char p[4][256];
	static int i;
	char *r = p[i++ % 4];
	snprintf(r, 256, "%s/%s", dir, name);
	return r;
}

static void put(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *file)
{
	FILE *f = fopen(file, "r");
	char *b = calloc(1, 65536);
	assert_non_null(f);
	assert_non_null(b);
	b[fread(b, 1, 65535, f)] = '\0';
	fclose(f);
	return b;
}

static struct json_object *at(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

static void test_claude_merge(void **st)
{
	const char *f = path("settings.local.json");
	struct json_object *o, *h;
	char *before, *after;

	put(f, "{\"permissions\":{\"allow\":[\"Bash(ls)\"]},\"hooks\":{\"PostToolUse\":"
	       "[{\"matcher\":\"Write\",\"hooks\":[{\"type\":\"command\",\"command\":\"fmt.sh\"}]}],"
	       "\"Stop\":[{\"hooks\":[{\"type\":\"command\",\"command\":\"bye\"}]}]}}");
	assert_int_equal(ap_agentcfg__merge_claude(f, "/usr/bin/actplane feedback-hook"), 1);
	o = json_object_from_file(f);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
		at(at(o, "permissions"), "allow"), 0)), "Bash(ls)");
	h = at(o, "hooks");
	assert_int_equal(json_object_array_length(at(h, "Stop")), 1);
	assert_int_equal(json_object_array_length(at(h, "PostToolUse")), 2);
	assert_string_equal(json_object_get_string(at(json_object_array_get_idx(at(h, "PostToolUse"), 0), "matcher")), "Write");
	assert_string_equal(json_object_get_string(at(json_object_array_get_idx(at(h, "PostToolUseFailure"), 0), "matcher")), "*");
	json_object_put(o);
	assert_true(ap_agentcfg__has_claude(f));

	/* twice: nothing changes, byte for byte */
	before = get(f);
	assert_int_equal(ap_agentcfg__merge_claude(f, "/usr/bin/actplane feedback-hook"), 0);
	after = get(f);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* the binary moved: our entry is updated, not duplicated */
	assert_int_equal(ap_agentcfg__merge_claude(f, "/opt/actplane/bin/actplane feedback-hook"), 1);
	o = json_object_from_file(f);
	assert_int_equal(json_object_array_length(at(at(o, "hooks"), "PostToolUse")), 2);
	assert_non_null(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE), "/opt/actplane/bin/actplane feedback-hook"));
	assert_null(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE), "/usr/bin/actplane"));
	json_object_put(o);
}

static void test_broken_json_untouched(void **st)
{
	const char *f = path("broken.json");
	char *b;

	put(f, "{\"hooks\": [1, 2,");
	assert_int_equal(ap_agentcfg__merge_claude(f, "/usr/bin/actplane feedback-hook"), -EINVAL);
	b = get(f);
	assert_string_equal(b, "{\"hooks\": [1, 2,");
	free(b);
	put(f, "{\"hooks\": \"not an object\"}");
	assert_int_equal(ap_agentcfg__merge_claude(f, "/usr/bin/actplane feedback-hook"), -EINVAL);
	b = get(f);
	assert_string_equal(b, "{\"hooks\": \"not an object\"}");
	free(b);
	put(f, "{\"mcpServers\": []}");
	assert_int_equal(ap_agentcfg__merge_mcp(f, "/usr/bin/actplane"), -EINVAL);
}

static void test_codex_hooks_and_hash(void **st)
{
	const char *f = path("hooks.json");
	char hash[80], *cmd = NULL;
	int group = -1;

	put(f, "{\"hooks\":{\"PostToolUse\":[{\"matcher\":\"Bash\",\"hooks\":[{\"type\":\"command\",\"command\":\"lint\"}]}]}}");
	assert_int_equal(ap_agentcfg__merge_codex_hooks(f, "/usr/bin/actplane feedback-hook", &group), 1);
	/* appended after the user's group: its positional trust key stays */
	assert_int_equal(group, 1);
	assert_int_equal(ap_agentcfg__merge_codex_hooks(f, "/usr/bin/actplane feedback-hook", &group), 0);
	assert_int_equal(group, 1);
	assert_true(ap_agentcfg__has_codex_hook(f, &group, &cmd));
	assert_string_equal(cmd, "/usr/bin/actplane feedback-hook");
	free(cmd);

	/* agent-notes.md's worked example, and ours (no matcher) */
	assert_int_equal(ap_agentcfg__codex_hash("/abs/path/hook", 30, "Bash", hash), 0);
	assert_string_equal(hash, "sha256:e05f7d551d687479f1929211cf6185e39145696bd10312bfab83c5f952ad19a1");
	assert_int_equal(ap_agentcfg__codex_hash("/usr/bin/actplane feedback-hook", 30, NULL, hash), 0);
	assert_string_equal(hash, "sha256:b6f62e409c3d890bcdc5c5ee7de4da079d692ed32ae25254a1fb7929f981f6a4");
}

static void toml_valid(const char *f)
{
	char cmd[512];

	if (system("python3 -c 'import tomllib' 2>/dev/null") != 0)
		return; /* no checker here; the golden comparisons still hold */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import tomllib,sys; tomllib.load(open(sys.argv[1],\"rb\"))' %s", f);
	assert_int_equal(system(cmd), 0);
}

static void test_toml_merge(void **st)
{
	const char *f = path("config.toml");
	const char *why = NULL;
	char *b, *b2;

	put(f,
	    "# user config\n"
	    "model = \"gpt-5\"\n"
	    "notes = \"\"\"\n"
	    "[projects.\"/p\"]\n"
	    "trust_level = \"fake, inside a string\"\n"
	    "\"\"\"\n"
	    "\n"
	    "[projects.'/other']\n"
	    "trust_level = \"trusted\"\n"
	    "\n"
	    "[projects.\"/p\"]\n"
	    "trust_level = \"untrusted\" # set by hand\n"
	    "\n"
	    "[mcp_servers.x]\n"
	    "command = \"x\"\n");
	assert_int_equal(ap_agentcfg__toml_set(f, "projects", "/p", "trust_level", "trusted", &why), 1);
	assert_int_equal(ap_agentcfg__toml_set(f, "hooks.state", "/p/.codex/hooks.json:post_tool_use:0:0",
					       "trusted_hash", "sha256:ab", &why), 1);
	b = get(f);
	assert_non_null(strstr(b, "trust_level = \"fake, inside a string\"")); /* untouched */
	assert_non_null(strstr(b, "[projects.\"/p\"]\ntrust_level = \"trusted\"\n"));
	assert_null(strstr(b, "untrusted"));
	assert_non_null(strstr(b, "[projects.'/other']\ntrust_level = \"trusted\"\n"));
	assert_non_null(strstr(b, "[hooks.state.\"/p/.codex/hooks.json:post_tool_use:0:0\"]\ntrusted_hash = \"sha256:ab\"\n"));
	assert_non_null(strstr(b, "[mcp_servers.x]\ncommand = \"x\"\n"));
	toml_valid(f);
	assert_int_equal(ap_agentcfg__toml_has(f, "projects", "/p", "trust_level", "trusted"), 1);
	assert_int_equal(ap_agentcfg__toml_has(f, "projects", "/q", "trust_level", "trusted"), 0);

	/* again: nothing changes */
	assert_int_equal(ap_agentcfg__toml_set(f, "projects", "/p", "trust_level", "trusted", &why), 0);
	assert_int_equal(ap_agentcfg__toml_set(f, "hooks.state", "/p/.codex/hooks.json:post_tool_use:0:0",
					       "trusted_hash", "sha256:ab", &why), 0);
	b2 = get(f);
	assert_string_equal(b, b2);
	free(b);
	free(b2);

	/* a new hash replaces the old one in place */
	assert_int_equal(ap_agentcfg__toml_set(f, "hooks.state", "/p/.codex/hooks.json:post_tool_use:0:0",
					       "trusted_hash", "sha256:cd", &why), 1);
	b = get(f);
	assert_null(strstr(b, "sha256:ab"));
	assert_int_equal(strstr(b, "sha256:cd") != NULL, 1);
	free(b);
	toml_valid(f);

	/* a missing file is created */
	assert_int_equal(ap_agentcfg__toml_set(path("new/config.toml"), "projects", "/n", "trust_level",
					       "trusted", &why), 1);
	toml_valid(path("new/config.toml"));
}

static void test_toml_refuses_forms_it_does_not_edit(void **st)
{
	const char *f = path("inline.toml");
	const char *const texts[] = {
		"projects = { \"/p\" = { trust_level = \"untrusted\" } }\n",
		"[projects]\n\"/p\" = { trust_level = \"untrusted\" }\n",
		"[projects]\n\"/p\".trust_level = \"untrusted\"\n",
		"projects.\"/p\".trust_level = \"untrusted\"\n",
	};
	const char *why;
	char *b;

	for (unsigned i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		put(f, texts[i]);
		why = NULL;
		assert_int_equal(ap_agentcfg__toml_set(f, "projects", "/p", "trust_level", "trusted", &why),
				 -EINVAL);
		assert_non_null(why);
		b = get(f);
		assert_string_equal(b, texts[i]);
		free(b);
	}
}

static void test_mcp_and_apply(void **st)
{
	const char *f = path(".mcp.json");
	struct ap_agentcfg_opts o = { .project_dir = dir, .actplane_bin = "/usr/bin/actplane",
				      .codex_home = path("codex-home") };
	struct json_object *j;
	char *b, *b2;
	FILE *out = fopen("/dev/null", "w");

	put(f, "{\"mcpServers\":{\"other\":{\"command\":\"o\"}}}");
	assert_int_equal(ap_agentcfg__merge_mcp(f, "/usr/bin/actplane"), 1);
	assert_int_equal(ap_agentcfg__merge_mcp(f, "/usr/bin/actplane"), 0);
	j = json_object_from_file(f);
	assert_string_equal(json_object_get_string(at(at(at(j, "mcpServers"), "other"), "command")), "o");
	assert_string_equal(json_object_get_string(at(at(at(j, "mcpServers"), "actplane"), "command")),
			    "/usr/bin/actplane");
	json_object_put(j);
	assert_true(ap_agentcfg__has_mcp(f));

	/* the whole of init --with-claude --with-codex --with-mcp, twice */
	o.out = out;
	assert_int_equal(ap_agentcfg__apply_opts(AP_AGENTCFG_CLAUDE | AP_AGENTCFG_CODEX | AP_AGENTCFG_MCP, &o), 0);
	b = get(path("codex-home/config.toml"));
	assert_int_equal(ap_agentcfg__apply_opts(AP_AGENTCFG_CLAUDE | AP_AGENTCFG_CODEX | AP_AGENTCFG_MCP, &o), 0);
	b2 = get(path("codex-home/config.toml"));
	assert_string_equal(b, b2);
	assert_non_null(strstr(b, "trust_level = \"trusted\""));
	assert_non_null(strstr(b, "/.codex/hooks.json:post_tool_use:0:0\"]\ntrusted_hash = \"sha256:b6f62e409c3d890bcdc5c5ee7de4da079d692ed32ae25254a1fb7929f981f6a4\""));
	toml_valid(path("codex-home/config.toml"));
	free(b);
	free(b2);
	fclose(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claude_merge),
		cmocka_unit_test(test_broken_json_untouched),
		cmocka_unit_test(test_codex_hooks_and_hash),
		cmocka_unit_test(test_toml_merge),
		cmocka_unit_test(test_toml_refuses_forms_it_does_not_edit),
		cmocka_unit_test(test_mcp_and_apply),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
