/* The HCL lexer, internal to src/hcl. Strings and heredocs are scanned and
 * decoded by the lexer into templates (template.c) so that every error
 * inside them has an exact position. */
#ifndef MOAT_HCL_LEX_H
#define MOAT_HCL_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "hcl/hcl.h"

enum tok_type {
	TK_EOF,
	TK_NEWLINE,
	TK_IDENT,
	TK_NUMBER,
	TK_STRING,	/* "quoted", tmpl holds the decoded parts */
	TK_HEREDOC,	/* <<EOT ... EOT, tmpl holds the parts */
	TK_LBRACE,
	TK_RBRACE,
	TK_LBRACK,
	TK_RBRACK,
	TK_LPAREN,
	TK_RPAREN,
	TK_EQUAL,
	TK_COLON,
	TK_COMMA,
	TK_MINUS,
	TK_OP,		/* any other operator: text in the source span */
	TK_ERROR,	/* the lexer reported an error */
};

/* One piece of a template: literal text or a ${NAME} reference. */
struct tmpl_part {
	bool is_var;
	bool strip_before;	/* ${~ : trim the space before */
	bool strip_after;	/* ~} : trim the space after */
	char *s;		/* literal bytes or the variable name */
	size_t len;
	struct pos pos;
};

struct tmpl {
	struct tmpl_part *parts;
	size_t n;
	size_t cap;
	bool has_vars;
};

struct token {
	enum tok_type type;
	struct pos pos;
	size_t off;		/* source span */
	size_t len;
	struct tmpl *tmpl;	/* TK_STRING, TK_HEREDOC; owned by the token */
};

struct lexer {
	const char *file;
	const char *src;
	size_t len;
	size_t off;
	int line;
	int col;
	struct diag_list *dl;
};

void lex_init(struct lexer *lx, const char *file, const char *src, size_t len,
	      struct diag_list *dl);
/* Scans the next token; on a lexical error reports it and returns TK_ERROR. */
void lex_next(struct lexer *lx, struct token *t);
void token_clear(struct token *t);
const char *tok_type_name(enum tok_type t);

/* Cursor helpers shared with template.c. */
struct pos lex_pos(const struct lexer *lx);
/* Decodes the code point at the cursor (0 at end); returns its byte length,
 * or 0 for invalid UTF-8 or end of input. */
size_t lex_peek(const struct lexer *lx, uint32_t *cp);
/* Advances over n bytes that hold one code point, keeping line and col. */
void lex_advance(struct lexer *lx, size_t n);
bool lex_at_newline(const struct lexer *lx, size_t *n);

/* template.c */
bool tmpl_scan_quoted(struct lexer *lx, struct tmpl **out);
bool tmpl_scan_heredoc(struct lexer *lx, struct tmpl **out);
void tmpl_free(struct tmpl *t);
/* Evaluates t into a string value (or an HCL_ERROR for an unset variable). */
struct hcl_value *tmpl_eval(const struct tmpl *t, const struct pos *at,
			    const struct hcl_env *env);

#endif
