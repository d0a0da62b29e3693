/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check under SELinux: the verdict on a hook (ctl/selinux-judge.c) against a
 * policy written out here as tables, the way the reference policy (Debian) and the
 * gvtg_hook module answer: virtd_t executes bin_t, gvtg_hook_exec_t (entering gvtg_hook_t)
 * but nothing under /etc/libvirt/hooks (virt_etc_rw_t); systemd's and gvtgctl's wrong
 * labels on /run/gvtg-hook; a system or a domain in permissive mode.  Each refusal must be
 * a FAIL (a WARN when only logged) naming its fix.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-selinux.h"
#include "fakesys.h"

#define DAEMON "system_u:system_r:virtd_t:s0-s0:c0.c1023"
#define HOOK "/usr/sbin/gvtg-hook"
#define LINK GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook"
#define COPY LINK
#define STATE "/run/gvtg-hook"

/* ---- the policy ---- */

struct rule {
	const char *source, *target, *cls, *perm;
};

/* What the reference policy with the module allows, as far as these checks ask. */
static const struct rule module_rules[] = {
	{"virtd_t", "bin_t", "file", "execute"},
	{"virtd_t", "gvtg_hook_exec_t", "file", "execute"},
	{"virtd_t", "virtd_var_run_t", "dir", "*"},
	{"virtd_t", "virtd_var_run_t", "file", "*"},
	{"gvtg_hook_t", "gvtg_hook_runtime_t", "dir", "*"},
	{"gvtg_hook_t", "gvtg_hook_runtime_t", "file", "*"},
	{"unconfined_t", "*", "*", "*"},
};

struct policy {
	bool module;     /* the gvtg_hook module is loaded */
	bool enforcing;
	bool permissive_virtd; /* virtd_t is a permissive domain */
	bool broken;     /* every question fails */
	/* The file contexts: path -> type. */
	const char *fc[4][2];
};

static char types[2][128];
static const char *type_of(const char *con, int slot)
{
	const char *p = strchr(con, ':');
	p = p ? strchr(p + 1, ':') : NULL;
	ck_assert_ptr_nonnull(p);
	snprintf(types[slot], sizeof(types[slot]), "%.*s", (int)strcspn(p + 1, ":"), p + 1);
	return types[slot];
}

static bool matches(const char *pattern, const char *s)
{
	return !strcmp(pattern, "*") || !strcmp(pattern, s);
}

static int fake_may(void *data, const char *scon, const char *tcon, const char *cls,
                    const char *perm, bool *ret_permissive)
{
	const struct policy *p = data;
	if (p->broken)
		return -EINVAL;
	const char *s = type_of(scon, 0), *t = type_of(tcon, 1);
	*ret_permissive = p->permissive_virtd && !strcmp(s, "virtd_t");
	size_t n = sizeof(module_rules) / sizeof(module_rules[0]);
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &module_rules[i];
		if (!p->module && (strstr(r->source, "gvtg") || strstr(r->target, "gvtg")))
			continue;
		if (matches(r->source, s) && matches(r->target, t) && matches(r->cls, cls) &&
		    matches(r->perm, perm))
			return 1;
	}
	return 0;
}

static int fake_exec_context(void *data, const char *scon, const char *tcon, char **ret)
{
	const struct policy *p = data;
	char buf[256];
	if (p->module && !strcmp(type_of(scon, 0), "virtd_t") &&
	    !strcmp(type_of(tcon, 1), "gvtg_hook_exec_t"))
		snprintf(buf, sizeof(buf), "system_u:system_r:gvtg_hook_t:s0");
	else
		snprintf(buf, sizeof(buf), "%s", scon);
	*ret = strdup(buf);
	return 0;
}

static int fake_default_label(void *data, const char *path, char **ret)
{
	const struct policy *p = data;
	for (size_t i = 0; i < 4 && p->fc[i][0]; i++) {
		if (strcmp(p->fc[i][0], path))
			continue;
		char buf[256];
		snprintf(buf, sizeof(buf), "system_u:object_r:%s:s0", p->fc[i][1]);
		*ret = strdup(buf);
		return 0;
	}
	return -ENOENT;
}

static bool fake_valid(void *data, const char *con)
{
	const struct policy *p = data;
	return p->module || !strstr(con, "gvtg_hook");
}

/* ---- the report ---- */

static struct {
	int n;
	enum mac_status status[4];
	char fix[4][2048];
	char what[4][2048];
} got;

static void collect(void *data, enum mac_status status, const char *fix, const char *what)
{
	(void)data;
	ck_assert_int_lt(got.n, 4);
	got.status[got.n] = status;
	snprintf(got.fix[got.n], sizeof(got.fix[got.n]), "%s", fix ? fix : "");
	snprintf(got.what[got.n], sizeof(got.what[got.n]), "%s", what);
	got.n++;
}

/* Judge the hook at path (listed as shown) labelled label, the state directory state. */
static void judge(struct policy *p, const char *shown, const char *path, const char *label,
                  const char *state)
{
	memset(&got, 0, sizeof(got));
	struct selinux_ops ops = {
		.data = p, .may = fake_may, .exec_context = fake_exec_context,
		.default_label = fake_default_label, .valid = fake_valid,
		.enforcing = p->enforcing,
	};
	char lcon[256], scon[256];
	snprintf(lcon, sizeof(lcon), "system_u:object_r:%s:s0", label ? label : "");
	snprintf(scon, sizeof(scon), "system_u:object_r:%s:s0", state ? state : "");
	struct selinux_hook h = {
		.daemon = "libvirtd", .pid = 42, .dcon = DAEMON, .shown = shown, .path = path,
		.label = label ? lcon : NULL, .state_dir = STATE,
		.state_label = state ? scon : NULL,
	};
	selinux_judge_hook(&ops, &h, collect, NULL);
	ck_assert_int_eq(got.n, 1);
}

static struct policy debian(bool module)
{
	return (struct policy){
		.module = module, .enforcing = true,
		.fc = {{HOOK, module ? "gvtg_hook_exec_t" : "bin_t"},
		       {STATE, module ? "gvtg_hook_runtime_t" : "var_run_t"},
		       {COPY, "virt_etc_rw_t"}},
	};
}

#define SHOWN LINK " (-> " HOOK ")"

START_TEST(test_labelled_hook_passes)
{
	struct policy p = debian(true);
	judge(&p, SHOWN, HOOK, "gvtg_hook_exec_t", "gvtg_hook_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_PASS);
	ck_assert_ptr_nonnull(strstr(got.what[0], "runs it as gvtg_hook_t"));
	ck_assert_ptr_nonnull(strstr(got.what[0], "libvirtd (SELinux virtd_t) executes hook"));
	/* Not made yet: the first hook call makes it, in gvtg_hook_t. */
	judge(&p, SHOWN, HOOK, "gvtg_hook_exec_t", NULL);
	ck_assert_int_eq(got.status[0], MAC_PASS);
}
END_TEST

/* Installed before the module, never relabelled: bin_t, run in virtd_t, which may not
 * take the lock in /run/gvtg-hook. */
START_TEST(test_unrelabelled_hook_fails_with_restorecon)
{
	struct policy p = debian(true);
	judge(&p, SHOWN, HOOK, "bin_t", "gvtg_hook_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_FAIL);
	ck_assert_ptr_nonnull(strstr(got.what[0], "as virtd_t, which may not write its state "
	                                          "directory /run/gvtg-hook"));
	ck_assert_str_eq(got.fix[0],
	                 "restorecon -v " HOOK " (the policy labels it gvtg_hook_exec_t)");
}
END_TEST

/* hook_layout=hooks_dir: the copy in qemu.d is virt_etc_rw_t, which virtd_t may not
 * execute: every VM start fails. */
START_TEST(test_copy_in_hooks_dir_fails_with_layout)
{
	struct policy p = debian(true);
	judge(&p, COPY, COPY, "virt_etc_rw_t", "gvtg_hook_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_FAIL);
	ck_assert_ptr_nonnull(strstr(got.what[0], "libvirtd (pid 42, SELinux virtd_t) may not "
	                                          "execute hook " COPY " (virt_etc_rw_t)"));
	ck_assert_ptr_nonnull(strstr(got.fix[0], "install the hook as /usr/sbin/gvtg-hook "
	                                         "linked from qemu.d"));
	ck_assert_ptr_nonnull(strstr(got.fix[0], "-Dhook_layout=hooks_dir does not work"));
}
END_TEST

/* gvtg-boot.service (initrc_t) made /run/gvtg-hook before systemd-tmpfiles could. */
START_TEST(test_state_dir_mislabelled_fails_with_restorecon)
{
	struct policy p = debian(true);
	judge(&p, SHOWN, HOOK, "gvtg_hook_exec_t", "initrc_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_FAIL);
	ck_assert_ptr_nonnull(strstr(got.what[0], "as gvtg_hook_t, which may not write its "
	                                          "state directory /run/gvtg-hook "
	                                          "(initrc_runtime_t): every hook call fails"));
	ck_assert_str_eq(got.fix[0], "restorecon -Rv " STATE
	                             " (the policy labels it gvtg_hook_runtime_t)");
}
END_TEST

/* No module: the hook is bin_t and runs in virtd_t, which may write a directory of its
 * own: not refused, but not the supported setup. */
START_TEST(test_no_module_warns_with_module)
{
	struct policy p = debian(false);
	judge(&p, SHOWN, HOOK, "bin_t", "virtd_var_run_t");
	ck_assert_int_eq(got.status[0], MAC_WARN);
	ck_assert_ptr_nonnull(strstr(got.what[0], "in its own domain virtd_t, not gvtg_hook_t"));
	ck_assert_ptr_nonnull(strstr(got.fix[0], "load the gvtg_hook policy module"));
	ck_assert_ptr_nonnull(strstr(got.fix[0], "semodule -i gvtg_hook.pp), then restorecon -v "
	                                         HOOK));
	/* And where the state directory is not the daemon's to write, that is a FAIL. */
	judge(&p, SHOWN, HOOK, "bin_t", "var_run_t");
	ck_assert_int_eq(got.status[0], MAC_FAIL);
	ck_assert_ptr_nonnull(strstr(got.fix[0], "load the gvtg_hook policy module"));
}
END_TEST

START_TEST(test_permissive_only_warns)
{
	struct policy p = debian(true);
	p.enforcing = false;
	judge(&p, COPY, COPY, "virt_etc_rw_t", "gvtg_hook_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_WARN);
	ck_assert_ptr_nonnull(strstr(got.what[0], "(only logged: permissive)"));
	p.enforcing = true;
	p.permissive_virtd = true;
	judge(&p, COPY, COPY, "virt_etc_rw_t", "gvtg_hook_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_WARN);
	judge(&p, SHOWN, HOOK, "bin_t", "gvtg_hook_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_WARN);
	ck_assert_ptr_nonnull(strstr(got.what[0], "(only logged: permissive)"));
}
END_TEST

START_TEST(test_unreadable_label_and_policy)
{
	struct policy p = debian(true);
	judge(&p, SHOWN, HOOK, NULL, "gvtg_hook_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_WARN);
	ck_assert_str_eq(got.fix[0], "restorecon -v " HOOK);
	p.broken = true;
	judge(&p, SHOWN, HOOK, "gvtg_hook_exec_t", "gvtg_hook_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_INFO);
	ck_assert_ptr_nonnull(strstr(got.what[0], "cannot ask the SELinux policy"));
}
END_TEST

/* A file with no file context of its own (a layout of the admin's), module loaded. */
START_TEST(test_other_path_labelled_by_semanage)
{
	struct policy p = debian(true);
	judge(&p, "/opt/gvtg/bin/gvtg-hook", "/opt/gvtg/bin/gvtg-hook", "bin_t",
	      "gvtg_hook_runtime_t");
	ck_assert_int_eq(got.status[0], MAC_FAIL);
	ck_assert_str_eq(got.fix[0], "label it gvtg_hook_exec_t: semanage fcontext -a -t "
	                             "gvtg_hook_exec_t /opt/gvtg/bin/gvtg-hook && restorecon -v "
	                             "/opt/gvtg/bin/gvtg-hook");
}
END_TEST

/* ---- gvtgctl itself: where the policy is not this host's, it says nothing ---- */

/* gvtgctl [--root root] check: its output (stdout and stderr), malloc'd. */
static char *run_check(const char *root)
{
	const char *prog = getenv("GVTGCTL");
	ck_assert_msg(prog, "GVTGCTL is not set: run the tests through meson");
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		if (root)
			execl(prog, prog, "--root", root, "check", (char *)NULL);
		else
			execl(prog, prog, "check", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t len = 0;
	char *out = malloc(1), buf[4096];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0) {
		out = realloc(out, len + (size_t)n + 1);
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	out[len] = '\0';
	close(p[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) <= 1, "%s", out);
	return out;
}

/* A fake tree whose libvirtd runs under an SELinux context: the policy to ask would be
 * this machine's, not the tree's, so check says nothing about SELinux. */
START_TEST(test_fake_root_says_nothing)
{
	struct fakesys *fs = fakesys_new();
	fakesys_gvt_host(fs);
	fakesys_write(fs, "sys/fs/selinux/enforce", "1");
	fakesys_write(fs, "proc/4242/comm", "libvirtd\n");
	fakesys_write(fs, "run/libvirtd.pid", "4242\n");
	fakesys_write(fs, "proc/4242/attr/current", DAEMON);
	fakesys_symlink(fs, &LINK[1], HOOK);
	fakesys_write(fs, &HOOK[1], "#!/bin/sh\n");
	char *out = run_check(fakesys_root(fs));
	ck_assert_msg(!strstr(out, "SELinux") && !strstr(out, "virtd_t"), "%s", out);
	free(out);
	fakesys_free(fs);
}
END_TEST

/* This host without SELinux (CI's): the skip path. */
START_TEST(test_host_without_selinux_says_nothing)
{
	if (access("/sys/fs/selinux/enforce", F_OK) == 0)
		return; /* SELinux is on here: the libselinux path runs, not this one */
	char *out = run_check(NULL);
	ck_assert_msg(!strstr(out, "SELinux"), "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("check-selinux");
	TCase *tc = tcase_create("judge");
	tcase_add_test(tc, test_labelled_hook_passes);
	tcase_add_test(tc, test_unrelabelled_hook_fails_with_restorecon);
	tcase_add_test(tc, test_copy_in_hooks_dir_fails_with_layout);
	tcase_add_test(tc, test_state_dir_mislabelled_fails_with_restorecon);
	tcase_add_test(tc, test_no_module_warns_with_module);
	tcase_add_test(tc, test_permissive_only_warns);
	tcase_add_test(tc, test_unreadable_label_and_policy);
	tcase_add_test(tc, test_other_path_labelled_by_semanage);
	suite_add_tcase(s, tc);
	TCase *tg = tcase_create("gvtgctl");
	tcase_add_test(tg, test_fake_root_says_nothing);
	tcase_add_test(tg, test_host_without_selinux_says_nothing);
	suite_add_tcase(s, tg);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
