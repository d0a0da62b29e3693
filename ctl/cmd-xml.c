/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl xml: the domain XML of a vGPU as one block to merge with 'virsh edit': our
 * <metadata> element with the parent and type resolved as the hook will resolve them,
 * the mdev <hostdev>, and what the chosen display needs.  The same edit as 'gvtgctl
 * attach' (domxml.c), printed instead of applied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "ctl.h"
#include "domxml.h"

int ctl_vgpu_option(struct ctl_vgpu_spec *s, int opt, const char *arg, const char **parent,
		    const char **type)
{
	switch (opt) {
	case OPT_DISPLAY:
		if (ctl_display_parse(arg, &s->display) < 0)
			return ctl_usage_error("--display is off, gtk or spice, not '%s'", arg);
		return CTL_CONTINUE;
	case OPT_RAMFB:
		s->ramfb = true;
		return CTL_CONTINUE;
	case OPT_ROMFILE:
		if (arg[0] != '/')
			return ctl_usage_error("--romfile needs an absolute path (QEMU opens it), "
					       "not '%s'",
					       arg);
		s->romfile = arg;
		return CTL_CONTINUE;
	case OPT_PARENT:
		*parent = arg;
		return CTL_CONTINUE;
	case OPT_TYPE:
		*type = arg;
		return CTL_CONTINUE;
	}
	return -1;
}

/* The comment that tells a reader of the block what a display replaces. */
static void note_replaced(xmlDoc *doc)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	for (xmlNode *d = root->children; d; d = d->next) {
		if (d->type != XML_ELEMENT_NODE || strcmp((const char *)d->name, "devices"))
			continue;
		for (xmlNode *k = d->children; k; k = k->next)
			if (k->type == XML_ELEMENT_NODE && (!strcmp((const char *)k->name, "graphics") ||
							    !strcmp((const char *)k->name, "video"))) {
				xmlAddPrevSibling(
					k, xmlNewDocComment(doc, (const xmlChar *)" instead of the "
										 "domain's own <graphics> and <video> "));
				return;
			}
	}
}

static int cmd_xml(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		CTL_VGPU_OPTIONS,
		{ 0 },
	};
	struct ctl_vgpu_spec s = { .display = CTL_DISPLAY_OFF };
	const char *parent = NULL, *type = NULL;
	int opt, exit_code, r;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0) {
		r = ctl_vgpu_option(&s, opt, optarg, &parent, &type);
		if (r != CTL_CONTINUE)
			return r;
	}
	if (opt == 0)
		return exit_code;
	if (argc - optind > 1)
		return ctl_usage_error("xml takes at most one UUID, not '%s'", argv[optind + 1]);
	if (optind < argc) {
		if ((r = ctl_parse_uuid(argv[optind], s.uuid)) != CTL_CONTINUE)
			return r;
	} else {
		gvtg_uuid_generate(s.uuid);
	}
	bool uuid_given = optind < argc;

	/* Never a vGPU the hook would refuse: the metadata always names a parent and a
	 * type this host has. */
	struct gvtg_placement p = { 0 };
	if (ctl_place_vgpu(c, GVTG_OP_WRITE_XML, s.uuid, uuid_given, NULL, parent, type, &p) < 0)
		return CTL_EXIT_FAILURE;
	s.parent = p.parent;
	s.type = p.type;

	int ret = CTL_EXIT_FAILURE;
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = doc ? xmlNewNode(NULL, (const xmlChar *)"domain") : NULL;
	if (!root) {
		ctl_error("writing the XML of vGPU, %s: %s", s.uuid, strerror(ENOMEM));
		goto out;
	}
	xmlDocSetRootElement(doc, root);
	r = ctl_domxml_add(doc, &s, NULL, NULL, 0);
	if (r < 0) {
		ctl_error("writing the XML of vGPU, %s: %s", s.uuid, strerror(-r));
		goto out;
	}
	if (s.display != CTL_DISPLAY_OFF)
		note_replaced(doc);
	for (xmlNode *k = root->children; k; k = k->next)
		ctl_domxml_print(stdout, k, true);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_NONE, NULL, NULL);
		d.err = errno ? errno : EIO;
		ctl_report(c, &d, GVTG_CAUSE_OUTPUT_FAILED);
		goto out;
	}
	ret = CTL_EXIT_OK;
out:
	xmlFreeDoc(doc);
	gvtg_placement_clear(&p);
	return ret;
}

const struct ctl_command ctl_cmd_xml = {
	.name = "xml",
	.fn = cmd_xml,
	.synopsis =
		"xml [UUID] [--type TYPE] [--parent PARENT] [--display=off|gtk|spice] [--ramfb]\n"
		"               [--romfile PATH]",
	.summary = "the domain XML of a vGPU, to paste with 'virsh edit'",
	.description =
		"Print the XML a vGPU needs in a domain, as one block: <metadata> and <devices>\n"
		"(and, for a display, QEMU's elements) to merge into the domain with 'virsh edit'.\n"
		"The parent and type are resolved as the hook will resolve them. 'gvtgctl attach'\n"
		"does the same edit in one command.",
	.options =
		"  --type TYPE       the vGPU type ('gvtgctl types'); needed when there are several\n"
		"  --parent PARENT   the mdev parent; needed when several have the type\n"
		"  --display=off     no display from the vGPU (default)\n"
		"  --display=gtk     QEMU's GTK window shows the vGPU (OpenGL)\n"
		"  --display=spice   SPICE with OpenGL shows the vGPU\n"
		"  --ramfb           also show the firmware and boot screens\n"
		"  --romfile PATH    an option ROM for the vGPU (UEFI guests)\n",
};
