/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check under AppArmor, black box: a fake tree with a healthy GVT-g host, a
 * libvirtd whose /proc/<pid>/attr/current names its profile, that profile's file under
 * /etc/apparmor.d and the hooks directory.  A hook the profile may not execute is a FAIL
 * (exit 1); one it may is a PASS; an unconfined daemon adds no failure.  The rules are
 * matched with AppArmor's globbing: '*' within one path component, '**' across them,
 * '{a,b}' alternatives, variables, deny rules, included local/ files; child profiles
 * do not count.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"

#define REL(abs) (&(abs)[1])
#define QEMU_D GVTG_HOOKS_DIR "/qemu.d"
#define HOOK_LINK QEMU_D "/50-gvtg-hook"
#define PROFILE "etc/apparmor.d/usr.sbin.libvirtd"
#define LOCAL "etc/apparmor.d/local/usr.sbin.libvirtd"
/* hook_layout=hooks_dir: the executable is a copy in the hooks directory, which runs
 * under libvirtd's own profile (no profile of its own to load). */
#define HOOK_IS_LINKED (strcmp(GVTG_HOOK_PATH, HOOK_LINK) != 0)
#define HOOK_HAS_PROFILE (strncmp(GVTG_HOOK_PATH, GVTG_HOOKS_DIR "/", strlen(GVTG_HOOKS_DIR "/")) != 0)

/* The parts of Debian 12's usr.sbin.libvirtd that decide what it may execute. */
static const char debian_profile[] =
    "#include <tunables/global>\n"
    "@{LIBVIRT}=\"libvirt\"\n"
    "\n"
    "profile libvirtd /usr/sbin/libvirtd flags=(attach_disconnected) {\n"
    "  #include <abstractions/base>\n"
    "  capability kill,\n"
    "  network inet stream,\n"
    "  / r,\n"
    "  /** rwmkl,\n"
    "\n"
    "  /bin/* PUx,\n"
    "  /sbin/* PUx,\n"
    "  /usr/bin/* PUx,\n"
    "  /usr/sbin/virtlogd pix,\n"
    "  /usr/sbin/* PUx,\n"
    "  /{usr/,}lib/udev/scsi_id PUx,\n"
    "  /usr/{lib,lib64,lib/qemu,libexec}/virtiofsd PUx,\n"
    "  audit deny /{usr/,}sbin/apparmor_parser rwxl,\n"
    "  /usr/lib/libvirt/* PUxr,\n"
    "  /etc/libvirt/hooks/** rmix,\n"
    "  change_profile -> @{LIBVIRT}-[0-9a-f]*-[0-9a-f]*-[0-9a-f]*-[0-9a-f]*-[0-9a-f]*,\n"
    "\n"
    "  /usr/{lib,lib64,lib/qemu,libexec}/qemu-bridge-helper Cx -> qemu_bridge_helper,\n"
    "  profile qemu_bridge_helper {\n"
    "   #include <abstractions/base>\n"
    "   /usr/libexec/gvtg-hook/gvtg-hook rmix,\n"
    "  }\n"
    "\n"
    "  # Site-specific additions and overrides. See local/README for details.\n"
    "  #include <local/usr.sbin.libvirtd>\n"
    "}\n";

static struct fakesys *fs;
static int rc;
static char *out;

static void setup(void)
{
	fs = fakesys_new();
}

static void teardown(void)
{
	free(out);
	out = NULL;
	fakesys_free(fs);
}

static void put(const char *rel, const char *content, mode_t mode)
{
	ck_assert_int_eq(fakesys_write(fs, rel, content), 0);
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", fakesys_root(fs), rel);
	ck_assert_int_eq(chmod(p, mode), 0);
}

/* gvtgctl --root TREE check: exit status into rc, stdout into out. */
static void check(void)
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
		execl(prog, prog, "--root", fakesys_root(fs), "check", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t len = 0;
	free(out);
	out = malloc(1);
	char buf[4096];
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
	ck_assert(WIFEXITED(status));
	rc = WEXITSTATUS(status);
}

#define assert_has(s)                                                                    \
	ck_assert_msg(strstr(out, (s)), "output lacks \"%s\":\n%s", (s), out)
#define assert_lacks(s)                                                                  \
	ck_assert_msg(!strstr(out, (s)), "output has \"%s\":\n%s", (s), out)
#define assert_rc(n) ck_assert_msg(rc == (n), "exit %d, expected %d:\n%s", rc, (n), out)

/* Every other check passes, so that the exit status is the AppArmor check's; libvirtd is
 * pid 4242, running under the AppArmor label given (NULL: no LSM). */
static void host(const char *label)
{
	fakesys_gvt_host(fs);
	fakesys_write(fs, "sys/module/i915/parameters/enable_gvt", "Y\n");
	fakesys_write(fs, "sys/module/i915/parameters/enable_guc", "0\n");
	fakesys_write(fs, "sys/module/kvmgt/refcnt", "0\n");
	fakesys_write(fs, "sys/module/vfio/refcnt", "0\n");
	fakesys_write(fs, "sys/module/mdev/refcnt", "0\n");
	fakesys_write(fs, "sys/class/iommu/dmar0/uevent", "");
	fakesys_write(fs, "dev/vfio/vfio", "");
	fakesys_write(fs, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n");
	put(REL(GVTG_HOOK_PATH), "#!/bin/sh\n", 0755);
	if (HOOK_IS_LINKED)
		ck_assert_int_eq(fakesys_symlink(fs, REL(HOOK_LINK), GVTG_HOOK_PATH), 0);
	char stat[128];
	snprintf(stat, sizeof(stat), "cpu 1\nbtime %lld\n", (long long)time(NULL) + 3600);
	fakesys_write(fs, "proc/stat", stat);
	fakesys_write(
	    fs, "proc/4242/stat",
	    "4242 (libvirtd) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 17 0 "
	    "1000 123456 100 18446744073709551615\n");
	fakesys_write(fs, "run/libvirtd.pid", "4242\n");
	if (label)
		fakesys_write(fs, "proc/4242/attr/current", label);
	fakesys_write(fs, PROFILE, debian_profile);
	fakesys_write(fs, "etc/apparmor.d/tunables/global", "@{PROC}=/proc/\n");
}

/* qemu.d/50-gvtg-hook becomes a link to an executable at target. */
static void hook_at(const char *target)
{
	fakesys_unlink(fs, REL(HOOK_LINK));
	put(&target[1], "#!/bin/sh\n", 0755);
	ck_assert_int_eq(fakesys_symlink(fs, REL(HOOK_LINK), target), 0);
}

START_TEST(refused_libexec)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/libexec/gvtg-hook/gvtg-hook");
	check();
	assert_rc(1);
	assert_has(
	    "FAIL  libvirtd (pid 4242, AppArmor libvirtd) may not execute hook " HOOK_LINK
	    " (-> /usr/libexec/gvtg-hook/gvtg-hook): /" PROFILE
	    " has no exec rule for it; "
	    "every VM start fails with 'Permission denied': install the hook where the "
	    "profile runs it");
	assert_has("or add '/usr/libexec/gvtg-hook/gvtg-hook PUx,' to /" LOCAL " and run "
	           "apparmor_parser -r /" PROFILE);
	/* A child profile's rule for that path is not libvirtd's. */
}
END_TEST

START_TEST(refused_usr_local)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/local/libexec/gvtg-hook/gvtg-hook");
	check();
	assert_rc(1);
	assert_has("may not execute hook " HOOK_LINK
	           " (-> /usr/local/libexec/gvtg-hook/gvtg-hook)");
}
END_TEST

START_TEST(star_stays_in_one_directory)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/sbin/gvtg/gvtg-hook");
	check();
	assert_rc(1);
	assert_has("may not execute hook " HOOK_LINK " (-> /usr/sbin/gvtg/gvtg-hook)");
}
END_TEST

START_TEST(allowed_sbin)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/sbin/gvtg-hook");
	check();
	assert_rc(0);
	assert_has("PASS  libvirtd (AppArmor libvirtd) may execute hook " HOOK_LINK
	           " (-> /usr/sbin/gvtg-hook): rule '/usr/sbin/* PUx'");
	assert_lacks("FAIL");
}
END_TEST

/* A link into /sbin resolves through the merged /usr (/sbin -> usr/sbin) first. */
START_TEST(allowed_through_merged_usr)
{
	host("libvirtd (enforce)\n");
	put("usr/sbin/gvtg-hook", "#!/bin/sh\n", 0755);
	ck_assert_int_eq(fakesys_symlink(fs, "sbin", "usr/sbin"), 0);
	fakesys_unlink(fs, REL(HOOK_LINK));
	ck_assert_int_eq(fakesys_symlink(fs, REL(HOOK_LINK), "/sbin/gvtg-hook"), 0);
	check();
	assert_rc(0);
	assert_has("may execute hook " HOOK_LINK
	           " (-> /usr/sbin/gvtg-hook): rule '/usr/sbin/* PUx'");
}
END_TEST

/* The copy in qemu.d: '**' crosses directories. */
START_TEST(allowed_copy_in_hooks_dir)
{
	host("libvirtd (enforce)\n");
	fakesys_unlink(fs, REL(HOOK_LINK));
	put(REL(HOOK_LINK), "#!/bin/sh\n", 0755);
	check();
	assert_rc(0);
	assert_has("PASS  libvirtd (AppArmor libvirtd) may execute hook " HOOK_LINK
	           ": rule '/etc/libvirt/hooks/** rmix'");
}
END_TEST

/* The admin's fix: an exec rule in local/, with alternatives and a variable of two
 * values from the tunables. */
START_TEST(allowed_by_local_rule)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/libexec/gvtg-hook/gvtg-hook");
	fakesys_write(fs, "etc/apparmor.d/tunables/global", "@{GVTG}=gvtg gvtg-hook\n");
	fakesys_write(fs, LOCAL, "/usr/{lib,libexec}/@{GVTG}/* PUx,\n");
	check();
	assert_rc(0);
	assert_has("may execute hook " HOOK_LINK
	           " (-> /usr/libexec/gvtg-hook/gvtg-hook): rule "
	           "'/usr/{lib,libexec}/@{GVTG}/* PUx'");
}
END_TEST

START_TEST(deny_wins)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/sbin/gvtg-hook");
	fakesys_write(fs, LOCAL, "audit deny /usr/sbin/gvtg-* x,\n");
	check();
	assert_rc(1);
	assert_has("may not execute hook " HOOK_LINK
	           " (-> /usr/sbin/gvtg-hook): /" PROFILE " denies it (rule 'deny "
	           "/usr/sbin/gvtg-* x' in /" LOCAL ")");
}
END_TEST

/* Statements as apparmor_parser reads them: a rule over two lines is one rule, and the
 * file it is in (local/) is named. */
START_TEST(rule_over_two_lines)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/libexec/gvtg-hook/gvtg-hook");
	fakesys_write(fs, LOCAL, "# the hook\n/usr/libexec/gvtg-hook/gvtg-hook\n    PUx,\n");
	check();
	assert_rc(0);
	assert_has("PASS  libvirtd (AppArmor libvirtd) may execute hook " HOOK_LINK
	           " (-> /usr/libexec/gvtg-hook/gvtg-hook): rule "
	           "'/usr/libexec/gvtg-hook/gvtg-hook PUx' in /" LOCAL "\n");
}
END_TEST

/* Several rules on one line, commas inside {alternatives} and (lists) ending none. */
START_TEST(rules_on_one_line)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/libexec/gvtg-hook/gvtg-hook");
	fakesys_write(fs, LOCAL,
		      "signal (send, receive) peer=libvirtd, /usr/{lib,libexec}/gvtg-hook/* PUx, "
		      "/usr/lib/x r, # and a comment, with a comma\n");
	check();
	assert_rc(0);
	assert_has("rule '/usr/{lib,libexec}/gvtg-hook/* PUx' in /" LOCAL);
}
END_TEST

/* A deny on the line after an allow, and in a hat of the profile: only the profile's
 * own deny counts, and it wins over the allow. */
START_TEST(deny_after_allow_on_one_line)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/libexec/gvtg-hook/gvtg-hook");
	fakesys_write(fs, LOCAL,
		      "/usr/libexec/gvtg-hook/* PUx, deny /usr/libexec/gvtg-hook/gvtg-hook\n"
		      "  x,\n");
	check();
	assert_rc(1);
	assert_has(": /" PROFILE " denies it (rule 'deny /usr/libexec/gvtg-hook/gvtg-hook x' in /"
		   LOCAL ")");
}
END_TEST

/* Every hook libvirt runs counts, not only ours: one refused fails every start. */
START_TEST(other_hooks_count)
{
	host("libvirtd (enforce)\n");
	hook_at("/usr/sbin/gvtg-hook");
	put("opt/site/hook", "#!/bin/sh\n", 0755);
	ck_assert_int_eq(fakesys_symlink(fs, REL(QEMU_D "/10-site"), "/opt/site/hook"),
	                 0);
	check();
	assert_rc(1);
	assert_has("may not execute hook " QEMU_D "/10-site (-> /opt/site/hook)");
	assert_has("PASS  libvirtd (AppArmor libvirtd) may execute hook " HOOK_LINK);
}
END_TEST

START_TEST(complain_mode_warns)
{
	host("libvirtd (complain)\n");
	hook_at("/usr/libexec/gvtg-hook/gvtg-hook");
	check();
	assert_rc(0);
	assert_has("WARN  libvirtd (pid 4242, AppArmor libvirtd, complain) may not "
	           "execute hook");
}
END_TEST

START_TEST(unconfined_no_failure)
{
	host("unconfined\n");
	hook_at("/usr/libexec/gvtg-hook/gvtg-hook");
	check();
	assert_rc(0);
	assert_lacks("AppArmor");
	assert_lacks("FAIL");
}
END_TEST

START_TEST(no_lsm_no_failure)
{
	host(NULL);
	hook_at("/usr/libexec/gvtg-hook/gvtg-hook");
	check();
	assert_rc(0);
	assert_lacks("FAIL");
}
END_TEST

START_TEST(profile_file_missing)
{
	host("libvirtd (enforce)\n");
	fakesys_unlink(fs, PROFILE);
	check();
	assert_rc(0);
	assert_has("WARN  libvirtd (pid 4242) is confined by AppArmor profile libvirtd, "
	           "which is "
	           "not in /etc/apparmor.d");
}
END_TEST

/* The hook's own profile: looked for only where libvirtd runs the hook under it (an
 * executable of its own, not a copy inside the hooks directory). */
START_TEST(own_profile_not_loaded)
{
	host("libvirtd (enforce)\n");
	fakesys_write(fs, "sys/module/apparmor/parameters/enabled", "Y\n");
	fakesys_write(fs, "sys/kernel/security/apparmor/profiles",
	              "libvirtd (enforce)\nlibvirtd//qemu_bridge_helper (enforce)\n");
	check();
	if (HOOK_HAS_PROFILE) {
		assert_rc(0);
		assert_has("WARN  AppArmor profile gvtg-hook is not loaded: the hook "
		           "runs unconfined: "
		           "install the hook's profile");
		fakesys_write(fs, "sys/kernel/security/apparmor/profiles",
		              "gvtg-hook (enforce)\nlibvirtd (enforce)\n");
		check();
		assert_has("PASS  AppArmor profile gvtg-hook loaded");
	} else {
		assert_lacks("profile gvtg-hook");
	}
	assert_lacks("FAIL");
}
END_TEST

static Suite *mac_suite(void)
{
	Suite *s = suite_create("check-mac");
	TCase *tc = tcase_create("apparmor");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, refused_libexec);
	tcase_add_test(tc, refused_usr_local);
	tcase_add_test(tc, star_stays_in_one_directory);
	tcase_add_test(tc, allowed_sbin);
	tcase_add_test(tc, allowed_through_merged_usr);
	tcase_add_test(tc, allowed_copy_in_hooks_dir);
	tcase_add_test(tc, allowed_by_local_rule);
	tcase_add_test(tc, deny_wins);
	tcase_add_test(tc, rule_over_two_lines);
	tcase_add_test(tc, rules_on_one_line);
	tcase_add_test(tc, deny_after_allow_on_one_line);
	tcase_add_test(tc, other_hooks_count);
	tcase_add_test(tc, complain_mode_warns);
	tcase_add_test(tc, unconfined_no_failure);
	tcase_add_test(tc, no_lsm_no_failure);
	tcase_add_test(tc, profile_file_missing);
	tcase_add_test(tc, own_profile_not_loaded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mac_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
