/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakesys.h"
#include "gvtg.h"
#include "testutil.h"

#define U1 "4b20d080-1b54-4048-85b3-a6a62d165c01"

START_TEST(defaults_when_empty)
{
	struct gvtg_config *c;
	ck_assert_int_eq(gvtg_config_parse_string("", &c), 0);
	ck_assert_ptr_null(c->parent);
	ck_assert_ptr_null(c->type);
	ck_assert_int_eq(c->release, GVTG_RELEASE_REMOVE);
	ck_assert_int_eq(c->remove_timeout_ms, 10000);
	ck_assert_int_eq(c->mdevctl_timeout_ms, GVTG_MDEVCTL_TIMEOUT_MS_DEFAULT);
	ck_assert_int_eq(c->lock_timeout_ms, 30000);
	ck_assert(!c->sleep_remove);
	ck_assert_uint_eq(c->n_devices, 0);
	gvtg_config_free(c);
}
END_TEST

START_TEST(every_setting)
{
	const char *text = "# comment\n"
			   "[defaults]\n"
			   "parent = 0000:00:02.0\n"
			   "type = i915-GVTg_V5_4\n"
			   "\n"
			   "[hook]\n"
			   "release = keep\n"
			   "remove_timeout = 2.5\n"
			   "lock_timeout = 5\n"
			   "[sleep]\n"
			   "remove_idle = yes\n"
			   "[4B20D080-1B54-4048-85B3-A6A62D165C01]\n"
			   "type = i915-GVTg_V5_8\n"
			   "boot = yes\n";
	struct gvtg_config *c;
	ck_assert_int_eq(gvtg_config_parse_string(text, &c), 0);
	ck_assert_str_eq(c->parent, "0000:00:02.0");
	ck_assert_str_eq(c->type, "i915-GVTg_V5_4");
	ck_assert_int_eq(c->release, GVTG_RELEASE_KEEP);
	ck_assert_int_eq(c->remove_timeout_ms, 2500);
	ck_assert_int_eq(c->lock_timeout_ms, 5000);
	ck_assert(c->sleep_remove);
	const struct gvtg_config_device *d = gvtg_config_find(c, U1);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(d->parent);
	ck_assert_str_eq(d->type, "i915-GVTg_V5_8");
	ck_assert(d->boot);
	ck_assert_ptr_null(gvtg_config_find(c, "4b20d080-1b54-4048-85b3-a6a62d165c02"));
	gvtg_config_free(c);
}
END_TEST

static void expect_error(const char *text, int line, const char *words)
{
	struct gvtg_config *c = NULL;
	ck_assert_int_eq(gvtg_config_parse_string(text, &c), -EBADMSG);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->error_line, line);
	ck_assert_msg(strstr(c->error, words), "'%s' lacks '%s'", c->error, words);
	gvtg_config_free(c);
}

START_TEST(errors_name_the_line)
{
	expect_error("[defaults]\nparnet = x\n", 2, "unknown key 'parnet' in [defaults]");
	expect_error("[hook]\nrelease = sometimes\n", 2, "release must be 'remove' or 'keep'");
	expect_error("[hook]\n\nremove_timeout = soon\n", 3, "remove_timeout must be a number");
	/* mdevctl always has a bound: 0 is refused, naming the line */
	expect_error("[hook]\nmdevctl_timeout = 0\n", 2,
		     "mdevctl_timeout must be a number of seconds (1-3600), not '0'");
	expect_error("[hook]\nmdevctl_timeout = 0.5\n", 2, "mdevctl_timeout must be");
	expect_error("[hook]\nlock_timeout = -1\n", 2, "lock_timeout must be a number");
	expect_error("[defaults]\nparent = ../../..\n", 2, "not a valid parent name");
	expect_error("[defaults]\ntype = a/b\n", 2, "not a valid type name");
	expect_error("[vgpus]\ntype = x\n", 1, "unknown section '[vgpus]'");
	expect_error("[" U1 "]\nboot = maybe\n", 2, "boot must be yes or no");
	expect_error("[defaults\n", 1, "'[defaults' is not a section header");
}
END_TEST

START_TEST(load_from_root)
{
	struct fakesys *fs = fakesys_new();
	struct gvtg_ctx *ctx;
	struct gvtg_config *c;
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);
	/* missing file: the defaults */
	ck_assert_int_eq(gvtg_config_load(ctx, "/etc/gvtg-hook.conf", &c), 0);
	ck_assert_ptr_null(c->type);
	gvtg_config_free(c);
	fakesys_write(fs, "etc/gvtg-hook.conf", "[defaults]\ntype = i915-GVTg_V5_8\n");
	ck_assert_int_eq(gvtg_config_load(ctx, "/etc/gvtg-hook.conf", &c), 0);
	ck_assert_str_eq(c->type, "i915-GVTg_V5_8");
	ck_assert_str_eq(c->path, "/etc/gvtg-hook.conf");
	gvtg_config_free(c);
	fakesys_write(fs, "etc/gvtg-hook.conf", "[defaults]\ntpye = x\n");
	ck_assert_int_eq(gvtg_config_load(ctx, "/etc/gvtg-hook.conf", &c), -EBADMSG);
	ck_assert_int_eq(c->error_line, 2);
	gvtg_config_free(c);
	gvtg_ctx_free(ctx);
	fakesys_free(fs);
}
END_TEST

/* Like expect_error, and the message must not mention `absent` (the text of another
 * line). */
static void expect_error_not(const char *text, int line, const char *words, const char *absent)
{
	struct gvtg_config *c = NULL;
	ck_assert_int_eq(gvtg_config_parse_string(text, &c), -EBADMSG);
	ck_assert_int_eq(c->error_line, line);
	ck_assert_msg(strstr(c->error, words), "'%s' lacks '%s'", c->error, words);
	ck_assert_msg(!strstr(c->error, absent), "'%s' mentions '%s'", c->error, absent);
	gvtg_config_free(c);
}

static struct gvtg_config *parse_ok(const char *text)
{
	struct gvtg_config *c = NULL;
	int r = gvtg_config_parse_string(text, &c);
	ck_assert_msg(r == 0, "parse: %d, line %d: %s", r, c ? c->error_line : -1,
		      c ? c->error : "");
	return c;
}

/* '#' and ';' start a comment at the start of a line (indented or not) and after a space
 * or a tab inside one. */
START_TEST(comments_both_kinds_everywhere)
{
	struct gvtg_config *c = parse_ok("# a comment\n"
					 "; another\n"
					 "[hook]  # the hook\n"
					 "   # an indented comment\n"
					 "\t; another one\n"
					 "release = keep        # or remove\n"
					 "remove_timeout = 2\t; seconds\n"
					 "lock_timeout = 7 ;# both\n"
					 "[defaults]\t; the defaults\n"
					 "type = i915-GVTg_V5_8 #\n");
	ck_assert_int_eq(c->release, GVTG_RELEASE_KEEP);
	ck_assert_int_eq(c->remove_timeout_ms, 2000);
	ck_assert_int_eq(c->lock_timeout_ms, 7000);
	ck_assert_str_eq(c->type, "i915-GVTg_V5_8");
	gvtg_config_free(c);
	/* without a space before it, '#' or ';' is part of the value */
	expect_error("[sleep]\nremove_idle = yes#comment\n", 2,
		     "remove_idle must be yes or no, not 'yes#comment'");
	expect_error("[hook]\nrelease = keep;comment\n", 2,
		     "release must be 'remove' or 'keep', not 'keep;comment'");
}
END_TEST

/* libinih cuts lines at 200 bytes and reads the rest as a new line: a line of any length
 * is read whole here. */
START_TEST(long_lines_are_read_whole)
{
	char text[1024], pad[301];
	memset(pad, 'x', 300);
	pad[300] = '\0';
	snprintf(text, sizeof(text), "[defaults]\n# %s type = i915-GVTg_V5_8\n", pad);
	struct gvtg_config *c = parse_ok(text);
	ck_assert_ptr_null(c->type);
	gvtg_config_free(c);

	snprintf(text, sizeof(text), "[defaults]\ntype = i915-GVTg_V5_4    # %s type = x\n",
		 pad);
	c = parse_ok(text);
	ck_assert_str_eq(c->type, "i915-GVTg_V5_4");
	gvtg_config_free(c);

	/* a setting that does not fit libinih's line is an error, never cut */
	snprintf(text, sizeof(text), "[defaults]\n\ntype = %s\n", pad);
	expect_error(text, 3, "is too long");
	snprintf(text, sizeof(text), "[hook]\nrelease = %s\n", pad);
	expect_error(text, 2, "'release = xxxxxxx");
}
END_TEST

START_TEST(indented_lines_are_errors)
{
	/* libinih would make "i915-GVTg_V5_8" part of the type */
	expect_error("[defaults]\ntype = i915-GVTg_V5_4\n  i915-GVTg_V5_8\n", 3,
		     "'  i915-GVTg_V5_8' is indented");
	expect_error("[hook]\nrelease = keep\n\tlock_timeout = 5\n", 3,
		     "'\tlock_timeout = 5' is indented");
	expect_error("[hook]\nrelease = keep\n  [sleep]\n", 3, "'  [sleep]' is indented");
	expect_error("  [hook]\n", 1, "is indented");
}
END_TEST

START_TEST(duplicates_are_errors)
{
	expect_error("[defaults]\ntype = i915-GVTg_V5_4\n\ntype = i915-GVTg_V5_8\n", 4,
		     "sets 'type' a second time in this section (first on line 2)");
	expect_error("[hook]\nrelease = keep\n[sleep]\nremove_idle = yes\n[hook]\n"
		     "lock_timeout = 5\n",
		     5, "'[hook]' appears a second time (first on line 1)");
	/* the same UUID in another case is the same section */
	expect_error("[" U1 "]\nboot = yes\n[4B20D080-1B54-4048-85B3-A6A62D165C01]\n", 3,
		     "appears a second time (first on line 1)");
	/* the same key in two sections is fine */
	struct gvtg_config *c = parse_ok("[defaults]\ntype = i915-GVTg_V5_4\n[" U1 "]\n"
					 "type = i915-GVTg_V5_8\n");
	ck_assert_str_eq(c->type, "i915-GVTg_V5_4");
	ck_assert_str_eq(gvtg_config_find(c, U1)->type, "i915-GVTg_V5_8");
	gvtg_config_free(c);
}
END_TEST

/* The first error wins, and its message quotes the line it names. */
START_TEST(error_quotes_its_own_line)
{
	expect_error_not("[defaults]\nthis line has no equals sign\ntype = ../../etc\n", 2,
			 "'this line has no equals sign' is not a setting", "../../etc");
	expect_error_not("[defaults]\ntype = ../../etc\nthis line has no equals sign\n", 2,
			 "'../../etc' is not a valid type name", "equals");
	expect_error("type = i915-GVTg_V5_4\n", 1, "'type = i915-GVTg_V5_4' comes before any "
						  "section");
	expect_error("[defaults]\n= i915-GVTg_V5_4\n", 2, "'= i915-GVTg_V5_4' does not start "
							  "with a key name");
	expect_error("[defaults]\ntype: i915-GVTg_V5_4\n", 2, "'type: i915-GVTg_V5_4' is not "
							      "a setting");
	expect_error("[hook]\n[defaults] trailing\n", 2, "'[defaults] trailing' is not a "
							 "section header");
	expect_error("[]\n", 1, "unknown section '[]'");
}
END_TEST

/* A file with an error gives the defaults, not the settings read before the error. */
START_TEST(error_leaves_only_defaults)
{
	struct gvtg_config *c = NULL;
	ck_assert_int_eq(gvtg_config_parse_string("[hook]\nrelease = keep\nremove_timeout = 1\n"
						  "[defaults]\ntype = i915-GVTg_V5_4\n"
						  "[" U1 "]\nboot = yes\nbogus = 1\n",
						  &c),
			 -EBADMSG);
	ck_assert_int_eq(c->error_line, 8);
	ck_assert_int_eq(c->release, GVTG_RELEASE_REMOVE);
	ck_assert_int_eq(c->remove_timeout_ms, 10000);
	ck_assert_ptr_null(c->type);
	ck_assert_uint_eq(c->n_devices, 0);
	gvtg_config_free(c);
}
END_TEST

START_TEST(text_encodings)
{
	/* CRLF line ends and a UTF-8 byte-order mark are text */
	struct gvtg_config *c = parse_ok("\xef\xbb\xbf[hook]\r\nrelease = keep\r\n");
	ck_assert_int_eq(c->release, GVTG_RELEASE_KEEP);
	gvtg_config_free(c);
	c = parse_ok("# caf\xc3\xa9 \xe2\x82\xac\n[sleep]\nremove_idle = on\n");
	ck_assert(c->sleep_remove);
	gvtg_config_free(c);
	expect_error("[hook]\n# caf\xe9 (Latin-1)\n", 2, "not UTF-8 text (byte 0xe9 at column 6)");
	expect_error("[hook]\n# \xed\xa0\x80 a surrogate\n", 2, "not UTF-8 text");
	expect_error("[hook]\n# \xc0\xaf overlong\n", 2, "not UTF-8 text");
	expect_error("[hook]\nrelease = keep\x1b[2J\n", 2, "a control character (0x1b) at "
							  "column 15");
	expect_error("[hook]\nrelease = keep\rlock_timeout = 1\n", 2, "a control character "
								    "(0x0d)");
	expect_error("\xff\xfe[\0h\0", 1, "UTF-16");
}
END_TEST

/* Files on a fake root: what is not a small UTF-8 text file is an error that names the
 * cause, with the defaults filled in; nothing blocks. */
static void write_bytes(struct fakesys *fs, const char *rel, const void *buf, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", fakesys_root(fs), rel);
	FILE *f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void expect_load(struct gvtg_ctx *ctx, const char *path, int rc, int line,
			const char *words)
{
	struct gvtg_config *c = NULL;
	int r = gvtg_config_load(ctx, path, &c);
	ck_assert_msg(r == rc, "%s: %d, expected %d (%s)", path, r, rc, c ? c->error : "");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->path, path);
	ck_assert_int_eq(c->error_line, line);
	ck_assert_msg(strstr(c->error, words), "'%s' lacks '%s'", c->error, words);
	ck_assert_int_eq(c->release, GVTG_RELEASE_REMOVE);
	ck_assert_int_eq(c->remove_timeout_ms, 10000);
	ck_assert_int_eq(c->lock_timeout_ms, 30000);
	ck_assert_ptr_null(c->type);
	gvtg_config_free(c);
}

START_TEST(unreadable_files)
{
	struct fakesys *fs = fakesys_new();
	struct gvtg_ctx *ctx;
	char path[4096];
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);

	/* UTF-16 with a byte-order mark, as some editors save it */
	static const char utf16[] = "\xff\xfe[\0h\0o\0o\0k\0]\0\n\0";
	write_bytes(fs, "etc/utf16.conf", utf16, sizeof(utf16) - 1);
	expect_load(ctx, "/etc/utf16.conf", -EBADMSG, 1, "UTF-16");
	static const char nul[] = "[hook]\nrelease = keep\n\0\n";
	write_bytes(fs, "etc/nul.conf", nul, sizeof(nul) - 1);
	expect_load(ctx, "/etc/nul.conf", -EBADMSG, 3, "a NUL byte at column 1");
	static const char nul_inline[] = "[hook]\nrelease = ke\0ep\n";
	write_bytes(fs, "etc/nul2.conf", nul_inline, sizeof(nul_inline) - 1);
	expect_load(ctx, "/etc/nul2.conf", -EBADMSG, 2, "a NUL byte at column 13");

	/* 1 MiB is the limit: at it, a (comment) file is read */
	size_t big = 1024 * 1024;
	char *text = malloc(big + 1);
	memset(text, '#', big + 1);
	write_bytes(fs, "etc/limit.conf", text, big);
	struct gvtg_config *c = NULL;
	ck_assert_int_eq(gvtg_config_load(ctx, "/etc/limit.conf", &c), 0);
	gvtg_config_free(c);
	write_bytes(fs, "etc/big.conf", text, big + 1);
	free(text);
	expect_load(ctx, "/etc/big.conf", -EFBIG, 0, "larger than 1024 KiB");

	snprintf(path, sizeof(path), "%s/etc/dir.conf", fakesys_root(fs));
	ck_assert_int_eq(mkdir(path, 0755), 0);
	expect_load(ctx, "/etc/dir.conf", -EISDIR, 0, "a directory, not a regular file");

	snprintf(path, sizeof(path), "%s/etc/fifo.conf", fakesys_root(fs));
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	expect_load(ctx, "/etc/fifo.conf", -EINVAL, 0, "a FIFO, not a regular file");

	/* a symlink is followed, to a good file and to each of the above */
	fakesys_write(fs, "etc/good.conf", "[hook]\nrelease = keep\n");
	fakesys_symlink(fs, "etc/link-good.conf", "good.conf");
	ck_assert_int_eq(gvtg_config_load(ctx, "/etc/link-good.conf", &c), 0);
	ck_assert_int_eq(c->release, GVTG_RELEASE_KEEP);
	gvtg_config_free(c);
	fakesys_symlink(fs, "etc/link-fifo.conf", "fifo.conf");
	expect_load(ctx, "/etc/link-fifo.conf", -EINVAL, 0, "a FIFO");
	fakesys_symlink(fs, "etc/link-dir.conf", "dir.conf");
	expect_load(ctx, "/etc/link-dir.conf", -EISDIR, 0, "a directory");
	fakesys_symlink(fs, "etc/link-big.conf", "big.conf");
	expect_load(ctx, "/etc/link-big.conf", -EFBIG, 0, "larger than");
	fakesys_symlink(fs, "etc/link-utf16.conf", "utf16.conf");
	expect_load(ctx, "/etc/link-utf16.conf", -EBADMSG, 1, "UTF-16");
	fakesys_symlink(fs, "etc/loop.conf", "loop.conf");
	expect_load(ctx, "/etc/loop.conf", -ELOOP, 0, "cannot read it");
	/* a dangling symlink is a missing file: the defaults */
	fakesys_symlink(fs, "etc/dangling.conf", "nowhere.conf");
	ck_assert_int_eq(gvtg_config_load(ctx, "/etc/dangling.conf", &c), 0);
	ck_assert_int_eq(c->error_line, 0);
	ck_assert_str_eq(c->error, "");
	gvtg_config_free(c);

	gvtg_ctx_free(ctx);
	fakesys_free(fs);
}
END_TEST

/* The hook with a FIFO as its configuration: a prompt, clear refusal, not a hang. */
START_TEST(hook_with_fifo_config)
{
	struct fakesys *fs = fakesys_new();
	char path[4096];
	const char *conf = gvtg_config_default_path();
	snprintf(path, sizeof(path), "%s%s", fakesys_root(fs), conf);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
	*slash = '/';
	ck_assert_int_eq(mkfifo(path, 0644), 0);

	struct hook_result res = { 0 };
	hook_exec(fakesys_root(fs), data_path("two-vgpus.xml"), "win10", "prepare", "begin", "-",
		  &res);
	ck_assert_int_eq(res.status, 1);
	ck_assert_msg(res.seconds < 10, "took %.1f s", res.seconds);
	ck_assert_msg(strstr(res.err, conf), "stderr lacks %s: %s", conf, res.err);
	ck_assert_msg(strstr(res.err, "a FIFO, not a regular file"), "stderr: %s", res.err);
	ck_assert_str_eq(res.out, "");
	hook_result_free(&res);
	fakesys_free(fs);
}
END_TEST

/* gvtgctl check reads the file through the same loader: each case is a FAIL that names
 * the line and quotes it. */
static char *check_output(const char *root, const char *gvtgctl)
{
	char cmd[8192];
	/* timeout: a hang must fail the test, not leave a process behind */
	snprintf(cmd, sizeof(cmd), "timeout 20 '%s' --root '%s' --config /etc/t.conf check 2>&1",
		 gvtgctl, root);
	FILE *f = popen(cmd, "re");
	ck_assert_ptr_nonnull(f);
	static char out[16384];
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	char *line = strstr(out, "configuration /etc/t.conf");
	ck_assert_msg(line != NULL, "no configuration line in: %s", out);
	while (line > out && line[-1] != '\n')
		line--;
	line[strcspn(line, "\n")] = '\0';
	return line;
}

START_TEST(check_reports_each_error)
{
	/* built beside the hook: <build>/hook/gvtg-hook, <build>/ctl/gvtgctl */
	char gvtgctl[4096];
	const char *hook = getenv("GVTG_HOOK");
	ck_assert_ptr_nonnull(hook);
	snprintf(gvtgctl, sizeof(gvtgctl), "%s", hook);
	char *slash = strstr(gvtgctl, "/hook/gvtg-hook");
	ck_assert_ptr_nonnull(slash);
	strcpy(slash, "/ctl/gvtgctl");
	ck_assert_int_eq(access(gvtgctl, X_OK), 0);

	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[defaults]\ntype = i915-GVTg_V5_4\n  i915-GVTg_V5_8\n",
		  "FAIL  configuration /etc/t.conf, line 3: '  i915-GVTg_V5_8' is indented" },
		{ "[defaults]\ntype = i915-GVTg_V5_4\ntype = i915-GVTg_V5_8\n",
		  "FAIL  configuration /etc/t.conf, line 3: 'type = i915-GVTg_V5_8' sets 'type' a "
		  "second time" },
		{ "[hook]\n[sleep]\n[hook]\n",
		  "FAIL  configuration /etc/t.conf, line 3: '[hook]' appears a second time" },
		{ "[defaults]\nno equals\ntype = ../../etc\n",
		  "FAIL  configuration /etc/t.conf, line 2: 'no equals' is not a setting" },
		{ "[hook]\nrelease = keep   # or remove\n",
		  "PASS  configuration /etc/t.conf valid" },
	};
	struct fakesys *fs = fakesys_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fakesys_write(fs, "etc/t.conf", cases[i].text);
		const char *got = check_output(fakesys_root(fs), gvtgctl);
		ck_assert_msg(!strncmp(got, cases[i].want, strlen(cases[i].want)),
			      "got '%s', want '%s'", got, cases[i].want);
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/etc/t.conf", fakesys_root(fs));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	const char *got = check_output(fakesys_root(fs), gvtgctl);
	ck_assert_msg(strstr(got, "FAIL  configuration /etc/t.conf: a FIFO, not a regular file"),
		      "got '%s'", got);
	fakesys_free(fs);
}
END_TEST

/* ---- drop-ins: the files of <file>.d after the main file ---- */

static struct gvtg_config *load_ok(struct gvtg_ctx *ctx, const char *path)
{
	struct gvtg_config *c = NULL;
	int r = gvtg_config_load(ctx, path, &c);
	ck_assert_msg(r == 0, "%s: %d, %s line %d: %s", path, r, c ? c->path : "",
		      c ? c->error_line : -1, c ? c->error : "");
	return c;
}

static void expect_from(const struct gvtg_config *c, const char *section, const char *key,
			const char *file, int line)
{
	const struct gvtg_config_origin *o = gvtg_config_origin(c, section, key);
	if (!file) {
		ck_assert_msg(!o, "[%s] %s: from %s", section, key, o ? o->file : "");
		return;
	}
	ck_assert_msg(o && o->file, "[%s] %s: no origin", section, key);
	ck_assert_str_eq(o->file, file);
	ck_assert_int_eq(o->line, line);
}

START_TEST(dropins_precedence)
{
	struct fakesys *fs = fakesys_new();
	struct gvtg_ctx *ctx;
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);
	fakesys_write(fs, "etc/g.conf", "[defaults]\ntype = i915-GVTg_V5_1\n"
					"[hook]\nrelease = keep\nremove_timeout = 3\n"
					"[" U1 "]\ntype = i915-GVTg_V5_8\n");
	/* written out of order: the names decide */
	fakesys_write(fs, "etc/g.conf.d/30-last.conf", "[defaults]\n\ntype = i915-GVTg_V5_4\n");
	fakesys_write(fs, "etc/g.conf.d/20-mid.conf",
		      "[hook]\nrelease = remove\n[4B20D080-1B54-4048-85B3-A6A62D165C01]\nboot = yes\n");
	fakesys_write(fs, "etc/g.conf.d/10-first.conf",
		      "[defaults]\ntype = i915-GVTg_V5_2\nparent = 0000:00:02.0\n");
	/* not drop-ins: other names, hidden files (an editor's, a tool's temporary copy) */
	fakesys_write(fs, "etc/g.conf.d/README", "not a configuration\n");
	fakesys_write(fs, "etc/g.conf.d/40-old.conf.dpkg-old", "garbage\n");
	fakesys_write(fs, "etc/g.conf.d/.50-tmp.conf", "garbage\n");
	fakesys_write(fs, "etc/g.conf.d/.conf", "garbage\n");

	struct gvtg_config *c = load_ok(ctx, "/etc/g.conf");
	ck_assert_str_eq(c->path, "/etc/g.conf");
	ck_assert_uint_eq(c->n_files, 4);
	ck_assert_str_eq(c->files[0], "/etc/g.conf");
	ck_assert_str_eq(c->files[1], "/etc/g.conf.d/10-first.conf");
	ck_assert_str_eq(c->files[2], "/etc/g.conf.d/20-mid.conf");
	ck_assert_str_eq(c->files[3], "/etc/g.conf.d/30-last.conf");
	ck_assert_str_eq(c->type, "i915-GVTg_V5_4");
	ck_assert_str_eq(c->parent, "0000:00:02.0");
	ck_assert_int_eq(c->release, GVTG_RELEASE_REMOVE);
	ck_assert_int_eq(c->remove_timeout_ms, 3000);
	const struct gvtg_config_device *d = gvtg_config_find(c, U1);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->type, "i915-GVTg_V5_8");
	ck_assert(d->boot);
	ck_assert_uint_eq(c->n_devices, 1);
	expect_from(c, "defaults", "type", "/etc/g.conf.d/30-last.conf", 3);
	expect_from(c, "defaults", "parent", "/etc/g.conf.d/10-first.conf", 3);
	expect_from(c, "hook", "release", "/etc/g.conf.d/20-mid.conf", 2);
	expect_from(c, "hook", "remove_timeout", "/etc/g.conf", 5);
	expect_from(c, "hook", "lock_timeout", NULL, 0);
	expect_from(c, U1, "type", "/etc/g.conf", 7);
	expect_from(c, U1, "boot", "/etc/g.conf.d/20-mid.conf", 4);
	gvtg_config_free(c);

	/* a drop-in alone: no main file */
	fakesys_unlink(fs, "etc/g.conf");
	c = load_ok(ctx, "/etc/g.conf");
	ck_assert_uint_eq(c->n_files, 3);
	ck_assert_str_eq(c->path, "/etc/g.conf");
	ck_assert_int_eq(c->remove_timeout_ms, 10000);
	ck_assert_ptr_null(gvtg_config_find(c, U1)->type);
	gvtg_config_free(c);

	/* gvtg_config_load_file reads the one file */
	fakesys_write(fs, "etc/g.conf", "[hook]\nrelease = keep\n");
	ck_assert_int_eq(gvtg_config_load_file(ctx, "/etc/g.conf", &c), 0);
	ck_assert_uint_eq(c->n_files, 1);
	ck_assert_ptr_null(c->type);
	gvtg_config_free(c);
	gvtg_ctx_free(ctx);
	fakesys_free(fs);
}
END_TEST

/* A drop-in's error names its file and line and leaves only the defaults, as the main
 * file's does. */
static void expect_dropin_error(struct gvtg_ctx *ctx, int rc, const char *path, int line,
				const char *words)
{
	struct gvtg_config *c = NULL;
	int r = gvtg_config_load(ctx, "/etc/g.conf", &c);
	ck_assert_msg(r == rc, "%d, expected %d (%s: %s)", r, rc, c ? c->path : "",
		      c ? c->error : "");
	ck_assert_str_eq(c->path, path);
	ck_assert_int_eq(c->error_line, line);
	ck_assert_msg(strstr(c->error, words), "'%s' lacks '%s'", c->error, words);
	ck_assert_int_eq(c->release, GVTG_RELEASE_REMOVE);
	ck_assert_ptr_null(c->type);
	ck_assert_uint_eq(c->n_devices, 0);
	ck_assert_uint_eq(c->n_origins, 0);
	gvtg_config_free(c);
}

START_TEST(dropins_errors)
{
	struct fakesys *fs = fakesys_new();
	struct gvtg_ctx *ctx;
	char path[4096];
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);
	fakesys_write(fs, "etc/g.conf", "[defaults]\ntype = i915-GVTg_V5_1\n[hook]\nrelease = keep\n");

	/* no directory, then an empty one: the main file alone */
	struct gvtg_config *c = load_ok(ctx, "/etc/g.conf");
	ck_assert_uint_eq(c->n_files, 1);
	gvtg_config_free(c);
	snprintf(path, sizeof(path), "%s/etc/g.conf.d", fakesys_root(fs));
	ck_assert_int_eq(mkdir(path, 0755), 0);
	c = load_ok(ctx, "/etc/g.conf");
	ck_assert_uint_eq(c->n_files, 1);
	ck_assert_int_eq(c->release, GVTG_RELEASE_KEEP);
	gvtg_config_free(c);

	/* a bad line in the second drop-in; a key set twice in one file is an error, across
	 * files it is the override */
	fakesys_write(fs, "etc/g.conf.d/10-a.conf", "[hook]\nrelease = remove\n");
	fakesys_write(fs, "etc/g.conf.d/20-b.conf", "[hook]\n\nrelese = keep\n");
	expect_dropin_error(ctx, -EBADMSG, "/etc/g.conf.d/20-b.conf", 3, "unknown key 'relese'");
	fakesys_write(fs, "etc/g.conf.d/20-b.conf", "[hook]\nrelease = keep\nrelease = keep\n");
	expect_dropin_error(ctx, -EBADMSG, "/etc/g.conf.d/20-b.conf", 3, "(first on line 2)");
	fakesys_unlink(fs, "etc/g.conf.d/20-b.conf");

	/* a FIFO, a directory, a symlink to either: refused at once, named */
	snprintf(path, sizeof(path), "%s/etc/g.conf.d/30-fifo.conf", fakesys_root(fs));
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	expect_dropin_error(ctx, -EINVAL, "/etc/g.conf.d/30-fifo.conf", 0,
			    "a FIFO, not a regular file");
	fakesys_unlink(fs, "etc/g.conf.d/30-fifo.conf");
	fakesys_symlink(fs, "etc/g.conf.d/30-link.conf", "../fifo");
	snprintf(path, sizeof(path), "%s/etc/fifo", fakesys_root(fs));
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	expect_dropin_error(ctx, -EINVAL, "/etc/g.conf.d/30-link.conf", 0, "a FIFO");
	fakesys_unlink(fs, "etc/g.conf.d/30-link.conf");
	snprintf(path, sizeof(path), "%s/etc/g.conf.d/40-dir.conf", fakesys_root(fs));
	ck_assert_int_eq(mkdir(path, 0755), 0);
	expect_dropin_error(ctx, -EISDIR, "/etc/g.conf.d/40-dir.conf", 0, "a directory");
	ck_assert_int_eq(rmdir(path), 0);

	/* a symlink to a regular file is followed; one that leads nowhere is no file */
	fakesys_write(fs, "etc/lab.conf", "[defaults]\ntype = i915-GVTg_V5_8\n");
	fakesys_symlink(fs, "etc/g.conf.d/50-lab.conf", "../lab.conf");
	fakesys_symlink(fs, "etc/g.conf.d/60-gone.conf", "../gone.conf");
	c = load_ok(ctx, "/etc/g.conf");
	ck_assert_str_eq(c->type, "i915-GVTg_V5_8");
	ck_assert_int_eq(c->release, GVTG_RELEASE_REMOVE);
	ck_assert_uint_eq(c->n_files, 3);
	expect_from(c, "defaults", "type", "/etc/g.conf.d/50-lab.conf", 2);
	gvtg_config_free(c);

	/* the directory's place taken by a file */
	snprintf(path, sizeof(path), "rm -r '%s/etc/g.conf.d'", fakesys_root(fs));
	ck_assert_int_eq(system(path), 0);
	fakesys_write(fs, "etc/g.conf.d", "[hook]\n");
	expect_dropin_error(ctx, -ENOTDIR, "/etc/g.conf.d", 0, "not a directory");
	gvtg_ctx_free(ctx);
	fakesys_free(fs);
}
END_TEST

/* A command's stdout (a hang fails the test through timeout(1) in cmd). */
static char *run_capture(const char *cmd)
{
	FILE *f = popen(cmd, "re");
	ck_assert_ptr_nonnull(f);
	size_t size = 65536, n = 0;
	char *out = malloc(size);
	ck_assert_ptr_nonnull(out);
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	pclose(f);
	return out;
}

/* gvtgctl check validates each file on its own line; gvtgctl config prints what the
 * files make, and its output reads back as the same configuration. */
START_TEST(dropins_check_and_config)
{
	char gvtgctl[4096], cmd[8192];
	const char *hook = getenv("GVTG_HOOK");
	ck_assert_ptr_nonnull(hook);
	snprintf(gvtgctl, sizeof(gvtgctl), "%s", hook);
	strcpy(strstr(gvtgctl, "/hook/gvtg-hook"), "/ctl/gvtgctl");
	struct fakesys *fs = fakesys_new();
	fakesys_write(fs, "etc/t.conf", "[defaults]\ntpye = x\n");
	fakesys_write(fs, "etc/t.conf.d/10-ok.conf", "[hook]\nrelease = keep\n");
	fakesys_write(fs, "etc/t.conf.d/20-bad.conf", "[hook]\nrelease = often\n");
	snprintf(cmd, sizeof(cmd), "timeout 20 '%s' --root '%s' --config /etc/t.conf check 2>&1",
		 gvtgctl, fakesys_root(fs));
	char *out = run_capture(cmd);
	ck_assert_msg(strstr(out, "FAIL  configuration /etc/t.conf, line 2: unknown key 'tpye'"),
		      "%s", out);
	ck_assert_msg(strstr(out, "PASS  configuration /etc/t.conf.d/10-ok.conf valid"), "%s", out);
	ck_assert_msg(strstr(out, "FAIL  configuration /etc/t.conf.d/20-bad.conf, line 2: release "
				  "must be"), "%s", out);
	free(out);

	fakesys_write(fs, "etc/t.conf", "[defaults]\ntype = i915-GVTg_V5_4\n");
	fakesys_write(fs, "etc/t.conf.d/20-bad.conf", "[" U1 "]\nboot = yes\n");
	snprintf(cmd, sizeof(cmd), "timeout 20 '%s' --root '%s' --config /etc/t.conf config",
		 gvtgctl, fakesys_root(fs));
	out = run_capture(cmd);
	static const char want[] = "# /etc/t.conf\n"
				   "# /etc/t.conf.d/10-ok.conf\n"
				   "# /etc/t.conf.d/20-bad.conf\n"
				   "\n[defaults]\n"
				   "# parent: not set\n"
				   "type = i915-GVTg_V5_4  # /etc/t.conf:2\n"
				   "\n[hook]\n"
				   "release = keep  # /etc/t.conf.d/10-ok.conf:2\n"
				   "remove_timeout = 10  # default\n"
				   "mdevctl_timeout = 30  # default\n"
				   "lock_timeout = 30  # default\n"
				   "\n[sleep]\n"
				   "remove_idle = no  # default\n"
				   "\n[" U1 "]\n"
				   "# parent: not set\n"
				   "# type: not set\n"
				   "boot = yes  # /etc/t.conf.d/20-bad.conf:2\n";
	ck_assert_str_eq(out, want);
	struct gvtg_config *c = parse_ok(out);
	ck_assert_str_eq(c->type, "i915-GVTg_V5_4");
	ck_assert_int_eq(c->release, GVTG_RELEASE_KEEP);
	ck_assert(gvtg_config_find(c, U1)->boot);
	gvtg_config_free(c);
	free(out);

	/* a bad drop-in: no configuration printed, the file and line named, exit 1 */
	fakesys_write(fs, "etc/t.conf.d/20-bad.conf", "[" U1 "]\nboot = often\n");
	snprintf(cmd, sizeof(cmd),
		 "timeout 20 '%s' --root '%s' --config /etc/t.conf config 2>&1; echo \"rc=$?\"",
		 gvtgctl, fakesys_root(fs));
	out = run_capture(cmd);
	ck_assert_msg(strstr(out, "/etc/t.conf.d/20-bad.conf") && strstr(out, "line 2") &&
			      strstr(out, "boot must be yes or no"), "%s", out);
	ck_assert_msg(!strstr(out, "[hook]") && strstr(out, "rc=1\n"), "%s", out);
	free(out);
	fakesys_free(fs);
}
END_TEST

/* ---- every example in the documentation parses to the values it shows ---- */

static char *slurp_source(const char *rel)
{
	char rel_data[256];
	snprintf(rel_data, sizeof(rel_data), "../../%s", rel);
	size_t len;
	char *text = slurp(data_path(rel_data), &len);
	ck_assert_msg(text != NULL, "cannot read %s", rel);
	return text;
}

/* Check each "key = value" line of an example against the parsed configuration: a plain
 * reading of the example (first word after '='), independent of the library's parser.
 * Returns the number of settings checked. */
static int check_documented(const struct gvtg_config *c, const char *text, const char *what)
{
	char section[64] = "";
	int checked = 0;
	char *copy = strdup(text), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char key[64], value[160];
		if (sscanf(l, " [%63[^]]]", section) == 1)
			continue;
		if (l[0] == '#' || l[0] == ';' || sscanf(l, "%63[a-z_] = %159s", key, value) != 2)
			continue;
		const struct gvtg_config_device *d = gvtg_config_find(c, section);
		bool yes = !strcmp(value, "yes");
		ck_assert_msg(yes || !strcmp(value, "no") || (strcmp(key, "boot") &&
							      strcmp(key, "remove_idle")),
			      "%s: '%s'", what, l);
		const char *got_name = NULL;
		if (!strcmp(section, "defaults") && !strcmp(key, "parent"))
			got_name = c->parent;
		else if (!strcmp(section, "defaults") && !strcmp(key, "type"))
			got_name = c->type;
		else if (d && !strcmp(key, "parent"))
			got_name = d->parent;
		else if (d && !strcmp(key, "type"))
			got_name = d->type;
		else if (d && !strcmp(key, "boot"))
			ck_assert_msg(d->boot == yes, "%s: '%s'", what, l);
		else if (!strcmp(section, "hook") && !strcmp(key, "release"))
			ck_assert_msg(c->release == (!strcmp(value, "keep") ? GVTG_RELEASE_KEEP
									   : GVTG_RELEASE_REMOVE) &&
					      (!strcmp(value, "keep") || !strcmp(value, "remove")),
				      "%s: '%s'", what, l);
		else if (!strcmp(section, "hook") && !strcmp(key, "remove_timeout"))
			ck_assert_msg(c->remove_timeout_ms == (int)(atof(value) * 1000 + 0.5),
				      "%s: '%s'", what, l);
		else if (!strcmp(section, "hook") && !strcmp(key, "mdevctl_timeout"))
			ck_assert_msg(c->mdevctl_timeout_ms == (int)(atof(value) * 1000 + 0.5),
				      "%s: '%s'", what, l);
		else if (!strcmp(section, "hook") && !strcmp(key, "lock_timeout"))
			ck_assert_msg(c->lock_timeout_ms == (int)(atof(value) * 1000 + 0.5),
				      "%s: '%s'", what, l);
		else if (!strcmp(section, "sleep") && !strcmp(key, "remove_idle"))
			ck_assert_msg(c->sleep_remove == yes, "%s: '%s'", what, l);
		else
			ck_abort_msg("%s: a setting this test does not know: '%s' in [%s]", what,
				     l, section);
		if (!strcmp(key, "parent") || !strcmp(key, "type"))
			ck_assert_msg(got_name && !strcmp(got_name, value), "%s: '%s' gives '%s'",
				      what, l, got_name ? got_name : "(none)");
		checked++;
	}
	free(copy);
	return checked;
}

static struct gvtg_config *parse_example(const char *text, const char *what)
{
	struct gvtg_config *c = NULL;
	int r = gvtg_config_parse_string(text, &c);
	ck_assert_msg(r == 0, "%s: %d, line %d: %s", what, r, c ? c->error_line : -1,
		      c ? c->error : "");
	return c;
}

/* Item by item what README.md's example says; and every ```ini block of README.md parses
 * to what it shows. */
START_TEST(readme_examples)
{
	char *readme = slurp_source("README.md");
	const char *section = strstr(readme, "\n### Configuration");
	ck_assert_ptr_nonnull(section);
	int blocks = 0;
	bool seen_config = false;
	for (char *p = strstr(readme, "\n```ini\n"); p; p = strstr(p, "\n```ini\n")) {
		p += strlen("\n```ini\n");
		char *end = strstr(p, "\n```");
		ck_assert_ptr_nonnull(end);
		*end = '\0';
		struct gvtg_config *c = parse_example(p, "README.md");
		ck_assert_int_gt(check_documented(c, p, "README.md"), 0);
		blocks++;
		if (p > section && !seen_config) {
			/* the Configuration section's example: every setting */
			seen_config = true;
			ck_assert_str_eq(c->parent, "0000:00:02.0");
			ck_assert_str_eq(c->type, "i915-GVTg_V5_4");
			ck_assert_int_eq(c->release, GVTG_RELEASE_REMOVE);
			ck_assert_int_eq(c->remove_timeout_ms, 10000);
			ck_assert_int_eq(c->lock_timeout_ms, 30000);
			ck_assert(!c->sleep_remove);
			ck_assert_uint_eq(c->n_devices, 1);
			ck_assert_str_eq(gvtg_config_find(c, U1)->type, "i915-GVTg_V5_8");
			ck_assert(gvtg_config_find(c, U1)->boot);
		}
		gvtg_config_free(c);
		p = end + 1;
	}
	ck_assert(seen_config);
	ck_assert_int_ge(blocks, 1);
	free(readme);
}
END_TEST

/* The EXAMPLE of gvtg-hook.conf(5), taken from the page's source. */
/* The ```ini block of README.md after marker, NUL-terminated in place (a newline at its
 * end). */
static char *readme_block(char *readme, const char *marker)
{
	char *p = strstr(readme, marker);
	ck_assert_msg(p != NULL, "README.md lacks '%s'", marker);
	p = strstr(p, "\n```ini\n");
	ck_assert_ptr_nonnull(p);
	p += strlen("\n```ini\n");
	char *end = strstr(p, "\n```");
	ck_assert_ptr_nonnull(end);
	end[1] = '\0';
	return p;
}

/* README.md's drop-in example: its main file and drop-in, and what gvtgctl config prints
 * for them, exactly. */
START_TEST(readme_dropin_example)
{
	char *readme = slurp_source("README.md");
	char *main_text = strdup(readme_block(readme, "\n### Configuration"));
	free(readme);
	readme = slurp_source("README.md");
	char *dropin = strdup(readme_block(readme, "\n#### Drop-ins"));
	free(readme);
	readme = slurp_source("README.md");
	char *want = readme_block(readme, "`gvtgctl config` prints (itself");
	ck_assert_msg(!strncmp(dropin, "# /etc/gvtg-hook.conf.d/50-lab.conf", 35), "%s", dropin);

	struct fakesys *fs = fakesys_new();
	fakesys_write(fs, "etc/gvtg-hook.conf", main_text);
	fakesys_write(fs, "etc/gvtg-hook.conf.d/50-lab.conf", dropin);
	char gvtgctl[4096], cmd[8192];
	snprintf(gvtgctl, sizeof(gvtgctl), "%s", getenv("GVTG_HOOK"));
	strcpy(strstr(gvtgctl, "/hook/gvtg-hook"), "/ctl/gvtgctl");
	snprintf(cmd, sizeof(cmd),
		 "timeout 20 '%s' --root '%s' --config /etc/gvtg-hook.conf config", gvtgctl,
		 fakesys_root(fs));
	char *out = run_capture(cmd);
	ck_assert_str_eq(out, want);
	free(out);
	free(main_text);
	free(dropin);
	free(readme);
	fakesys_free(fs);
}
END_TEST

START_TEST(man_page_example)
{
	char *man = slurp_source("man/gvtg-hook.conf.5.in");
	char *p = strstr(man, "\n.SH EXAMPLE\n");
	ck_assert_ptr_nonnull(p);
	int blocks = 0;
	/* each .nf block: the main file's example, then a drop-in's */
	for (p = strstr(p, "\n.nf\n"); p; p = strstr(p, "\n.nf\n")) {
		p += strlen("\n.nf\n");
		char *end = strstr(p, "\n.fi\n");
		ck_assert_ptr_nonnull(end);
		*end = '\0';
		/* roff escapes: \- is a minus sign, \e a backslash; any other would need
		 * handling here */
		char *w = p;
		for (const char *r = p; *r; r++) {
			if (r[0] == '\\' && r[1] == '-')
				*w++ = '-', r++;
			else if (r[0] == '\\' && r[1] == 'e')
				*w++ = '\\', r++;
			else if (r[0] == '\\')
				ck_abort_msg("gvtg-hook.conf(5) example: unhandled escape '%.2s'", r);
			else
				*w++ = *r;
		}
		*w = '\0';
		struct gvtg_config *c = parse_example(p, "gvtg-hook.conf(5)");
		ck_assert_int_gt(check_documented(c, p, "gvtg-hook.conf(5)"), 0);
		ck_assert_int_eq(c->release, GVTG_RELEASE_KEEP);
		if (blocks++ == 0)
			ck_assert_ptr_nonnull(gvtg_config_find(c, U1));
		gvtg_config_free(c);
		p = end + 1;
	}
	ck_assert_int_eq(blocks, 2);
	free(man);
}
END_TEST

/* The installed default file: as shipped (everything commented out) it gives the
 * built-in defaults, which are the values its commented settings show for [hook] and
 * [sleep]; with every setting uncommented, it gives the values shown. */
START_TEST(shipped_file)
{
	char *text = slurp_source("hook/gvtg-hook.conf");
	struct gvtg_config *c = parse_example(text, "hook/gvtg-hook.conf");
	ck_assert_ptr_null(c->parent);
	ck_assert_ptr_null(c->type);
	ck_assert_uint_eq(c->n_devices, 0);
	ck_assert_int_eq(check_documented(c, text, "hook/gvtg-hook.conf"), 0);

	/* "#key = value" and "#[section]" (no space after '#') are the commented settings */
	size_t len = strlen(text);
	char *on = malloc(len + 1), *w = on;
	int settings = 0;
	for (const char *r = text; *r;) {
		bool line_start = r == text || r[-1] == '\n';
		if (line_start && r[0] == '#' && (r[1] == '[' || (r[1] >= 'a' && r[1] <= 'z'))) {
			r++;
			settings++;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	ck_assert_int_ge(settings, 8);
	struct gvtg_config *all = parse_example(on, "hook/gvtg-hook.conf, uncommented");
	ck_assert_int_eq(check_documented(all, on, "hook/gvtg-hook.conf, uncommented"),
			 settings - 1 /* the [UUID] header */);
	/* the commented [hook] and [sleep] values are the built-in defaults */
	ck_assert_int_eq(all->release, c->release);
	ck_assert_int_eq(all->remove_timeout_ms, c->remove_timeout_ms);
	ck_assert_int_eq(all->lock_timeout_ms, c->lock_timeout_ms);
	ck_assert_int_eq(all->sleep_remove, c->sleep_remove);
	gvtg_config_free(all);
	gvtg_config_free(c);
	free(on);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, defaults_when_empty);
	tcase_add_test(tc, every_setting);
	tcase_add_test(tc, errors_name_the_line);
	tcase_add_test(tc, load_from_root);
	tcase_add_test(tc, comments_both_kinds_everywhere);
	tcase_add_test(tc, long_lines_are_read_whole);
	tcase_add_test(tc, indented_lines_are_errors);
	tcase_add_test(tc, duplicates_are_errors);
	tcase_add_test(tc, error_quotes_its_own_line);
	tcase_add_test(tc, error_leaves_only_defaults);
	tcase_add_test(tc, text_encodings);
	tcase_add_test(tc, unreadable_files);
	tcase_add_test(tc, hook_with_fifo_config);
	tcase_add_test(tc, check_reports_each_error);
	tcase_add_test(tc, dropins_precedence);
	tcase_add_test(tc, dropins_errors);
	tcase_add_test(tc, dropins_check_and_config);
	tcase_add_test(tc, readme_examples);
	tcase_add_test(tc, readme_dropin_example);
	tcase_add_test(tc, man_page_example);
	tcase_add_test(tc, shipped_file);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
