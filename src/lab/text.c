/* The lab's names, and the text it reads back from ip and /proc. Pure:
 * whoever reads the text passes it in. */
#include "lab/lab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"

static bool node_name_valid(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789");

	return n && !s[n] && n < LAB_NAMSIZ;
}

bool lab_id_valid(const char *id)
{
	return !*id || (strlen(id) <= LAB_ID_MAX && node_name_valid(id));
}

void lab_ns_name(const char *id, const char *node, char *buf)
{
	snprintf(buf, 64, LAB_NS_PREFIX "%s%s%s", id, *id ? "-" : "", node);
}

/* Node names have no '-', so the default lab never claims another lab's
 * namespaces (moat-lab-t1-gw), nor they its. */
bool lab_ns_node(const char *id, const char *ns, char *node)
{
	size_t p = strlen(LAB_NS_PREFIX), n = strlen(id);

	if (strncmp(ns, LAB_NS_PREFIX, p))
		return false;
	ns += p;
	if (n) {
		if (strncmp(ns, id, n) || ns[n] != '-')
			return false;
		ns += n + 1;
	}
	if (!node_name_valid(ns))
		return false;
	strcpy(node, ns);
	return true;
}

/* Lines of /proc/net/{tcp,udp}{,6}: "N: LOCALHEX:PORT REMOTE:PORT ST ...".
 * A listening TCP socket is in state 0A; a bound UDP one in 07. */
bool lab_proc_net_listening(const char *text, uint16_t port, bool udp)
{
	const char *line = strchr(text, '\n');

	while (line && *++line) {
		unsigned lport, st;

		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
			   &lport, &st) == 2 && lport == port &&
		    st == (udp ? 0x07u : 0x0Au))
			return true;
		line = strchr(line, '\n');
	}
	return false;
}

/* "PID (COMM) S PPID ...": comm may hold spaces and parentheses, so the
 * fields are counted from the last ')'. starttime is field 22. */
bool lab_proc_stat(const char *text, char *state,
		   unsigned long long *starttime)
{
	const char *p = strrchr(text, ')');
	int field = 2;

	if (!p || p[1] != ' ' || !p[2])
		return false;
	*state = p[2];
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return field == 22 && sscanf(p, "%llu", starttime) == 1;
}

void lab_proc_format(const struct lab_proc *p, char *buf)
{
	snprintf(buf, 128, "%d %llu %s %s\n", p->pid, p->starttime, p->node,
		 p->what);
}

bool lab_proc_parse(const char *line, struct lab_proc *p)
{
	memset(p, 0, sizeof(*p));
	return sscanf(line, "%d %llu %15s %31s", &p->pid, &p->starttime,
		      p->node, p->what) == 4 && p->pid > 0;
}

void lab_procs_push(struct lab_procs *l, const struct lab_proc *p)
{
	xgrow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = *p;
}

void lab_procs_free(struct lab_procs *l)
{
	free(l->v);
	*l = (struct lab_procs){ 0 };
}

static bool boring_addr(const char *a)
{
	return !strcmp(a, "127.0.0.1/8") || !strcmp(a, "::1/128") ||
	       !strncmp(a, "fe80:", 5);
}

/* One line of `ip -br addr`: "NAME[@PEER] STATE ADDR...". */
static void brief_line(struct buf *b, char *line)
{
	char *name, *state, *a, *save = NULL;
	size_t before = b->len;
	bool any = false;

	name = strtok_r(line, " \t", &save);
	state = strtok_r(NULL, " \t", &save);
	if (!name || !state)
		return;
	name[strcspn(name, "@")] = '\0';
	if (b->len)
		buf_adds(b, ", ");
	buf_adds(b, name);
	while ((a = strtok_r(NULL, " \t", &save))) {
		if (boring_addr(a))
			continue;
		buf_printf(b, " %s", a);
		any = true;
	}
	if (!strcmp(name, "lo")) {
		if (!any) {
			b->len = before;
			b->p[before] = '\0';
		}
		return;
	}
	if (!any)
		buf_adds(b, " (no address)");
	if (!strcmp(state, "DOWN"))
		buf_adds(b, " (down)");
}

char *lab_brief_addrs(const char *text)
{
	struct buf b = BUF_INIT;
	char *copy = xstrdup(text), *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		brief_line(&b, line);
	free(copy);
	return buf_steal(&b);
}
