/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check, the part about neighbours: mdevctl's udev rule (on Debian 12 it runs
 * /usr/sbin/mdevctl while the package installs /usr/bin/mdevctl, so "auto" definitions
 * never start), and other libvirt hooks that also create or remove mediated devices
 * (an old hooks/qemu script), which would fight the hook over the same vGPUs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

#ifndef GVTG_HOOKS_DIR
#define GVTG_HOOKS_DIR "/etc/libvirt/hooks"
#endif
#ifndef GVTG_HOOK_PATH
#define GVTG_HOOK_PATH "/usr/libexec/gvtg-hook/gvtg-hook"
#endif

enum { PASS, INFO, WARN, FAIL };

#define SCRIPT_MAX (256 * 1024)

/* A regular file under the root (following links within the root is not needed
 * here: udev rules and hook scripts are read where they are), without blocking on a
 * FIFO; at most SCRIPT_MAX bytes.  NULL when unreadable. */
static char *read_regular(struct ctl *c, const char *path)
{
	int fd = openat(gvtg_ctx_get_root_fd(c->ctx), path[0] == '/' ? path + 1 : path,
			O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (buf = malloc(SCRIPT_MAX + 1))) {
		size_t len = 0;
		ssize_t k;
		while (len < SCRIPT_MAX && (k = read(fd, buf + len, SCRIPT_MAX - len)) != 0) {
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				free(buf);
				buf = NULL;
				break;
			}
			len += (size_t)k;
		}
		if (buf)
			buf[len] = '\0';
	}
	close(fd);
	return buf;
}

static bool executable(struct ctl *c, const char *path)
{
	return faccessat(gvtg_ctx_get_root_fd(c->ctx), path[0] == '/' ? path + 1 : path, X_OK,
			 0) == 0;
}

/* mdevctl's rule: the one in /etc/udev/rules.d overrides the packaged one. */
static void check_udev_rule(struct ctl *c, ctl_check_add_fn add, void *rp)
{
	static const char *const rules[] = {
		"/etc/udev/rules.d/60-mdevctl.rules",
		"/run/udev/rules.d/60-mdevctl.rules",
		"/usr/lib/udev/rules.d/60-mdevctl.rules",
		"/lib/udev/rules.d/60-mdevctl.rules",
	};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char *text = read_regular(c, rules[i]);
		if (!text)
			continue;
		/* Every absolute path to an mdevctl program in a line that is not a comment. */
		char missing[256] = "", found[256] = "";
		for (char *line = text; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			const char *s = line;
			while (*s == ' ' || *s == '\t')
				s++;
			for (const char *p = s; *s != '#' && (p = strstr(p, "mdevctl"));) {
				const char *end = p + strlen("mdevctl");
				const char *b = p;
				while (b > s && !strchr(" \t'\"=", b[-1]))
					b--;
				p = end;
				if (*b != '/' || (*end && !strchr(" \t'\";", *end)))
					continue; /* not a program path: /etc/mdevctl.d, logger -t mdevctl */
				char prog[256];
				snprintf(prog, sizeof(prog), "%.*s", (int)(end - b), b);
				if (!executable(c, prog)) {
					if (!missing[0])
						snprintf(missing, sizeof(missing), "%s", prog);
				} else if (!found[0]) {
					snprintf(found, sizeof(found), "%s", prog);
				}
			}
			line = nl ? nl + 1 : NULL;
		}
		free(text);
		char what[768];
		if (missing[0]) {
			char fix[768];
			const char *have = executable(c, "/usr/bin/mdevctl")	 ? "/usr/bin/mdevctl"
					   : executable(c, "/usr/sbin/mdevctl") ? "/usr/sbin/mdevctl"
										: NULL;
			snprintf(what, sizeof(what),
				 "mdevctl's udev rule %s runs %s, which does not exist: mdevctl's "
				 "\"auto\" definitions never start when their parent registers",
				 rules[i], missing);
			if (have)
				snprintf(fix, sizeof(fix), "ln -s %s %s (or let the hook start the "
					 "definition with its VM)", have, missing);
			else
				snprintf(fix, sizeof(fix), "install mdevctl, or remove %s", rules[i]);
			add(rp, WARN, fix, what);
		} else if (found[0]) {
			snprintf(what, sizeof(what), "mdevctl's udev rule %s runs %s", rules[i],
				 found);
			add(rp, PASS, NULL, what);
		}
		return; /* the first one found is the one udev uses */
	}
}

/* Does a hook script handle mediated devices?  Returns the word that says so. */
static const char *mdev_word(const char *text)
{
	static const char *const words[] = { "mdev_supported_types", "/sys/bus/mdev",
					     "mdevctl start", "mdevctl stop", "mdevctl define" };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(text, words[i]))
			return words[i];
	return NULL;
}

static bool is_ours(struct ctl *c, const char *path)
{
	char target[4096];
	ssize_t k = readlinkat(gvtg_ctx_get_root_fd(c->ctx), path + 1, target, sizeof(target) - 1);
	if (k <= 0)
		return false;
	target[k] = '\0';
	const char *base = strrchr(target, '/');
	return !strcmp(target, GVTG_HOOK_PATH) || (base && !strcmp(base, "/gvtg-hook"));
}

static void check_one_hook(struct ctl *c, const char *path, ctl_check_add_fn add, void *rp)
{
	if (is_ours(c, path))
		return;
	char *text = read_regular(c, path);
	if (!text)
		return;
	const char *word = mdev_word(text);
	if (word) {
		char what[768], fix[512];
		snprintf(what, sizeof(what),
			 "another libvirt hook, %s, also handles mediated devices (it mentions "
			 "'%s'): two hooks creating or removing the same vGPU fail each other's "
			 "starts",
			 path, word);
		snprintf(fix, sizeof(fix),
			 "remove the vGPU part of %s (or the script, if making vGPUs is all it "
			 "does)",
			 path);
		add(rp, WARN, fix, what);
	}
	free(text);
}

static void check_other_hooks(struct ctl *c, ctl_check_add_fn add, void *rp)
{
	check_one_hook(c, GVTG_HOOKS_DIR "/qemu", add, rp);
	int dfd = openat(gvtg_ctx_get_root_fd(c->ctx), &(GVTG_HOOKS_DIR "/qemu.d")[1],
			 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	/* libvirt runs them in alphabetical order; report them in that order. */
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char **nv = realloc(names, (n + 1) * sizeof(*names));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			names = nv ? nv : names;
			break;
		}
		names = nv;
		n++;
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
			char *t = names[k];
			names[k] = names[k - 1];
			names[k - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/qemu.d/%s", GVTG_HOOKS_DIR, names[i]);
		check_one_hook(c, path, add, rp);
		free(names[i]);
	}
	free(names);
}

void ctl_check_mdevctl(struct ctl *c, ctl_check_add_fn add, void *rp)
{
	check_udev_rule(c, add, rp);
	check_other_hooks(c, add, rp);
}
