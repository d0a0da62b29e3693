/* SPDX-License-Identifier: MIT */
/*
 * A fake sysfs tree in a temporary directory, laid out like the kernel's (relative
 * symlinks, so the tree works under any root), and an optional in-process emulation of
 * the kernel's answers to writes on create/remove through the library's I/O seam.
 */
#pragma once

#include <stdbool.h>

struct fakesys;

struct fakesys *fakesys_new(void);
void fakesys_free(struct fakesys *fs);
const char *fakesys_root(const struct fakesys *fs);

/* A PCI-like name goes to sys/devices/pci0000:00/<p>, others to
 * sys/devices/virtual/<p>/<p>; plus the sys/class/mdev_bus link. */
int fakesys_add_parent(struct fakesys *fs, const char *parent);
int fakesys_add_type(struct fakesys *fs, const char *parent, const char *type, const char *name,
		     const char *device_api, const char *description, int available);
int fakesys_add_device(struct fakesys *fs, const char *parent, const char *type,
		       const char *uuid);
/* Take a device away as the kernel does on remove (available_instances unchanged). */
int fakesys_remove_device(struct fakesys *fs, const char *uuid);
/* 0000:00:02.0 (vendor 0x8086, device 0x3e92) with i915-GVTg_V5_8/_4/_2/_1, 2 2 2 1 left. */
void fakesys_gvt_host(struct fakesys *fs);

int fakesys_write(struct fakesys *fs, const char *relpath, const char *content);
char *fakesys_read(struct fakesys *fs, const char *relpath);
bool fakesys_exists(struct fakesys *fs, const char *relpath);
int fakesys_symlink(struct fakesys *fs, const char *relpath, const char *target);
int fakesys_unlink(struct fakesys *fs, const char *relpath);
/* Number of entries of a directory (not counting . and ..), -1 when missing. */
int fakesys_count(struct fakesys *fs, const char *relpath);

/* Emulate the kernel for this process: a write to <type>/create makes the device (or
 * fails with EEXIST / ENOSPC / EINVAL as the kernel would) and lowers
 * available_instances; a write to <dev>/remove removes it.  Faults set with
 * fakesys_fail() are answered first. */
void fakesys_kernel_attach(struct fakesys *fs);
/* Only record writes (and answer injected faults): create stays a plain file. */
void fakesys_log_attach(struct fakesys *fs);
/* Every write to a sysfs attribute since attach: "<path> <bytes>\n" each. */
const char *fakesys_writes(const struct fakesys *fs);
/* Make the n-th (1-based) write whose path contains `match` fail with -err (or a short
 * write when err is 0).  One fault at a time; fakesys_fail(fs, NULL, 0, 0) clears. */
void fakesys_fail(struct fakesys *fs, const char *match, int nth, int err);
/* Fail every operation of kind op (an enum gvtg_io_op) whose path contains match. */
void fakesys_fail_op(struct fakesys *fs, int op, const char *match, int err);
