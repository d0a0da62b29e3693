/* SPDX-License-Identifier: MIT */
/*
 * The floor for "prepare begin": only the work no hook can avoid.  Read the domain XML
 * from stdin, parse it with libxml2 and the same parser options as the library, take
 * the mdev UUID with one XPath query and write it (36 bytes, one write) to the type's
 * create file given as the only argument.  No lock, no records, no configuration, no
 * checks: the hook's cost above this is the price of its safety and its messages.
 *
 *   floor-prepare CREATE_FILE            the floor of prepare begin
 *   floor-prepare --remove DEVICES_DIR   the floor of release end: write "1" to
 *                                        DEVICES_DIR/<uuid>/remove instead
 *
 * Exit 0 on success, 1 when any step fails.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include <limits.h>
#include <stdio.h>

#define INPUT_MAX ((size_t)8 * 1024 * 1024) /* GVTG_XML_MAX */

static int read_all(int fd, char **ret_buf, size_t *ret_len)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > INPUT_MAX) {
				free(buf);
				return -EFBIG;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int main(int argc, char **argv)
{
	bool remove = argc == 3 && !strcmp(argv[1], "--remove");
	if (argc < 2 || (argc == 3 && !remove))
		return 2;
	char *buf = NULL;
	size_t len = 0;
	if (read_all(STDIN_FILENO, &buf, &len) < 0 || len > INPUT_MAX)
		return 1;

	xmlParserCtxtPtr pctx = xmlNewParserCtxt();
	if (!pctx)
		return 1;
	xmlDocPtr doc = xmlCtxtReadMemory(pctx, buf, (int)len, "domain.xml", NULL,
					  XML_PARSE_NONET | XML_PARSE_NOERROR |
						  XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	free(buf);
	if (!doc)
		return 1;
	xmlXPathContextPtr xp = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = xp ? xmlXPathEvalExpression(
		(const xmlChar *)"string(/domain/devices/hostdev[@mode='subsystem']"
				 "[@type='mdev']/source/address/@uuid)", xp) : NULL;
	int ret = 1;
	if (o && o->type == XPATH_STRING && o->stringval &&
	    strlen((const char *)o->stringval) == 36) {
		char path[PATH_MAX];
		if (remove)
			snprintf(path, sizeof(path), "%s/%s/remove", argv[2],
				 (const char *)o->stringval);
		else
			snprintf(path, sizeof(path), "%s", argv[1]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (remove ? write(fd, "1", 1) == 1 : write(fd, o->stringval, 36) == 36)
				ret = 0;
			close(fd);
		}
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(xp);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(pctx);
	return ret;
}
