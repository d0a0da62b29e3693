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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "early.h"

#ifndef GVTG_RUNSTATEDIR
#define GVTG_RUNSTATEDIR "/run"
#endif

/* Record files are a few hundred bytes; a larger file is not read here. */
#define SCAN_FILE_MAX (64 * 1024)
/* More files than this in the state directory: let the core look. */
#define SCAN_FILES_MAX 1024
#define UUID_LEN 36

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Inlined byte compares: a call to memcmp() costs a dynamic binding first. */
static bool starts(const char *p, const char *end, const char *word)
{
	for (; *word; p++, word++)
		if (p >= end || *p != *word)
			return false;
	return true;
}

static bool is_mdev(const char *p, const char *end)
{
	uint32_t w;
	if (end - p < 4)
		return false;
	memcpy(&w, p, 4); /* one load */
	uint32_t want;
	memcpy(&want, "mdev", 4);
	return w == want;
}

static const char *const predefined[] = { "amp;", "lt;", "gt;", "apos;", "quot;" };

/* A hit of the vector loops at q: false when the input is not plain. */
static bool hit(const char *q, const char *end, bool *mdev)
{
	if (*q == 'm') {
		if (is_mdev(q, end))
			*mdev = true;
		return true;
	}
	if (*q == '\0')
		return false; /* not UTF-8 text */
	if (*q != '&')
		return true;
	for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++)
		if (starts(q + 1, end, predefined[i]))
			return true;
	return false;
}

/* The hits in 32 bytes at p as a bit mask: '&', NUL, or "md" (an 'm' followed by a
 * 'd': far rarer than 'm' alone, which every <name> and <memory> has).  Needs
 * p + 33 <= end for the shifted load. */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static const char *scan_avx2(const char *p, const char *end,
							      bool *mdev, bool *ok)
{
	const __m256i amp = _mm256_set1_epi8('&'), nul = _mm256_setzero_si256(),
		      m = _mm256_set1_epi8('m'), d = _mm256_set1_epi8('d');
	while (end - p >= 65) {
		const __m256i *a = (const __m256i *)(const void *)p;
		const __m256i *b = (const __m256i *)(const void *)(p + 1);
		__m256i v0 = _mm256_loadu_si256(a), v1 = _mm256_loadu_si256(a + 1);
		__m256i w0 = _mm256_loadu_si256(b), w1 = _mm256_loadu_si256(b + 1);
		__m256i h0 = _mm256_or_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(v0, amp), _mm256_cmpeq_epi8(v0, nul)),
			_mm256_and_si256(_mm256_cmpeq_epi8(v0, m), _mm256_cmpeq_epi8(w0, d)));
		__m256i h1 = _mm256_or_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(v1, amp), _mm256_cmpeq_epi8(v1, nul)),
			_mm256_and_si256(_mm256_cmpeq_epi8(v1, m), _mm256_cmpeq_epi8(w1, d)));
		if (_mm256_testz_si256(_mm256_or_si256(h0, h1), _mm256_or_si256(h0, h1))) {
			p += 64;
			continue;
		}
		uint64_t bits = (uint32_t)_mm256_movemask_epi8(h0) |
				((uint64_t)(uint32_t)_mm256_movemask_epi8(h1) << 32);
		while (bits) {
			if (!hit(p + __builtin_ctzll(bits), end, mdev)) {
				*ok = false;
				return end;
			}
			bits &= bits - 1;
		}
		p += 64;
	}
	return p;
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/* Asked here, only when needed: __builtin_cpu_supports() brings a constructor that
 * every call of the hook would run. */
static bool have_avx2(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return false;
	unsigned lo, hi;
	__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) != 6) /* the OS saves the SSE and AVX registers */
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2);
}
#endif

/* One pass over the bytes for what could matter: a NUL (not UTF-8 text: UTF-16 and
 * UCS-4 have one in every ASCII character), an '&' that is not one of the predefined
 * entities libvirt writes for '&', '<', '>' and quotes (a character reference could
 * spell any name), and the text "mdev".  It runs on every start and stop of every VM,
 * so it is a vectorised loop that calls nothing: a call into libc costs a dynamic
 * symbol binding first, which is more than this whole scan.  false when the input is
 * not plain; *ret_mdev says whether "mdev" occurs. */
static bool scan_plain(const char *p, const char *end, bool *ret_mdev)
{
	bool mdev = false, ok = true;
#if defined(__x86_64__) && defined(__GNUC__)
	if (have_avx2()) {
		p = scan_avx2(p, end, &mdev, &ok);
		if (!ok)
			return false;
	}
#endif
#ifdef __SSE2__
	const __m128i amp = _mm_set1_epi8('&'), nul = _mm_setzero_si128(),
		      m = _mm_set1_epi8('m'), d = _mm_set1_epi8('d');
	while (end - p >= 17) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
		__m128i h = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, nul)),
			_mm_and_si128(_mm_cmpeq_epi8(v, m), _mm_cmpeq_epi8(w, d)));
		unsigned bits = (unsigned)_mm_movemask_epi8(h);
		while (bits) {
			if (!hit(p + __builtin_ctz(bits), end, &mdev))
				return false;
			bits &= bits - 1;
		}
		p += 16;
	}
#endif
	for (; p < end; p++)
		if ((*p == 'm' || *p == '\0' || *p == '&') && !hit(p, end, &mdev))
			return false;
	*ret_mdev = mdev;
	return true;
}

/* Where the document's root starts, when it is the way libvirt writes one: optional
 * leading comments (our test and benchmark files have one), then <domain followed by a
 * space or '>'; and, when whole, the document ends with </domain> (it was not cut
 * short).  No XML declaration (which could name another encoding) and no byte-order
 * mark.  NULL otherwise. */
static const char *domain_start(const char *buf, const char *end, bool whole)
{
	const char *p = buf;
	for (;;) {
		while (p < end && is_space(*p))
			p++;
		if (!starts(p, end, "<!--"))
			break;
		for (p += 4; p < end && !starts(p, end, "-->"); p++)
			;
		if (p == end)
			return NULL;
		p += 3;
	}
	if (!starts(p, end, "<domain") || (size_t)(end - p) < 8 ||
	    !(is_space(p[7]) || p[7] == '>'))
		return NULL;
	if (!whole)
		return p;
	const char *e = end;
	while (e > p && is_space(e[-1]))
		e--;
	if ((size_t)(e - p) < 9 || !starts(e - 9, e, "</domain>"))
		return NULL;
	return p;
}

static bool uuid_text(const char *s)
{
	for (int i = 0; i < UUID_LEN; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F');
		if (dash ? c != '-' : !hex)
			return false;
	}
	return true;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* libvirt writes <name> and then <uuid> as the first children of <domain>.  Read
 * exactly that from p, where domain_start() found the root: the start tag (quotes
 * respected), <name> with text only, then <uuid>8-4-4-4-12</uuid>.  That element is
 * then certainly the first /domain/uuid, the one the parser would take (nothing before
 * <domain> but comments: no DOCTYPE could define an entity); any other layout is left
 * to the parser. */
static bool uuid_after(const char *p, const char *end, char ret_uuid[37])
{
	char quote = 0;
	for (p += 7; p < end && (quote || *p != '>'); p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '/' || *p == '<') {
			return false;
		}
	}
	if (p == end)
		return false;
	p++;
	while (p < end && is_space(*p))
		p++;
	if (!starts(p, end, "<name>"))
		return false;
	p += 6;
	while (p < end && *p != '<')
		p++;
	if (!starts(p, end, "</name>"))
		return false;
	p += 7;
	while (p < end && is_space(*p))
		p++;
	if (!starts(p, end, "<uuid>") || (size_t)(end - p) < 6 + UUID_LEN + 7 ||
	    !uuid_text(p + 6) || memcmp(p + 6 + UUID_LEN, "</uuid>", 7) != 0)
		return false;
	for (int i = 0; i < UUID_LEN; i++)
		ret_uuid[i] = lower(p[6 + i]);
	ret_uuid[UUID_LEN] = '\0';
	return true;
}

bool gvtg_hook_raw_domain_uuid(const char *xml, size_t len, bool whole, char ret_uuid[37])
{
	const char *p = xml ? domain_start(xml, xml + len, whole) : NULL;
	return p && uuid_after(p, xml + len, ret_uuid);
}

/* The record scan's system calls, made through syscall(): each libc wrapper called
 * for the first time costs a dynamic symbol binding (some 650 instructions), and six
 * of them cost more than the rest of the early decision together. */
static int sys_openat(int dfd, const char *path, int flags)
{
	return (int)syscall(SYS_openat, dfd, path, flags, 0);
}

static ssize_t sys_read(int fd, void *buf, size_t size)
{
	return (ssize_t)syscall(SYS_read, fd, buf, size);
}

static void sys_close(int fd)
{
	(void)syscall(SYS_close, fd);
}

static ssize_t sys_getdents64(int fd, void *buf, size_t size)
{
	return (ssize_t)syscall(SYS_getdents64, fd, buf, size);
}

static int sys_fstat(int fd, struct stat *st)
{
#ifdef SYS_fstat
	return (int)syscall(SYS_fstat, fd, st);
#else
	return fstat(fd, st);
#endif
}

static bool contains(const char *buf, size_t len, const char *word)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] == word[0] && starts(buf + i, buf + len, word))
			return true;
	return false;
}

/* A file named like a record: a UUID. */
static bool record_name(const char *name)
{
	return uuid_text(name) && name[UUID_LEN] == '\0';
}

/* Does the open file fd mention uuid (lower case)?  true when unsure, and for a
 * record that is not a regular file (damaged: the core reports it). */
static bool file_mentions(int fd, const char *uuid, bool is_record)
{
	static char buf[SCAN_FILE_MAX + 1];
	struct stat st;
	if (sys_fstat(fd, &st) < 0)
		return true;
	if (!S_ISREG(st.st_mode))
		return is_record;
	if (st.st_size > SCAN_FILE_MAX)
		return true;
	size_t len = 0;
	for (;;) {
		ssize_t n = sys_read(fd, buf + len, sizeof(buf) - len);
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
		buf[i] = lower(buf[i]);
	return contains(buf, len, uuid);
}

bool gvtg_hook_records_may_name(const char *root, const char *uuid)
{
	/* <root><runstatedir>/gvtg-hook, put together by hand: snprintf() would cost more
	 * than the rest of this decision. */
	char dir[PATH_MAX];
	size_t n = 0;
	const char *parts[] = { root ? root : "", GVTG_RUNSTATEDIR, "/gvtg-hook" };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const char *c = parts[i]; *c; c++) {
			if (n + 1 >= sizeof(dir))
				return true;
			dir[n++] = *c;
		}
	dir[n] = '\0';
	int dfd = sys_openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno != ENOENT; /* no state directory: no records */
	/* getdents64 into a buffer on the stack: opendir() would allocate 32 KiB. */
	char ents[8192] __attribute__((aligned(8)));
	bool maybe = false;
	int files = 0;
	for (;;) {
		ssize_t got = sys_getdents64(dfd, ents, sizeof(ents));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			maybe = true;
			break;
		}
		if (got == 0)
			break;
		for (ssize_t off = 0; off < got && !maybe;) {
			struct dirent64 *de = (struct dirent64 *)(void *)(ents + off);
			off += de->d_reclen;
			if (de->d_name[0] == '.')
				continue;
			if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN) {
				/* A directory, a symlink or a FIFO in a record's place is a
				 * damaged record: the core reports it (without ever opening it
				 * for real).  Anything else is not ours. */
				maybe = record_name(de->d_name);
				continue;
			}
			if (++files > SCAN_FILES_MAX) {
				maybe = true;
				break;
			}
			/* O_NOFOLLOW and O_NONBLOCK: a symlink or a FIFO that appeared since
			 * is never followed nor waited for. */
			int fd = sys_openat(dfd, de->d_name,
					    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
			if (fd < 0) {
				if (errno == ELOOP) /* a symlink after all */
					maybe = record_name(de->d_name);
				else if (errno != ENOENT)
					maybe = true;
				continue;
			}
			maybe = file_mentions(fd, uuid, record_name(de->d_name));
			sys_close(fd);
		}
		if (maybe)
			break;
	}
	sys_close(dfd);
	return maybe;
}

bool gvtg_hook_nothing_to_do(enum hook_op op, const char *xml, size_t len)
{
	if (op == HOOK_IGNORED)
		return true;
	const char *end = xml ? xml + len : NULL;
	const char *root = xml ? domain_start(xml, end, true) : NULL;
	if (!root)
		return false;
	bool mdev;
	char uuid[UUID_LEN + 1];
	switch (op) {
	case HOOK_PREPARE:
		/* Without an mdev hostdev there is nothing to create. */
		return scan_plain(xml, end, &mdev) && !mdev;
	case HOOK_RELEASE:
		/* release acts on the records that name this domain, whatever the XML
		 * still lists (a vGPU unplugged while the domain ran). */
		return uuid_after(root, end, uuid) &&
		       !gvtg_hook_records_may_name(secure_getenv("GVTG_ROOT"), uuid);
	case HOOK_RECONNECT:
		/* reconnect restores the missing records of the vGPUs the XML lists, and
		 * looks at the records of this domain. */
		return uuid_after(root, end, uuid) &&
		       !gvtg_hook_records_may_name(secure_getenv("GVTG_ROOT"), uuid) &&
		       scan_plain(xml, end, &mdev) && !mdev;
	default:
		return false;
	}
}
