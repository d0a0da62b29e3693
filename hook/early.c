/* SPDX-License-Identifier: MIT */
/*
 * The early "no vGPU here" decision, taken in the small executable from the raw bytes
 * libvirt wrote, before the core module, libxml2 or the configuration are loaded.  Most
 * VMs on a host have no vGPU, and libvirt formats the domain XML itself, so an mdev
 * hostdev always appears as the literal text type='mdev'.  Every rule here only ever
 * answers "nothing to do" when that is certain; any doubt (another encoding, a
 * character reference, a DOCTYPE, a truncated document, an unreadable state directory)
 * sends the call to the core, which parses properly.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "early.h"

#ifndef GVTG_RUNSTATEDIR
#define GVTG_RUNSTATEDIR "/run"
#endif

/* Record files are a few hundred bytes; a larger file is not read here. */
#define SCAN_FILE_MAX (64 * 1024)
/* More files than this in the state directory: let the core look. */
#define SCAN_FILES_MAX 1024
#define UUID_LEN 36

static bool has(const char *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle)) != NULL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A complete document the way libvirt writes one: UTF-8 (ASCII-compatible, no NUL
 * byte, no declaration naming another encoding: there is no declaration at all), no
 * DOCTYPE or entity, no character reference that could spell a name, optional leading
 * comments, then <domain ...> ... </domain>.  Anything else is left to the parser. */
static bool plain_domain_document(const char *buf, size_t len)
{
	if (!buf || len == 0 || memchr(buf, '\0', len))
		return false;
	if (has(buf, len, "&#") || has(buf, len, "<!DOCTYPE") || has(buf, len, "<!ENTITY") ||
	    has(buf, len, "<?"))
		return false;
	const char *p = buf, *end = buf + len;
	for (;;) {
		while (p < end && is_space(*p))
			p++;
		if ((size_t)(end - p) >= 4 && !memcmp(p, "<!--", 4)) {
			const char *c = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);
			if (!c)
				return false;
			p = c + 3;
			continue;
		}
		break;
	}
	if ((size_t)(end - p) < 8 || memcmp(p, "<domain", 7) != 0 ||
	    !(is_space(p[7]) || p[7] == '>'))
		return false;
	while (end > p && is_space(end[-1]))
		end--;
	return (size_t)(end - p) >= 9 && !memcmp(end - 9, "</domain>", 9);
}

static bool uuid_text(const char *s)
{
	for (int i = 0; i < UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

bool gvtg_hook_raw_domain_uuid(const char *xml, size_t len, char ret_uuid[37])
{
	/* libvirt writes <uuid> once, right after <name>.  Every element spelt "uuid"
	 * (whatever follows the name: '>', a space, '/') must be exactly
	 * <uuid>8-4-4-4-12</uuid>, and all must agree; metadata of another application
	 * could hold one, and it would then have to say the same. */
	char found[UUID_LEN + 1] = "";
	const char *p = xml, *end = xml + len;
	while ((p = memmem(p, (size_t)(end - p), "<uuid", 5))) {
		const char *q = p + 5;
		p = q;
		if (q < end && !(is_space(*q) || *q == '>' || *q == '/'))
			continue; /* <uuidfoo>: another element */
		if ((size_t)(end - q) < 1 + UUID_LEN + 7 || *q != '>' || !uuid_text(q + 1) ||
		    memcmp(q + 1 + UUID_LEN, "</uuid>", 7) != 0)
			return false;
		char u[UUID_LEN + 1];
		for (int i = 0; i < UUID_LEN; i++)
			u[i] = (char)tolower((unsigned char)q[1 + i]);
		u[UUID_LEN] = '\0';
		if (found[0] && strcmp(found, u) != 0)
			return false;
		memcpy(found, u, sizeof(found));
	}
	if (!found[0])
		return false;
	memcpy(ret_uuid, found, sizeof(found));
	return true;
}

/* Does the open regular file fd mention uuid (lower case)?  true when unsure. */
static bool file_mentions(int fd, const struct stat *st, const char *uuid)
{
	static char buf[SCAN_FILE_MAX + 1];
	if (st->st_size > SCAN_FILE_MAX)
		return true;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return true;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf))
			return true; /* grew while we read */
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return memmem(buf, len, uuid, UUID_LEN) != NULL;
}

bool gvtg_hook_records_may_name(const char *root, const char *uuid)
{
	char dir[PATH_MAX];
	int n = snprintf(dir, sizeof(dir), "%s%s/gvtg-hook", root && *root ? root : "",
			 GVTG_RUNSTATEDIR);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return true;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno != ENOENT; /* no state directory: no records */
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return true;
	}
	bool maybe = false;
	int files = 0;
	struct dirent *de;
	errno = 0;
	while (!maybe && (de = readdir(d))) {
		if (de->d_type == DT_DIR || de->d_type == DT_LNK || de->d_type == DT_FIFO ||
		    de->d_type == DT_SOCK || de->d_type == DT_CHR || de->d_type == DT_BLK)
			continue; /* not a regular file: never a record the core acts on */
		if (++files > SCAN_FILES_MAX) {
			maybe = true;
			break;
		}
		/* Only regular files are records: a FIFO or a symlink is never opened for
		 * real (O_NONBLOCK, O_NOFOLLOW) and never read. */
		int fd = openat(dfd, de->d_name,
				O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ELOOP && errno != ENOENT)
				maybe = true;
			continue;
		}
		struct stat st;
		if (fstat(fd, &st) < 0)
			maybe = true;
		else if (S_ISREG(st.st_mode))
			maybe = file_mentions(fd, &st, uuid);
		close(fd);
		errno = 0;
	}
	if (!maybe && errno != 0)
		maybe = true; /* readdir failed part way */
	closedir(d);
	return maybe;
}

bool gvtg_hook_nothing_to_do(enum hook_op op, const char *xml, size_t len,
			     const char *root)
{
	if (op == HOOK_IGNORED)
		return true;
	if (!plain_domain_document(xml, len))
		return false;
	bool mdev = has(xml, len, "mdev");
	char uuid[UUID_LEN + 1];
	switch (op) {
	case HOOK_PREPARE:
		/* Without an mdev hostdev there is nothing to create. */
		return !mdev;
	case HOOK_RELEASE:
		/* release acts on the records that name this domain, whatever the XML
		 * still lists (a vGPU unplugged while the domain ran). */
		return gvtg_hook_raw_domain_uuid(xml, len, uuid) &&
		       !gvtg_hook_records_may_name(root, uuid);
	case HOOK_RECONNECT:
		/* reconnect restores missing records of the listed vGPUs, and looks at
		 * the records of this domain. */
		return !mdev && gvtg_hook_raw_domain_uuid(xml, len, uuid) &&
		       !gvtg_hook_records_may_name(root, uuid);
	default:
		return false;
	}
}
