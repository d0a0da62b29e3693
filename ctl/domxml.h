/* SPDX-License-Identifier: MIT */
/*
 * The domain XML edit of a vGPU (domxml.c), on a libxml2 document: kept out of ctl.h so
 * that only the files that edit XML see libxml2.
 */
#pragma once

#include <stdio.h>

#include <libxml/tree.h>

#include "ctl.h"

/* Add the vGPU of s to the domain: metadata, hostdev, display pieces.  keep_replaced:
 * keep the <graphics>/<video> a display replaces in our metadata, for detach.
 * -EEXIST when the domain already has an mdev hostdev of that UUID. */
int ctl_domxml_add(xmlDoc *doc, const struct ctl_vgpu_spec *s, bool keep_replaced);
/* Take out what ctl_domxml_add added for uuid and put back what it replaced; -ENOENT
 * when the domain has neither a hostdev nor our metadata for it, -EBADMSG when what
 * was kept cannot be read back. */
int ctl_domxml_remove(xmlDoc *doc, const char *uuid);
/* The UUIDs our metadata lists. */
int ctl_domxml_vgpus(xmlDoc *doc, char (**ret_uuids)[GVTG_UUID_STRLEN + 1], size_t *ret_n);
/* n and its subtree as libvirt prints XML; fragment: declare the element's namespace on
 * it when its parent would have. */
void ctl_domxml_print(FILE *f, const xmlNode *n, bool fragment);

/* The options of a vGPU that xml and attach share. */
enum {
	OPT_DISPLAY = OPT_FIRST_COMMAND_OPTION,
	OPT_RAMFB,
	OPT_ROMFILE,
	OPT_PARENT,
	OPT_TYPE,
	OPT_VGPU_LAST, /* a command's further options from here */
};
#define CTL_VGPU_OPTIONS                                                                   \
	{ "display", required_argument, NULL, OPT_DISPLAY },                                \
		{ "ramfb", no_argument, NULL, OPT_RAMFB },                                  \
		{ "romfile", required_argument, NULL, OPT_ROMFILE },                        \
		{ "parent", required_argument, NULL, OPT_PARENT },                          \
		{ "type", required_argument, NULL, OPT_TYPE }
/* Handles one of those into s, *parent, *type: CTL_CONTINUE, -1 when opt is not one,
 * else a usage error's exit code. */
int ctl_vgpu_option(struct ctl_vgpu_spec *s, int opt, const char *arg, const char **parent,
		    const char **type);
