/* SPDX-License-Identifier: MIT */
/*
 * Domain XML: the one place where XML is read.  The input is untrusted (a libvirt user
 * writes it): parsed from memory with no network, no entity substitution, no DTD, an
 * entity loader that refuses everything, and a document with a DOCTYPE is refused.
 */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "gvtg-private.h"

/* More vGPUs than any host can give one domain; bounds the work on hostile input. */
#define MAX_HOSTDEVS 64
/* libvirt writes a handful of attributes per element.  libxml2 2.9 appends each new
 * attribute by walking the element's list: 100000 attributes take minutes. */
#define MAX_ATTRIBUTES 256

static __thread char parse_error[256];
static __thread int parse_line, parse_code; /* libxml2's, for gvtg_domain_parse_where() */

const char *gvtg_domain_parse_error(void)
{
	return parse_error;
}

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(parse_error, sizeof(parse_error), fmt, ap);
	va_end(ap);
	/* One line: the message goes into a one-line error. */
	for (char *p = parse_error; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

static xmlParserInputPtr refuse_entity_loader(const char *url, const char *id,
					      xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

static void silent_error(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void silent_structured_error(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

static void cleanup_doc(xmlDocPtr *d)
{
	if (*d)
		xmlFreeDoc(*d);
}
static void cleanup_xpctx(xmlXPathContextPtr *c)
{
	if (*c)
		xmlXPathFreeContext(*c);
}
static void cleanup_xpobj(xmlXPathObjectPtr *o)
{
	if (*o)
		xmlXPathFreeObject(*o);
}
static void cleanup_parser(xmlParserCtxtPtr *c)
{
	if (*c)
		xmlFreeParserCtxt(*c);
}
static void cleanup_xmlchar(xmlChar **s)
{
	if (*s)
		xmlFree(*s);
}

struct gvtg_domain *gvtg_domain_free(struct gvtg_domain *d)
{
	if (!d)
		return NULL;
	free(d->name);
	for (size_t i = 0; i < d->n_hostdevs; i++)
		free(d->hostdevs[i].model);
	free(d->hostdevs);
	for (size_t i = 0; i < d->n_meta; i++) {
		free(d->meta[i].parent);
		free(d->meta[i].type);
	}
	free(d->meta);
	free(d);
	return NULL;
}

/* The string value of an XPath expression relative to node, or NULL when empty. */
static char *xpath_string(xmlXPathContextPtr xp, xmlNodePtr node, const char *expr)
{
	xp->node = node;
	__attribute__((cleanup(cleanup_xpobj))) xmlXPathObjectPtr o =
		xmlXPathEvalExpression((const xmlChar *)expr, xp);
	if (!o)
		return NULL;
	__attribute__((cleanup(cleanup_xmlchar))) xmlChar *s = xmlXPathCastToString(o);
	if (!s || !*s)
		return NULL;
	return strdup((const char *)s);
}

/* The value of an attribute, or NULL.  Attribute values with control characters are
 * treated as absent: they become part of messages. */
static char *attr(xmlNodePtr node, const char *name)
{
	__attribute__((cleanup(cleanup_xmlchar))) xmlChar *v =
		xmlGetNoNsProp(node, (const xmlChar *)name);
	if (!v)
		return NULL;
	for (const xmlChar *p = v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return strdup("");
	return strdup((const char *)v);
}

static int collect_hostdevs(xmlXPathContextPtr xp, struct gvtg_domain *d)
{
	xp->node = xmlDocGetRootElement(xp->doc);
	__attribute__((cleanup(cleanup_xpobj))) xmlXPathObjectPtr o = xmlXPathEvalExpression(
		(const xmlChar *)"/domain/devices/hostdev[@mode='subsystem'][@type='mdev']", xp);
	if (!o)
		return -ENOMEM;
	int n = o->nodesetval ? o->nodesetval->nodeNr : 0;
	if (n == 0)
		return 0;
	if (n > MAX_HOSTDEVS) {
		set_error("%d mdev hostdevs in one domain; at most %d are supported", n,
			  MAX_HOSTDEVS);
		return -E2BIG;
	}
	d->hostdevs = calloc((size_t)n, sizeof(*d->hostdevs));
	if (!d->hostdevs)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		xmlNodePtr node = o->nodesetval->nodeTab[i];
		_cleanup_free_ char *uuid = xpath_string(xp, node, "string(source/address/@uuid)");
		char u[GVTG_UUID_STRLEN + 1];
		if (!uuid) {
			set_error("an mdev <hostdev> has no <source><address uuid='...'/>");
			return -EINVAL;
		}
		if (gvtg_uuid_normalize(uuid, u) < 0) {
			set_error("an mdev <hostdev> has an invalid UUID '%.40s'", uuid);
			return -EINVAL;
		}
		bool dup = false;
		for (size_t k = 0; k < d->n_hostdevs; k++)
			if (!strcmp(d->hostdevs[k].uuid, u))
				dup = true;
		if (dup)
			continue;
		struct gvtg_hostdev *h = &d->hostdevs[d->n_hostdevs++];
		memcpy(h->uuid, u, sizeof(u));
		h->model = attr(node, "model");
	}
	return 0;
}

static int collect_metadata(xmlXPathContextPtr xp, struct gvtg_domain *d)
{
	xp->node = xmlDocGetRootElement(xp->doc);
	__attribute__((cleanup(cleanup_xpobj))) xmlXPathObjectPtr o = xmlXPathEvalExpression(
		(const xmlChar *)"/domain/metadata/gvtg:vgpu/gvtg:device", xp);
	if (!o)
		return -ENOMEM;
	int n = o->nodesetval ? o->nodesetval->nodeNr : 0;
	if (n == 0)
		return 0;
	if (n > MAX_HOSTDEVS)
		n = MAX_HOSTDEVS;
	d->meta = calloc((size_t)n, sizeof(*d->meta));
	if (!d->meta)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		xmlNodePtr node = o->nodesetval->nodeTab[i];
		_cleanup_free_ char *uuid = attr(node, "uuid");
		struct gvtg_meta_device *m = &d->meta[d->n_meta];
		/* An entry without a usable UUID cannot match any hostdev: skip it. */
		if (!uuid || gvtg_uuid_normalize(uuid, m->uuid) < 0)
			continue;
		m->parent = attr(node, "parent");
		m->type = attr(node, "type");
		d->n_meta++;
	}
	return 0;
}

/* Does any tag have more than MAX_ATTRIBUTES attributes?  Counts '=' outside quotes in
 * tags; comments, processing instructions and CDATA are skipped so that a quote in them
 * cannot shift the quote state.  Only the well-formed prefix of a document matters (the
 * parser stops at the first error), and there the count is exact or higher. */
static bool too_many_attributes(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	while ((p = memchr(p, '<', (size_t)(end - p)))) {
		const char *close = NULL;
		size_t left = (size_t)(end - p);
		if (left >= 4 && !memcmp(p, "<!--", 4))
			close = memmem(p + 4, left - 4, "-->", 3);
		else if (left >= 9 && !memcmp(p, "<![CDATA[", 9))
			close = memmem(p + 9, left - 9, "]]>", 3);
		else if (left >= 2 && p[1] == '?')
			close = memmem(p + 2, left - 2, "?>", 2);
		else {
			size_t n = 0;
			char quote = 0;
			for (p++; p < end && (quote || *p != '>'); p++) {
				if (quote) {
					if (*p == quote)
						quote = 0;
				} else if (*p == '\'' || *p == '"') {
					quote = *p;
				} else if (*p == '=' && ++n > MAX_ATTRIBUTES) {
					return true;
				}
			}
			continue;
		}
		if (!close)
			return false;
		p = close + 1;
	}
	return false;
}

int gvtg_domain_parse(const char *buf, size_t len, struct gvtg_domain **ret_domain)
{
	parse_error[0] = '\0';
	parse_line = parse_code = 0;
	if (len > GVTG_XML_MAX) {
		set_error("the domain XML is larger than %zu MiB", GVTG_XML_MAX >> 20);
		return -EFBIG;
	}
	if (!buf || len == 0) {
		set_error("the domain XML is empty");
		return -EBADMSG;
	}
	/* libvirt never sends a document type declaration; one in the input can only be
	 * an attempt at entity expansion or external access. */
	if (memmem(buf, len, "<!DOCTYPE", 9) || memmem(buf, len, "<!ENTITY", 8)) {
		set_error("the domain XML has a <!DOCTYPE> or <!ENTITY>, which is not allowed");
		return -EBADMSG;
	}
	if (too_many_attributes(buf, len)) {
		set_error("an element of the domain XML has more than %d attributes",
			  MAX_ATTRIBUTES);
		return -EBADMSG;
	}

	xmlSetGenericErrorFunc(NULL, silent_error);
	xmlSetStructuredErrorFunc(NULL, silent_structured_error);
	xmlSetExternalEntityLoader(refuse_entity_loader);

	__attribute__((cleanup(cleanup_parser))) xmlParserCtxtPtr pctx = xmlNewParserCtxt();
	if (!pctx)
		return -ENOMEM;
	__attribute__((cleanup(cleanup_doc))) xmlDocPtr doc =
		xmlCtxtReadMemory(pctx, buf, (int)len, "domain.xml", NULL,
				  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
					  XML_PARSE_NOCDATA);
	if (!doc) {
		xmlErrorPtr e = xmlCtxtGetLastError(pctx);
		if (e)
			parse_line = e->line, parse_code = e->code ? e->code : -1;
		if (e && e->message)
			set_error("the domain XML is not well-formed: line %d: %s", e->line,
				  e->message);
		else
			set_error("the domain XML is not well-formed");
		return -EBADMSG;
	}
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (doc->intSubset || doc->extSubset || !root ||
	    xmlStrcmp(root->name, (const xmlChar *)"domain") != 0 || root->ns) {
		set_error("the input is not a libvirt <domain> document");
		return -EBADMSG;
	}

	__attribute__((cleanup(cleanup_xpctx))) xmlXPathContextPtr xp = xmlXPathNewContext(doc);
	if (!xp)
		return -ENOMEM;
	if (xmlXPathRegisterNs(xp, (const xmlChar *)"gvtg", (const xmlChar *)GVTG_METADATA_NS) <
	    0)
		return -ENOMEM;

	struct gvtg_domain *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->name = xpath_string(xp, root, "string(/domain/name)");
	if (d->name)
		for (char *p = d->name; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	_cleanup_free_ char *duuid = xpath_string(xp, root, "string(/domain/uuid)");
	if (duuid && gvtg_uuid_normalize(duuid, d->uuid) < 0)
		d->uuid[0] = '\0';

	int r = collect_hostdevs(xp, d);
	if (r >= 0)
		r = collect_metadata(xp, d);
	if (r < 0) {
		gvtg_domain_free(d);
		return r;
	}
	*ret_domain = d;
	return 0;
}

/* ---- for the diagnosis table (diag.c) ---- */

int gvtg_domain_parse_where(int *ret_line)
{
	*ret_line = parse_line;
	return parse_code;
}
