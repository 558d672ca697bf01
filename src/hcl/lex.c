/* HCL tokens: identifiers, numbers, punctuation, operators (recognised only
 * to be refused with a clear message), comments and newlines. */
#include "hcl/lex.h"

#include <string.h>

#include "hcl/unicode.h"

void lex_init(struct lexer *lx, const char *file, const char *src, size_t len,
	      struct diag_list *dl)
{
	memset(lx, 0, sizeof(*lx));
	lx->file = file;
	lx->src = src;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
	lx->dl = dl;
	/* A byte order mark is not part of the text. */
	if (len >= 3 && !memcmp(src, "\xef\xbb\xbf", 3))
		lx->off = 3;
}

struct pos lex_pos(const struct lexer *lx)
{
	struct pos p = { lx->file, lx->line, lx->col };

	return p;
}

size_t lex_peek(const struct lexer *lx, uint32_t *cp)
{
	*cp = 0;
	if (lx->off >= lx->len)
		return 0;
	return utf8_decode(lx->src + lx->off, lx->len - lx->off, cp);
}

void lex_advance(struct lexer *lx, size_t n)
{
	size_t i;

	for (i = 0; i < n && lx->off < lx->len; i++, lx->off++) {
		unsigned char c = (unsigned char)lx->src[lx->off];

		if (c == '\n') {
			lx->line++;
			lx->col = 1;
		} else if ((c & 0xc0) != 0x80 &&
			   !(c == '\r' && lx->off + 1 < lx->len &&
			     lx->src[lx->off + 1] == '\n')) {
			lx->col++;
		}
	}
}

/* The inverse of lex_advance's count: where line and column are. */
size_t hcl_offset(const char *src, size_t len, const struct pos *at)
{
	size_t off = len >= 3 && !memcmp(src, "\xef\xbb\xbf", 3) ? 3 : 0;
	int line = 1, col = 1;

	while (off < len && line < at->line)
		if (src[off++] == '\n')
			line++;
	while (off < len && col < at->col && src[off] != '\n') {
		unsigned char c = (unsigned char)src[off];

		if ((c & 0xc0) != 0x80 && !(c == '\r' && off + 1 < len &&
					     src[off + 1] == '\n'))
			col++;
		off++;
	}
	/* the rest of the character the count stopped in */
	while (off < len && ((unsigned char)src[off] & 0xc0) == 0x80)
		off++;
	return off;
}

bool lex_at_newline(const struct lexer *lx, size_t *n)
{
	const char *p = lx->src + lx->off;
	size_t left = lx->len - lx->off;

	if (left >= 1 && p[0] == '\n') {
		*n = 1;
		return true;
	}
	if (left >= 2 && p[0] == '\r' && p[1] == '\n') {
		*n = 2;
		return true;
	}
	return false;
}

static char lex_byte(const struct lexer *lx, size_t ahead)
{
	return lx->off + ahead < lx->len ? lx->src[lx->off + ahead] : '\0';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void lex_error_char(struct lexer *lx, const char *what)
{
	struct pos at = lex_pos(lx);
	uint32_t cp;
	size_t l = lex_peek(lx, &cp);

	if (!l)
		diag_error(lx->dl, &at, "invalid UTF-8 %s (all input must be "
			   "UTF-8 encoded)", what);
	else if (cp < 0x20 || cp == 0x7f)
		diag_error(lx->dl, &at, "unexpected control character U+%04X",
			   cp);
	else
		diag_error(lx->dl, &at, "unexpected character '%.*s'",
			   (int)l, lx->src + lx->off);
}

/* Skips spaces, tabs and comments; stops at a newline (which is a token). */
static bool skip_space(struct lexer *lx)
{
	for (;;) {
		char c = lex_byte(lx, 0);

		if (lx->off >= lx->len)
			return true;
		if (c == ' ' || c == '\t') {
			lex_advance(lx, 1);
		} else if (c == '#' || (c == '/' && lex_byte(lx, 1) == '/')) {
			/* A line comment ends at the newline, which stays a
			 * token. Comments may hold any bytes, as in HCL. */
			while (lx->off < lx->len && lx->src[lx->off] != '\n' &&
			       !(lx->src[lx->off] == '\r' &&
				 lex_byte(lx, 1) == '\n'))
				lex_advance(lx, 1);
		} else if (c == '/' && lex_byte(lx, 1) == '*') {
			struct pos at = lex_pos(lx);
			const char *end = memmem(lx->src + lx->off + 2,
						 lx->len - lx->off - 2, "*/", 2);

			if (!end) {
				diag_error(lx->dl, &at, "unterminated /* comment");
				return false;
			}
			lex_advance(lx, (size_t)(end + 2 - (lx->src + lx->off)));
		} else {
			return true;
		}
	}
}

static void scan_ident(struct lexer *lx)
{
	uint32_t cp;
	size_t l;

	while ((l = lex_peek(lx, &cp)) && uc_id_continue(cp))
		lex_advance(lx, l);
}

/* NumericLit = digit+ ("." digit+)? (("e"|"E") ("+"|"-")? digit+)? */
static void scan_number(struct lexer *lx)
{
	while (is_digit(lex_byte(lx, 0)))
		lex_advance(lx, 1);
	if (lex_byte(lx, 0) == '.' && is_digit(lex_byte(lx, 1))) {
		lex_advance(lx, 1);
		while (is_digit(lex_byte(lx, 0)))
			lex_advance(lx, 1);
	}
	if (lex_byte(lx, 0) == 'e' || lex_byte(lx, 0) == 'E') {
		size_t sign = lex_byte(lx, 1) == '+' || lex_byte(lx, 1) == '-';

		if (is_digit(lex_byte(lx, 1 + sign))) {
			lex_advance(lx, 1 + sign);
			while (is_digit(lex_byte(lx, 0)))
				lex_advance(lx, 1);
		}
	}
}

/* Operators moat refuses, longest first so that "==" is one token. */
static const char *const operators[] = {
	"...", "==", "!=", "<=", ">=", "&&", "||", "=>",
	"+", "*", "/", "%", "<", ">", "!", "?", ".",
};

static size_t match_operator(const struct lexer *lx)
{
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(operators); i++) {
		n = strlen(operators[i]);
		if (lx->len - lx->off >= n &&
		    !memcmp(lx->src + lx->off, operators[i], n))
			return n;
	}
	return 0;
}

static enum tok_type punct(char c)
{
	switch (c) {
	case '{': return TK_LBRACE;
	case '}': return TK_RBRACE;
	case '[': return TK_LBRACK;
	case ']': return TK_RBRACK;
	case '(': return TK_LPAREN;
	case ')': return TK_RPAREN;
	case ':': return TK_COLON;
	case ',': return TK_COMMA;
	case '-': return TK_MINUS;
	default: return TK_EOF;
	}
}

static enum tok_type lex_scan(struct lexer *lx, struct token *t)
{
	size_t nl, opn;
	uint32_t cp;
	char c;

	if (!skip_space(lx))
		return TK_ERROR;
	t->pos = lex_pos(lx);
	t->off = lx->off;
	if (lx->off >= lx->len)
		return TK_EOF;
	if (lex_at_newline(lx, &nl)) {
		lex_advance(lx, nl);
		return TK_NEWLINE;
	}
	c = lex_byte(lx, 0);
	if (is_digit(c)) {
		scan_number(lx);
		return TK_NUMBER;
	}
	if (c == '"')
		return tmpl_scan_quoted(lx, &t->tmpl) ? TK_STRING : TK_ERROR;
	if (c == '<' && lex_byte(lx, 1) == '<') {
		size_t l = 2 + (lex_byte(lx, 2) == '-');

		if (lx->off + l < lx->len &&
		    utf8_decode(lx->src + lx->off + l, lx->len - lx->off - l,
				&cp) && uc_id_start(cp))
			return tmpl_scan_heredoc(lx, &t->tmpl) ? TK_HEREDOC
							       : TK_ERROR;
	}
	if (c == '=' && lex_byte(lx, 1) != '=' && lex_byte(lx, 1) != '>') {
		lex_advance(lx, 1);
		return TK_EQUAL;
	}
	if (punct(c) != TK_EOF) {
		lex_advance(lx, 1);
		return punct(c);
	}
	if ((opn = match_operator(lx))) {
		lex_advance(lx, opn);
		return TK_OP;
	}
	if (lex_peek(lx, &cp) && uc_id_start(cp)) {
		scan_ident(lx);
		return TK_IDENT;
	}
	lex_error_char(lx, "byte");
	return TK_ERROR;
}

void lex_next(struct lexer *lx, struct token *t)
{
	memset(t, 0, sizeof(*t));
	t->type = lex_scan(lx, t);
	t->len = lx->off - t->off;
}

void token_clear(struct token *t)
{
	tmpl_free(t->tmpl);
	memset(t, 0, sizeof(*t));
}

const char *tok_type_name(enum tok_type t)
{
	static const char *const names[] = {
		[TK_EOF] = "end of file",
		[TK_NEWLINE] = "newline",
		[TK_IDENT] = "name",
		[TK_NUMBER] = "number",
		[TK_STRING] = "string",
		[TK_HEREDOC] = "heredoc",
		[TK_LBRACE] = "'{'",
		[TK_RBRACE] = "'}'",
		[TK_LBRACK] = "'['",
		[TK_RBRACK] = "']'",
		[TK_LPAREN] = "'('",
		[TK_RPAREN] = "')'",
		[TK_EQUAL] = "'='",
		[TK_COLON] = "':'",
		[TK_COMMA] = "','",
		[TK_MINUS] = "'-'",
		[TK_OP] = "operator",
		[TK_ERROR] = "error",
	};

	return names[t];
}
