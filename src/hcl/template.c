/* Quoted strings and heredocs: escapes, ${NAME} references, the $${ and %%{
 * escapes, strip markers, and the indentation rule of <<- heredocs. moat
 * refuses template directives (%{if}, %{for}) and every expression inside
 * ${...} other than a bare name, saying so where it is. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "hcl/lex.h"
#include "hcl/unicode.h"

static void tmpl_add(struct tmpl *t, bool is_var, const char *s, size_t len,
		     const struct pos *at)
{
	struct tmpl_part *p;

	xgrow((void **)&t->parts, &t->cap, t->n + 1, sizeof(*t->parts));
	p = &t->parts[t->n++];
	memset(p, 0, sizeof(*p));
	p->is_var = is_var;
	p->s = xstrndup(s, len);
	p->len = len;
	p->pos = *at;
	if (is_var)
		t->has_vars = true;
}

/* Literal text accumulates in lit until a reference or the end flushes it. */
static void flush_lit(struct tmpl *t, struct buf *lit, const struct pos *at)
{
	if (!lit->len)
		return;
	tmpl_add(t, false, lit->p, lit->len, at);
	buf_reset(lit);
}

void tmpl_free(struct tmpl *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		free(t->parts[i].s);
	free(t->parts);
	free(t);
}

static char cur(const struct lexer *lx, size_t ahead)
{
	return lx->off + ahead < lx->len ? lx->src[lx->off + ahead] : '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A backslash escape in a quoted string; appends the decoded text. */
static bool scan_escape(struct lexer *lx, struct buf *lit)
{
	struct pos at = lex_pos(lx);
	size_t digits, i;
	uint32_t cp = 0;
	char enc[4];
	char c = cur(lx, 1);

	switch (c) {
	case 'n': buf_addc(lit, '\n'); break;
	case 'r': buf_addc(lit, '\r'); break;
	case 't': buf_addc(lit, '\t'); break;
	case '"': buf_addc(lit, '"'); break;
	case '\\': buf_addc(lit, '\\'); break;
	case 'u':
	case 'U':
		digits = c == 'u' ? 4 : 8;
		for (i = 0; i < digits; i++) {
			int h = hexval(cur(lx, 2 + i));

			if (h < 0) {
				diag_error(lx->dl, &at, "invalid escape: \\%c "
					   "must be followed by %zu hexadecimal "
					   "digits", c, digits);
				return false;
			}
			cp = cp << 4 | (uint32_t)h;
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			diag_error(lx->dl, &at, "invalid escape: U+%04X is not "
				   "a Unicode character", cp);
			return false;
		}
		buf_add(lit, enc, utf8_encode(cp, enc));
		lex_advance(lx, 2 + digits);
		return true;
	default:
		if (lx->off + 1 >= lx->len || c == '\n' || c == '\r')
			diag_error(lx->dl, &at, "unterminated string: a "
				   "backslash at the end of the line");
		else
			diag_error(lx->dl, &at, "invalid escape sequence "
				   "\\%c (use \\\\ for a backslash)", c);
		return false;
	}
	lex_advance(lx, 2);
	return true;
}

/* ${ [~] NAME [~] } with optional spaces; the cursor is on the '$'. */
static bool scan_interp(struct lexer *lx, struct tmpl *t, struct buf *lit,
			struct pos *lit_at)
{
	struct pos at = lex_pos(lx), name_at;
	bool strip_before = false, strip_after = false;
	size_t start, l;
	uint32_t cp;

	lex_advance(lx, 2);
	if (cur(lx, 0) == '~') {
		strip_before = true;
		lex_advance(lx, 1);
	}
	while (cur(lx, 0) == ' ' || cur(lx, 0) == '\t')
		lex_advance(lx, 1);
	name_at = lex_pos(lx);
	start = lx->off;
	if ((l = lex_peek(lx, &cp)) && uc_id_start(cp)) {
		while ((l = lex_peek(lx, &cp)) && uc_id_continue(cp))
			lex_advance(lx, l);
	}
	if (lx->off == start)
		goto unsupported;
	{
		size_t end = lx->off;

		while (cur(lx, 0) == ' ' || cur(lx, 0) == '\t')
			lex_advance(lx, 1);
		if (cur(lx, 0) == '~') {
			strip_after = true;
			lex_advance(lx, 1);
		}
		if (cur(lx, 0) != '}')
			goto unsupported;
		lex_advance(lx, 1);
		flush_lit(t, lit, lit_at);
		tmpl_add(t, true, lx->src + start, end - start, &name_at);
		t->parts[t->n - 1].strip_before = strip_before;
		t->parts[t->n - 1].strip_after = strip_after;
		*lit_at = lex_pos(lx);
		return true;
	}
unsupported:
	diag_error(lx->dl, &at, "moat supports only ${NAME} (the environment "
		   "variable NAME) inside a string, not expressions; write $${ "
		   "for a literal ${");
	return false;
}

static bool refuse_directive(struct lexer *lx)
{
	struct pos at = lex_pos(lx);

	diag_error(lx->dl, &at, "template directives (%%{ ... }) are not "
		   "supported by moat; write %%%%{ for a literal %%{");
	return false;
}

/* The characters every template shares: $${, %%{, ${...}, %{, and plain
 * UTF-8 text. Returns 1 when it consumed something, 0 when the character
 * is not one of these (the caller handles it), -1 on error. */
static int scan_common(struct lexer *lx, struct tmpl *t, struct buf *lit,
		       struct pos *lit_at)
{
	char c = cur(lx, 0);
	uint32_t cp;
	size_t l;

	if ((c == '$' || c == '%') && cur(lx, 1) == c && cur(lx, 2) == '{') {
		buf_addc(lit, c);
		buf_addc(lit, '{');
		lex_advance(lx, 3);
		return 1;
	}
	if (c == '$' && cur(lx, 1) == '{')
		return scan_interp(lx, t, lit, lit_at) ? 1 : -1;
	if (c == '%' && cur(lx, 1) == '{')
		return refuse_directive(lx) ? 1 : -1;
	l = lex_peek(lx, &cp);
	if (!l) {
		struct pos at = lex_pos(lx);

		diag_error(lx->dl, &at, "invalid UTF-8 in a string (all input "
			   "must be UTF-8 encoded)");
		return -1;
	}
	buf_add(lit, lx->src + lx->off, l);
	lex_advance(lx, l);
	return 1;
}

bool tmpl_scan_quoted(struct lexer *lx, struct tmpl **out)
{
	struct pos start = lex_pos(lx), lit_at;
	struct tmpl *t = xcalloc(1, sizeof(*t));
	struct buf lit = BUF_INIT;
	size_t nl;

	lex_advance(lx, 1);
	lit_at = lex_pos(lx);
	for (;;) {
		char c = cur(lx, 0);
		int r;

		if (lx->off >= lx->len) {
			diag_error(lx->dl, &start, "unterminated string: no "
				   "closing quote before the end of the file");
			goto fail;
		}
		if (lex_at_newline(lx, &nl)) {
			diag_error(lx->dl, &start, "unterminated string: quoted "
				   "strings cannot span lines (use \\n, or a "
				   "<<EOT heredoc)");
			goto fail;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			if (!scan_escape(lx, &lit))
				goto fail;
			continue;
		}
		r = scan_common(lx, t, &lit, &lit_at);
		if (r < 0)
			goto fail;
	}
	lex_advance(lx, 1);
	flush_lit(t, &lit, &lit_at);
	buf_free(&lit);
	*out = t;
	return true;
fail:
	buf_free(&lit);
	tmpl_free(t);
	*out = NULL;
	return false;
}

/* The heredoc's closing line: optional blanks, the marker, optional blanks,
 * then a newline (required: the marker line ends the attribute). */
static bool at_marker(const struct lexer *lx, const char *m, size_t mlen)
{
	size_t i = lx->off;

	while (i < lx->len && (lx->src[i] == ' ' || lx->src[i] == '\t'))
		i++;
	if (lx->len - i < mlen || memcmp(lx->src + i, m, mlen))
		return false;
	i += mlen;
	while (i < lx->len && (lx->src[i] == ' ' || lx->src[i] == '\t'))
		i++;
	return (i < lx->len && lx->src[i] == '\n') ||
	       (i + 1 < lx->len && lx->src[i] == '\r' && lx->src[i + 1] == '\n');
}

static size_t space_prefix(const char *s, size_t n, size_t *bytes)
{
	size_t i = 0, count = 0, l;
	uint32_t cp;

	while (i < n && (l = utf8_decode(s + i, n - i, &cp)) && uc_is_space(cp)) {
		/* \r\n is one character, as a grapheme cluster */
		if (cp == '\r' && i + 1 < n && s[i + 1] == '\n')
			l = 2;
		i += l;
		count++;
	}
	*bytes = i;
	return count;
}

/* <<-: find the line with the fewest leading spaces (blank lines do not
 * count, and neither does text produced by ${...}) and remove that many
 * characters from the start of every line. */
static void flush_indent(struct tmpl *t)
{
	size_t min = SIZE_MAX, i, bytes, sp;
	bool line_start = true;
	bool *adjust = xcalloc(t->n + 1, sizeof(*adjust));

	for (i = 0; i < t->n; i++) {
		struct tmpl_part *p = &t->parts[i];

		if (line_start) {
			line_start = false;
			sp = 0;
			if (!p->is_var) {
				sp = space_prefix(p->s, p->len, &bytes);
				if (bytes == p->len && p->len &&
				    p->s[p->len - 1] == '\n')
					sp = SIZE_MAX;	/* a blank line */
				else
					adjust[i] = true;
			}
			if (sp < min)
				min = sp;
		}
		if (!p->is_var && p->len && p->s[p->len - 1] == '\n')
			line_start = true;
	}
	for (i = 0; i < t->n && min != SIZE_MAX; i++) {
		struct tmpl_part *p = &t->parts[i];
		size_t k, off = 0, l;
		uint32_t cp;

		if (!adjust[i])
			continue;
		for (k = 0; k < min && off < p->len; k++) {
			l = utf8_decode(p->s + off, p->len - off, &cp);
			if (cp == '\r' && off + 1 < p->len && p->s[off + 1] == '\n')
				l = 2;
			off += l ? l : 1;
		}
		memmove(p->s, p->s + off, p->len - off + 1);
		p->len -= off;
		p->pos.col += (int)k;
	}
	free(adjust);
}

bool tmpl_scan_heredoc(struct lexer *lx, struct tmpl **out)
{
	struct pos start = lex_pos(lx), lit_at;
	struct tmpl *t = NULL;
	struct buf lit = BUF_INIT;
	const char *marker;
	size_t mlen, nl, l;
	bool flush;
	uint32_t cp;

	lex_advance(lx, 2);
	flush = cur(lx, 0) == '-';
	if (flush)
		lex_advance(lx, 1);
	marker = lx->src + lx->off;
	while ((l = lex_peek(lx, &cp)) && uc_id_continue(cp))
		lex_advance(lx, l);
	mlen = (size_t)(lx->src + lx->off - marker);
	if (!lex_at_newline(lx, &nl)) {
		struct pos at = lex_pos(lx);

		diag_error(lx->dl, &at, "a heredoc's <<%.*s must be followed "
			   "directly by a newline", (int)mlen, marker);
		return false;
	}
	lex_advance(lx, nl);
	t = xcalloc(1, sizeof(*t));
	while (!at_marker(lx, marker, mlen)) {
		if (lx->off >= lx->len) {
			diag_error(lx->dl, &start, "unterminated heredoc: no "
				   "line with the closing marker %.*s (followed "
				   "by a newline)", (int)mlen, marker);
			goto fail;
		}
		/* One literal per line, ending with its newline, as the
		 * indentation rule needs. */
		lit_at = lex_pos(lx);
		for (;;) {
			if (lx->off >= lx->len)
				break;
			if (lex_at_newline(lx, &nl)) {
				buf_add(&lit, lx->src + lx->off, nl);
				lex_advance(lx, nl);
				break;
			}
			if (scan_common(lx, t, &lit, &lit_at) < 0)
				goto fail;
		}
		flush_lit(t, &lit, &lit_at);
	}
	while (cur(lx, 0) == ' ' || cur(lx, 0) == '\t')
		lex_advance(lx, 1);
	lex_advance(lx, mlen);
	while (cur(lx, 0) == ' ' || cur(lx, 0) == '\t')
		lex_advance(lx, 1);
	if (flush)
		flush_indent(t);
	buf_free(&lit);
	*out = t;
	return true;
fail:
	buf_free(&lit);
	tmpl_free(t);
	*out = NULL;
	return false;
}

static void trim_space_end(struct buf *b)
{
	/* Walk back over whole code points that are spaces. */
	while (b->len) {
		size_t start = b->len - 1;
		uint32_t cp;

		while (start > 0 && ((unsigned char)b->p[start] & 0xc0) == 0x80)
			start--;
		if (!utf8_decode(b->p + start, b->len - start, &cp) ||
		    !uc_is_space(cp))
			break;
		b->len = start;
		b->p[start] = '\0';
	}
}

struct hcl_value *tmpl_eval(const struct tmpl *t, const struct pos *at,
			    const struct hcl_env *env)
{
	struct buf out = BUF_INIT;
	struct hcl_value *v;
	bool strip_next = false;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct tmpl_part *p = &t->parts[i];
		const char *s = p->s;
		size_t n = p->len;

		if (p->is_var) {
			const char *val = env->lookup(env->ctx, p->s);

			if (!val) {
				v = hcl_value_new(HCL_ERROR, &p->pos);
				v->s = xasprintf("environment variable %s is not "
						 "set (${%s})", p->s, p->s);
				v->len = strlen(v->s);
				buf_free(&out);
				return v;
			}
			if (p->strip_before)
				trim_space_end(&out);
			s = val;
			n = strlen(val);
			if (!utf8_valid(s, n)) {
				v = hcl_value_new(HCL_ERROR, &p->pos);
				v->s = xasprintf("environment variable %s is not "
						 "valid UTF-8", p->s);
				v->len = strlen(v->s);
				buf_free(&out);
				return v;
			}
		} else if (strip_next) {
			size_t skip;

			space_prefix(s, n, &skip);
			s += skip;
			n -= skip;
		}
		buf_add(&out, s, n);
		strip_next = p->is_var && p->strip_after;
	}
	v = hcl_value_new(HCL_STRING, at);
	v->s = uc_nfc(out.p ? out.p : "", out.len, &v->len);
	buf_free(&out);
	return v;
}
