/* SPDX-License-Identifier: MIT */
/*
 * The DSL lexer: reentrant, over one struct ap_src, tokens carry byte
 * offsets into that source.
 *
 * Names are [A-Za-z_][A-Za-z0-9_-]*; a name that spells a keyword carries
 * its keyword id (keywords are reserved: they cannot be labels). Strings are
 * double-quoted, on one line, with two escapes: \" and \\. Any other
 * backslash pair is kept verbatim, backslash included, so glob escapes such
 * as "\*" or "\[" reach the pattern compiler untouched ("\\*" also gives \*;
 * a literal backslash in a glob is written "\\\\"). '#' starts a comment
 * that runs to the end of the line. Newlines only separate tokens; each
 * token records whether it is the first on its line, which the parser uses
 * to resynchronise after an error.
 *
 * Lexical errors are reported to the diagnostics list by the lexer itself;
 * the token is then AP_TOK_ERROR and the parser must not report it again.
 */
#ifndef AP_POLICY_LEXER_H
#define AP_POLICY_LEXER_H

#include <stdbool.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"

/* X(ID, spelling) */
#define AP_KEYWORDS(X) \
	X(SOURCE,     "source")           \
	X(DECLASSIFY, "declassify")       \
	X(ENDORSE,    "endorse")          \
	X(RULE,       "rule")             \
	X(BECAUSE,    "because")          \
	X(BY,         "by")               \
	X(FILE,       "file")             \
	X(ENDPOINT,   "endpoint")         \
	X(EXEC,       "exec")             \
	X(NOTIFY,     "notify")           \
	X(BLOCK,      "block")            \
	X(KILL,       "kill")             \
	X(ASK,        "ask")              \
	X(OPEN,       "open")             \
	X(READ,       "read")             \
	X(WRITE,      "write")            \
	X(UNLINK,     "unlink")           \
	X(RENAME,     "rename")           \
	X(CONNECT,    "connect")          \
	X(RECV,       "recv")             \
	X(IF,         "if")               \
	X(UNLESS,     "unless")           \
	X(NOT,        "not")              \
	X(AND,        "and")              \
	X(OR,         "or")               \
	X(TRUE,       "true")             \
	X(TARGET,     "target")           \
	X(LINEAGE,    "lineage-includes") \
	X(AFTER,      "after")            \
	X(PASSED,     "passed")           \
	X(SINCE,      "since")

enum ap_kw {
	AP_KW_NONE = 0,
#define X(e, s) AP_KW_##e,
	AP_KEYWORDS(X)
#undef X
	AP_KW__COUNT
};

enum ap_tok_kind {
	AP_TOK_EOF,
	AP_TOK_NAME,
	AP_TOK_STRING,
	AP_TOK_COLON,
	AP_TOK_LPAREN,
	AP_TOK_RPAREN,
	AP_TOK_EQ,
	AP_TOK_ERROR,   /* already reported */
};

struct ap_token {
	enum ap_tok_kind kind;
	enum ap_kw kw;       /* AP_TOK_NAME: keyword id, or AP_KW_NONE */
	uint32_t off, len;   /* raw bytes, quotes included */
	bool bol;            /* first token on its line */
	const char *str;     /* AP_TOK_STRING: unescaped value (arena) */
};

struct ap_lexer {
	const struct ap_src *src;
	uint32_t src_index;
	size_t pos;
	bool bol;
	struct ap_arena *arena;
	struct ap_diags *diags;
};

void ap_lexer__init(struct ap_lexer *lx, const struct ap_src *src,
		    uint32_t src_index, struct ap_arena *arena,
		    struct ap_diags *diags);
void ap_lexer__next(struct ap_lexer *lx, struct ap_token *tok);

/* Spelling of a keyword ("lineage-includes"); NULL for AP_KW_NONE. */
const char *ap_kw__name(enum ap_kw kw);
/* Keyword id of a spelling, AP_KW_NONE if it is not one. */
enum ap_kw ap_kw__lookup(const char *s, size_t len);

/* How a token reads in "found X": "'opne'", "a string \"x\"", "':'",
 * "the end of the policy". Writes into buf, returns buf. */
const char *ap_tok__describe(const struct ap_token *tok, const struct ap_src *src,
			     char *buf, size_t size);

#endif
