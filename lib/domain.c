/* SPDX-License-Identifier: MIT */
/*
 * Domain XML: the one place where XML is read.  The input is untrusted (a libvirt user
 * writes it): UTF-8 only (libvirt writes nothing else), parsed from memory with no
 * network, no entity substitution, no DTD, an entity loader that refuses everything,
 * and a document with a DOCTYPE is refused.
 *
 * The document is read with libxml2's SAX2 interface and no tree is built: the hook
 * needs the domain's name and UUID, its mdev hostdevs and our metadata, a few dozen
 * bytes out of kilobytes.  What is kept is what the XPath expressions
 *
 *     string(/domain/name)   string(/domain/uuid)
 *     /domain/devices/hostdev[@mode='subsystem'][@type='mdev']
 *         with @model and string(source/address/@uuid) of each
 *     /domain/metadata/gvtg:vgpu/gvtg:device   with @uuid, @parent, @type
 *
 * select on the whole document (no-namespace names, first match in document order for
 * string()), so memory stays bounded by the input whatever it holds, and parsing costs
 * less than building and freeing a tree.
 */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/dict.h>
#include <libxml/parserInternals.h>

#include "gvtg-private.h"

/* More vGPUs than any host can give one domain; bounds the work on hostile input. */
#define MAX_HOSTDEVS 64
/* libvirt writes a handful of attributes per element.  libxml2 2.9 appends each new
 * attribute by walking the element's list: 100000 attributes take minutes. */
#define MAX_ATTRIBUTES 256
/* The shortest attribute is ` a=""`: an element with more than MAX_ATTRIBUTES of them
 * spans at least this many bytes without a '<' (a '<' cannot occur in a tag). */
#define MIN_ATTRIBUTES_SPAN ((MAX_ATTRIBUTES + 1) * 5)
/* libxml2 keeps every distinct element and attribute name in a dictionary, whose cost
 * grows faster than linearly: 900000 distinct names (8 MiB of <aNNNNN/>) take a minute
 * and 70 MB.  libvirt's schema has some hundreds of names; this many bytes of names
 * (about 50000 of them) stop the parser instead. */
#define NAMES_MAX_BYTES 300000
/* Enough of a hostdev's UUID attribute for its message ('%.40s') and its check. */
/* libvirt takes any number of dashes and spaces in a UUID; more than this is not one. */
#define UUID_KEEP 160

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

static void cleanup_parser(xmlParserCtxtPtr *c)
{
	if (*c) {
		if ((*c)->myDoc)
			xmlFreeDoc((*c)->myDoc);
		xmlFreeParserCtxt(*c);
	}
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

/* ---- the raw input: encoding and bounds, checked before libxml2 sees it ----------- */

static bool ascii_case_eq(const char *a, size_t n, const char *b)
{
	if (strlen(b) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = a[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != b[i])
			return false;
	}
	return true;
}

/* libvirt always writes UTF-8.  Anything else is refused before parsing, so that every
 * check on the raw bytes below (DOCTYPE, attribute counts) sees the characters the
 * parser will see: in UTF-16, U+2200 is the bytes 00 22, a quote to a byte scanner.
 * Refused: a NUL byte (UTF-16 and UCS-4 have one in every ASCII character), any start
 * other than an optional UTF-8 byte-order mark, blanks and '<' (EBCDIC, byte-order
 * marks of other encodings), and a declaration naming another encoding. */
static const char *not_utf8(const char *buf, size_t len)
{
	if (memchr(buf, '\0', len))
		return "it holds a NUL byte (UTF-16 or UCS-4?)";
	const char *p = buf, *end = buf + len;
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p < end && *p != '<')
		return "it does not start with '<' (another encoding or a byte-order mark?)";
	if ((size_t)(end - p) < 6 || memcmp(p, "<?xml", 5) != 0)
		return NULL;
	const char *close = memmem(p, (size_t)(end - p), "?>", 2);
	const char *enc = memmem(p, close ? (size_t)(close - p) : (size_t)(end - p),
				 "encoding", 8);
	if (!enc)
		return NULL;
	const char *q = enc + 8;
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '='))
		q++;
	if (q >= end || (*q != '"' && *q != '\''))
		return "its XML declaration names no readable encoding";
	const char *v = q + 1, *ve = memchr(v, *q, (size_t)(end - v));
	if (!ve || !(ascii_case_eq(v, (size_t)(ve - v), "utf-8") ||
		     ascii_case_eq(v, (size_t)(ve - v), "utf8") ||
		     ascii_case_eq(v, (size_t)(ve - v), "us-ascii") ||
		     ascii_case_eq(v, (size_t)(ve - v), "ascii")))
		return "its XML declaration names another encoding than UTF-8";
	return NULL;
}

/* libvirt never sends a document type declaration; one in the input can only be an
 * attempt at entity expansion or external access.  '!' is rare: find it, then look. */
static bool has_doctype(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	while ((p = memchr(p, '!', (size_t)(end - p)))) {
		if (p > buf && p[-1] == '<' &&
		    (((size_t)(end - p) >= 8 && !memcmp(p, "!DOCTYPE", 8)) ||
		     ((size_t)(end - p) >= 7 && !memcmp(p, "!ENTITY", 7))))
			return true;
		p++;
	}
	return false;
}

/* Does any tag have more than MAX_ATTRIBUTES attributes?  Counts '=' outside quotes in
 * tags; comments, processing instructions and CDATA are skipped so that a quote in them
 * cannot shift the quote state.  Only the well-formed prefix of a document matters (the
 * parser stops at the first error), and there the count is exact or higher. */
static bool too_many_attributes_exact(const char *buf, size_t len)
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

/* The exact count walks every byte of every tag.  A tag cannot contain '<', so when no
 * run of bytes between two '<' is long enough to hold MAX_ATTRIBUTES + 1 attributes,
 * none has: memchr() jumps from '<' to '<', and only a document with such a long run
 * (long text, or a hostile tag) pays for the exact count. */
static bool too_many_attributes(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	for (;;) {
		const char *next = memchr(p, '<', (size_t)(end - p));
		const char *stop = next ? next : end;
		if (stop - p >= MIN_ATTRIBUTES_SPAN)
			return too_many_attributes_exact(buf, len);
		if (!next)
			return false;
		p = next + 1;
	}
}

/* ---- the SAX handler: what the XPath expressions in the header select ------------- */

struct text {
	char *s;
	size_t len, cap;
};

struct raw_hostdev {
	char *model;        /* NULL when absent */
	bool has_uuid;      /* the first source/address with a uuid attribute */
	char uuid[UUID_KEEP + 1];
	size_t uuid_len;    /* the attribute's whole length */
};

struct raw_meta {
	bool has_uuid;
	char uuid[UUID_KEEP + 1];
	size_t uuid_len;
	char *parent, *type; /* NULL when absent */
};

struct sax {
	xmlParserCtxtPtr ctxt;
	int depth;          /* of the element being read; the root is 1 */
	bool not_domain, not_domain_subset;
	int err;            /* -ENOMEM */
	bool seen_name, seen_uuid;
	int name_depth, uuid_depth;     /* inside the first /domain/name, /domain/uuid */
	struct text name, uuid;
	int devices_depth, hostdev_depth, source_depth;
	size_t n_hostdevs;  /* every match; the first MAX_HOSTDEVS + 1 are kept */
	struct raw_hostdev hostdevs[MAX_HOSTDEVS + 1];
	int metadata_depth, vgpu_depth;
	size_t n_meta;      /* the first MAX_HOSTDEVS are kept */
	struct raw_meta meta[MAX_HOSTDEVS];
};

static void stop(struct sax *x, int err)
{
	if (!x->err)
		x->err = err;
	xmlStopParser(x->ctxt);
}

static bool text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 64;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *ns = realloc(t->s, cap);
		if (!ns)
			return false;
		t->s = ns;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
	return true;
}

static bool name_is(const xmlChar *name, const char *want)
{
	return !strcmp((const char *)name, want);
}

/* Attribute i of a SAX2 start tag: [value, end).  Without entity substitution the
 * parser hands '&' over as "&#38;" (a tree builder decodes it again): decode it. */
static const xmlChar **attr_at(const xmlChar **attrs, int i)
{
	return attrs + 5 * i;
}

static const xmlChar **find_attr(int n, const xmlChar **attrs, const char *name)
{
	for (int i = 0; i < n; i++) {
		const xmlChar **a = attr_at(attrs, i);
		if (!a[2] && name_is(a[0], name)) /* no namespace, as @name selects */
			return a;
	}
	return NULL;
}

static bool attr_equals(int n, const xmlChar **attrs, const char *name, const char *want)
{
	const xmlChar **a = find_attr(n, attrs, name);
	size_t len = strlen(want);
	return a && (size_t)(a[4] - a[3]) == len && !memcmp(a[3], want, len);
}

/* The decoded value as a new string; *ret_len its length. */
static char *attr_dup(const xmlChar **a, size_t *ret_len)
{
	const char *v = (const char *)a[3], *e = (const char *)a[4];
	char *out = malloc((size_t)(e - v) + 1), *o = out;
	if (!out)
		return NULL;
	while (v < e) {
		if (*v == '&' && e - v >= 5 && !memcmp(v, "&#38;", 5)) {
			*o++ = '&';
			v += 5;
		} else {
			*o++ = *v++;
		}
	}
	*o = '\0';
	if (ret_len)
		*ret_len = (size_t)(o - out);
	return out;
}

/* An attribute kept for messages and paths: values with control characters are
 * treated as empty, since they would become part of a message. */
static int attr_text(int n, const xmlChar **attrs, const char *name, char **ret)
{
	*ret = NULL;
	const xmlChar **a = find_attr(n, attrs, name);
	if (!a)
		return 0;
	char *v = attr_dup(a, NULL);
	if (!v)
		return -ENOMEM;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			v[0] = '\0';
			break;
		}
	*ret = v;
	return 0;
}

/* A UUID attribute: its first UUID_KEEP bytes and its length. */
static int attr_uuid(const xmlChar **a, char out[UUID_KEEP + 1], size_t *ret_len)
{
	size_t len;
	char *v = attr_dup(a, &len);
	if (!v)
		return -ENOMEM;
	size_t keep = len < UUID_KEEP ? len : UUID_KEEP;
	memcpy(out, v, keep);
	out[keep] = '\0';
	*ret_len = len;
	free(v);
	return 0;
}

static void start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
			  const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
			  int nb_attributes, int nb_defaulted, const xmlChar **attrs)
{
	(void)prefix;
	(void)nb_namespaces;
	(void)namespaces;
	(void)nb_defaulted;
	struct sax *x = ((xmlParserCtxtPtr)ctx)->_private;
	int d = ++x->depth;
	if (d == 1) {
		/* Not a domain: read on (a later error is reported first), keep nothing. */
		if (uri || !name_is(localname, "domain"))
			x->not_domain = true;
		return;
	}
	if (x->not_domain)
		return;
	if (d == 2) {
		if (uri)
			return;
		if (name_is(localname, "name") && !x->seen_name) {
			x->seen_name = true;
			x->name_depth = d;
		} else if (name_is(localname, "uuid") && !x->seen_uuid) {
			x->seen_uuid = true;
			x->uuid_depth = d;
		} else if (name_is(localname, "devices")) {
			x->devices_depth = d;
		} else if (name_is(localname, "metadata")) {
			x->metadata_depth = d;
		}
		return;
	}
	if (d == 3 && x->devices_depth == 2 && !uri && name_is(localname, "hostdev") &&
	    attr_equals(nb_attributes, attrs, "mode", "subsystem") &&
	    attr_equals(nb_attributes, attrs, "type", "mdev")) {
		if (x->n_hostdevs++ > MAX_HOSTDEVS)
			return; /* counted, not kept: the count alone refuses the domain */
		x->hostdev_depth = d;
		struct raw_hostdev *h = &x->hostdevs[x->n_hostdevs - 1];
		if (attr_text(nb_attributes, attrs, "model", &h->model) < 0)
			stop(x, -ENOMEM);
		return;
	}
	if (d == 4 && x->hostdev_depth == 3 && !uri && name_is(localname, "source")) {
		x->source_depth = d;
		return;
	}
	if (d == 5 && x->source_depth == 4 && !uri && name_is(localname, "address")) {
		struct raw_hostdev *h = &x->hostdevs[x->n_hostdevs - 1];
		const xmlChar **a = find_attr(nb_attributes, attrs, "uuid");
		if (a && !h->has_uuid) {
			h->has_uuid = true;
			if (attr_uuid(a, h->uuid, &h->uuid_len) < 0)
				stop(x, -ENOMEM);
		}
		return;
	}
	if (d == 3 && x->metadata_depth == 2 && uri &&
	    !strcmp((const char *)uri, GVTG_METADATA_NS) && name_is(localname, "vgpu")) {
		x->vgpu_depth = d;
		return;
	}
	if (d == 4 && x->vgpu_depth == 3 && uri && !strcmp((const char *)uri, GVTG_METADATA_NS) &&
	    name_is(localname, "device") && x->n_meta < MAX_HOSTDEVS) {
		struct raw_meta *m = &x->meta[x->n_meta++];
		const xmlChar **a = find_attr(nb_attributes, attrs, "uuid");
		if (a) {
			m->has_uuid = true;
			/* attr() treated control characters as an empty value */
			char *v = NULL;
			if (attr_text(nb_attributes, attrs, "uuid", &v) < 0 || !v) {
				stop(x, -ENOMEM);
				return;
			}
			size_t len = strlen(v), keep = len < UUID_KEEP ? len : UUID_KEEP;
			memcpy(m->uuid, v, keep);
			m->uuid[keep] = '\0';
			m->uuid_len = len;
			free(v);
		}
		if (attr_text(nb_attributes, attrs, "parent", &m->parent) < 0 ||
		    attr_text(nb_attributes, attrs, "type", &m->type) < 0)
			stop(x, -ENOMEM);
	}
}

static void end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
			const xmlChar *uri)
{
	(void)localname;
	(void)prefix;
	(void)uri;
	struct sax *x = ((xmlParserCtxtPtr)ctx)->_private;
	int d = x->depth--;
	int *depths[] = { &x->name_depth,    &x->uuid_depth,     &x->devices_depth,
			  &x->hostdev_depth, &x->source_depth,   &x->metadata_depth,
			  &x->vgpu_depth };
	for (size_t i = 0; i < ELEMENTSOF(depths); i++)
		if (*depths[i] == d)
			*depths[i] = 0;
}

static void characters(void *ctx, const xmlChar *ch, int len)
{
	struct sax *x = ((xmlParserCtxtPtr)ctx)->_private;
	/* string() of an element: all the text below it, nested elements included */
	if (x->name_depth && !text_add(&x->name, (const char *)ch, (size_t)len))
		stop(x, -ENOMEM);
	if (x->uuid_depth && !text_add(&x->uuid, (const char *)ch, (size_t)len))
		stop(x, -ENOMEM);
}

static void internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
			    const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	struct sax *x = ((xmlParserCtxtPtr)ctx)->_private;
	x->not_domain_subset = true; /* refused before parsing already; never read one */
	stop(x, 0);
}

static void sax_clear(struct sax *x)
{
	free(x->name.s);
	free(x->uuid.s);
	for (size_t i = 0; i < x->n_hostdevs && i <= MAX_HOSTDEVS; i++)
		free(x->hostdevs[i].model);
	for (size_t i = 0; i < x->n_meta; i++) {
		free(x->meta[i].parent);
		free(x->meta[i].type);
	}
	free(x);
}

/* ---- from what was kept to struct gvtg_domain ------------------------------------ */

static int collect_hostdevs(struct sax *x, struct gvtg_domain *d)
{
	size_t n = x->n_hostdevs;
	if (n == 0)
		return 0;
	if (n > MAX_HOSTDEVS) {
		set_error("%zu mdev hostdevs in one domain; at most %d are supported", n,
			  MAX_HOSTDEVS);
		return -E2BIG;
	}
	d->hostdevs = calloc(n, sizeof(*d->hostdevs));
	if (!d->hostdevs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct raw_hostdev *r = &x->hostdevs[i];
		char u[GVTG_UUID_STRLEN + 1];
		if (!r->has_uuid || r->uuid_len == 0) {
			set_error("an mdev <hostdev> has no <source><address uuid='...'/>");
			return -EINVAL;
		}
		if (r->uuid_len > UUID_KEEP || gvtg_uuid_normalize(r->uuid, u) < 0) {
			set_error("an mdev <hostdev> has a malformed UUID '%.40s'", r->uuid);
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
		h->model = r->model;
		r->model = NULL;
	}
	return 0;
}

static int collect_metadata(struct sax *x, struct gvtg_domain *d)
{
	if (x->n_meta == 0)
		return 0;
	d->meta = calloc(x->n_meta, sizeof(*d->meta));
	if (!d->meta)
		return -ENOMEM;
	for (size_t i = 0; i < x->n_meta; i++) {
		struct raw_meta *r = &x->meta[i];
		struct gvtg_meta_device *m = &d->meta[d->n_meta];
		/* An entry without a usable UUID cannot match any hostdev: skip it. */
		if (!r->has_uuid || r->uuid_len > UUID_KEEP ||
		    gvtg_uuid_normalize(r->uuid, m->uuid) < 0)
			continue;
		m->parent = r->parent;
		m->type = r->type;
		r->parent = r->type = NULL;
		d->n_meta++;
	}
	return 0;
}

/* Long on purpose: it is the one gate untrusted bytes pass through (size, encoding,
 * parser limits, then what the SAX callbacks gathered, each refusal worded once), and
 * reads best as one sequence of refusals in the order they are tried. */
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
	const char *why = not_utf8(buf, len);
	if (why) {
		set_error("the domain XML is not UTF-8: %s; libvirt always writes UTF-8", why);
		return -EBADMSG;
	}
	if (has_doctype(buf, len)) {
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

	struct sax *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	__attribute__((cleanup(cleanup_parser))) xmlParserCtxtPtr pctx =
		xmlCreateMemoryParserCtxt(buf, (int)len);
	if (!pctx) {
		sax_clear(x);
		return -ENOMEM;
	}
	x->ctxt = pctx;
	pctx->_private = x;
	/* Only these callbacks: no tree, no DTD handling, errors to nobody. */
	memset(pctx->sax, 0, sizeof(*pctx->sax));
	pctx->sax->initialized = XML_SAX2_MAGIC;
	pctx->sax->startElementNs = start_element;
	pctx->sax->endElementNs = end_element;
	pctx->sax->characters = characters;
	pctx->sax->ignorableWhitespace = characters;
	pctx->sax->internalSubset = internal_subset;
	pctx->sax->serror = silent_structured_error;
	pctx->userData = pctx;
	if (pctx->dict)
		xmlDictSetLimit(pctx->dict, NAMES_MAX_BYTES);
	xmlCtxtUseOptions(pctx, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
					XML_PARSE_NOCDATA);
	(void)xmlParseDocument(pctx);

	if (x->err) {
		int r = x->err;
		sax_clear(x);
		return r;
	}
	if (!pctx->wellFormed && !x->not_domain_subset) {
		xmlErrorPtr e = xmlCtxtGetLastError(pctx);
		bool names = pctx->dict && xmlDictGetUsage(pctx->dict) > NAMES_MAX_BYTES;
		if (e && !names) /* a parser error; ours has its own words */
			parse_line = e->line, parse_code = e->code ? e->code : -1;
		if (names)
			set_error("the domain XML uses more distinct element and attribute "
				  "names than libvirt writes (%d bytes of names at most)",
				  NAMES_MAX_BYTES);
		else if (e && e->message)
			set_error("the domain XML is not well-formed: line %d: %s", e->line,
				  e->message);
		else
			set_error("the domain XML is not well-formed");
		sax_clear(x);
		return -EBADMSG;
	}
	if (x->not_domain || x->not_domain_subset) {
		sax_clear(x);
		set_error("the input is not a libvirt <domain> document");
		return -EBADMSG;
	}

	struct gvtg_domain *d = calloc(1, sizeof(*d));
	if (!d) {
		sax_clear(x);
		return -ENOMEM;
	}
	if (x->name.len) {
		d->name = x->name.s;
		x->name.s = NULL;
		for (char *p = d->name; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	if (!x->uuid.len || gvtg_uuid_normalize(x->uuid.s, d->uuid) < 0)
		d->uuid[0] = '\0';

	int r = collect_hostdevs(x, d);
	/* A domain with a vGPU needs its UUID for the records: a malformed one is named as
	 * such (without a vGPU it does not matter, and such a domain is never refused). */
	if (r >= 0 && d->n_hostdevs && x->uuid.len && !d->uuid[0]) {
		char shown[49];
		size_t k = 0;
		for (const char *p = x->uuid.s; *p && k < sizeof(shown) - 1; p++)
			shown[k++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
		shown[k] = '\0';
		set_error("the domain's <uuid> '%s' is malformed: libvirt takes 32 hex digits, "
			  "with or without dashes",
			  shown);
		r = -EINVAL;
	}
	if (r >= 0)
		r = collect_metadata(x, d);
	sax_clear(x);
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
