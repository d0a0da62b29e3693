/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl xml: the pieces of domain XML a GVT-g vGPU needs, ready to paste with
 * 'virsh edit': the mdev <hostdev>, our <metadata> element (which parent and type the
 * hook creates the vGPU on) and, per display mode, the graphics, video and QEMU
 * override elements that DMA-BUF display, RAMFB and a vBIOS ROM need.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

enum display {
	DISPLAY_OFF,
	DISPLAY_GTK,
	DISPLAY_SPICE,
};

enum {
	OPT_DISPLAY = OPT_FIRST_COMMAND_OPTION,
	OPT_RAMFB,
	OPT_ROMFILE,
	OPT_PARENT,
	OPT_TYPE,
};

/* An attribute value between single quotes. */
static void put_attr(const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", stdout);
			break;
		case '<':
			fputs("&lt;", stdout);
			break;
		case '>':
			fputs("&gt;", stdout);
			break;
		case '\'':
			fputs("&apos;", stdout);
			break;
		case '"':
			fputs("&quot;", stdout);
			break;
		default:
			fputc(*s, stdout);
		}
	}
}

static void property(const char *name, const char *type, const char *value)
{
	printf("      <qemu:property name='%s' type='%s' value='", name, type);
	put_attr(value);
	fputs("'/>\n", stdout);
}

struct xml_opts {
	char uuid[GVTG_UUID_STRLEN + 1];
	enum display display;
	bool ramfb;
	const char *romfile;
	char *parent;
	char *type;
};

static void print_xml(const struct xml_opts *o)
{
	/* A user alias ("ua-" prefix) is kept by libvirt as QEMU's device id, so the
	 * override below finds this device whatever other hostdevs the domain has. */
	char alias[32];
	snprintf(alias, sizeof(alias), "ua-gvtg-%.8s", o->uuid);
	/* DMA-BUF display: QEMU shows the vGPU's own output; with RAMFB also the boot
	 * screen (RAMFB only works with display on). */
	bool dmabuf = o->display != DISPLAY_OFF || o->ramfb;

	printf("<!-- In <devices>: the vGPU -->\n");
	printf("<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' "
	       "display='%s'>\n",
	       o->display == DISPLAY_SPICE || (o->ramfb && o->display != DISPLAY_GTK) ? "on"
										      : "off");
	printf("  <source>\n    <address uuid='%s'/>\n  </source>\n", o->uuid);
	printf("  <alias name='%s'/>\n</hostdev>\n", alias);

	printf("<!-- In <metadata>: where gvtg-hook creates the vGPU -->\n");
	printf("<gvtg:vgpu xmlns:gvtg='%s'>\n  <gvtg:device uuid='%s'", GVTG_METADATA_NS,
	       o->uuid);
	if (o->parent)
		printf(" parent='%s'", o->parent);
	if (o->type)
		printf(" type='%s'", o->type);
	printf("/>\n</gvtg:vgpu>\n");

	if (o->display == DISPLAY_SPICE) {
		printf("<!-- In <devices>, replacing every <graphics> and <video>: SPICE with "
		       "OpenGL shows the vGPU's output -->\n");
		printf("<graphics type='spice'>\n  <listen type='none'/>\n  <gl enable='yes'/>\n"
		       "</graphics>\n<video>\n  <model type='none'/>\n</video>\n");
	} else if (o->display == DISPLAY_GTK) {
		printf("<!-- In <devices>: remove every <graphics>, and set <video><model "
		       "type='none'/></video>; QEMU's GTK window shows the vGPU -->\n");
	} else if (!o->ramfb) {
		printf("<!-- No display from the vGPU: use a <video> device of its own, or "
		       "reach the guest by RDP/VNC inside it -->\n");
	}

	if (!dmabuf && !o->romfile)
		return;
	printf("<!-- On <domain>: xmlns:qemu='" QEMU_NS "'; at the end of <domain> -->\n");
	if (o->display == DISPLAY_GTK) {
		printf("<qemu:commandline>\n  <qemu:arg value='-display'/>\n"
		       "  <qemu:arg value='gtk,gl=on,zoom-to-fit=off'/>\n"
		       "  <qemu:env name='DISPLAY' value=':0'/>\n</qemu:commandline>\n");
	}
	printf("<qemu:override>\n  <qemu:device alias='%s'>\n    <qemu:frontend>\n", alias);
	if (o->display == DISPLAY_GTK)
		property("display", "string", "on");
	if (dmabuf)
		property("x-igd-opregion", "bool", "true");
	if (o->ramfb) {
		property("driver", "string", "vfio-pci-nohotplug");
		property("ramfb", "bool", "true");
	}
	if (o->romfile)
		property("romfile", "string", o->romfile);
	printf("    </qemu:frontend>\n  </qemu:device>\n</qemu:override>\n");
}

int cmd_xml(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "display", required_argument, NULL, OPT_DISPLAY },
		{ "ramfb", no_argument, NULL, OPT_RAMFB },
		{ "romfile", required_argument, NULL, OPT_ROMFILE },
		{ "parent", required_argument, NULL, OPT_PARENT },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ 0 },
	};
	struct xml_opts o = { .display = DISPLAY_OFF };
	const char *parent = NULL, *type = NULL;
	int opt, exit_code;
	while ((opt = ctl_next_option(c, argc, argv, "", options, NULL, &exit_code)) > 0) {
		switch (opt) {
		case OPT_DISPLAY:
			if (!strcmp(optarg, "off"))
				o.display = DISPLAY_OFF;
			else if (!strcmp(optarg, "gtk"))
				o.display = DISPLAY_GTK;
			else if (!strcmp(optarg, "spice"))
				o.display = DISPLAY_SPICE;
			else
				return ctl_usage_error("--display is off, gtk or spice, not '%s'",
						       optarg);
			break;
		case OPT_RAMFB:
			o.ramfb = true;
			break;
		case OPT_ROMFILE:
			if (optarg[0] != '/')
				return ctl_usage_error("--romfile needs an absolute path (QEMU "
						       "opens it), not '%s'",
						       optarg);
			o.romfile = optarg;
			break;
		case OPT_PARENT:
			parent = optarg;
			break;
		case OPT_TYPE:
			type = optarg;
			break;
		}
	}
	if (opt == 0)
		return exit_code;
	if (argc - optind > 1)
		return ctl_usage_error("xml takes at most one UUID, not '%s'", argv[optind + 1]);
	if (optind < argc) {
		if (gvtg_uuid_normalize(argv[optind], o.uuid) < 0)
			return ctl_usage_error("'%s' is not a UUID (8-4-4-4-12 hex digits)",
					       argv[optind]);
	} else {
		gvtg_uuid_generate(o.uuid);
	}
	if ((parent && !gvtg_name_is_valid(parent)) || (type && !gvtg_name_is_valid(type)))
		return ctl_usage_error("'%s' is not a valid %s name",
				       parent && !gvtg_name_is_valid(parent) ? parent : type,
				       parent && !gvtg_name_is_valid(parent) ? "parent" : "type");

	if (parent || type) {
		/* Exactly what was asked: the hook resolves the rest when the domain starts. */
		o.parent = parent ? strdup(parent) : NULL;
		o.type = type ? strdup(type) : NULL;
	} else if (ctl_open_config(c) >= 0) {
		/* Pin what this host would choose now, so a later change of the defaults or
		 * a second parent does not move the domain; on a host without GVT-g leave it
		 * to the hook. */
		struct gvtg_placement p = { 0 };
		if (gvtg_placement_resolve(c->ctx, NULL, c->cfg, o.uuid, &p) >= 0) {
			o.parent = p.parent;
			o.type = p.type;
			p.parent = p.type = NULL;
		}
		gvtg_placement_clear(&p);
	} else {
		return CTL_EXIT_FAILURE;
	}
	print_xml(&o);
	free(o.parent);
	free(o.type);
	if (fflush(stdout) != 0) {
		ctl_error("printing the XML, stdout: %s", strerror(errno));
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}
