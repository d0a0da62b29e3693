/* SPDX-License-Identifier: MIT */
/*
 * The domain XML edit of a vGPU (domxml.c), on a libxml2 document: kept out of ctl.h so
 * that only the files that edit XML see libxml2.
 */
#pragma once

#include <stdio.h>

#include <libxml/tree.h>

#include "ctl.h"

/* Add the vGPU of s to the domain: metadata, hostdev, display pieces.  shown: the same
 * definition as a client without the secure flag reads it; when given, the
 * <graphics>/<video> a display replaces are kept in our metadata for detach, without
 * the attributes only the secure flag shows (a password moves to the vGPU's SPICE
 * display; -EPERM, with why, when it cannot).  -EEXIST when the domain already has an
 * mdev hostdev of that UUID. */
int ctl_domxml_add(xmlDoc *doc, const struct ctl_vgpu_spec *s, const xmlDoc *shown, char *why,
		   size_t why_size);
/* The document as it is defined, and as --dry-run prints it: NULL on ENOMEM. */
xmlChar *ctl_domxml_text(xmlDoc *doc, int *ret_len);
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
