/* SPDX-License-Identifier: MIT */
/*
 * Text that came from outside (a file, the kernel, a child process) before it reaches a
 * terminal, stderr or syslog: the one function that makes it safe to show.  A terminal
 * acts on ESC and C1 sequences (retitle, recolour, move the cursor, answer back), BEL
 * rings, and syslog and journald store invalid UTF-8 as binary; all of these are
 * replaced by something the reader sees.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gvtg-private.h"

size_t gvtg_utf8_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;
	unsigned min, cp;
	if (n == 0)
		return 0;
	if (u[0] < 0x80)
		return 1;
	if ((u[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = u[0] & 0x1f;
	else if ((u[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = u[0] & 0x0f;
	else if ((u[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = u[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (u[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t gvtg_text_clean(const char *in, size_t len, char *out, size_t size, unsigned flags)
{
	size_t o = 0;
	if (size == 0)
		return 0;
	for (size_t i = 0; i < len && in[i];) {
		unsigned char c = (unsigned char)in[i];
		char rep[8];
		const char *put = rep;
		size_t n, k = gvtg_utf8_len(in + i, len - i);
		if (c == '\n' && (flags & GVTG_TEXT_KEEP_NEWLINES)) {
			put = "\n", n = 1;
		} else if (c == '\t' || c == '\n' || c == '\r') {
			put = " ", n = 1; /* white space stays white space, on one line */
		} else if (c < 0x20 || c == 0x7f) {
			n = (size_t)snprintf(rep, sizeof(rep), "\\x%02x", c); /* ESC: \x1b */
		} else if (k == 0) {
			put = "\xef\xbf\xbd", n = 3; /* U+FFFD for each byte that is not UTF-8 */
			k = 1;
		} else if (k == 2 && c == 0xc2 && (unsigned char)in[i + 1] < 0xa0) {
			/* C1 (U+0080..U+009F): CSI, OSC, NEL... as the escape that names it */
			n = (size_t)snprintf(rep, sizeof(rep), "\\u%04x", (unsigned char)in[i + 1]);
		} else {
			put = in + i, n = k;
		}
		if (o + n >= size)
			break; /* never half a replacement or half a character */
		memcpy(out + o, put, n);
		o += n;
		i += k;
	}
	out[o] = '\0';
	return o;
}

void gvtg_detail_set(char *detail, size_t size, const char *fmt, ...)
{
	if (!detail || !size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, size, fmt, ap);
	va_end(ap);
}
