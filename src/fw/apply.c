/* Applying a plan: one libnftables run of
 *     table inet moat; delete table inet moat; table inet moat { ... }
 * which the kernel commits as one transaction or not at all. The script
 * is handed to libnftables as a file (a memfd) so that its messages carry
 * line numbers, which fw_explain maps back to config lines.
 *
 * An unchanged plan is recognised by the hash in the table's comment,
 * read with one small netlink request, without loading anything. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nftables/libnftables.h>
#include <sodium.h>

#include "base/buf.h"
#include "base/file.h"
#include "fw/apply.h"
#include "fw/nl.h"

/* Replacing the table, not adding to it: the first line creates it when
 * absent so that the delete always has something to delete. */
static const char preamble[] =
	"table " FW_FAMILY " " FW_TABLE "\n"
	"delete table " FW_FAMILY " " FW_TABLE "\n";
#define PREAMBLE_LINES 2

/* --- state ---------------------------------------------------------------- */

static char *state_path(const char *dir)
{
	return xasprintf("%s/fw.state", dir);
}

int fw_state_load(const char *dir, struct fw_state *st)
{
	char *path = state_path(dir), line[1200];
	FILE *f = fopen(path, "re");

	memset(st, 0, sizeof(*st));
	free(path);
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "hash=", 5) &&
		    strlen(line + 5) == FW_HASH_HEX)
			memcpy(st->hash, line + 5, FW_HASH_HEX + 1);
		else if (!strncmp(line, "content=", 8) &&
			 strlen(line + 8) == FW_HASH_HEX)
			memcpy(st->content, line + 8, FW_HASH_HEX + 1);
		else if (!strncmp(line, "genid=", 6))
			st->genid = strtoul(line + 6, NULL, 10);
		else if (!strncmp(line, "applied_at=", 11))
			st->applied_at = strtoll(line + 11, NULL, 10);
		else if (!strncmp(line, "failed_at=", 10))
			st->failed_at = strtoll(line + 10, NULL, 10);
		else if (!strncmp(line, "error=", 6))
		{
			size_t n = strlen(line + 6);

			n = n < sizeof(st->error) ? n : sizeof(st->error) - 1;
			memcpy(st->error, line + 6, n);
			st->error[n] = '\0';
		}
	}
	fclose(f);
	return 0;
}

/* Written whole or not at all: a reader never sees half. */
static void state_save(const char *dir, const struct fw_state *st)
{
	char *path, *text;

	if (!dir)
		return;
	path = state_path(dir);
	text = xasprintf("hash=%s\ncontent=%s\ngenid=%lu\napplied_at=%lld\n"
			 "failed_at=%lld\nerror=%s\n", st->hash, st->content,
			 st->genid, st->applied_at, st->failed_at, st->error);
	file_write_atomic(path, text, strlen(text), 0750);
	free(text);
	free(path);
}

static void note_failure(const struct fw_apply_opts *o, struct diag_list *dl)
{
	struct fw_state st;

	if (!o->state_dir || o->dry_run)
		return;
	fw_state_load(o->state_dir, &st);
	st.failed_at = (long long)time(NULL);
	diag_first_error(dl, 0, "the apply failed", st.error,
			 sizeof(st.error));
	state_save(o->state_dir, &st);
}

/* --- sysctls ----------------------------------------------------------- */

static int sysctl_set(const struct fw_sysctl *s, struct diag_list *dl)
{
	char *path = xasprintf("/proc/sys/%s", s->path), cur[16] = "";
	int fd = open(path, O_RDWR | O_CLOEXEC), r = 0;
	ssize_t n;

	if (fd < 0) {
		r = -errno;
		goto out;
	}
	n = read(fd, cur, sizeof(cur) - 1);
	if (n > 0 && !strncmp(cur, s->value, strlen(s->value)) &&
	    cur[strlen(s->value)] == '\n')
		goto out;	/* already so */
	if (lseek(fd, 0, SEEK_SET) < 0 ||
	    (r = file_write_all(fd, s->value, strlen(s->value))) < 0)
		r = r ? r : -errno;
out:
	if (r < 0)
		diag_error(dl, &s->pos, "cannot set %s to %s: %s", path,
			   s->value, strerror(-r));
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* --- the transaction ------------------------------------------------------ */

static int load(const struct fw_plan *plan, bool dry_run,
		struct diag_list *dl)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	char path[64];
	int fd = -1, r = -1;

	if (!nft) {
		diag_error(dl, NULL, "libnftables: cannot create a context");
		return -1;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	nft_ctx_set_dry_run(nft, dry_run);
	fd = memfd_create("moat.nft", MFD_CLOEXEC);
	if (fd < 0 || file_write_all(fd, preamble, sizeof(preamble) - 1) < 0 ||
	    file_write_all(fd, plan->script, plan->len) < 0) {
		diag_error(dl, NULL, "cannot stage the ruleset: %s",
			   strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (nft_run_cmd_from_filename(nft, path) == 0) {
		r = 0;
		goto out;
	}
	fw_explain(plan, nft_ctx_get_error_buffer(nft), PREAMBLE_LINES, dl);
out:
	if (fd >= 0)
		close(fd);
	nft_ctx_free(nft);
	return r;
}

/* Removes table inet moat (what `moat ctl --flush-on-exit` leaves). */
int fw_remove(struct diag_list *dl)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int r;

	if (!nft) {
		diag_error(dl, NULL, "libnftables: cannot create a context");
		return -1;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	r = nft_run_cmd_from_buffer(nft, preamble);
	if (r)
		diag_error(dl, NULL, "removing table %s %s: %s", FW_FAMILY,
			   FW_TABLE, nft_ctx_get_error_buffer(nft));
	nft_ctx_free(nft);
	return r ? -1 : 0;
}

/* Whether the kernel holds plan already. The hash in the table's comment
 * says which config was loaded; the generation count says whether anyone
 * committed anything since. When someone did, the table is fingerprinted
 * and compared with its fingerprint right after moat's last apply (or,
 * without one, its chains, rules and sets are counted against the plan),
 * so that a rule added, removed or replaced by hand is put right by the
 * next apply. */
static bool unchanged(struct fw_nl *nl, const struct fw_plan *plan,
		      const struct fw_kernel *k, const struct fw_state *st,
		      uint32_t genid, char *content)
{
	struct fw_kernel full;

	if (!k->ours || strcmp(k->hash, plan->hash))
		return false;
	if (st && !strcmp(st->hash, plan->hash) && st->genid == genid) {
		memcpy(content, st->content, FW_HASH_HEX + 1);
		return true;
	}
	if (fw_nl_inspect(nl, &full) < 0)
		return false;
	memcpy(content, full.content, FW_HASH_HEX + 1);
	if (st && !strcmp(st->hash, plan->hash) && st->content[0])
		return !strcmp(st->content, full.content);
	return full.nchains == plan->nchains && full.nrules == plan->nrules &&
	       full.nsets == plan->nsets;
}

int fw_apply(const struct fw_plan *plan, const struct fw_apply_opts *o,
	     enum fw_outcome *out, struct diag_list *dl)
{
	struct fw_kernel k = { 0 };
	struct fw_nl nl = { 0 };
	struct fw_state st;
	bool have_st = o->state_dir && fw_state_load(o->state_dir, &st) == 0;
	char content[FW_HASH_HEX + 1] = "";
	uint32_t genid = 0;
	int r;

	r = fw_nl_open(&nl);
	if (r == 0)
		r = fw_nl_table(&nl, &k);
	if (r == 0)
		r = fw_nl_genid(&nl, &genid);
	if (r < 0) {
		fw_nl_close(&nl);
		diag_error(dl, NULL, "cannot read nftables: %s%s", strerror(-r),
			   r == -EPERM ? " (moat apply needs root or "
			   "CAP_NET_ADMIN)" : "");
		return -1;
	}
	if (!o->force && !o->dry_run &&
	    unchanged(&nl, plan, &k, have_st ? &st : NULL, genid, content)) {
		*out = FW_UNCHANGED;
	} else {
		if (load(plan, o->dry_run, dl) < 0) {
			fw_nl_close(&nl);
			note_failure(o, dl);
			return -1;
		}
		*out = o->dry_run ? FW_CHECKED : FW_APPLIED;
		if (!o->dry_run) {
			/* what the kernel holds now, to notice changes */
			struct fw_kernel now;

			if (fw_nl_inspect(&nl, &now) == 0)
				memcpy(content, now.content, sizeof(content));
			fw_nl_genid(&nl, &genid);
		}
	}
	fw_nl_close(&nl);
	if (o->genid)
		*o->genid = genid;
	if (o->dry_run)
		return 0;
	for (size_t i = 0; i < plan->nsysctl; i++)
		if (sysctl_set(&plan->sysctl[i], dl) < 0) {
			note_failure(o, dl);
			return -1;
		}
	if (o->state_dir && (*out == FW_APPLIED || !have_st ||
			     strcmp(st.hash, plan->hash) || st.failed_at ||
			     st.genid != genid)) {
		/* the unchanged path writes nothing when all is known */
		memset(&st, 0, sizeof(st));
		memcpy(st.hash, plan->hash, sizeof(st.hash));
		memcpy(st.content, content, sizeof(st.content));
		st.genid = genid;
		st.applied_at = (long long)time(NULL);
		state_save(o->state_dir, &st);
	}
	return 0;
}

/* --- the no-op fast path ----------------------------------------------------
 *
 * Parsing and compiling a config of 10,000 rules takes about 100 ms; an
 * unchanged apply should cost a few. So after every successful apply moat
 * remembers, per config path and network namespace, the file's identity
 * (device, inode, size, mtime and ctime: an edit changes ctime, which no
 * one can set back), the values of the ${NAME}s it reads, moat's version,
 * the plan's hash, the ruleset generation and the sysctls. When all of it
 * still matches and the kernel's table carries the hash at that
 * generation, nothing can have changed, and the config is not even read.
 * The identity is taken before the file is read, so an edit racing an
 * apply only ever makes the next apply take the slow path. */

/* $MOAT_RUN_DIR, for tests and benchmarks that must not leave files on
 * the machine; /run is emptied at boot, as the ruleset is. */
static const char *fast_dir(void)
{
	const char *d = getenv("MOAT_RUN_DIR");

	return d && *d ? d : "/run/moat";
}

bool fw_fast_stat(const char *path, struct fw_fast_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (!strcmp(path, "-") || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	id->v[0] = (long long)st.st_dev;
	id->v[1] = (long long)st.st_ino;
	id->v[2] = (long long)st.st_size;
	id->v[3] = (long long)st.st_mtim.tv_sec;
	id->v[4] = st.st_mtim.tv_nsec;
	id->v[5] = (long long)st.st_ctim.tv_sec;
	id->v[6] = st.st_ctim.tv_nsec;
	return true;
}

/* The ${NAME}s of a config, "A,B,C" (names are [A-Za-z0-9_]). */
static char *env_names(const char *src, size_t len)
{
	struct buf b = BUF_INIT;

	for (const char *p = src, *e = src + len;
	     (p = memmem(p, (size_t)(e - p), "${", 2)); p += 2) {
		size_t k = 0;

		while (p + 2 + k < e && (isalnum((unsigned char)p[2 + k]) ||
					 p[2 + k] == '_'))
			k++;
		if (k && k < 200) {
			buf_adds(&b, b.len ? "," : "");
			buf_add(&b, p + 2, k);
		}
	}
	return buf_steal(&b);
}

/* What the environment and moat's version say, as a hex key. */
static void env_key(const char *names, char *hex)
{
	crypto_generichash_state h;
	unsigned char d[32];
	char *copy = xstrdup(names), *save = NULL;

	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	crypto_generichash_update(&h, (const void *)MOAT_VERSION,
				  sizeof(MOAT_VERSION));
	for (char *n = strtok_r(copy, ",", &save); n;
	     n = strtok_r(NULL, ",", &save)) {
		const char *v = getenv(n);

		crypto_generichash_update(&h, (const void *)n, strlen(n) + 1);
		crypto_generichash_update(&h, (const void *)(v ? v : "\1"),
					  v ? strlen(v) + 1 : 1);
	}
	crypto_generichash_final(&h, d, sizeof(d));
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	free(copy);
}

/* RUN_DIR/fw-fast-ID, ID naming the config's path and the namespace. */
static char *fast_path(const char *path)
{
	char *real = realpath(path, NULL), id[17];
	unsigned char d[8];
	struct stat ns;
	crypto_generichash_state h;

	if (!real || stat("/proc/self/ns/net", &ns) < 0) {
		free(real);
		return NULL;
	}
	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	crypto_generichash_update(&h, (const void *)real, strlen(real) + 1);
	crypto_generichash_update(&h, (const void *)&ns.st_ino,
				  sizeof(ns.st_ino));
	crypto_generichash_update(&h, (const void *)&ns.st_dev,
				  sizeof(ns.st_dev));
	crypto_generichash_final(&h, d, sizeof(d));
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(id + 2 * i, 3, "%02x", d[i]);
	free(real);
	return xasprintf("%s/fw-fast-%s", fast_dir(), id);
}

static void id_text(const struct fw_fast_id *id, char *out, size_t n)
{
	snprintf(out, n, "%lld:%lld:%lld:%lld.%lld:%lld.%lld", id->v[0],
		 id->v[1], id->v[2], id->v[3], id->v[4], id->v[5], id->v[6]);
}

bool fw_fast_unchanged(const char *path, char *hash, char *state_dir,
		       size_t n, struct diag_list *dl)
{
	char *file = fast_path(path), line[1024], want_id[160] = "";
	char have_id[160], want_env[65] = "", have_env[65];
	char names[1024] = "", state[512] = "";
	struct fw_state st;
	struct fw_sysctl sys[ARRAY_SIZE(((struct fw_plan *)0)->sysctl)];
	char sysval[ARRAY_SIZE(sys)][2][128];
	struct fw_fast_id id;
	size_t nsys = 0;
	unsigned long genid = 0;
	uint32_t now = 0;
	struct fw_kernel k;
	struct fw_nl nl = { 0 };
	bool ok = false;
	FILE *f;

	hash[0] = '\0';
	if (n)
		state_dir[0] = '\0';
	if (!file || !fw_fast_stat(path, &id)) {
		free(file);
		return false;
	}
	f = fopen(file, "re");
	free(file);
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *eq;

		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "file=", 5))
			snprintf(want_id, sizeof(want_id), "%.150s", line + 5);
		else if (!strncmp(line, "env=", 4))
			snprintf(want_env, sizeof(want_env), "%.64s", line + 4);
		else if (!strncmp(line, "names=", 6))
			snprintf(names, sizeof(names), "%.1000s", line + 6);
		else if (!strncmp(line, "state=", 6))
			snprintf(state, sizeof(state), "%.500s", line + 6);
		else if (!strncmp(line, "hash=", 5) &&
			 strlen(line + 5) == FW_HASH_HEX)
			memcpy(hash, line + 5, FW_HASH_HEX + 1);
		else if (!strncmp(line, "genid=", 6))
			genid = strtoul(line + 6, NULL, 10);
		else if (!strncmp(line, "sysctl=", 7) && nsys < ARRAY_SIZE(sys) &&
			 (eq = strchr(line + 7, '=')) &&
			 (size_t)(eq - line - 7) < sizeof(sysval[0][0]) &&
			 strlen(eq + 1) < sizeof(sysval[0][1])) {
			*eq = '\0';
			snprintf(sysval[nsys][0], sizeof(sysval[0][0]), "%.127s",
				 line + 7);
			snprintf(sysval[nsys][1], sizeof(sysval[0][1]), "%.127s",
				 eq + 1);
			sys[nsys] = (struct fw_sysctl){ sysval[nsys][0],
							sysval[nsys][1],
							{ 0 } };
			nsys++;
		}
	}
	fclose(f);
	snprintf(state_dir, n, "%s", state);
	id_text(&id, have_id, sizeof(have_id));
	env_key(names, have_env);
	if (!hash[0] || strcmp(have_id, want_id) || strcmp(have_env, want_env))
		return false;
	/* a failed apply since (of another file) is cleared by the slow path */
	if (state[0] && fw_state_load(state, &st) == 0 && st.failed_at)
		return false;
	if (fw_nl_open(&nl) == 0 && fw_nl_table(&nl, &k) == 0 &&
	    fw_nl_genid(&nl, &now) == 0)
		ok = k.ours && !strcmp(k.hash, hash) && now == genid;
	fw_nl_close(&nl);
	/* only sysctls moat writes: a path under /proc/sys, no way out */
	for (size_t i = 0; ok && i < nsys; i++)
		if (strstr(sys[i].path, "..") || sysctl_set(&sys[i], dl) < 0)
			ok = false;
	return ok;
}

void fw_fast_record(const char *path, const struct fw_fast_id *id,
		    const char *src, size_t len, const struct fw_plan *plan,
		    const char *state_dir, uint32_t genid)
{
	char *file = fast_path(path), *names, idt[160], env[65];
	struct buf b = BUF_INIT;

	if (!file)
		return;
	names = env_names(src, len);
	env_key(names, env);
	id_text(id, idt, sizeof(idt));
	buf_printf(&b, "file=%s\nnames=%s\nenv=%s\nhash=%s\ngenid=%u\n"
		   "state=%s\n", idt, names, env, plan->hash, genid,
		   state_dir && strlen(state_dir) < 500 &&
		   !strchr(state_dir, '\n') ? state_dir : "");
	for (size_t i = 0; i < plan->nsysctl; i++)
		buf_printf(&b, "sysctl=%s=%s\n", plan->sysctl[i].path,
			   plan->sysctl[i].value);
	/* names the reader cannot take back whole: no note, the slow path */
	if (strlen(names) < 1000)
		file_write_atomic(file, b.p, b.len, 0700);
	buf_free(&b);
	free(names);
	free(file);
}
