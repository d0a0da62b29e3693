/* SPDX-License-Identifier: MIT */
/*
 * Ownership records and the lock, in <runstatedir>/gvtg-hook: one small file per vGPU
 * UUID saying who made it and which domain holds it, written atomically; and "lock",
 * held with flock(2) while a decision is taken and carried out.  /run is emptied at boot,
 * as are the vGPUs, so the two stay in step.
 */
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include "gvtg-private.h"

#ifndef GVTG_RUNSTATEDIR
#define GVTG_RUNSTATEDIR "/run"
#endif

#define RECORD_MAX 4096

static const char *state_dir_rel(void)
{
	const char *d = GVTG_RUNSTATEDIR "/gvtg-hook";
	while (*d == '/')
		d++;
	return d;
}

const char *gvtg_state_dir(void)
{
	return state_dir_rel();
}

static const char *const origins[] = {
	[GVTG_ORIGIN_CREATED] = "created",
	[GVTG_ORIGIN_ADOPTED] = "adopted",
	[GVTG_ORIGIN_MANUAL] = "manual",
	[GVTG_ORIGIN_BOOT] = "boot",
	[GVTG_ORIGIN_DEFINED] = "defined",
};

const char *gvtg_origin_to_string(enum gvtg_origin o)
{
	if ((size_t)o < ELEMENTSOF(origins))
		return origins[o];
	return "unknown";
}

int gvtg_origin_from_string(const char *s, enum gvtg_origin *ret_origin)
{
	for (size_t i = 0; i < ELEMENTSOF(origins); i++)
		if (s && !strcmp(s, origins[i])) {
			*ret_origin = (enum gvtg_origin)i;
			return 0;
		}
	return -EINVAL;
}

bool gvtg_record_in_use(const struct gvtg_record *r)
{
	return r && r->domain_uuid[0];
}

void gvtg_record_clear(struct gvtg_record *r)
{
	if (!r)
		return;
	free(r->domain_name);
	free(r->parent);
	free(r->type);
	memset(r, 0, sizeof(*r));
}

void gvtg_records_free(struct gvtg_record *recs, size_t n)
{
	if (!recs)
		return;
	for (size_t i = 0; i < n; i++)
		gvtg_record_clear(&recs[i]);
	free(recs);
}

int gvtg_lock_acquire(struct gvtg_ctx *ctx, int timeout_ms)
{
	const char *dir = state_dir_rel();
	int r = gvtg_io_mkdir_p(ctx, dir, 0700);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = gvtg_path_join(dir, "lock", NULL);
	if (!path)
		return -ENOMEM;
	_cleanup_close_ int fd = gvtg_io_open_lock(ctx, path);
	if (fd < 0)
		return fd;

	int64_t deadline = gvtg_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int delay_ms = 1;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			ctx->lock_fd = fd;
			return TAKE_FD(fd);
		}
		if (errno != EWOULDBLOCK && errno != EINTR)
			return negative_errno();
		int64_t left = deadline - gvtg_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		(void)poll(NULL, 0, (int)(left < delay_ms ? left : delay_ms));
		if (delay_ms < 16)
			delay_ms *= 2;
	}
}

void gvtg_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

static char *record_path(const char *uuid)
{
	return gvtg_path_join(state_dir_rel(), uuid, NULL);
}

static char *dup_value(const char *v)
{
	return *v ? strdup(v) : NULL;
}

static int record_parse(char *text, const char *uuid, struct gvtg_record *ret)
{
	struct gvtg_record rec = { 0 };
	bool have_origin = false;
	memcpy(rec.uuid, uuid, sizeof(rec.uuid));
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		if (!eq)
			goto bad;
		*eq = '\0';
		const char *k = line, *v = eq + 1;
		if (!strcmp(k, "origin")) {
			if (gvtg_origin_from_string(v, &rec.origin) < 0)
				goto bad;
			have_origin = true;
		} else if (!strcmp(k, "domain_name")) {
			free(rec.domain_name);
			rec.domain_name = dup_value(v);
		} else if (!strcmp(k, "domain_uuid")) {
			if (*v && gvtg_uuid_normalize(v, rec.domain_uuid) < 0)
				goto bad;
		} else if (!strcmp(k, "parent")) {
			free(rec.parent);
			rec.parent = gvtg_name_is_valid(v) ? strdup(v) : NULL;
		} else if (!strcmp(k, "type")) {
			free(rec.type);
			rec.type = gvtg_name_is_valid(v) ? strdup(v) : NULL;
		} else if (!strcmp(k, "time")) {
			rec.time = strtoll(v, NULL, 10);
		} else if (!strcmp(k, "remove_pending")) {
			rec.remove_pending = !strcmp(v, "yes");
		}
		/* Unknown keys: written by a newer version; ignore. */
	}
	if (!have_origin)
		goto bad;
	*ret = rec;
	return 0;
bad:
	gvtg_record_clear(&rec);
	return -EBADMSG;
}

int gvtg_record_read(struct gvtg_ctx *ctx, const char *uuid, struct gvtg_record *ret_rec)
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = record_path(u);
	_cleanup_free_ char *text = NULL;
	if (!path)
		return -ENOMEM;
	r = gvtg_io_read_state(ctx, path, RECORD_MAX, &text);
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	return record_parse(text, u, ret_rec);
}

/* One line: a value must not carry a newline into the file. */
static void put(FILE *f, const char *key, const char *v)
{
	fprintf(f, "%s=", key);
	for (const char *p = v ? v : ""; *p; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, f);
	fputc('\n', f);
}

/* Finish a state file built in an open_memstream(): write it atomically under the state
 * directory (made when missing) and free the buffer, whatever happens. */
static int commit_memstream(struct gvtg_ctx *ctx, const char *path, FILE *f, char **buf,
			    size_t *len)
{
	int r = fclose(f) != 0 ? -ENOMEM : 0;
	if (r == 0)
		r = gvtg_io_mkdir_p(ctx, state_dir_rel(), 0700);
	if (r == 0)
		r = path ? gvtg_io_write_atomic(ctx, path, *buf, *len, 0600) : -ENOMEM;
	free(*buf);
	*buf = NULL;
	return r;
}

int gvtg_record_write(struct gvtg_ctx *ctx, const struct gvtg_record *rec)
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(rec->uuid, u);
	if (r < 0)
		return r;

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# gvtg-hook ownership record: who made this vGPU and which domain holds "
		   "it\n");
	put(f, "origin", gvtg_origin_to_string(rec->origin));
	put(f, "domain_name", rec->domain_name);
	put(f, "domain_uuid", rec->domain_uuid);
	put(f, "parent", rec->parent);
	put(f, "type", rec->type);
	fprintf(f, "time=%" PRId64 "\n", rec->time ? rec->time : (int64_t)time(NULL));
	put(f, "remove_pending", rec->remove_pending ? "yes" : "no");
	_cleanup_free_ char *path = record_path(u);
	return commit_memstream(ctx, path, f, &buf, &len);
}

int gvtg_record_delete(struct gvtg_ctx *ctx, const char *uuid)
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = record_path(u);
	if (!path)
		return -ENOMEM;
	r = gvtg_io_unlink(ctx, path);
	return r == -ENOENT ? 0 : r;
}

int gvtg_records_list(struct gvtg_ctx *ctx, struct gvtg_record **ret_recs, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	int r = gvtg_io_opendir(ctx, state_dir_rel(), &d);
	if (r == -ENOENT) {
		*ret_recs = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	struct gvtg_record *v = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char u[GVTG_UUID_STRLEN + 1];
		if (gvtg_uuid_normalize(de->d_name, u) < 0 || strcmp(u, de->d_name) != 0)
			continue;
		struct gvtg_record rec;
		if (gvtg_record_read(ctx, u, &rec) < 0)
			continue;
		struct gvtg_record *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			gvtg_record_clear(&rec);
			gvtg_records_free(v, n);
			return -ENOMEM;
		}
		v = nv;
		v[n++] = rec;
	}
	*ret_recs = v;
	*ret_n = n;
	return 0;
}

/* ---- used by gvtgctl ---- */

#define SLEEP_LIST_MAX (256 * 1024)

static char *sleep_list_path(void)
{
	return gvtg_path_join(state_dir_rel(), "sleep", NULL);
}

void gvtg_sleep_entries_free(struct gvtg_sleep_entry *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].parent);
		free(v[i].type);
	}
	free(v);
}

int gvtg_sleep_list_write(struct gvtg_ctx *ctx, const struct gvtg_sleep_entry *v, size_t n)
{
	_cleanup_free_ char *path = sleep_list_path();
	if (!path)
		return -ENOMEM;
	if (n == 0) {
		int r = gvtg_io_unlink(ctx, path);
		return r == -ENOENT ? 0 : r;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# gvtg-hook: vGPUs removed for a host suspend: <uuid> <parent> <type>\n");
	for (size_t i = 0; i < n; i++) {
		/* Names go into a space-separated line: only names that are safe there. */
		if (gvtg_uuid_normalize(v[i].uuid, (char[GVTG_UUID_STRLEN + 1]){ 0 }) < 0 ||
		    !gvtg_name_is_valid(v[i].parent) || !gvtg_name_is_valid(v[i].type)) {
			fclose(f);
			free(buf);
			return -EINVAL;
		}
		fprintf(f, "%s %s %s\n", v[i].uuid, v[i].parent, v[i].type);
	}
	return commit_memstream(ctx, path, f, &buf, &len);
}

/* A line that is not "UUID PARENT TYPE" (cut short by a crash, edited by hand) is
 * skipped and counted, the first one's number in ret_bad_line: one damaged line must not
 * keep every later 'pre' and 'post' from the other vGPUs.  Callers say which was skipped;
 * the next list written leaves it out. */
int gvtg_sleep_list_read(struct gvtg_ctx *ctx, struct gvtg_sleep_entry **ret_v, size_t *ret_n,
			 int *ret_bad_line, size_t *ret_n_bad)
{
	_cleanup_free_ char *path = sleep_list_path();
	_cleanup_free_ char *text = NULL;
	*ret_v = NULL;
	*ret_n = 0;
	*ret_bad_line = 0;
	*ret_n_bad = 0;
	if (!path)
		return -ENOMEM;
	int r = gvtg_io_read_state(ctx, path, SLEEP_LIST_MAX, &text);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;

	struct gvtg_sleep_entry *v = NULL;
	size_t n = 0;
	int lineno = 0;
	for (char *line = text, *next; line && *line; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *f[3], *fs = NULL;
		size_t k = 0;
		for (char *t = strtok_r(line, " ", &fs); t && k < 3; t = strtok_r(NULL, " ", &fs))
			f[k++] = t;
		struct gvtg_sleep_entry e = { 0 };
		if (k != 3 || strtok_r(NULL, " ", &fs) || gvtg_uuid_normalize(f[0], e.uuid) < 0 ||
		    !gvtg_name_is_valid(f[1]) || !gvtg_name_is_valid(f[2])) {
			if ((*ret_n_bad)++ == 0)
				*ret_bad_line = lineno;
			continue;
		}
		struct gvtg_sleep_entry *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(e.parent = strdup(f[1])) || !(e.type = strdup(f[2]))) {
			free(e.parent);
			gvtg_sleep_entries_free(nv ? nv : v, n);
			return -ENOMEM;
		}
		v = nv;
		v[n++] = e;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}
