/* SPDX-License-Identifier: MIT */
/*
 * sim-write: open a file and write each argument with one write(2) on the same fd,
 * printing the errno name of every step, so shell tests can assert the kernel's exact
 * answer (a shell only shows a translated message, and stdio hides it until fclose).
 *
 *   sim-write FILE [DATA...]    open O_WRONLY, then one write per DATA
 *   sim-write -r FILE           open O_RDONLY only
 *
 * DATA understands \n \r \t \\ \0 and \xHH.  Output: one word per step ("0" or an
 * errno name such as EINVAL), space-separated, on one line.  Exit 0 when every step
 * succeeded, 1 otherwise, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Decodes in place; returns the decoded length (may contain NUL bytes). */
static size_t unescape(char *s)
{
	char *o = s;
	for (const char *p = s; *p; p++) {
		if (*p != '\\' || !p[1]) {
			*o++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case '0': *o++ = '\0'; break;
		case 'x':
			if (hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				*o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
				break;
			}
			/* fall through */
		default: *o++ = *p; break;
		}
	}
	return (size_t)(o - s);
}

static const char *result(int err)
{
	const char *name = err ? strerrorname_np(err) : "0";
	return name ? name : "E?";
}

int main(int argc, char **argv)
{
	bool rd = argc > 1 && !strcmp(argv[1], "-r");
	int first = rd ? 2 : 1;
	if (argc <= first || (rd && argc != 3)) {
		fputs("usage: sim-write FILE [DATA...] | sim-write -r FILE\n", stderr);
		return 2;
	}
	bool ok = true;
	int fd = open(argv[first], (rd ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
	fputs(result(fd < 0 ? errno : 0), stdout);
	if (fd < 0) {
		putchar('\n');
		return 1;
	}
	for (int i = first + 1; i < argc; i++) {
		size_t len = unescape(argv[i]);
		ssize_t w;
		do
			w = write(fd, argv[i], len);
		while (w < 0 && errno == EINTR);
		int err = w < 0 ? errno : (size_t)w == len ? 0 : EIO;
		printf(" %s", result(err));
		ok = ok && !err;
	}
	putchar('\n');
	close(fd);
	return ok ? 0 : 1;
}
