/* wg-quick files: read as wg-quick and wg read them (stricter where they
 * would silently keep the last of two values), turned into moat HCL, and
 * written for a client. Pure: no I/O, and nothing is ever run: PostUp and
 * its kin are only reported. Every buffer that held a key is wiped. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/util.h"
#include "config/addr.h"
#include "hcl/unicode.h"
#include "wg/quick.h"

#define NAME_MAX_BYTES 128

enum sect { SECT_NONE, SECT_INTERFACE, SECT_PEER, SECT_UNKNOWN };

enum qkey {
	K_PRIVATE_KEY, K_LISTEN_PORT, K_FWMARK, K_ADDRESS, K_DNS, K_MTU,
	K_TABLE, K_PRE_UP, K_POST_UP, K_PRE_DOWN, K_POST_DOWN, K_SAVE_CONFIG,
	K_PUBLIC_KEY, K_PRESHARED_KEY, K_ENDPOINT, K_ALLOWED_IPS, K_KEEPALIVE,
	K_COUNT
};

struct qctx {
	struct wg_quick *q;
	struct diag_list *dl;
	size_t errors;
	int lineno;
	const char *line;		/* the current line, for columns */
	const char *col_p;		/* where col was last counted to */
	int col;
	enum sect sect;
	struct pos seen[K_COUNT];	/* where each single key was given */
	char *name;			/* a name comment waiting for a peer */
	struct pos name_at;
	bool named;			/* the current peer has one already */
	char *bare;			/* "# word" (a name if [Peer] follows) */
	struct pos bare_at;
};

struct qkey_def {
	const char *name;
	enum sect sect;
	bool multi;		/* may be given again: the values add up */
	bool may_be_empty;
	void (*set)(struct qctx *c, const struct qkey_def *d, char *v,
		    const struct pos *at);
};

static const struct qkey_def qkeys[K_COUNT];

/* --- small helpers ------------------------------------------------------- */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f' || ch == '\n';
}

static char *skip_blank(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

/* s without blanks either side, in place. */
static char *trim(char *s)
{
	size_t n;

	s = skip_blank(s);
	n = strlen(s);
	while (n && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Where p (inside the current line) is; columns count characters. From
 * where the last call left off when it can: a long list stays linear. */
static struct pos at_ptr(struct qctx *c, const char *p)
{
	if (!c->col_p || p < c->col_p) {
		c->col_p = c->line;
		c->col = 1;
	}
	for (; c->col_p < p; c->col_p++)
		if (((unsigned char)*c->col_p & 0xc0) != 0x80)
			c->col++;
	return (struct pos){ c->q->file, c->lineno, c->col };
}

static void qerr(struct qctx *c, const struct pos *at, const char *fmt, ...)
	MOAT_PRINTF(3, 4);
static void qerr(struct qctx *c, const struct pos *at, const char *fmt, ...)
{
	va_list ap;

	c->errors++;
	va_start(ap, fmt);
	diag_addv(c->dl, DIAG_ERROR, at, fmt, ap);
	va_end(ap);
}

/* A decimal number up to max: digits only, as wg reads them. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* As wg's parse_fwmark: decimal, or hexadecimal after "0x". */
static bool parse_mark(const char *s, uint32_t *out)
{
	unsigned long long v = 0;
	int base = 10;

	if (*s < '0' || *s > '9')
		return false;
	if (s[0] == '0' && s[1] == 'x' && s[2]) {
		base = 16;
		s += 2;
	}
	for (; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		v = v * (unsigned)base + (unsigned)d;
		if (v > 0xffffffffULL)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static void list_add(struct wg_quick_list *l, char *v, const struct pos *at)
{
	xgrow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->at = xrealloc(l->at, l->cap * sizeof(*l->at));
	l->v[l->n] = v;
	l->at[l->n++] = *at;
}

static void list_free(struct wg_quick_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->at);
	memset(l, 0, sizeof(*l));
}

/* Calls fn on each entry of a list value: wg-quick splits on commas and
 * blanks, wg on commas. */
static void each_item(struct qctx *c, const struct qkey_def *d, char *v,
		      void (*fn)(struct qctx *, const struct qkey_def *,
				 char *, const struct pos *))
{
	while (*v) {
		size_t n;
		char save;
		struct pos at;

		while (*v == ',' || is_blank(*v))
			v++;
		if (!*v)
			break;
		n = strcspn(v, ", \t\r\v\f\n");
		save = v[n];
		v[n] = '\0';
		at = at_ptr(c, v);
		fn(c, d, v, &at);
		v[n] = save;
		v += n;
	}
}

static struct wg_quick_peer *cur_peer(struct qctx *c)
{
	return &c->q->peers[c->q->npeers - 1];
}

/* --- [Interface] ------------------------------------------------------- */

static bool set_key(struct qctx *c, const struct qkey_def *d, const char *v,
		    const struct pos *at, uint8_t key[WG_KEY_LEN])
{
	if (wg_key_from_b64(v, key))
		return true;
	sodium_memzero(key, WG_KEY_LEN);
	qerr(c, at, "%s is not a 44-character base64 key (as `wg genkey` "
	     "prints)", d->name);
	return false;
}

static void set_priv(struct qctx *c, const struct qkey_def *d, char *v,
		     const struct pos *at)
{
	c->q->has_priv = set_key(c, d, v, at, c->q->priv);
	c->q->priv_at = *at;
}

static void set_port(struct qctx *c, const struct qkey_def *d, char *v,
		     const struct pos *at)
{
	unsigned long port;

	if (!parse_uint(v, 65535, &port)) {
		qerr(c, at, "%s \"%s\" is not a port number (0-65535)",
		     d->name, v);
		return;
	}
	c->q->listen_port = (int)port;
	c->q->listen_port_at = *at;
}

static void set_fwmark(struct qctx *c, const struct qkey_def *d, char *v,
		       const struct pos *at)
{
	uint32_t mark = 0;

	if (strcasecmp(v, "off") && !parse_mark(v, &mark)) {
		qerr(c, at, "%s \"%s\" is not a 32-bit number (decimal or "
		     "0x hex) or off", d->name, v);
		return;
	}
	c->q->has_fwmark = true;
	c->q->fwmark = mark;
	c->q->fwmark_at = *at;
}

static void add_address(struct qctx *c, const struct qkey_def *d, char *v,
			const struct pos *at)
{
	struct cfg_prefix p;
	const char *why;

	if (!addr_parse(v, ADDR_PREFIX, &p, &why)) {
		qerr(c, at, "%s \"%s\": %s", d->name, v, why);
		return;
	}
	/* `ip address add` takes a lone address as /32 or /128 */
	list_add(&c->q->address, p.has_len ? xstrdup(v) :
		 xasprintf("%s/%d", v, p.len), at);
}

static void set_address(struct qctx *c, const struct qkey_def *d, char *v,
			const struct pos *at)
{
	(void)at;
	each_item(c, d, v, add_address);
}

static bool domain_valid(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' ||
		      *s == '_'))
			return false;
	return true;
}

static void add_dns(struct qctx *c, const struct qkey_def *d, char *v,
		    const struct pos *at)
{
	struct cfg_prefix p;
	const char *why;

	/* wg-quick's test: digits and dots, or a colon, is a server */
	if (strspn(v, "0123456789.") == strlen(v) || strchr(v, ':')) {
		if (!addr_parse(v, 0, &p, &why))
			qerr(c, at, "%s \"%s\": %s", d->name, v, why);
		else
			list_add(&c->q->dns, xstrdup(v), at);
	} else if (!domain_valid(v)) {
		qerr(c, at, "%s \"%s\" is neither an IP address nor a search "
		     "domain", d->name, v);
	} else {
		list_add(&c->q->dns_search, xstrdup(v), at);
	}
}

static void set_dns(struct qctx *c, const struct qkey_def *d, char *v,
		    const struct pos *at)
{
	(void)at;
	each_item(c, d, v, add_dns);
}

static void set_mtu(struct qctx *c, const struct qkey_def *d, char *v,
		    const struct pos *at)
{
	unsigned long mtu;

	if (!parse_uint(v, 65535, &mtu) || mtu < 68) {
		qerr(c, at, "%s \"%s\" is not a number from 68 to 65535",
		     d->name, v);
		return;
	}
	c->q->mtu = (int)mtu;
	c->q->mtu_at = *at;
}

static void set_table(struct qctx *c, const struct qkey_def *d, char *v,
		      const struct pos *at)
{
	(void)d;
	c->q->table = xstrdup(v);
	c->q->table_at = *at;
}

/* PreUp, PostUp, PreDown, PostDown: 0 to 3 */
static size_t hook_index(const struct qkey_def *d)
{
	return (size_t)(d - &qkeys[K_PRE_UP]);
}

static void set_hook(struct qctx *c, const struct qkey_def *d, char *v,
		     const struct pos *at)
{
	struct wg_quick_list *hooks[] = {
		&c->q->pre_up, &c->q->post_up, &c->q->pre_down,
		&c->q->post_down,
	};

	list_add(hooks[hook_index(d)], xstrdup(v), at);
}

static void set_save(struct qctx *c, const struct qkey_def *d, char *v,
		     const struct pos *at)
{
	if (strcasecmp(v, "true") && strcasecmp(v, "false")) {
		qerr(c, at, "%s is true or false, not \"%s\"", d->name, v);
		return;
	}
	c->q->save_config = !strcasecmp(v, "true");
	c->q->save_config_at = *at;
}

/* --- [Peer] -------------------------------------------------------------- */

static void set_pub(struct qctx *c, const struct qkey_def *d, char *v,
		    const struct pos *at)
{
	struct wg_quick_peer *p = cur_peer(c);

	p->pub_at = *at;
	if (!set_key(c, d, v, at, p->pub))
		return;
	for (size_t i = 0; i + 1 < c->q->npeers; i++)
		if (c->q->peers[i].has_pub &&
		    !memcmp(c->q->peers[i].pub, p->pub, WG_KEY_LEN)) {
			qerr(c, at, "%s is also the key of the [Peer] at line "
			     "%d", d->name, c->q->peers[i].pos.line);
			return;
		}
	p->has_pub = true;
}

static void set_psk(struct qctx *c, const struct qkey_def *d, char *v,
		    const struct pos *at)
{
	struct wg_quick_peer *p = cur_peer(c);

	p->has_psk = set_key(c, d, v, at, p->psk);
	p->psk_at = *at;
}

static void set_endpoint(struct qctx *c, const struct qkey_def *d, char *v,
			 const struct pos *at)
{
	const char *why;

	if (!endpoint_parse(v, &why)) {
		qerr(c, at, "%s \"%s\": %s", d->name, v, why);
		return;
	}
	cur_peer(c)->endpoint = xstrdup(v);
	cur_peer(c)->endpoint_at = *at;
}

static void add_allowed(struct qctx *c, const struct qkey_def *d, char *v,
			const struct pos *at)
{
	struct wg_allowed a;
	char text[INET6_ADDRSTRLEN + 8];

	if (!wg_allowed_parse(v, &a)) {
		qerr(c, at, "%s \"%s\" is not an address or a prefix",
		     d->name, v);
		return;
	}
	wg_allowed_format(&a, text, sizeof(text));
	list_add(&cur_peer(c)->allowed_ips, xstrdup(text), at);
}

static void set_allowed(struct qctx *c, const struct qkey_def *d, char *v,
			const struct pos *at)
{
	(void)at;
	each_item(c, d, v, add_allowed);
}

static void set_keepalive(struct qctx *c, const struct qkey_def *d, char *v,
			  const struct pos *at)
{
	unsigned long secs = 0;

	if (strcasecmp(v, "off") && !parse_uint(v, 65535, &secs)) {
		qerr(c, at, "%s \"%s\" is not a number of seconds (0-65535) "
		     "or off", d->name, v);
		return;
	}
	cur_peer(c)->keepalive = (int)secs;
	cur_peer(c)->keepalive_at = *at;
}

static const struct qkey_def qkeys[K_COUNT] = {
	[K_PRIVATE_KEY] = { "PrivateKey", SECT_INTERFACE, false, false,
			    set_priv },
	[K_LISTEN_PORT] = { "ListenPort", SECT_INTERFACE, false, false,
			    set_port },
	[K_FWMARK] = { "FwMark", SECT_INTERFACE, false, false, set_fwmark },
	[K_ADDRESS] = { "Address", SECT_INTERFACE, true, true, set_address },
	[K_DNS] = { "DNS", SECT_INTERFACE, true, true, set_dns },
	[K_MTU] = { "MTU", SECT_INTERFACE, false, false, set_mtu },
	[K_TABLE] = { "Table", SECT_INTERFACE, false, false, set_table },
	[K_PRE_UP] = { "PreUp", SECT_INTERFACE, true, true, set_hook },
	[K_POST_UP] = { "PostUp", SECT_INTERFACE, true, true, set_hook },
	[K_PRE_DOWN] = { "PreDown", SECT_INTERFACE, true, true, set_hook },
	[K_POST_DOWN] = { "PostDown", SECT_INTERFACE, true, true, set_hook },
	[K_SAVE_CONFIG] = { "SaveConfig", SECT_INTERFACE, false, false,
			    set_save },
	[K_PUBLIC_KEY] = { "PublicKey", SECT_PEER, false, false, set_pub },
	[K_PRESHARED_KEY] = { "PresharedKey", SECT_PEER, false, false,
			      set_psk },
	[K_ENDPOINT] = { "Endpoint", SECT_PEER, false, false, set_endpoint },
	[K_ALLOWED_IPS] = { "AllowedIPs", SECT_PEER, true, true, set_allowed },
	[K_KEEPALIVE] = { "PersistentKeepalive", SECT_PEER, false, false,
			  set_keepalive },
};

static const char *sect_name(enum sect s)
{
	return s == SECT_INTERFACE ? "[Interface]" : "[Peer]";
}

/* --- peer names from comments ------------------------------------------- */

/* A name as moat can label a block with: UTF-8 without control
 * characters, in NFC (as moat's HCL reads it back). NULL otherwise. */
static char *name_valid(const char *s)
{
	size_t n = strlen(s), len;

	if (!n || n > NAME_MAX_BYTES || !utf8_valid(s, n))
		return NULL;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	return uc_nfc(s, n, &len);
}

static void take_name(struct qctx *c, struct wg_quick_peer *p, char **name,
		      const struct pos *at)
{
	free(p->name);
	p->name = *name;
	p->name_at = *at;
	*name = NULL;
	c->named = true;
}

static void set_pending(struct qctx *c, char *s)
{
	char *name;
	size_t n;

	s = trim(s);
	/* wg-easy's "# Client: alice (id)": the id is no part of the name */
	n = strlen(s);
	if (n && s[n - 1] == ')') {
		char *open = strrchr(s, '(');

		if (open && open > s) {
			*open = '\0';
			s = trim(s);
		}
	}
	name = name_valid(s);
	if (!name)
		return;
	free(c->name);
	c->name = name;
	c->name_at = at_ptr(c, s);
}

/* "# Name = alice", "### Client alice" (wireguard-install), "# Client:
 * alice (id)" (wg-easy), "### begin alice ###" (PiVPN): the name of the
 * peer in or after which it stands. A lone "# alice" counts only on the
 * line right before [Peer]. */
static void comment(struct qctx *c, char *hash)
{
	static const char *const words[] = { "name", "client", "begin" };
	char *s = hash, *end;

	while (*s == '#')
		s++;
	s = trim(s);
	end = s + strlen(s);
	while (end > s && end[-1] == '#')
		*--end = '\0';
	s = trim(s);
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		size_t n = strlen(words[i]);
		char *v = s + n;

		if (strncasecmp(s, words[i], n) || !(is_blank(*v) ||
		    *v == '=' || *v == ':'))
			continue;
		v = skip_blank(v);
		if (*v == '=' || *v == ':')
			v++;
		set_pending(c, v);
		return;
	}
	if (*s && strcspn(s, " \t=:,") == strlen(s)) {
		char *name = name_valid(s);

		if (name) {
			free(c->bare);
			c->bare = name;
			c->bare_at = at_ptr(c, s);
		}
	}
}

/* --- lines --------------------------------------------------------------- */

static void section(struct qctx *c, char *s, const struct pos *at)
{
	struct wg_quick *q = c->q;
	struct wg_quick_peer *p;

	if (!strcasecmp(s, "[Interface]")) {
		if (q->has_interface)
			qerr(c, at, "a second [Interface] (the first is at "
			     "line %d)", q->interface_at.line);
		q->has_interface = true;
		q->interface_at = *at;
		c->sect = SECT_INTERFACE;
		free(c->name);
		c->name = NULL;
		return;
	}
	if (strcasecmp(s, "[Peer]")) {
		qerr(c, at, "unknown section \"%s\": a wg-quick file has "
		     "[Interface] and [Peer]", s);
		c->sect = SECT_UNKNOWN;
		return;
	}
	xgrow((void **)&q->peers, &q->peers_cap, q->npeers + 1,
	      sizeof(*q->peers));
	p = &q->peers[q->npeers++];
	memset(p, 0, sizeof(*p));
	p->pos = *at;
	p->name_at = *at;
	p->keepalive = -1;
	c->sect = SECT_PEER;
	c->named = false;
	for (int k = K_PUBLIC_KEY; k < K_COUNT; k++)
		c->seen[k] = (struct pos){ 0 };
	if (c->name)
		take_name(c, p, &c->name, &c->name_at);
	else if (c->bare && c->bare_at.line == at->line - 1)
		take_name(c, p, &c->bare, &c->bare_at);
}

static const struct qkey_def *find_key(const char *key)
{
	for (size_t k = 0; k < K_COUNT; k++)
		if (!strcasecmp(qkeys[k].name, key))
			return &qkeys[k];
	return NULL;
}

static void unknown_key(struct qctx *c, const char *key, const struct pos *at)
{
	char lower[32], cand[32];
	size_t n = strlen(key);

	if (n < sizeof(lower)) {
		for (size_t i = 0; i <= n; i++)
			lower[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ?
					  key[i] - 'A' + 'a' : key[i]);
		for (size_t k = 0; k < K_COUNT; k++) {
			const char *name = qkeys[k].name;

			for (size_t i = 0; i <= strlen(name); i++)
				cand[i] = (char)(name[i] >= 'A' &&
						 name[i] <= 'Z' ?
						 name[i] - 'A' + 'a' : name[i]);
			if (edit_distance(lower, cand, 2) <= 2) {
				qerr(c, at, "unknown key \"%s\"; did you mean "
				     "\"%s\"?", key, name);
				return;
			}
		}
	}
	qerr(c, at, "unknown key \"%s\"", key);
}

static void key_value(struct qctx *c, char *key, const struct pos *kat,
		      char *val)
{
	const struct qkey_def *d;
	struct pos vat = at_ptr(c, val);
	enum qkey k;

	if (c->sect == SECT_UNKNOWN)
		return;		/* its section was the error */
	if (!*key) {
		qerr(c, kat, "a value without a key");
		return;
	}
	d = find_key(key);
	if (!d) {
		unknown_key(c, key, kat);
		return;
	}
	k = (enum qkey)(d - qkeys);
	if (c->sect == SECT_NONE) {
		qerr(c, kat, "%s comes before any section: it belongs in %s",
		     d->name, sect_name(d->sect));
		return;
	}
	if (c->sect != d->sect) {
		qerr(c, kat, "%s belongs in %s, not in %s", d->name,
		     sect_name(d->sect), sect_name(c->sect));
		return;
	}
	if (c->name && c->sect == SECT_PEER && !c->named)
		take_name(c, cur_peer(c), &c->name, &c->name_at);
	free(c->name);		/* a name comment among [Interface] keys */
	c->name = NULL;
	if (!d->multi) {
		if (c->seen[k].line) {
			qerr(c, kat, "%s is given twice (first at line %d)",
			     d->name, c->seen[k].line);
			return;
		}
		c->seen[k] = *kat;
	}
	if (!*val && !d->may_be_empty) {
		qerr(c, &vat, "%s has no value", d->name);
		return;
	}
	d->set(c, d, val, &vat);
}

static void parse_line(struct qctx *c, const char *raw, size_t n)
{
	char *line, *p, *hash, *eq;
	struct pos at = { c->q->file, c->lineno, 1 };

	if (memchr(raw, '\0', n)) {
		qerr(c, &at, "a NUL byte in the line");
		return;
	}
	line = xstrndup(raw, n);
	c->line = line;
	c->col_p = NULL;
	hash = strchr(line, '#');
	p = skip_blank(line);
	if (hash && p == hash) {
		comment(c, hash);
		goto out;
	}
	if (hash)
		*hash = '\0';	/* as wg-quick: a '#' anywhere starts one */
	p = trim(p);
	if (!*p)
		goto out;
	at = at_ptr(c, p);
	if (*p == '[') {
		section(c, p, &at);
		goto out;
	}
	eq = strchr(p, '=');
	if (!eq) {
		if (c->sect != SECT_UNKNOWN)
			qerr(c, &at, "expected KEY = VALUE or a [Section]");
		goto out;
	}
	*eq = '\0';
	key_value(c, trim(p), &at, trim(eq + 1));
out:
	sodium_memzero(line, n);	/* it may have held a key */
	free(line);
	c->line = NULL;
	c->col_p = NULL;
}

static size_t name_find(const struct wg_quick *q, size_t before,
			const char *name)
{
	for (size_t j = 0; j < before; j++)
		if (!strcmp(q->peers[j].name, name))
			return j;
	return before;
}

/* Every peer named, each name once: a name taken gets "-2", "-3", ...
 * counted on the peer that took it first. */
static void name_peers(struct qctx *c)
{
	struct wg_quick *q = c->q;
	unsigned *next = xcalloc(q->npeers + 1, sizeof(*next));

	for (size_t i = 0; i < q->npeers; i++) {
		struct wg_quick_peer *p = &q->peers[i];
		size_t first;
		char *base;

		if (!p->name)
			p->name = xasprintf("peer%zu", i + 1);
		first = name_find(q, i, p->name);
		if (first == i)
			continue;
		base = p->name;
		p->name = NULL;
		do {
			free(p->name);
			p->name = xasprintf("%s-%u", base,
					    next[first] = next[first] ?
					    next[first] + 1 : 2);
		} while (name_find(q, i, p->name) < i);
		diag_warn(c->dl, &p->name_at, "peer name \"%s\" is taken; "
			  "this peer is \"%s\"", base, p->name);
		free(base);
	}
	free(next);
}

static void finish(struct qctx *c)
{
	struct wg_quick *q = c->q;
	struct pos file_at = { q->file, 0, 0 };

	if (c->name && c->sect == SECT_PEER && !c->named)
		take_name(c, cur_peer(c), &c->name, &c->name_at);
	if (!q->has_interface)
		qerr(c, &file_at, "no [Interface] section");
	for (size_t i = 0; i < q->npeers; i++)
		if (!q->peers[i].has_pub && !q->peers[i].pub_at.line)
			qerr(c, &q->peers[i].pos, "[Peer] has no PublicKey");
	if (!c->errors)
		name_peers(c);
}

int wg_quick_parse(const char *text, size_t len, const char *file,
		   struct wg_quick *out, struct diag_list *dl)
{
	struct qctx c = { .q = out, .dl = dl };
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	out->file = xstrdup(file ? file : "");
	out->listen_port = -1;
	out->save_config = -1;
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;

		c.lineno++;
		parse_line(&c, text + off, n);
		off += n + 1;
	}
	finish(&c);
	free(c.name);
	free(c.bare);
	if (c.errors) {
		wg_quick_free(out);
		return -1;
	}
	return 0;
}

void wg_quick_free(struct wg_quick *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->npeers; i++) {
		struct wg_quick_peer *p = &q->peers[i];

		free(p->name);
		free(p->endpoint);
		list_free(&p->allowed_ips);
	}
	if (q->peers)
		sodium_memzero(q->peers, q->peers_cap * sizeof(*q->peers));
	free(q->peers);
	list_free(&q->address);
	list_free(&q->dns);
	list_free(&q->dns_search);
	list_free(&q->pre_up);
	list_free(&q->post_up);
	list_free(&q->pre_down);
	list_free(&q->post_down);
	free(q->table);
	free(q->file);
	sodium_memzero(q, sizeof(*q));
}

/* --- text that may hold keys (struct buf with secret set) --------------- */

static void out_key(struct buf *b, const uint8_t key[WG_KEY_LEN])
{
	char s[WG_KEY_B64];

	wg_key_to_b64(key, s);
	buf_adds(b, s);
	sodium_memzero(s, sizeof(s));
}

/* --- moat HCL ------------------------------------------------------------ */

/* An HCL string literal: escapes, and $${ / %%{ so nothing is a
 * template (as config/print.c writes them). */
static void out_str(struct buf *b, const char *s)
{
	buf_adds(b, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch == '\n')
			buf_adds(b, "\\n");
		else if (ch == '\r')
			buf_adds(b, "\\r");
		else if (ch == '\t')
			buf_adds(b, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			buf_printf(b, "\\u%04x", ch);
		else if ((ch == '$' || ch == '%') && s[1] == '{')
			buf_printf(b, "%c%c", ch, ch);
		else
			buf_add(b, s, 1);
	}
	buf_adds(b, "\"");
}

/* One block's attributes, '=' aligned as `moat config print` and the
 * examples write them. val is HCL text; it may hold a key. */
struct attr {
	const char *key;
	char *val;
};

struct attrs {
	struct attr v[16];
	size_t n;
};

static struct buf *attr_new(struct attrs *a, const char *key,
			    struct buf *tmp)
{
	if (a->n == ARRAY_SIZE(a->v))
		fatal("wg_quick_to_hcl: too many attributes");
	a->v[a->n].key = key;
	*tmp = (struct buf)BUF_SECRET_INIT;
	return tmp;
}

static void attr_end(struct attrs *a, struct buf *tmp)
{
	a->v[a->n++].val = buf_steal(tmp);
}

static void attr_str(struct attrs *a, const char *key, const char *s)
{
	struct buf t;

	out_str(attr_new(a, key, &t), s);
	attr_end(a, &t);
}

static void attr_key(struct attrs *a, const char *key,
		     const uint8_t k[WG_KEY_LEN])
{
	struct buf t;

	buf_adds(attr_new(a, key, &t), "\"");
	out_key(&t, k);
	buf_adds(&t, "\"");
	attr_end(a, &t);
}

static void attr_raw(struct attrs *a, const char *key, const char *text)
{
	struct buf t;

	buf_adds(attr_new(a, key, &t), text);
	attr_end(a, &t);
}

static void attr_num(struct attrs *a, const char *key, long long v)
{
	struct buf t;

	buf_printf(attr_new(a, key, &t), "%lld", v);
	attr_end(a, &t);
}

static void attr_list(struct attrs *a, const char *key,
		      const struct wg_quick_list *l)
{
	struct buf t;

	if (!l->n)
		return;
	buf_adds(attr_new(a, key, &t), "[");
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			buf_adds(&t, ", ");
		out_str(&t, l->v[i]);
	}
	buf_adds(&t, "]");
	attr_end(a, &t);
}

static void attrs_print(struct buf *b, int depth, struct attrs *a)
{
	int w = 0;

	for (size_t i = 0; i < a->n; i++)
		if ((int)strlen(a->v[i].key) > w)
			w = (int)strlen(a->v[i].key);
	for (size_t i = 0; i < a->n; i++) {
		buf_printf(b, "%*s%-*s = ", depth * 2, "", w, a->v[i].key);
		buf_adds(b, a->v[i].val);
		buf_adds(b, "\n");
		sodium_memzero(a->v[i].val, strlen(a->v[i].val));
		free(a->v[i].val);
	}
	a->n = 0;
}

static void hcl_peer(struct buf *b, const struct wg_quick_peer *p)
{
	struct attrs a = { .n = 0 };

	buf_adds(b, "\n    peer ");
	out_str(b, p->name);
	buf_adds(b, " {\n");
	attr_key(&a, "public_key", p->pub);
	if (p->has_psk)
		attr_key(&a, "preshared_key", p->psk);
	if (p->endpoint)
		attr_str(&a, "endpoint", p->endpoint);
	attr_list(&a, "allowed_ips", &p->allowed_ips);
	if (p->keepalive > 0)
		attr_num(&a, "persistent_keepalive", p->keepalive);
	attrs_print(b, 3, &a);
	buf_adds(b, "    }\n");
}

/* "off", "auto", a number, or a name of iproute2's own tables. */
static const char *hcl_table(const char *t)
{
	static const char *const names[][2] = {
		{ "off", "off" }, { "auto", "auto" }, { "main", "254" },
		{ "local", "255" }, { "default", "253" },
	};
	unsigned long n;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(t, names[i][0]))
			return names[i][1];
	if (parse_uint(t, 0xffffffffUL, &n) && n)
		return t;
	return NULL;
}

/* What moat does not do: a warning each, at its line. */
static void hcl_warnings(const struct wg_quick *q, struct diag_list *dl)
{
	const struct { const char *key; const struct wg_quick_list *l; }
	hooks[] = {
		{ "PreUp", &q->pre_up }, { "PostUp", &q->post_up },
		{ "PreDown", &q->pre_down }, { "PostDown", &q->post_down },
	};

	for (size_t h = 0; h < ARRAY_SIZE(hooks); h++)
		for (size_t i = 0; i < hooks[h].l->n; i++)
			diag_warn(dl, &hooks[h].l->at[i], "%s is not run by "
				  "moat: %s", hooks[h].key, hooks[h].l->v[i]);
	if (q->save_config >= 0)
		diag_warn(dl, &q->save_config_at, "SaveConfig is not "
			  "converted: moat never writes the running device "
			  "back to its config");
	for (size_t i = 0; i < q->dns_search.n; i++)
		diag_warn(dl, &q->dns_search.at[i], "DNS search domain "
			  "\"%s\" is left out: moat's dns takes server "
			  "addresses only", q->dns_search.v[i]);
}

char *wg_quick_to_hcl(const struct wg_quick *q, const char *name,
		      struct diag_list *dl)
{
	struct pos file_at = { q->file, 0, 0 };
	size_t errors = dl->nerrors;
	struct attrs a = { .n = 0 };
	struct buf b = BUF_SECRET_INIT;
	const char *why, *table = NULL;

	if (!ifname_valid(name, false, &why))
		diag_error(dl, &file_at, "interface name \"%s\": %s", name,
			   why);
	if (q->table && !(table = hcl_table(q->table)))
		diag_error(dl, &q->table_at, "Table \"%s\": moat takes off, "
			   "auto or a routing table number", q->table);
	if (q->mtu && q->mtu < 1280)
		diag_error(dl, &q->mtu_at, "MTU %d: moat takes 1280-65535 "
			   "(the least IPv6 allows)", q->mtu);
	hcl_warnings(q, dl);
	if (dl->nerrors > errors)
		return NULL;

	buf_adds(&b, "vpn {\n  wireguard ");
	out_str(&b, name);
	buf_adds(&b, " {\n");
	attr_raw(&a, "enabled", "true");
	attr_str(&a, "interface", name);
	if (q->has_priv)
		attr_key(&a, "private_key", q->priv);
	if (q->listen_port > 0)
		attr_num(&a, "listen_port", q->listen_port);
	attr_list(&a, "address", &q->address);
	attr_list(&a, "dns", &q->dns);
	if (q->mtu)
		attr_num(&a, "mtu", q->mtu);
	if (q->has_fwmark && q->fwmark)
		attr_num(&a, "fwmark", q->fwmark);
	if (table)
		attr_str(&a, "table", table);
	attrs_print(&b, 2, &a);
	for (size_t i = 0; i < q->npeers; i++)
		hcl_peer(&b, &q->peers[i]);
	buf_adds(&b, "  }\n}\n");
	return buf_steal(&b);
}

/* --- a client's file ---------------------------------------------------- */

static void client_list(struct buf *b, const char *key, char *const *v,
			size_t n)
{
	if (!n)
		return;
	buf_printf(b, "%s = ", key);
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s%s", i ? ", " : "", v[i]);
	buf_adds(b, "\n");
}

char *wg_quick_client(const struct wg_client_conf *c)
{
	struct buf b = BUF_SECRET_INIT;

	buf_adds(&b, "[Interface]\n");
	if (c->has_priv) {
		buf_adds(&b, "PrivateKey = ");
		out_key(&b, c->priv);
		buf_adds(&b, "\n");
	} else {
		buf_adds(&b, "# PrivateKey = (kept by the client)\n");
	}
	client_list(&b, "Address", c->address, c->naddress);
	client_list(&b, "DNS", c->dns, c->ndns);
	if (c->mtu)
		buf_printf(&b, "MTU = %d\n", c->mtu);
	buf_adds(&b, "\n[Peer]\nPublicKey = ");
	out_key(&b, c->server_pub);
	buf_adds(&b, "\n");
	if (c->has_psk) {
		buf_adds(&b, "PresharedKey = ");
		out_key(&b, c->psk);
		buf_adds(&b, "\n");
	}
	if (c->endpoint)
		buf_printf(&b, "Endpoint = %s\n", c->endpoint);
	client_list(&b, "AllowedIPs", c->allowed_ips, c->nallowed);
	if (c->keepalive > 0)
		buf_printf(&b, "PersistentKeepalive = %d\n", c->keepalive);
	return buf_steal(&b);
}
