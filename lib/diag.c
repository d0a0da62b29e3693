/* SPDX-License-Identifier: MIT */
/*
 * The diagnosis table: every failure cause the project knows, with its words and its fix,
 * and the one formatter both programs print through.  This is the only place where an
 * errno becomes words; the programs add only their prefix.  No I/O: what a message
 * suggests (a parent's types...) is handed in by the caller.
 *
 * Templates take the facts of a struct gvtg_diag by name: {uuid} {parent} {type}
 * {domain} {holder} {file} {line} {pid} {comm} {source} {types} {timeout} {timeout_s}
 * {vgpu} ("vGPU", "boot vGPU"...) {errno} (the symbolic name) {strerror} {state} (the
 * state directory), and {detail}, also named after what it holds in a row: {parents}
 * {suggestion} {reason} {what}...  (the names show in gvtg-hook(8)).
 * "{[ ... ]}" is left out when a fact named inside it is not known.
 */
#include <ctype.h>
#include <string.h>

#include <libxml/xmlerror.h>

#include "gvtg-private.h"

#define FIX_PLACEMENT(what, opt)                                                          \
	"Set " what "= in the domain metadata (gvtgctl xml), pass --" opt " to gvtgctl, or " \
	"set " what "= in {file} [defaults]"
#define FIX_XML "libvirt passes the domain XML on stdin; check it with 'virsh dumpxml {domain}'"
#define FIX_ROOM                                                                           \
	"Stop a VM that uses a vGPU of {parent}{[, or choose a type that still fits: {types}]}"

static const struct gvtg_cause_row table[] = {
	{ GVTG_CAUSE_NONE, GVTG_DIAG_NOTICE, "none", "", "" },
	{ GVTG_CAUSE_NO_PARENT, GVTG_DIAG_ERROR, "no-parent",
	  "no mdev parent device is registered on this host",
	  "Enable GVT-g (kernel options i915.enable_gvt=1 intel_iommu=on, module kvmgt) on a "
	  "Broadwell to Comet Lake iGPU; 'gvtgctl check' shows what is missing" },
	{ GVTG_CAUSE_PARENT_UNKNOWN, GVTG_DIAG_ERROR, "parent-not-registered",
	  "mdev parent '{parent}'{[ (from the {source}{[ {file}]})]} is not registered: GVT-g "
	  "is not enabled on it or the PCI address is wrong",
	  "Name a registered parent: {parents}" },
	{ GVTG_CAUSE_PARENT_AMBIGUOUS, GVTG_DIAG_ERROR, "parent-ambiguous",
	  "several mdev parents and none is chosen: {parents}", FIX_PLACEMENT("parent", "parent") },
	{ GVTG_CAUSE_TYPE_AMBIGUOUS, GVTG_DIAG_ERROR, "type-ambiguous",
	  "parent {parent} has several types and none is chosen: {types}",
	  FIX_PLACEMENT("type", "type") },
	{ GVTG_CAUSE_NO_TYPES, GVTG_DIAG_ERROR, "no-types",
	  "parent {parent} offers no mdev types: the graphics aperture is too small for any "
	  "vGPU",
	  "Raise the aperture size in the firmware setup" },
	{ GVTG_CAUSE_TYPE_UNKNOWN, GVTG_DIAG_ERROR, "type-not-found",
	  "parent {parent} has no type '{type}'{[ (from the {source})]}",
	  "{[Did you mean '{suggestion}'? ]}Choose one of its types: {types}" },
	{ GVTG_CAUSE_NAME_INVALID, GVTG_DIAG_ERROR, "invalid-name",
	  "the parent or type{[ '{name}']}{[ (from the {source})]} is not a valid sysfs name "
	  "(letters, digits and ._:-+@, no '/', no leading '.')",
	  "Fix it there; 'gvtgctl types' lists the names" },
	{ GVTG_CAUSE_MODEL_MISMATCH, GVTG_DIAG_ERROR, "model-mismatch",
	  "type {type} provides {mismatch}",
	  "Set the <hostdev>'s model to the type's device_api, or choose a type of that API" },
	{ GVTG_CAUSE_EXISTS_ELSEWHERE, GVTG_DIAG_ERROR, "exists-as-other-type",
	  "it exists as {parent} type {type}, but the {source} asks for {wanted}",
	  "Remove it ('gvtgctl remove {uuid}') or change the setting" },
	{ GVTG_CAUSE_NO_INSTANCES, GVTG_DIAG_ERROR, "no-instances",
	  "{parent} type {type} has no instances left: {reason}", FIX_ROOM },
	{ GVTG_CAUSE_NO_ROOM, GVTG_DIAG_ERROR, "no-room",
	  "no room for another vGPU of type {type} ({errno}): {reason}", FIX_ROOM },
	{ GVTG_CAUSE_FRAGMENTED, GVTG_DIAG_ERROR, "gm-fragmented",
	  "the kernel refused with {errno} although {type} shows {left} left: GVT-g counts "
	  "the free graphics memory as a total but allocates it in ranges, and after many "
	  "create and remove cycles no free range is large enough (gvt-linux issue 164)",
	  "Set release = keep in {file} so that vGPUs are kept and reused, start and stop "
	  "VMs less often, or reboot the host" },
	{ GVTG_CAUSE_CREATE_ENOENT, GVTG_DIAG_ERROR, "kernel-enoent",
	  "the kernel has no type {type} on {parent} (ENOENT): GVT-g is not enabled "
	  "(i915.enable_gvt=1, module kvmgt) or the parent went away",
	  "Run 'gvtgctl check'" },
	{ GVTG_CAUSE_UUID_IN_USE, GVTG_DIAG_ERROR, "uuid-in-use",
	  "the UUID is already in use by another mediated device (EEXIST)",
	  "Give it another UUID (uuidgen), or remove the other device" },
	{ GVTG_CAUSE_PERMISSION, GVTG_DIAG_ERROR, "permission",
	  "permission denied ({errno}): only root can create or remove vGPUs, and "
	  "qemu:///session runs hooks as the user",
	  "Use qemu:///system and run gvtgctl as root, or create the vGPU in advance with "
	  "'gvtgctl create'" },
	{ GVTG_CAUSE_KERNEL_EINVAL, GVTG_DIAG_ERROR, "kernel-einval",
	  "the kernel refused the request on {parent} type {type} (EINVAL)",
	  "Check the UUID and the type with 'gvtgctl types'" },
	{ GVTG_CAUSE_PARENT_GOING, GVTG_DIAG_ERROR, "parent-going-away",
	  "the parent device {parent} is going away (ENODEV): its driver is being unbound",
	  "Try again once {parent} is bound" },
	{ GVTG_CAUSE_KERNEL_BUSY, GVTG_DIAG_ERROR, "kernel-busy",
	  "the kernel answered EBUSY: the device or its parent {parent} is busy",
	  "Try again in a moment; 'gvtgctl list' shows what uses it" },
	{ GVTG_CAUSE_SHORT_WRITE, GVTG_DIAG_ERROR, "short-write",
	  "the kernel took only part of what was written (short write)",
	  "Report this as a bug" },
	{ GVTG_CAUSE_KERNEL_OTHER, GVTG_DIAG_ERROR, "kernel-error",
	  "the kernel refused with {errno} ({strerror})", "Check 'dmesg'" },
	{ GVTG_CAUSE_HELD_BY_DOMAIN, GVTG_DIAG_ERROR, "held-by-domain",
	  "domain '{holder}' holds it",
	  "Shut '{holder}' down first (its stop releases the vGPU), or use another UUID; if "
	  "'{holder}' is not running, 'gvtgctl remove --force {uuid}'" },
	{ GVTG_CAUSE_HELD_BY_PROCESS, GVTG_DIAG_ERROR, "held-by-process",
	  "process {pid} ({comm}) has the vGPU's VFIO node {node} open, so it is in use and a "
	  "removal would block",
	  "Stop that process (a QEMU using the vGPU) first; a vGPU in use is never removed" },
	{ GVTG_CAUSE_EXISTS, GVTG_DIAG_ERROR, "vgpu-exists",
	  "it exists already ({parent} type {type}){[ and domain '{holder}' holds it]}",
	  "Choose another UUID, or leave it out to get a new one{[; this one stays with "
	  "'{holder}']}" },
	{ GVTG_CAUSE_NO_SUCH_VGPU, GVTG_DIAG_ERROR, "no-such-vgpu", "no such vGPU",
	  "'gvtgctl list' shows the vGPUs" },
	{ GVTG_CAUSE_REMOVE_BLOCKED, GVTG_DIAG_WARNING, "remove-blocked",
	  "the removal is still blocked after {timeout} ms (a process still holds the vGPU); it "
	  "goes on in the background and the record is marked pending",
	  "Stop the VM or process that uses it; the removal then finishes by itself" },
	{ GVTG_CAUSE_REMOVE_FAILED, GVTG_DIAG_ERROR, "remove-failed",
	  "the kernel refused to remove it: {errno} ({strerror})",
	  "Check 'dmesg', then remove it with 'gvtgctl remove {uuid}'" },
	{ GVTG_CAUSE_DEFINITION_CONFLICT, GVTG_DIAG_ERROR, "definition-conflict",
	  "the {source} asks for {detail}, but its definition {file} gives {parent} type {type}",
	  "Say it in one place: change the {source} or the definition ('mdevctl modify "
	  "--uuid {uuid}')" },
	{ GVTG_CAUSE_DEFINITION_TWO_PARENTS, GVTG_DIAG_ERROR, "definition-two-parents",
	  "it is defined under two parents: {file} and {detail}",
	  "Undefine one: 'mdevctl undefine --uuid {uuid} --parent PARENT'" },
	{ GVTG_CAUSE_DEFINITION_DAMAGED, GVTG_DIAG_ERROR, "definition-damaged",
	  "its definition {file} is damaged: {detail}{[ ({strerror})]}",
	  "Fix the file, or remove it with 'mdevctl undefine --uuid {uuid}'" },
	{ GVTG_CAUSE_DEFINITION_START, GVTG_DIAG_ERROR, "definition-start-failed",
	  "starting its definition {file} ({parent} type {type}) failed: {detail}{[ "
	  "({strerror})]}",
	  "Check the definition ('mdevctl list --defined --uuid {uuid}') against 'gvtgctl "
	  "types {parent}'" },
	{ GVTG_CAUSE_DEFINITION_STOP, GVTG_DIAG_WARNING, "definition-stop-failed",
	  "stopping it through mdevctl failed: {detail}; so it is removed through sysfs, "
	  "without mdevctl's callouts",
	  "Check mdevctl's callouts in /etc/mdevctl.d/scripts.d" },
	{ GVTG_CAUSE_DEFINITION_MISMATCH, GVTG_DIAG_ERROR, "definition-start-mismatch",
	  "mdevctl started its definition {file} ({parent} type {type}), but {detail}; what it "
	  "made is removed again",
	  "Check mdevctl's callouts in /etc/mdevctl.d/scripts.d and the definition ('mdevctl "
	  "list --defined --uuid {uuid}')" },
	{ GVTG_CAUSE_LOCK_TIMEOUT, GVTG_DIAG_ERROR, "lock-timeout",
	  "the lock /{state}/lock was still held after {timeout_s} s by another gvtg-hook or "
	  "gvtgctl",
	  "Find the holder with 'fuser -v /{state}/lock'" },
	{ GVTG_CAUSE_LOCK_FAILED, GVTG_DIAG_ERROR, "lock-failed",
	  "taking the lock /{state}/lock: {strerror}",
	  "Check that /{state} is writable (run as root)" },
	{ GVTG_CAUSE_RECORD_DAMAGED, GVTG_DIAG_ERROR, "record-damaged",
	  "its ownership record /{state}/{uuid} is damaged (not a regular file, or not a record)",
	  "Check which domain uses the vGPU, then delete the file" },
	{ GVTG_CAUSE_RECORD_WRITE, GVTG_DIAG_ERROR, "record-write",
	  "writing its ownership record in /{state}: {strerror}{[; {consequence}]}",
	  "Check that /{state} is writable" },
	{ GVTG_CAUSE_STATE_UNREADABLE, GVTG_DIAG_ERROR, "state-unreadable",
	  "reading /{state}: {strerror}", "Check the directory (run as root)" },
	{ GVTG_CAUSE_SLEEP_LIST_DAMAGED, GVTG_DIAG_ERROR, "sleep-list-damaged",
	  "the list /{state}/sleep of vGPUs removed for a suspend is unreadable: {strerror}",
	  "Create the vGPUs it names with 'gvtgctl create', then delete the file" },
	{ GVTG_CAUSE_SLEEP_LINE_SKIPPED, GVTG_DIAG_WARNING, "sleep-line-skipped",
	  "line {line} of the list /{state}/sleep of vGPUs removed for a suspend is damaged"
	  "{[ ({detail})]}: skipped, the other lines are handled",
	  "If it named a vGPU that is missing now, create it again with 'gvtgctl create'" },
	{ GVTG_CAUSE_CONFIG_ERROR, GVTG_DIAG_ERROR, "config-error",
	  "{file}, line {line}: {what}",
	  "Fix the file (see gvtg-hook.conf(5)); 'gvtgctl check' reports the same" },
	{ GVTG_CAUSE_CONFIG_UNREADABLE, GVTG_DIAG_ERROR, "config-unreadable",
	  "{file} cannot be used: {what}",
	  "Until it is fixed new starts are refused; running domains are still released with "
	  "the defaults" },
	{ GVTG_CAUSE_XML_ERROR, GVTG_DIAG_ERROR, "xml-error",
	  "the XML is not well-formed: line {line}: {what}", FIX_XML },
	{ GVTG_CAUSE_XML_INVALID, GVTG_DIAG_ERROR, "xml-invalid", "{what}", FIX_XML },
	{ GVTG_CAUSE_RELEASE_BY_RECORDS, GVTG_DIAG_WARNING, "release-by-records",
	  "its XML cannot be used ({reason}); the vGPUs that the ownership records name for "
	  "it are released all the same",
	  "Nothing is left to do for this stop; find what made the XML so before the next "
	  "start ('virsh dumpxml {domain}')" },
	{ GVTG_CAUSE_DOMAIN_NO_UUID, GVTG_DIAG_ERROR, "domain-no-uuid",
	  "the domain XML has no <uuid>, so ownership cannot be recorded",
	  "Give the domain a <uuid> (virsh edit)" },
	{ GVTG_CAUSE_INPUT_TOO_LARGE, GVTG_DIAG_ERROR, "input-too-large",
	  "it is larger than {max_mib} MiB; refusing it",
	  "Shorten the domain definition" },
	{ GVTG_CAUSE_INPUT_UNREADABLE, GVTG_DIAG_ERROR, "input-unreadable",
	  "stdin cannot be read: {strerror}",
	  "libvirt passes the domain XML on stdin; run the hook as libvirt does" },
	{ GVTG_CAUSE_MODULE_LOAD, GVTG_DIAG_ERROR, "module-load",
	  "loading gvtg-hook-core.so beside the hook: {dlerror}", "Reinstall gvtg-hook" },
	{ GVTG_CAUSE_ROOT_UNREADABLE, GVTG_DIAG_ERROR, "root-unreadable",
	  "opening the root directory {file}: {strerror}", "Check GVTG_ROOT or --root" },
	{ GVTG_CAUSE_OUTPUT_FAILED, GVTG_DIAG_ERROR, "output-failed",
	  "printing the output, stdout: {strerror}", "Check where the output goes" },
	{ GVTG_CAUSE_INTERNAL, GVTG_DIAG_ERROR, "internal", "{strerror}",
	  "Try again; report it if it persists" },
	{ GVTG_CAUSE_DONE_CREATED, GVTG_DIAG_NOTICE, "created",
	  "created {vgpu} {uuid}{[ {detail}]}{[ for domain '{domain}']}", "" },
	{ GVTG_CAUSE_DONE_ADOPTED, GVTG_DIAG_NOTICE, "adopted",
	  "adopted vGPU {uuid} ({parent} {type}) for domain '{domain}'", "" },
	{ GVTG_CAUSE_DONE_USED, GVTG_DIAG_NOTICE, "used",
	  "using vGPU {uuid} ({parent} {type}, {detail}) for domain '{domain}'", "" },
	{ GVTG_CAUSE_DONE_REUSED, GVTG_DIAG_NOTICE, "reused",
	  "reusing vGPU {uuid} ({parent} {type}), already held by domain '{domain}'", "" },
	{ GVTG_CAUSE_DONE_REMOVED, GVTG_DIAG_NOTICE, "removed",
	  "removed {vgpu} {uuid}{[ of domain '{domain}']}{[ {detail}]}", "" },
	{ GVTG_CAUSE_DONE_KEPT, GVTG_DIAG_NOTICE, "kept",
	  "released vGPU {uuid} ({detail}){[ of domain '{domain}']}; the vGPU stays", "" },
	{ GVTG_CAUSE_DONE_DROPPED, GVTG_DIAG_NOTICE, "dropped",
	  "released adopted vGPU {uuid}{[ of domain '{domain}']}; the vGPU stays", "" },
	{ GVTG_CAUSE_DONE_ROLLED_BACK, GVTG_DIAG_NOTICE, "rolled-back",
	  "undid vGPU {uuid}: the start of domain '{domain}' failed", "" },
	{ GVTG_CAUSE_DONE_RESTORED, GVTG_DIAG_NOTICE, "restored",
	  "restored the record of vGPU {uuid} for running domain '{domain}'", "" },
	{ GVTG_CAUSE_DONE_LEFT_ALONE, GVTG_DIAG_NOTICE, "left-alone",
	  "kept {vgpu} {uuid}: {detail}", "" },
	{ GVTG_CAUSE_DONE_STALE_RECORD, GVTG_DIAG_NOTICE, "stale-record",
	  "vGPU {uuid} did not exist; deleted its stale record", "" },
	{ GVTG_CAUSE_DONE_SKIPPED, GVTG_DIAG_NOTICE, "skipped",
	  "skipped boot vGPU {uuid}: parent {detail} is not registered yet", "" },
	{ GVTG_CAUSE_DONE_NOTHING, GVTG_DIAG_NOTICE, "nothing-to-do", "{detail}: nothing to do",
	  "" },
};

_Static_assert(ELEMENTSOF(table) == GVTG_CAUSE__MAX, "one row per cause");

const struct gvtg_cause_row *gvtg_causes(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(table);
	return table;
}

const struct gvtg_cause_row *gvtg_cause_row(enum gvtg_cause c)
{
	if ((size_t)c < ELEMENTSOF(table) && table[c].cause == c)
		return &table[c];
	return &table[GVTG_CAUSE_INTERNAL];
}

/* Tables of one-line cases, laid out by hand. */
/* clang-format off */
static const char *errno_name(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case ENOSPC: return "ENOSPC";
	case EUSERS: return "EUSERS";
	case EDQUOT: return "EDQUOT";
	case EEXIST: return "EEXIST";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case ENODEV: return "ENODEV";
	case EBUSY: return "EBUSY";
	case EIO: return "EIO";
	case ENOMEM: return "ENOMEM";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ELOOP: return "ELOOP";
	case EISDIR: return "EISDIR";
	case EROFS: return "EROFS";
	case EFBIG: return "EFBIG";
	case EBADMSG: return "EBADMSG";
	case ENXIO: return "ENXIO";
	}
	return NULL;
}

/* The phrase that starts the line: what was being done, on which vGPU, for whom. */
static const char *op_template(enum gvtg_op op)
{
	switch (op) {
	case GVTG_OP_NONE: return "";
	case GVTG_OP_CREATE: return "creating {[vGPU {uuid}]}{?uuid:a vGPU}{[ for domain '{domain}']}";
	case GVTG_OP_USE: return "using vGPU {uuid}{[ for domain '{domain}']}";
	case GVTG_OP_RELEASE: return "releasing vGPU {uuid}{[ of domain '{domain}']}";
	case GVTG_OP_RECONNECT: return "reconnecting vGPU {uuid}{[ of domain '{domain}']}";
	case GVTG_OP_ROLLBACK: return "undoing the start{[ of domain '{domain}']}: removing vGPU {uuid}";
	case GVTG_OP_REMOVE: return "removing vGPU {uuid}";
	case GVTG_OP_BOOT_CREATE: return "creating boot vGPU {uuid}";
	case GVTG_OP_BOOT_REMOVE: return "removing boot vGPU {uuid}";
	case GVTG_OP_SLEEP_REMOVE: return "removing idle vGPU {uuid} before suspend";
	case GVTG_OP_SLEEP_CREATE: return "creating vGPU {uuid} again after resume";
	case GVTG_OP_START: return "preparing the vGPUs{[ of domain '{domain}']}";
	case GVTG_OP_STOP: return "releasing the vGPUs{[ of domain '{domain}']}";
	case GVTG_OP_BOOT: return "boot vGPUs";
	case GVTG_OP_SLEEP: return "vGPUs and suspend";
	case GVTG_OP_CONFIG: return "reading the configuration{[ for domain '{domain}']}";
	case GVTG_OP_READ_XML: return "reading the domain XML{[ of '{domain}']}";
	case GVTG_OP_READ_STATE: return "reading the ownership records";
	case GVTG_OP_DEFINE: return "defining {[vGPU {uuid}]}{?uuid:a vGPU}";
	case GVTG_OP_WRITE_XML: return "writing the domain XML of {[vGPU {uuid}]}{?uuid:a vGPU}";
	case GVTG_OP_ATTACH: return "attaching {[vGPU {uuid}]}{?uuid:a vGPU}{[ to domain '{domain}']}";
	}
	return "";
}
/* clang-format on */

#define GVTG_DIAG_LINE_MAX 2048

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	/* One line, and safe for a terminal and syslog: the facts came from files, the
	 * kernel and mdevctl, so everything goes through the one cleaning (text.c). */
	char buf[GVTG_DIAG_LINE_MAX];
	size_t len = gvtg_text_clean(s, strnlen(s, n), buf, sizeof(buf), 0);
	for (size_t i = 0; i < len; i++) {
		if (o->len + 1 < o->size)
			o->buf[o->len] = buf[i];
		o->len++;
	}
	if (o->size)
		o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
}

/* The value of a fact, "" when unknown. */
static const char *fact(const struct gvtg_diag *d, const char *name, size_t n, char *tmp,
			size_t tmpsize)
{
#define IS(s) (n == sizeof(s) - 1 && !memcmp(name, s, n))
	tmp[0] = '\0';
	if (IS("uuid")) return d->uuid;
	if (IS("parent")) return d->parent;
	if (IS("type")) return d->type;
	if (IS("domain")) return d->domain;
	if (IS("holder")) return d->holder;
	if (IS("file")) return d->file;
	if (IS("comm")) return d->comm;
	if (IS("source")) return d->source;
	if (IS("types")) return d->types;
	/* detail, under the name that says what it holds in each row */
	if (IS("detail") || IS("parents") || IS("suggestion") || IS("name") || IS("mismatch") ||
	    IS("wanted") || IS("reason") || IS("left") || IS("node") || IS("consequence") ||
	    IS("what") || IS("max_mib") || IS("dlerror"))
		return d->detail;
	if (IS("state")) return gvtg_state_dir();
	if (IS("vgpu"))
		return d->op == GVTG_OP_BOOT_CREATE || d->op == GVTG_OP_BOOT_REMOVE ? "boot vGPU"
		       : d->op == GVTG_OP_SLEEP_REMOVE			      ? "idle vGPU"
										      : "vGPU";
	if (IS("line") && d->line > 0)
		snprintf(tmp, tmpsize, "%d", d->line);
	else if (IS("pid") && d->pid > 0)
		snprintf(tmp, tmpsize, "%ld", d->pid);
	else if (IS("timeout"))
		snprintf(tmp, tmpsize, "%d", d->timeout_ms);
	else if (IS("timeout_s"))
		snprintf(tmp, tmpsize, "%d", d->timeout_ms / 1000);
	else if (IS("errno") && d->err > 0) {
		const char *e = errno_name(d->err);
		if (e)
			snprintf(tmp, tmpsize, "%s", e);
		else
			snprintf(tmp, tmpsize, "errno %d", d->err);
	} else if (IS("strerror") && d->err > 0)
		snprintf(tmp, tmpsize, "%s", strerror(d->err));
	return tmp;
#undef IS
}

/* Expand a template into o; returns false when a fact it names is unknown. */
static bool expand(struct out *o, const struct gvtg_diag *d, const char *t, size_t n)
{
	bool complete = true;
	for (size_t i = 0; i < n;) {
		if (t[i] != '{') {
			put(o, &t[i], 1);
			i++;
			continue;
		}
		if (i + 1 < n && t[i + 1] == '[') {
			/* an optional segment up to the matching "]}" */
			size_t depth = 1, j = i + 2;
			for (; j + 1 < n; j++) {
				if (t[j] == '{' && t[j + 1] == '[')
					depth++;
				else if (t[j] == ']' && t[j + 1] == '}' && --depth == 0)
					break;
			}
			char tmp[1024];
			struct out sub = { tmp, sizeof(tmp), 0 };
			tmp[0] = '\0';
			if (expand(&sub, d, t + i + 2, j - (i + 2)))
				put(o, tmp, sub.len);
			i = j + 2;
			continue;
		}
		if (i + 1 < n && t[i + 1] == '?') {
			/* "{?fact:text}": text when the fact is unknown */
			const char *colon = memchr(t + i, ':', n - i);
			const char *close = memchr(t + i, '}', n - i);
			if (!colon || !close || close < colon)
				break;
			char tmp[64];
			const char *v = fact(d, t + i + 2, (size_t)(colon - (t + i + 2)), tmp,
					     sizeof(tmp));
			if (!*v)
				put(o, colon + 1, (size_t)(close - colon - 1));
			i = (size_t)(close - t) + 1;
			continue;
		}
		const char *close = memchr(t + i, '}', n - i);
		if (!close)
			break;
		char tmp[256];
		const char *v = fact(d, t + i + 1, (size_t)(close - (t + i + 1)), tmp, sizeof(tmp));
		if (!*v)
			complete = false;
		put(o, v, strlen(v));
		i = (size_t)(close - t) + 1;
	}
	return complete;
}

int gvtg_diag_format(const struct gvtg_diag *d, char *out, size_t size)
{
	struct out o = { out, size, 0 };
	const struct gvtg_cause_row *row = gvtg_cause_row(d->cause);
	if (size)
		out[0] = '\0';
	const char *op = row->level == GVTG_DIAG_NOTICE ? "" : op_template(d->op);
	if (*op) {
		expand(&o, d, op, strlen(op));
		put(&o, ": ", 2);
	}
	expand(&o, d, row->text, strlen(row->text));
	if (*row->fix) {
		put(&o, ". ", 2);
		expand(&o, d, row->fix, strlen(row->fix));
	}
	return (int)o.len;
}

void gvtg_ctx_set_report_fn(struct gvtg_ctx *ctx, gvtg_report_fn fn, void *userdata)
{
	ctx->report_fn = fn;
	ctx->report_userdata = userdata;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

void gvtg_diag_init(struct gvtg_diag *d, enum gvtg_op op, const char *uuid, const char *domain)
{
	memset(d, 0, sizeof(*d));
	d->op = op;
	copy(d->uuid, sizeof(d->uuid), uuid);
	copy(d->domain, sizeof(d->domain), domain);
}

void gvtg_diag_report(struct gvtg_ctx *ctx, struct gvtg_diag *d, enum gvtg_cause cause)
{
	d->cause = cause;
	if (!ctx)
		return;
	const struct gvtg_cause_row *row = gvtg_cause_row(cause);
	if (ctx->report_fn) {
		int saved = errno;
		ctx->report_fn(ctx->report_userdata, d);
		errno = saved;
	} else if (ctx->log_fn) {
		char line[1024];
		gvtg_diag_format(d, line, sizeof(line));
		gvtg_log(ctx, row->level == GVTG_DIAG_NOTICE ? GVTG_LOG_NOTICE : GVTG_LOG_ERR,
			 "%s", line);
	}
}

void gvtg_diag_config(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, const char *path,
		      int r, enum gvtg_op op, const char *domain, struct gvtg_diag *ret_diag)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, op, NULL, domain);
	const char *p = cfg && cfg->path ? cfg->path : path ? path : gvtg_config_default_path();
	snprintf(d.file, sizeof(d.file), "%s%s", p[0] == '/' ? "" : "/", p);
	enum gvtg_cause cause;
	if (r == -EBADMSG && cfg && cfg->error_line > 0) {
		d.line = cfg->error_line;
		copy(d.detail, sizeof(d.detail), cfg->error);
		cause = GVTG_CAUSE_CONFIG_ERROR;
	} else {
		/* The whole file: the parser's words when it has some (a directory, too
		 * large, UTF-16...), else the errno's. */
		d.err = -r;
		if (cfg && cfg->error[0])
			copy(d.detail, sizeof(d.detail), cfg->error);
		else
			snprintf(d.detail, sizeof(d.detail), "cannot read it: %s", strerror(-r));
		cause = GVTG_CAUSE_CONFIG_UNREADABLE;
	}
	gvtg_diag_report(ctx, &d, cause);
	if (ret_diag)
		*ret_diag = d;
}

/* libxml2's error codes, in our words: what is wrong at that line. */
static const char *xml_words(int code)
{
	switch (code) {
	case XML_ERR_GT_REQUIRED:
	case XML_ERR_LTSLASH_REQUIRED:
		return "a tag is not closed with '>'";
	case XML_ERR_TAG_NAME_MISMATCH:
		return "an end tag does not match its start tag";
	case XML_ERR_TAG_NOT_FINISHED:
		return "the document ends before an element is closed";
	case XML_ERR_DOCUMENT_EMPTY:
	case XML_ERR_DOCUMENT_START:
		return "there is no element where the document starts";
	case XML_ERR_DOCUMENT_END:
		return "there is more after the end of the root element";
	case XML_ERR_ATTRIBUTE_WITHOUT_VALUE:
	case XML_ERR_ATTRIBUTE_NOT_STARTED:
	case XML_ERR_ATTRIBUTE_NOT_FINISHED:
	case XML_ERR_LT_IN_ATTRIBUTE:
		return "an attribute's value is missing or not quoted";
	case XML_ERR_ATTRIBUTE_REDEFINED:
		return "an element has the same attribute twice";
	case XML_ERR_NAME_REQUIRED:
	case XML_ERR_SPACE_REQUIRED:
		return "a tag or attribute name is missing or malformed";
	case XML_ERR_UNDECLARED_ENTITY:
	case XML_WAR_UNDECLARED_ENTITY:
	case XML_ERR_ENTITYREF_SEMICOL_MISSING:
		return "an '&' does not start a known entity such as &amp;";
	case XML_ERR_INVALID_CHAR:
	case XML_ERR_INVALID_CHARREF:
	case XML_ERR_INVALID_ENCODING:
	case XML_ERR_UNKNOWN_ENCODING:
	case XML_ERR_UNSUPPORTED_ENCODING:
		return "a character is not allowed or not in the declared encoding";
	case XML_ERR_COMMENT_NOT_FINISHED:
		return "a comment is not closed";
	case XML_ERR_CDATA_NOT_FINISHED:
		return "a CDATA section is not closed";
	case XML_ERR_NS_DECL_ERROR:
	case XML_NS_ERR_UNDEFINED_NAMESPACE:
		return "a namespace prefix is not declared";
	}
	return "the markup is broken there";
}

void gvtg_diag_xml(struct gvtg_ctx *ctx, int r, const char *domain, struct gvtg_diag *ret_diag)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_READ_XML, NULL, domain);
	enum gvtg_cause cause;
	int line = 0;
	int code = gvtg_domain_parse_where(&line);
	if (r == -EFBIG) {
		snprintf(d.detail, sizeof(d.detail), "%zu", GVTG_XML_MAX >> 20);
		cause = GVTG_CAUSE_INPUT_TOO_LARGE;
	} else if (code != 0) {
		d.line = line;
		copy(d.detail, sizeof(d.detail), xml_words(code));
		cause = GVTG_CAUSE_XML_ERROR;
	} else if (r == -EBADMSG || r == -EINVAL) {
		copy(d.detail, sizeof(d.detail), gvtg_domain_parse_error());
		cause = GVTG_CAUSE_XML_INVALID;
	} else {
		d.err = -r;
		cause = GVTG_CAUSE_INTERNAL;
	}
	gvtg_diag_report(ctx, &d, cause);
	if (ret_diag)
		*ret_diag = d;
}

void gvtg_diag_xml_release(struct gvtg_ctx *ctx, int r, const char *domain,
			   struct gvtg_diag *ret_diag)
{
	/* Why the XML is refused: the refusal's own words, without its fix. */
	struct gvtg_diag x;
	gvtg_diag_xml(NULL, r, domain, &x);
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_STOP, NULL, domain);
	const struct gvtg_cause_row *row = gvtg_cause_row(x.cause);
	struct out o = { d.detail, sizeof(d.detail), 0 };
	expand(&o, &x, row->text, strlen(row->text));
	gvtg_diag_report(ctx, &d, GVTG_CAUSE_RELEASE_BY_RECORDS);
	if (ret_diag)
		*ret_diag = d;
}

/* ---- "did you mean" ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 128 || lb > 128)
		return SIZE_MAX;
	size_t row[129];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (tolower((unsigned char)a[i - 1]) !=
					     tolower((unsigned char)b[j - 1]));
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

void gvtg_type_suggest(const struct gvtg_type *types, size_t n, const char *type, char *out,
		       size_t size)
{
	size_t best = SIZE_MAX;
	bool tie = false;
	out[0] = '\0';
	if (!type)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *id = types[i].id;
		size_t lt = strlen(type), li = strlen(id);
		size_t dist;
		/* The NAME column's value or the id without its driver prefix. */
		if ((li > lt && !strcasecmp(id + li - lt, type)) ||
		    (types[i].name && !strcasecmp(types[i].name, type)))
			dist = 0;
		else
			dist = edit_distance(type, id);
		if (dist < best && dist <= 3) {
			best = dist;
			tie = false;
			snprintf(out, size, "%s", id);
		} else if (dist == best) {
			tie = true;
		}
	}
	/* Two as close: a guess would mislead. */
	if (tie)
		out[0] = '\0';
}
