/* SPDX-License-Identifier: MIT */
/*
 * The edit a vGPU makes to a domain's XML, shared by 'xml' (which prints it as one
 * block to paste) and 'attach'/'detach' (which apply it to the domain's definition):
 * the mdev <hostdev>, our metadata element with the parent and type, and what the
 * chosen display needs (graphics, video, QEMU's override and command line).
 *
 * Everything attach adds can be found again by the vGPU's UUID, and what it replaces
 * (the domain's own <graphics> and <video> for a vGPU display) is kept in our metadata
 * as text, so detach puts the domain back as it was.  Metadata is no secret (any
 * read-only client reads it): a password stays in the secure definition, on the vGPU's
 * SPICE display, and detach takes it from there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "ctl.h"
#include "domxml.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
#define C(s) ((const xmlChar *)(s))

int ctl_display_parse(const char *s, enum ctl_display *ret)
{
	if (!strcmp(s, "off"))
		*ret = CTL_DISPLAY_OFF;
	else if (!strcmp(s, "gtk"))
		*ret = CTL_DISPLAY_GTK;
	else if (!strcmp(s, "spice"))
		*ret = CTL_DISPLAY_SPICE;
	else
		return -EINVAL;
	return 0;
}

/* ---- finding things --------------------------------------------------------------- */

static bool is_elem(const xmlNode *n, const char *name, const char *ns)
{
	if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name))
		return false;
	if (!ns)
		return !n->ns;
	return n->ns && n->ns->href && !strcmp((const char *)n->ns->href, ns);
}

static xmlNode *child(xmlNode *parent, const char *name, const char *ns)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is_elem(n, name, ns))
			return n;
	return NULL;
}

static bool attr_is(xmlNode *n, const char *name, const char *value)
{
	xmlChar *v = xmlGetNoNsProp(n, C(name));
	bool eq = v && !strcmp((const char *)v, value);
	xmlFree(v);
	return eq;
}

static bool has_element_children(const xmlNode *n)
{
	for (const xmlNode *k = n->children; k; k = k->next)
		if (k->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

/* The mdev hostdev of this UUID. */
static xmlNode *find_hostdev(xmlNode *devices, const char *uuid)
{
	for (xmlNode *n = devices ? devices->children : NULL; n; n = n->next) {
		if (!is_elem(n, "hostdev", NULL) || !attr_is(n, "type", "mdev"))
			continue;
		xmlNode *addr = child(child(n, "source", NULL), "address", NULL);
		xmlChar *u = addr ? xmlGetNoNsProp(addr, C("uuid")) : NULL;
		char norm[GVTG_UUID_STRLEN + 1];
		bool match = u && gvtg_uuid_normalize((const char *)u, norm) >= 0 &&
			     !strcmp(norm, uuid);
		xmlFree(u);
		if (match)
			return n;
	}
	return NULL;
}

static xmlNode *find_by_uuid(xmlNode *parent, const char *name, const char *ns,
			     const char *uuid)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is_elem(n, name, ns) && attr_is(n, "uuid", uuid))
			return n;
	return NULL;
}

static void alias_of(const char *uuid, char out[32])
{
	/* A user alias ("ua-" prefix) is kept by libvirt as QEMU's device id, so the
	 * override finds this device whatever other hostdevs the domain has. */
	snprintf(out, 32, "ua-gvtg-%.8s", uuid);
}

/* ---- building ----------------------------------------------------------------------- */

static xmlNode *add(xmlNode *parent, xmlNs *ns, const char *name)
{
	return xmlNewChild(parent, ns, C(name), NULL);
}

static void set(xmlNode *n, const char *name, const char *value)
{
	xmlNewProp(n, C(name), C(value));
}

/* An element of <domain> where libvirt puts it (it re-orders anyway; this is for the
 * XML printed by --dry-run): <metadata> after the name, uuid, title and description. */
static xmlNode *domain_child(xmlNode *root, const char *name)
{
	xmlNode *n = child(root, name, NULL);
	if (n)
		return n;
	n = xmlNewNode(NULL, C(name));
	if (!n)
		return NULL;
	if (!strcmp(name, "metadata")) {
		xmlNode *after = NULL;
		for (xmlNode *k = root->children; k; k = k->next)
			if (is_elem(k, "name", NULL) || is_elem(k, "uuid", NULL) ||
			    is_elem(k, "genid", NULL) || is_elem(k, "title", NULL) ||
			    is_elem(k, "description", NULL))
				after = k;
		if (after)
			return xmlAddNextSibling(after, n);
		if (root->children)
			return xmlAddPrevSibling(root->children, n);
	}
	return xmlAddChild(root, n);
}

/* A device element where libvirt lists it: after the last of its kind, else before
 * the devices libvirt lists after hostdevs. */
static xmlNode *add_device(xmlNode *devices, xmlNode *dev)
{
	static const char *const later[] = { "redirdev", "redirfilter", "hub", "smartcard",
					     "watchdog", "memballoon", "rng", "tpm", "shmem",
					     "memory", "iommu", "vsock", "crypto", "panic" };
	xmlNode *last = NULL;
	for (xmlNode *k = devices->children; k; k = k->next)
		if (is_elem(k, (const char *)dev->name, NULL))
			last = k;
	if (last)
		return xmlAddNextSibling(last, dev);
	for (xmlNode *k = devices->children; k; k = k->next)
		for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
			if (is_elem(k, later[i], NULL))
				return xmlAddPrevSibling(k, dev);
	return xmlAddChild(devices, dev);
}

/* Our <gvtg:vgpu> in <metadata>, made when missing. */
static xmlNode *vgpu_element(xmlNode *root, bool create)
{
	xmlNode *meta = child(root, "metadata", NULL);
	if (!meta && !create)
		return NULL;
	if (!meta && !(meta = domain_child(root, "metadata")))
		return NULL;
	xmlNode *v = child(meta, "vgpu", GVTG_METADATA_NS);
	if (v || !create)
		return v;
	v = xmlNewChild(meta, NULL, C("vgpu"), NULL);
	if (!v)
		return NULL;
	xmlNs *ns = xmlNewNs(v, C(GVTG_METADATA_NS), C("gvtg"));
	if (!ns)
		return NULL;
	xmlSetNs(v, ns);
	return v;
}

static xmlNs *qemu_ns(xmlNode *root)
{
	xmlNs *ns = xmlSearchNsByHref(root->doc, root, C(QEMU_NS));
	return ns ? ns : xmlNewNs(root, C(QEMU_NS), C("qemu"));
}

static void property(xmlNode *frontend, xmlNs *ns, const char *name, const char *type,
		     const char *value)
{
	xmlNode *p = add(frontend, ns, "property");
	set(p, "name", name);
	set(p, "type", type);
	set(p, "value", value);
}

static bool needs_override(const struct ctl_vgpu_spec *s)
{
	return s->display != CTL_DISPLAY_OFF || s->ramfb || s->romfile;
}

/* The secure flag's attributes of a replaced element: those of n that the same element
 * of the definition as any client reads it (shown, or NULL) lacks, and 'passwd' always
 * (libvirt's own secret of <graphics>).  They are taken off n; a password is handed to
 * pw (the first one; -EPERM with why when another differs), any other secret refuses. */
static int take_secrets(xmlNode *n, const xmlNode *shown, char **pw, char *why, size_t size)
{
	for (xmlAttr *a = n->properties, *next; a; a = next) {
		next = a->next;
		bool secret = !strcmp((const char *)a->name, "passwd") ||
			      (shown && !xmlHasProp((xmlNode *)shown, a->name));
		if (!secret)
			continue;
		if (strcmp((const char *)a->name, "passwd") != 0) {
			snprintf(why, size, "its <%s> has the secret attribute '%s', which gvtgctl "
				 "cannot keep outside the secure definition",
				 (const char *)n->name, (const char *)a->name);
			return -EPERM;
		}
		xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
		bool differs = *pw && v && strcmp(*pw, (const char *)v) != 0;
		if (!*pw && v)
			*pw = strdup((const char *)v);
		xmlFree(v);
		if (differs) {
			snprintf(why, size, "its <graphics> have different passwords, and the vGPU's "
				 "display keeps one. Give them the same password first");
			return -EPERM;
		}
		xmlRemoveProp(a);
	}
	const xmlNode *sk = shown ? shown->children : NULL;
	for (xmlNode *k = n->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		while (sk && sk->type != XML_ELEMENT_NODE)
			sk = sk->next;
		int r = take_secrets(k, sk, pw, why, size);
		if (r < 0)
			return r;
		if (sk)
			sk = sk->next;
	}
	return 0;
}

/* The i-th element called name in devices, or NULL. */
static const xmlNode *nth_device(const xmlNode *devices, const char *name, size_t i)
{
	for (const xmlNode *k = devices ? devices->children : NULL; k; k = k->next)
		if (is_elem(k, name, NULL) && i-- == 0)
			return k;
	return NULL;
}

/* Move every <graphics> and <video> of devices into the text of keep, without a secret:
 * a password moves to *pw (for the vGPU's display), and keep's 'password-of' names the
 * graphics types it belongs to, for detach. */
static int stash(xmlNode *devices, const xmlNode *shown_devices, xmlNode *keep, char **pw,
		 char *why, size_t size)
{
	xmlBuffer *buf = xmlBufferCreate();
	if (!buf)
		return -ENOMEM;
	char types[128] = "";
	size_t n_graphics = 0, n_video = 0;
	int r = 0;
	for (xmlNode *k = devices->children, *next; k && r >= 0; k = next) {
		next = k->next;
		bool g = is_elem(k, "graphics", NULL);
		if (!g && !is_elem(k, "video", NULL))
			continue;
		const xmlNode *sh = shown_devices ? nth_device(shown_devices, g ? "graphics" : "video",
							       g ? n_graphics++ : n_video++)
						  : NULL;
		bool had = xmlHasProp(k, C("passwd")) != NULL;
		r = take_secrets(k, sh, pw, why, size);
		xmlChar *type = had && r >= 0 ? xmlGetNoNsProp(k, C("type")) : NULL;
		if (type)
			snprintf(types + strlen(types), sizeof(types) - strlen(types), "%s%s",
				 types[0] ? " " : "", (const char *)type);
		xmlFree(type);
		if (r >= 0 && xmlNodeDump(buf, k->doc, k, 0, 0) < 0)
			r = -ENOMEM;
		xmlUnlinkNode(k);
		xmlFreeNode(k);
	}
	if (r >= 0 && xmlBufferLength(buf) > 0)
		xmlNodeAddContent(keep, xmlBufferContent(buf));
	if (r >= 0 && types[0])
		set(keep, "password-of", types);
	xmlBufferFree(buf);
	return r;
}

/* The display's pieces in devices: the domain's own <graphics> and <video> go (kept in
 * v for detach when shown is given, without their secrets), SPICE's and a video of
 * none come. */
static int add_display(xmlNode *devices, xmlNode *v, const struct ctl_vgpu_spec *s,
		       const xmlDoc *shown, char *why, size_t why_size)
{
	/* What the domain had is kept beside our device, for detach; its password
	 * goes to the vGPU's SPICE display, where libvirt keeps it secret. */
	char *pw = NULL;
	if (shown) {
		xmlNode *keep = add(v, v->ns, "replaced");
		set(keep, "uuid", s->uuid);
		xmlNode *sroot = xmlDocGetRootElement((xmlDoc *)shown);
		int r = stash(devices, sroot ? child(sroot, "devices", NULL) : NULL, keep, &pw,
			      why, why_size);
		if (r >= 0 && pw && s->display != CTL_DISPLAY_SPICE) {
			snprintf(why, why_size, "its <graphics> has a password, and a GTK "
				 "display has no place to keep it. Use --display=spice, which "
				 "keeps it, or remove the password first");
			r = -EPERM;
		}
		if (r < 0) {
			free(pw);
			return r;
		}
	} else {
		for (xmlNode *k = devices->children, *next; k; k = next) {
			next = k->next;
			if (is_elem(k, "graphics", NULL) || is_elem(k, "video", NULL)) {
				xmlUnlinkNode(k);
				xmlFreeNode(k);
			}
		}
	}
	if (s->display == CTL_DISPLAY_SPICE) {
		xmlNode *g = xmlNewNode(NULL, C("graphics"));
		set(g, "type", "spice");
		if (pw)
			set(g, "passwd", pw);
		set(add(g, NULL, "listen"), "type", "none");
		set(add(g, NULL, "gl"), "enable", "yes");
		add_device(devices, g);
	}
	free(pw);
	xmlNode *video = xmlNewNode(NULL, C("video"));
	set(add(video, NULL, "model"), "type", "none");
	add_device(devices, video);
	return 0;
}

int ctl_domxml_add(xmlDoc *doc, const struct ctl_vgpu_spec *s, const xmlDoc *shown, char *why,
		   size_t why_size)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || !is_elem(root, "domain", NULL))
		return -EBADMSG;
	xmlNode *devices = domain_child(root, "devices");
	if (!devices)
		return -ENOMEM;
	if (find_hostdev(devices, s->uuid))
		return -EEXIST;

	/* The metadata first: it is where the hook reads the parent and type. */
	xmlNode *v = vgpu_element(root, true);
	if (!v)
		return -ENOMEM;
	xmlNode *old = find_by_uuid(v, "device", GVTG_METADATA_NS, s->uuid);
	if (old) {
		xmlUnlinkNode(old);
		xmlFreeNode(old);
	}
	xmlNode *dev = add(v, v->ns, "device");
	set(dev, "uuid", s->uuid);
	set(dev, "parent", s->parent);
	set(dev, "type", s->type);

	char alias[32];
	alias_of(s->uuid, alias);
	xmlNode *hd = xmlNewNode(NULL, C("hostdev"));
	set(hd, "mode", "subsystem");
	set(hd, "type", "mdev");
	set(hd, "managed", "no");
	set(hd, "model", "vfio-pci");
	/* display='on' is SPICE's (and RAMFB's without GTK) DMA-BUF; GTK is switched on
	 * through QEMU's own property below. */
	bool on = s->display == CTL_DISPLAY_SPICE || (s->ramfb && s->display != CTL_DISPLAY_GTK);
	set(hd, "display", on ? "on" : "off");
	xmlNode *src = add(hd, NULL, "source");
	set(add(src, NULL, "address"), "uuid", s->uuid);
	if (needs_override(s))
		set(add(hd, NULL, "alias"), "name", alias);
	add_device(devices, hd);

	if (s->display != CTL_DISPLAY_OFF) {
		int r = add_display(devices, v, s, shown, why, why_size);
		if (r < 0)
			return r;
	}

	if (!needs_override(s))
		return 0;
	xmlNs *q = qemu_ns(root);
	if (!q)
		return -ENOMEM;
	if (s->display == CTL_DISPLAY_GTK) {
		xmlNode *cl = child(root, "commandline", QEMU_NS);
		if (!cl)
			cl = add(root, q, "commandline");
		set(add(cl, q, "arg"), "value", "-display");
		set(add(cl, q, "arg"), "value", "gtk,gl=on,zoom-to-fit=off");
		xmlNode *env = add(cl, q, "env");
		set(env, "name", "DISPLAY");
		set(env, "value", ":0");
	}
	xmlNode *ov = child(root, "override", QEMU_NS);
	if (!ov)
		ov = add(root, q, "override");
	xmlNode *qd = add(ov, q, "device");
	set(qd, "alias", alias);
	xmlNode *fe = add(qd, q, "frontend");
	if (s->display == CTL_DISPLAY_GTK)
		property(fe, q, "display", "string", "on");
	if (s->display != CTL_DISPLAY_OFF || s->ramfb)
		property(fe, q, "x-igd-opregion", "bool", "true");
	if (s->ramfb) {
		property(fe, q, "driver", "string", "vfio-pci-nohotplug");
		property(fe, q, "ramfb", "bool", "true");
	}
	if (s->romfile)
		property(fe, q, "romfile", "string", s->romfile);
	return 0;
}

/* ---- taking it out again ---------------------------------------------------------- */

static void drop(xmlNode *n)
{
	if (n) {
		xmlUnlinkNode(n);
		xmlFreeNode(n);
	}
}

static void drop_if_empty(xmlNode *n)
{
	if (n && !has_element_children(n))
		drop(n);
}

/* Is word one of the space-separated words of list? */
static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, " ");
		if (k == n && !strncmp(p, word, n))
			return true;
		p += k;
		p += strspn(p, " ");
	}
	return false;
}

/* Put back the elements kept in the text of keep. */
static int unstash(xmlNode *devices, xmlNode *keep)
{
	xmlChar *text = xmlNodeGetContent(keep);
	if (!text)
		return 0;
	/* Parsed inside <devices>, so they come back as what they were. */
	xmlNode *list = NULL;
	int len = (int)strlen((const char *)text);
	xmlParserErrors e = len ? xmlParseInNodeContext(devices, (const char *)text, len,
						 XML_PARSE_NONET | XML_PARSE_NOBLANKS, &list)
				: XML_ERR_OK;
	xmlFree(text);
	if (e != XML_ERR_OK) {
		xmlFreeNodeList(list);
		return -EBADMSG;
	}
	/* The vGPU's display goes: the domain's own comes back, with the password the
	 * vGPU's display holds now (the secure definition is where it stayed). */
	xmlChar *pw = NULL;
	for (xmlNode *k = devices->children, *next; k; k = next) {
		next = k->next;
		if (is_elem(k, "graphics", NULL) && !pw)
			pw = xmlGetNoNsProp(k, C("passwd"));
		if (is_elem(k, "graphics", NULL) || is_elem(k, "video", NULL))
			drop(k);
	}
	xmlChar *of = xmlGetNoNsProp(keep, C("password-of"));
	while (list) {
		xmlNode *n = list;
		list = list->next;
		n->next = n->prev = NULL;
		n->parent = NULL;
		if (n->type != XML_ELEMENT_NODE) {
			xmlFreeNode(n);
			continue;
		}
		xmlChar *type = is_elem(n, "graphics", NULL) ? xmlGetNoNsProp(n, C("type")) : NULL;
		if (pw && of && type && word_in((const char *)of, (const char *)type))
			xmlSetProp(n, C("passwd"), pw);
		xmlFree(type);
		add_device(devices, n);
	}
	xmlFree(of);
	xmlFree(pw);
	return 0;
}

int ctl_domxml_remove(xmlDoc *doc, const char *uuid)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || !is_elem(root, "domain", NULL))
		return -EBADMSG;
	xmlNode *devices = child(root, "devices", NULL);
	xmlNode *hd = find_hostdev(devices, uuid);
	xmlNode *v = vgpu_element(root, false);
	xmlNode *dev = find_by_uuid(v, "device", GVTG_METADATA_NS, uuid);
	if (!hd && !dev)
		return -ENOENT;

	xmlNode *keep = find_by_uuid(v, "replaced", GVTG_METADATA_NS, uuid);
	bool gtk = false;
	if (keep && devices) {
		int r = unstash(devices, keep);
		if (r < 0)
			return r;
	}

	char alias[32];
	alias_of(uuid, alias);
	xmlNode *ov = child(root, "override", QEMU_NS);
	for (xmlNode *k = ov ? ov->children : NULL, *next; k; k = next) {
		next = k->next;
		if (is_elem(k, "device", QEMU_NS) && attr_is(k, "alias", alias)) {
			/* The GTK display is the one that also needs QEMU's command line. */
			for (xmlNode *fe = child(k, "frontend", QEMU_NS), *p = fe ? fe->children : NULL;
			     p; p = p->next)
				if (is_elem(p, "property", QEMU_NS) && attr_is(p, "name", "display"))
					gtk = true;
			drop(k);
		}
	}
	drop_if_empty(ov);
	xmlNode *cl = child(root, "commandline", QEMU_NS);
	if (gtk && cl) {
		for (xmlNode *k = cl->children, *next; k; k = next) {
			next = k->next;
			xmlNode *n2 = next;
			while (n2 && n2->type != XML_ELEMENT_NODE)
				n2 = n2->next;
			if (is_elem(k, "arg", QEMU_NS) && attr_is(k, "value", "-display") && n2 &&
			    is_elem(n2, "arg", QEMU_NS) &&
			    attr_is(n2, "value", "gtk,gl=on,zoom-to-fit=off")) {
				next = n2->next;
				drop(k);
				drop(n2);
			} else if (is_elem(k, "env", QEMU_NS) && attr_is(k, "name", "DISPLAY") &&
				   attr_is(k, "value", ":0")) {
				drop(k);
			}
		}
		drop_if_empty(cl);
	}

	drop(hd);
	drop(dev);
	drop(keep);
	if (v && !has_element_children(v)) {
		xmlNode *meta = v->parent;
		drop(v);
		drop_if_empty(meta);
	}
	return 0;
}

int ctl_domxml_vgpus(xmlDoc *doc, char (**ret_uuids)[GVTG_UUID_STRLEN + 1], size_t *ret_n)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *v = root ? vgpu_element(root, false) : NULL;
	size_t n = 0;
	for (xmlNode *k = v ? v->children : NULL; k; k = k->next)
		n += is_elem(k, "device", GVTG_METADATA_NS);
	char(*u)[GVTG_UUID_STRLEN + 1] = calloc(n ? n : 1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	size_t i = 0;
	for (xmlNode *k = v ? v->children : NULL; k; k = k->next) {
		if (!is_elem(k, "device", GVTG_METADATA_NS))
			continue;
		xmlChar *s = xmlGetNoNsProp(k, C("uuid"));
		if (s && gvtg_uuid_normalize((const char *)s, u[i]) >= 0)
			i++;
		xmlFree(s);
	}
	*ret_uuids = u;
	*ret_n = i;
	return 0;
}

/* ---- the document as it is defined ------------------------------------------------- */

xmlChar *ctl_domxml_text(xmlDoc *doc, int *ret_len)
{
	/* Indented where libxml2 may (never inside mixed content, whose text is kept). */
	xmlBuffer *buf = xmlBufferCreate();
	xmlSaveCtxt *save = buf ? xmlSaveToBuffer(buf, NULL, XML_SAVE_FORMAT | XML_SAVE_NO_DECL)
				: NULL;
	if (!save) {
		xmlBufferFree(buf);
		return NULL;
	}
	long k = xmlSaveDoc(save, doc);
	xmlSaveClose(save);
	xmlChar *text = k >= 0 ? xmlStrdup(xmlBufferContent(buf)) : NULL;
	xmlBufferFree(buf);
	if (text)
		*ret_len = xmlStrlen(text);
	return text;
}

/* ---- printing as libvirt does (single quotes, two spaces) ------------------------ */

static void put_escaped(FILE *f, const xmlChar *s, bool attr)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '\'':
			fputs(attr ? "&apos;" : "'", f);
			break;
		case '"':
			fputs(attr ? "&quot;" : "\"", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void put_name(FILE *f, const xmlNs *ns, const xmlChar *name)
{
	if (ns && ns->prefix)
		fprintf(f, "%s:", (const char *)ns->prefix);
	fputs((const char *)name, f);
}

static bool declared_here(const xmlNode *n, const xmlNs *ns)
{
	for (const xmlNs *d = n->nsDef; d; d = d->next)
		if (d == ns)
			return true;
	return false;
}

static void print_node(FILE *f, const xmlNode *n, int depth, bool top)
{
	if (n->type == XML_COMMENT_NODE) {
		fprintf(f, "%*s<!--%s-->\n", depth * 2, "", (const char *)n->content);
		return;
	}
	if (n->type != XML_ELEMENT_NODE)
		return;
	fprintf(f, "%*s<", depth * 2, "");
	put_name(f, n->ns, n->name);
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		fputc(' ', f);
		put_name(f, a->ns, a->name);
		fputs("='", f);
		xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
		put_escaped(f, v, true);
		xmlFree(v);
		fputc('\'', f);
	}
	for (const xmlNs *d = n->nsDef; d; d = d->next) {
		fprintf(f, " xmlns%s%s='", d->prefix ? ":" : "",
			d->prefix ? (const char *)d->prefix : "");
		put_escaped(f, d->href, true);
		fputc('\'', f);
	}
	/* A fragment printed on its own declares the namespace it uses. */
	if (top && n->ns && !declared_here(n, n->ns)) {
		fprintf(f, " xmlns:%s='", (const char *)n->ns->prefix);
		put_escaped(f, n->ns->href, true);
		fputc('\'', f);
	}
	bool elems = has_element_children(n);
	if (!n->children) {
		fputs("/>\n", f);
		return;
	}
	if (!elems) {
		fputc('>', f);
		xmlChar *t = xmlNodeGetContent(n);
		put_escaped(f, t, false);
		xmlFree(t);
	} else {
		fputs(">\n", f);
		for (const xmlNode *k = n->children; k; k = k->next)
			print_node(f, k, depth + 1, false);
		fprintf(f, "%*s", depth * 2, "");
	}
	fputs("</", f);
	put_name(f, n->ns, n->name);
	fputs(">\n", f);
}

void ctl_domxml_print(FILE *f, const xmlNode *n, bool fragment)
{
	print_node(f, n, 0, fragment);
}
