/* Address, endpoint, interface-name and key syntax. */
#include "config/addr.h"
#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool addr_parse(const char *s, unsigned flags, struct cfg_prefix *p,
		const char **why)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	memset(p, 0, sizeof(*p));
	if (n == 0 || n >= sizeof(buf)) {
		*why = "not an IP address";
		return false;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		*why = "not an IP address";
		return false;
	}
	if ((flags & ADDR_V4) && p->family != AF_INET) {
		*why = "not an IPv4 address";
		return false;
	}
	if ((flags & ADDR_V6) && p->family != AF_INET6) {
		*why = "not an IPv6 address";
		return false;
	}
	p->len = max;
	if (slash) {
		char *end;
		long l;

		if (!(flags & (ADDR_PREFIX | ADDR_NEED_PREFIX))) {
			*why = "a single address is needed here, without /LEN";
			return false;
		}
		errno = 0;
		l = strtol(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end || errno ||
		    l < 0 || l > max) {
			*why = p->family == AF_INET ?
			       "the prefix length must be 0-32" :
			       "the prefix length must be 0-128";
			return false;
		}
		p->len = (int)l;
		p->has_len = true;
	} else if (flags & ADDR_NEED_PREFIX) {
		*why = "a prefix length is needed (ADDRESS/LEN)";
		return false;
	}
	return true;
}

bool endpoint_parse(const char *s, const char **why)
{
	const char *colon;
	char *end;
	long port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		char buf[64];
		uint8_t a[16];

		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(buf)) {
			*why = "expected [IPv6]:PORT";
			return false;
		}
		memcpy(buf, s + 1, (size_t)(close - s - 1));
		buf[close - s - 1] = '\0';
		if (inet_pton(AF_INET6, buf, a) != 1) {
			*why = "not an IPv6 address inside [...]";
			return false;
		}
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s) {
			*why = "expected HOST:PORT";
			return false;
		}
		for (const char *c = s; c < colon; c++) {
			if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-') {
				*why = "the host must be an IPv4 address or a "
				       "DNS name (IPv6 goes in [...])";
				return false;
			}
		}
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end || errno || port < 1 ||
	    port > 65535) {
		*why = "the port must be 1-65535";
		return false;
	}
	return true;
}

bool ifname_valid(const char *s, bool wildcard, const char **why)
{
	size_t n = strlen(s);

	if (wildcard && n > 1 && s[n - 1] == '+')
		n--;
	if (n == 0 || n > 15) {
		*why = "interface names are 1 to 15 characters";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == '/' || c == ':' || c >= 0x7f ||
		    c == '+') {
			*why = "interface names cannot contain spaces, '/', "
			       "':', '+' (except a wildcard's last) or non-ASCII "
			       "characters";
			return false;
		}
	}
	if (!strcmp(s, ".") || !strcmp(s, "..")) {
		*why = "not an interface name";
		return false;
	}
	return true;
}

bool wg_key_valid(const char *s)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *last;

	if (strlen(s) != 44 || s[43] != '=')
		return false;
	for (int i = 0; i < 43; i++)
		if (!strchr(b64, s[i]) || !s[i])
			return false;
	/* 32 bytes leave the last character's low two bits zero */
	last = strchr(b64, s[42]);
	return ((last - b64) & 3) == 0;
}

bool mark_parse(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > 0xffffffffULL)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool listen_parse(const char *s, struct sockaddr_storage *out,
		  unsigned *len)
{
	const char *colon = strrchr(s, ':');
	struct sockaddr_storage ss;
	char host[64];
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host) || !colon[1] ||
	    colon[1] == '-' || colon[1] == '+')
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (host[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			return false;
		host[n - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return false;
		if (len)
			*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (host[0] && inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return false;
		if (len)
			*len = sizeof(*a);
	}
	if (out)
		*out = ss;
	return true;
}

bool duration_parse(const char *s, long long *ms)
{
	static const struct { char unit; long long ms; } units[] = {
		{ '\0', 1000 }, { 's', 1000 }, { 'm', 60000 },
		{ 'h', 3600000 }, { 'd', 86400000 },
	};
	unsigned long long n = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return false;	/* strtoul would take "-5" and " 5" */
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (unsigned)(*p - '0');
		if (n > 10ULL * 366 * 86400)
			return false;
	}
	if (*p && p[1])
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == *p) {
			long long v = (long long)n * units[i].ms;

			if (!n || v > 10LL * 366 * 86400000)
				return false;
			if (ms)
				*ms = v;
			return true;
		}
	return false;
}

bool listen_is_loopback(const char *s)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&ss;

	if (!listen_parse(s, &ss, NULL))
		return false;
	if (ss.ss_family == AF_INET)
		return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) &&
		v6->sin6_addr.s6_addr[12] == 127);
}
