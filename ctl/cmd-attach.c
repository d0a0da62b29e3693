/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl attach, gvtgctl detach: give a defined domain a vGPU, or take it out again,
 * by editing its persistent definition through libvirt's C API.  Only gvtgctl talks to
 * libvirt: the hook never may (libvirt's hooks documentation warns of deadlock).
 *
 * attach resolves the parent and type as the hook will (place.c) and makes the edit of
 * domxml.c; detach takes out exactly that edit, so a domain attached then detached has
 * the definition it had.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ctl.h"
#include "domxml.h"

#ifdef HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif

enum {
	OPT_UUID = OPT_VGPU_LAST,
	OPT_DRY_RUN,
	OPT_CONNECT,
};

#define DEFAULT_URI "qemu:///system"

struct edit {
	const char *domain;
	const char *uri;
	bool dry_run;
	char what[256];         /* "attaching a vGPU to win10" */
};

static const char *edit_uri(const char *connect)
{
	if (connect)
		return connect;
	const char *env = getenv("LIBVIRT_DEFAULT_URI");
	return env && *env ? env : DEFAULT_URI;
}

/* The hook runs as root only for the system daemon; a session daemon runs it as the
 * user, who cannot create a vGPU. */
static bool is_session(const char *uri)
{
	const char *path = strstr(uri, "://");
	if (!path)
		return false;
	path = strchr(path + 3, '/');
	if (!path)
		return false;
	size_t len = strcspn(path, "?");
	return len == strlen("/session") && !strncmp(path, "/session", len);
}

static int refuse_session(const struct edit *e)
{
	ctl_error("%s, %s: the hook cannot create vGPUs for a session daemon: only root can "
		  "create vGPUs, and qemu:///session runs hooks as the user. Define the domain "
		  "on qemu:///system (--connect qemu:///system)",
		  e->what, e->uri);
	return CTL_EXIT_FAILURE;
}

/* Parse the options of attach or detach; returns CTL_CONTINUE or an exit code. */
static int parse(struct ctl *c, int argc, char **argv, bool attach, struct edit *e,
		 struct ctl_vgpu_spec *s, const char **parent, const char **type,
		 const char **ret_uuid_arg)
{
	static const struct option attach_options[] = {
		CTL_COMMON_OPTIONS,
		CTL_VGPU_OPTIONS,
		{ "uuid", required_argument, NULL, OPT_UUID },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ 0 },
	};
	static const struct option detach_options[] = {
		CTL_COMMON_OPTIONS,
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ 0 },
	};
	const char *connect = NULL, *uuid_arg = NULL;
	int opt, exit_code;
	while ((opt = ctl_next_option(c, argc, argv, "", attach ? attach_options : detach_options,
				      &exit_code)) > 0) {
		int r = ctl_vgpu_option(s, opt, optarg, parent, type);
		if (r != -1) {
			if (r != CTL_CONTINUE)
				return r;
			continue;
		}
		if (opt == OPT_UUID)
			uuid_arg = optarg;
		else if (opt == OPT_DRY_RUN)
			e->dry_run = true;
		else if (opt == OPT_CONNECT)
			connect = optarg;
	}
	if (opt == 0)
		return exit_code;
	if (optind >= argc)
		return ctl_usage_error("%s needs a DOMAIN (its name or UUID)", argv[0]);
	e->domain = argv[optind++];
	if (!attach && optind < argc)
		uuid_arg = argv[optind++];
	if (optind < argc)
		return ctl_usage_error("%s takes %s, not also '%s'", argv[0],
				       attach ? "one DOMAIN" : "a DOMAIN and a UUID", argv[optind]);
	if (uuid_arg) {
		int r = ctl_parse_uuid(uuid_arg, s->uuid);
		if (r != CTL_CONTINUE)
			return r;
	}
	e->uri = edit_uri(connect);
	snprintf(e->what, sizeof(e->what), attach ? "attaching a vGPU to %s" : "detaching a vGPU from %s",
		 e->domain);
	*ret_uuid_arg = uuid_arg;
	return CTL_CONTINUE;
}

#ifdef HAVE_LIBVIRT

static void quiet(void *userdata, virErrorPtr err)
{
	(void)userdata;
	(void)err;
}

static const char *lv_error(void)
{
	const char *m = virGetLastErrorMessage();
	return m && *m ? m : "unknown error";
}

struct session {
	virConnectPtr conn;
	virDomainPtr dom;
	xmlDoc *doc;            /* the definition with its secrets (the secure flag) */
	xmlDoc *shown;          /* the same as any read-only client reads it */
	char *name;             /* the domain's own name */
	bool active;
};

static void session_close(struct session *ss)
{
	xmlFreeDoc(ss->doc);
	xmlFreeDoc(ss->shown);
	free(ss->name);
	if (ss->dom)
		virDomainFree(ss->dom);
	if (ss->conn)
		virConnectClose(ss->conn);
	memset(ss, 0, sizeof(*ss));
}

/* The defined domains' names, for "did you mean". */
static const char *nearest_domain(virConnectPtr conn, const char *name, char *out, size_t size)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_PERSISTENT);
	if (n <= 0)
		return NULL;
	const char **names = calloc((size_t)n, sizeof(*names));
	const char *hint = NULL;
	if (names) {
		for (int i = 0; i < n; i++)
			names[i] = virDomainGetName(doms[i]);
		hint = ctl_did_you_mean(name, names, (size_t)n);
		if (hint)
			snprintf(out, size, "%s", hint);
	}
	free(names);
	for (int i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
	return hint ? out : NULL;
}

/* Connect, find the domain, read its persistent definition. */
static int session_open(const struct edit *e, struct session *ss)
{
	virSetErrorFunc(NULL, quiet);
	ss->conn = virConnectOpen(e->uri);
	if (!ss->conn) {
		ctl_error("%s, connecting to %s: %s. Check that libvirtd (or virtqemud) runs and "
			  "that you are root",
			  e->what, e->uri, lv_error());
		return -EIO;
	}
	ss->dom = virDomainLookupByName(ss->conn, e->domain);
	if (!ss->dom) {
		char norm[GVTG_UUID_STRLEN + 1];
		if (gvtg_uuid_normalize(e->domain, norm) >= 0)
			ss->dom = virDomainLookupByUUIDString(ss->conn, norm);
	}
	if (!ss->dom) {
		char hint[256];
		if (nearest_domain(ss->conn, e->domain, hint, sizeof(hint)))
			ctl_error("%s, %s: no domain of that name on %s; did you mean '%s'?",
				  e->what, e->domain, e->uri, hint);
		else
			ctl_error("%s, %s: no domain of that name on %s. 'virsh list --all' lists "
				  "the defined domains",
				  e->what, e->domain, e->uri);
		return -ENOENT;
	}
	if (!virDomainIsPersistent(ss->dom)) {
		ctl_error("%s, %s: the domain is transient (it has no definition to edit). Give "
			  "it one with 'virsh define', or use 'gvtgctl xml'",
			  e->what, e->domain);
		return -EINVAL;
	}
	ss->active = virDomainIsActive(ss->dom) == 1;
	const char *name = virDomainGetName(ss->dom);
	ss->name = strdup(name ? name : e->domain);
	/* The daemon's own XML, but parsed as carefully as any input; with the secure
	 * flag (what is defined again must keep its secrets) and without (to know which
	 * attributes are secrets). */
	for (int pass = 0; pass < 2; pass++) {
		unsigned flags = VIR_DOMAIN_XML_INACTIVE | (pass ? 0 : VIR_DOMAIN_XML_SECURE);
		char *xml = virDomainGetXMLDesc(ss->dom, flags);
		if (!xml || !ss->name) {
			ctl_error("%s, %s: reading its definition: %s", e->what, e->domain,
				  xml ? strerror(ENOMEM) : lv_error());
			free(xml);
			return -EIO;
		}
		xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
					    XML_PARSE_NONET | XML_PARSE_NOBLANKS |
						    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		free(xml);
		if (!doc) {
			ctl_error("%s, %s: libvirt's XML of the domain does not parse", e->what,
				  e->domain);
			return -EBADMSG;
		}
		*(pass ? &ss->shown : &ss->doc) = doc;
	}
	return 0;
}

/* Print the result (--dry-run) or define it: the same bytes. */
static int session_commit(const struct edit *e, struct session *ss)
{
	int len = 0;
	xmlChar *buf = ctl_domxml_text(ss->doc, &len);
	if (!buf) {
		ctl_error("%s, %s: %s", e->what, ss->name, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (e->dry_run) {
		fwrite(buf, 1, (size_t)len, stdout);
		xmlFree(buf);
		return fflush(stdout) == 0 ? 0 : -EIO;
	}
	virDomainPtr d = virDomainDefineXML(ss->conn, (const char *)buf);
	xmlFree(buf);
	if (!d) {
		ctl_error("%s, %s: libvirt refused the new definition: %s. Nothing was changed",
			  e->what, ss->name, lv_error());
		return -EINVAL;
	}
	virDomainFree(d);
	return 0;
}

/* Where a choice came from: the option, or the hook's words for the rest. */
static const char *source_words(enum gvtg_source src, const char *option)
{
	return src == GVTG_SOURCE_METADATA ? option : ctl_source_string(src);
}

static int do_attach(struct ctl *c, struct edit *e, struct ctl_vgpu_spec *s, bool uuid_given,
		     const char *parent, const char *type)
{
	struct gvtg_placement p = { 0 };
	struct session ss = { 0 };
	xmlDoc *shown = NULL;
	int ret = CTL_EXIT_FAILURE;

	if (ctl_place_vgpu(c, GVTG_OP_ATTACH, s->uuid, uuid_given, e->domain, parent, type,
			   &p) < 0)
		return CTL_EXIT_FAILURE;
	s->parent = p.parent;
	s->type = p.type;
	if (session_open(e, &ss) < 0)
		goto out;

	char why[256] = "";
	int r = ctl_domxml_add(ss.doc, s, ss.shown, why, sizeof(why));
	if (r == -EPERM) {
		ctl_error("%s, %s: %s", e->what, ss.name, why);
		goto out;
	}
	if (r == -EEXIST) {
		ctl_error("%s, %s: the domain already has the vGPU %s. 'gvtgctl detach %s %s' "
			  "takes it out",
			  e->what, ss.name, s->uuid, ss.name, s->uuid);
		goto out;
	}
	if (r < 0) {
		ctl_error("%s, %s: editing its XML: %s", e->what, ss.name,
			  r == -EBADMSG ? "not a <domain>" : strerror(-r));
		goto out;
	}
	if (session_commit(e, &ss) < 0)
		goto out;
	if (e->dry_run) {
		ret = CTL_EXIT_OK;
		goto out;
	}

	/* What was added, as 'gvtgctl xml' prints it. */
	printf("Added vGPU %s to the definition of %s (%s): parent %s (%s), type %s (%s).\n",
	       s->uuid, ss.name, e->uri, s->parent,
	       source_words(p.parent_source, "--parent"), s->type,
	       source_words(p.type_source, "--type"));
	shown = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = shown ? xmlNewNode(NULL, (const xmlChar *)"domain") : NULL;
	if (root) {
		xmlDocSetRootElement(shown, root);
		if (ctl_domxml_add(shown, s, NULL, NULL, 0) >= 0)
			for (xmlNode *k = root->children; k; k = k->next)
				ctl_domxml_print(stdout, k, true);
	}
	if (s->display != CTL_DISPLAY_OFF)
		printf("The domain's own <graphics> and <video> were replaced; 'gvtgctl detach' "
		       "puts them back.\n");
	if (ss.active)
		printf("%s is running: the vGPU comes with its next start.\n", ss.name);
	else
		printf("The hook creates the vGPU when %s starts: virsh start %s\n", ss.name,
		       ss.name);
	ret = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
out:
	xmlFreeDoc(shown);
	session_close(&ss);
	gvtg_placement_clear(&p);
	return ret;
}

static int do_detach(struct edit *e, const char *uuid_arg, const char *uuid)
{
	struct session ss = { 0 };
	int ret = CTL_EXIT_FAILURE;
	char(*uuids)[GVTG_UUID_STRLEN + 1] = NULL;
	size_t n = 0;
	char which[GVTG_UUID_STRLEN + 1];

	if (session_open(e, &ss) < 0)
		goto out;
	if (ctl_domxml_vgpus(ss.doc, &uuids, &n) < 0) {
		ctl_error("%s, %s: %s", e->what, ss.name, strerror(ENOMEM));
		goto out;
	}
	if (uuid_arg) {
		snprintf(which, sizeof(which), "%s", uuid);
	} else if (n == 1) {
		snprintf(which, sizeof(which), "%s", uuids[0]);
	} else if (n == 0) {
		ctl_error("%s, %s: the domain has no vGPU in gvtg-hook's metadata. Name the "
			  "vGPU's UUID: 'virsh dumpxml %s' shows its <hostdev type='mdev'>",
			  e->what, ss.name, ss.name);
		goto out;
	} else {
		char list[512] = "";
		for (size_t i = 0; i < n; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", uuids[i]);
		ctl_error("%s, %s: the domain has %zu vGPUs: %s. Name the one to detach: "
			  "gvtgctl detach %s UUID",
			  e->what, ss.name, n, list, ss.name);
		goto out;
	}

	int r = ctl_domxml_remove(ss.doc, which);
	if (r == -ENOENT) {
		ctl_error("%s, %s: the domain has no vGPU %s (no mdev <hostdev> and no "
			  "metadata of that UUID)",
			  e->what, ss.name, which);
		goto out;
	}
	if (r < 0) {
		ctl_error("%s, %s: the <graphics>/<video> kept by attach in the metadata of "
			  "vGPU %s do not parse. Edit the domain with 'virsh edit %s'",
			  e->what, ss.name, which, ss.name);
		goto out;
	}
	if (session_commit(e, &ss) < 0)
		goto out;
	if (!e->dry_run) {
		printf("Removed vGPU %s from the definition of %s (%s).\n", which, ss.name,
		       e->uri);
		if (ss.active)
			printf("%s is running: it keeps the vGPU until it stops, and the hook "
			       "removes the vGPU then.\n",
			       ss.name);
	}
	ret = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
out:
	free(uuids);
	session_close(&ss);
	return ret;
}

#else /* !HAVE_LIBVIRT */

static int without_libvirt(const struct edit *e)
{
	ctl_error("%s: this gvtgctl was built without libvirt. Rebuild it with libvirt-dev "
		  "installed (meson setup -Dlibvirt=enabled), or paste what 'gvtgctl xml' "
		  "prints with 'virsh edit %s'",
		  e->what, e->domain);
	return CTL_EXIT_FAILURE;
}

#endif

static int cmd_attach(struct ctl *c, int argc, char **argv)
{
	struct edit e = { 0 };
	struct ctl_vgpu_spec s = { .display = CTL_DISPLAY_OFF };
	const char *parent = NULL, *type = NULL, *uuid_arg = NULL;
	int r = parse(c, argc, argv, true, &e, &s, &parent, &type, &uuid_arg);
	if (r != CTL_CONTINUE)
		return r;
	if (!uuid_arg)
		gvtg_uuid_generate(s.uuid);
	if (is_session(e.uri))
		return refuse_session(&e);
#ifdef HAVE_LIBVIRT
	return do_attach(c, &e, &s, uuid_arg != NULL, parent, type);
#else
	return without_libvirt(&e);
#endif
}

static int cmd_detach(struct ctl *c, int argc, char **argv)
{
	struct edit e = { 0 };
	struct ctl_vgpu_spec s = { .display = CTL_DISPLAY_OFF };
	const char *parent = NULL, *type = NULL, *uuid_arg = NULL;
	int r = parse(c, argc, argv, false, &e, &s, &parent, &type, &uuid_arg);
	if (r != CTL_CONTINUE)
		return r;
	if (is_session(e.uri))
		return refuse_session(&e);
#ifdef HAVE_LIBVIRT
	return do_detach(&e, uuid_arg, s.uuid);
#else
	return without_libvirt(&e);
#endif
}

const struct ctl_command ctl_cmd_attach = {
	.name = "attach",
	.fn = cmd_attach,
	.synopsis = "attach DOMAIN [--type TYPE] [--parent PARENT] [--uuid UUID]\n"
		"                  [--display=off|gtk|spice] [--ramfb] [--romfile PATH] [--dry-run]\n"
		"                  [--connect URI]",
	.summary = "give a defined domain a vGPU (edits its definition)",
	.description =
		"Add a vGPU to a domain's persistent definition through libvirt: the <hostdev>, the\n"
		"metadata that pins its parent and type (resolved as the hook will resolve them),\n"
		"and what the display needs. The hook creates the vGPU when the domain starts.",
	.options =
		"  --type TYPE       the vGPU type ('gvtgctl types'); needed when there are several\n"
		"  --parent PARENT   the mdev parent; needed when several have the type\n"
		"  --uuid UUID       the vGPU's UUID (default: a new one)\n"
		"  --display=off     no display from the vGPU (default)\n"
		"  --display=gtk     QEMU's GTK window shows the vGPU (OpenGL)\n"
		"  --display=spice   SPICE with OpenGL shows the vGPU; replaces <graphics>/<video>\n"
		"  --ramfb           also show the firmware and boot screens\n"
		"  --romfile PATH    an option ROM for the vGPU (UEFI guests)\n"
		"  --dry-run         print the resulting domain XML, change nothing\n"
		"  --connect URI     libvirt URI (default: $LIBVIRT_DEFAULT_URI, else\n"
		"                    qemu:///system)\n",
};

const struct ctl_command ctl_cmd_detach = {
	.name = "detach",
	.fn = cmd_detach,
	.synopsis = "detach DOMAIN [UUID] [--dry-run] [--connect URI]",
	.summary = "take a vGPU that attach added out of a domain",
	.description =
		"Remove exactly what 'gvtgctl attach' added for the vGPU UUID (the domain's only one\n"
		"when left out), and put back what it replaced.",
	.options = "  --dry-run         print the resulting domain XML, change nothing\n"
		"  --connect URI     libvirt URI (default: $LIBVIRT_DEFAULT_URI, else\n"
		"                    qemu:///system)\n",
};
