/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl, black box: the built program is run with --root on a fake sysfs tree for
 * every command and every refusal, and its exact output, exit status, the bytes it
 * wrote to create/remove and the records it left are checked.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pty.h>

#include <libxml/parser.h>

#include "fakesys.h"
#include "gvtg.h"
#include "json-mini.h"

#define GPU "0000:00:02.0"
#define GPU_DIR "sys/devices/pci0000:00/" GPU
#define TYPES GPU_DIR "/mdev_supported_types"
#define T4 "i915-GVTg_V5_4"
#define T8 "i915-GVTg_V5_8"
#define STATE "run/gvtg-hook"
#define CONF "etc/gvtg-test.conf"

#define UA "aaaaaaaa-1111-4111-8111-111111111111"
#define UB "bbbbbbbb-2222-4222-8222-222222222222"
#define UC "cccccccc-3333-4333-8333-333333333333"
#define DOM_UUID "d0d0d0d0-4444-4444-8444-444444444444"

/* An absolute path of the installation, inside the fake tree. */
#define REL(abs) (&(abs)[1])
/* hook_layout=hooks_dir: the executable is itself the file in qemu.d, no link to it. */
#define HOOK_IS_LINKED (strcmp(GVTG_HOOK_PATH, GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook") != 0)

/* Bound for one run of gvtgctl: nothing it does on a fake tree takes a second. */
#define RUN_TIMEOUT_MS 20000

struct result {
	int rc;
	char *out;
	char *err;
};

static struct fakesys *fs;
static struct result res;

static void result_clear(struct result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

static void setup(void)
{
	/* Output for people is wrapped at $COLUMNS: the tests that want it set it. */
	unsetenv("COLUMNS");
	unsetenv("LIBVIRT_DEFAULT_URI");
	fs = fakesys_new();
	memset(&res, 0, sizeof(res));
}

static void teardown(void)
{
	result_clear(&res);
	fakesys_free(fs);
	fs = NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Run gvtgctl --root <tree> ARGS... (NULL-terminated) into res. */
static void run(const char *arg, ...)
{
	const char *prog = getenv("GVTGCTL");
	ck_assert_msg(prog, "GVTGCTL is not set: run the tests through meson");
	const char *argv[64] = { prog, "--root", fakesys_root(fs) };
	size_t argc = 3;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a && argc < 63; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;

	result_clear(&res);
	int out[2], err[2];
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, STDIN_FILENO);
		execv(prog, (char **)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	size_t olen = 0, elen = 0;
	append(&res.out, &olen, "", 0);
	append(&res.err, &elen, "", 0);
	struct pollfd pfd[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
	int open_fds = 2;
	int64_t deadline = now_ms() + RUN_TIMEOUT_MS;
	while (open_fds > 0) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(pfd, 2, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			char buf[4096];
			ssize_t n = read(pfd[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0)
				append(&res.out, &olen, buf, (size_t)n);
			else
				append(&res.err, &elen, buf, (size_t)n);
		}
	}
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "gvtgctl did not exit normally (timeout or signal)");
	res.rc = WEXITSTATUS(status);
}

#define assert_rc(n)                                                                        \
	ck_assert_msg(res.rc == (n), "exit %d, expected %d\nstdout:\n%s\nstderr:\n%s", res.rc, \
		      (n), res.out, res.err)
#define assert_err_has(s)                                                                   \
	ck_assert_msg(strstr(res.err, (s)), "stderr lacks \"%s\":\n%s", (s), res.err)
#define assert_out_has(s)                                                                   \
	ck_assert_msg(strstr(res.out, (s)), "stdout lacks \"%s\":\n%s", (s), res.out)

/* The content of a file in the tree ("" when empty), freed at the next call. */
static const char *file(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *file(const char *fmt, ...)
{
	static char *last;
	char path[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	free(last);
	last = fakesys_read(fs, path);
	return last;
}

static void write_record(const char *uuid, const char *origin, const char *domain,
			 const char *domain_uuid)
{
	char path[128], text[512];
	snprintf(path, sizeof(path), STATE "/%s", uuid);
	snprintf(text, sizeof(text),
		 "origin=%s\ndomain_name=%s\ndomain_uuid=%s\nparent=" GPU "\ntype=" T4
		 "\ntime=1\nremove_pending=no\n",
		 origin, domain ? domain : "", domain_uuid ? domain_uuid : "");
	ck_assert_int_eq(fakesys_write(fs, path, text), 0);
}

static bool has_record(const char *uuid)
{
	char path[128];
	snprintf(path, sizeof(path), STATE "/%s", uuid);
	return fakesys_exists(fs, path);
}

/* The GVT-g host with two vGPUs of type _4: one held by a domain, one made by hand. */
static void gvt_host_with_vgpus(void)
{
	fakesys_gvt_host(fs);
	ck_assert_int_eq(fakesys_add_device(fs, GPU, T4, UA), 0);
	ck_assert_int_eq(fakesys_add_device(fs, GPU, T4, UB), 0);
	write_record(UA, "adopted", "win10", DOM_UUID);
	write_record(UB, "manual", NULL, NULL);
}

/* ---- list, types ------------------------------------------------------------------- */

static const char types_table[] =
	"PARENT       TYPE           NAME      AVAIL RESOLUTION APERTURE HIDDEN FENCE WEIGHT API\n"
	"0000:00:02.0 i915-GVTg_V5_1 GVTg_V5_1     1 1920x1200      512M  2048M     4     16 vfio-pci\n"
	"0000:00:02.0 i915-GVTg_V5_2 GVTg_V5_2     2 1920x1200      256M  1024M     4      8 vfio-pci\n"
	"0000:00:02.0 i915-GVTg_V5_4 GVTg_V5_4     2 1920x1200      128M   512M     4      4 vfio-pci\n"
	"0000:00:02.0 i915-GVTg_V5_8 GVTg_V5_8     2 1024x768        64M   384M     4      2 vfio-pci\n";

START_TEST(list_gvt_host)
{
	gvt_host_with_vgpus();
	run("list", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out,
		"PARENT       TYPE           NAME      AVAIL RESOLUTION APERTURE HIDDEN FENCE WEIGHT API\n"
		"0000:00:02.0 i915-GVTg_V5_1 GVTg_V5_1     1 1920x1200      512M  2048M     4     16 vfio-pci\n"
		"0000:00:02.0 i915-GVTg_V5_2 GVTg_V5_2     2 1920x1200      256M  1024M     4      8 vfio-pci\n"
		"0000:00:02.0 i915-GVTg_V5_4 GVTg_V5_4     2 1920x1200      128M   512M     4      4 vfio-pci\n"
		"0000:00:02.0 i915-GVTg_V5_8 GVTg_V5_8     2 1024x768        64M   384M     4      2 vfio-pci\n"
		"\n"
		"UUID                                 PARENT       TYPE           OWNER ORIGIN  STATE\n"
		"aaaaaaaa-1111-4111-8111-111111111111 0000:00:02.0 i915-GVTg_V5_4 win10 adopted active\n"
		"bbbbbbbb-2222-4222-8222-222222222222 0000:00:02.0 i915-GVTg_V5_4 -     manual  active\n");
	ck_assert_str_eq(res.err, "");
}
END_TEST

START_TEST(list_json)
{
	gvt_host_with_vgpus();
	ck_assert_int_eq(fakesys_add_device(fs, GPU, T8, UC), 0); /* no record */
	run("list", "--json", NULL);
	assert_rc(0);
	struct json *j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	ck_assert_int_eq(json_len(j, "types"), 4);
	ck_assert_str_eq(json_str(j, "types[0].type"), "i915-GVTg_V5_1");
	ck_assert_str_eq(json_str(j, "types[3].resolution"), "1024x768");
	const struct json *v = json_path(j, "types[2].aperture_mb");
	ck_assert(v && v->kind == JSON_NUMBER && v->num == 128);
	v = json_path(j, "types[2].hidden_mb");
	ck_assert(v && v->kind == JSON_NUMBER && v->num == 512);
	v = json_path(j, "types[0].available");
	ck_assert(v && v->kind == JSON_NUMBER && v->num == 1);
	v = json_path(j, "types[1].weight");
	ck_assert(v && v->kind == JSON_NUMBER && v->num == 8);
	ck_assert_int_eq(json_len(j, "vgpus"), 3);
	ck_assert_str_eq(json_str(j, "vgpus[0].uuid"), UA);
	ck_assert_str_eq(json_str(j, "vgpus[0].owner"), "win10");
	ck_assert_str_eq(json_str(j, "vgpus[0].domain_uuid"), DOM_UUID);
	ck_assert_str_eq(json_str(j, "vgpus[0].origin"), "adopted");
	ck_assert_str_eq(json_str(j, "vgpus[0].state"), "active");
	/* no domain holds it: null, never a word a domain could be named */
	v = json_path(j, "vgpus[1].owner");
	ck_assert(v && v->kind == JSON_NULL);
	ck_assert_str_eq(json_str(j, "vgpus[1].origin"), "manual");
	ck_assert_str_eq(json_str(j, "vgpus[2].type"), T8);
	v = json_path(j, "vgpus[2].owner");
	ck_assert(v && v->kind == JSON_NULL);
	v = json_path(j, "vgpus[2].origin");
	ck_assert(v && v->kind == JSON_NULL);
	json_free(j);
}
END_TEST

/* A domain named "none" (or "manual") is a domain, told apart from no owner. */
START_TEST(list_owner_named_none)
{
	gvt_host_with_vgpus();
	write_record(UA, "created", "none", DOM_UUID);
	run("--json", "list", NULL);
	assert_rc(0);
	struct json *j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	ck_assert_str_eq(json_str(j, "vgpus[0].owner"), "none");
	const struct json *v = json_path(j, "vgpus[1].owner");
	ck_assert(v && v->kind == JSON_NULL);
	json_free(j);
}
END_TEST

/* list --uuid, --parent; boot vGPUs of the configuration that do not exist yet. */
START_TEST(list_filters_and_boot)
{
	gvt_host_with_vgpus();
	fakesys_add_parent(fs, "mtty");
	fakesys_add_type(fs, "mtty", "mtty-1", "Single port serial", "vfio-pci", NULL, 24);
	fakesys_write(fs, CONF, "[" UC "]\ntype = " T8 "\nparent = " GPU "\nboot = yes\n");
	run("--config", "/" CONF, "list", NULL);
	assert_rc(0);
	assert_out_has("UUID                                 PARENT       TYPE           OWNER ORIGIN  STATE\n"
		       "aaaaaaaa-1111-4111-8111-111111111111 0000:00:02.0 i915-GVTg_V5_4 win10 adopted active\n"
		       "bbbbbbbb-2222-4222-8222-222222222222 0000:00:02.0 i915-GVTg_V5_4 -     manual  active\n"
		       "cccccccc-3333-4333-8333-333333333333 0000:00:02.0 i915-GVTg_V5_8 -     boot    not created\n");
	assert_out_has("mtty         mtty-1");

	run("--config", "/" CONF, "list", "--uuid", UB, NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out,
		"UUID                                 PARENT       TYPE           OWNER ORIGIN STATE\n"
		"bbbbbbbb-2222-4222-8222-222222222222 0000:00:02.0 i915-GVTg_V5_4 -     manual active\n");

	run("--config", "/" CONF, "list", "--json", "--uuid", "CCCCCCCC-3333-4333-8333-333333333333", NULL);
	assert_rc(0);
	struct json *j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	ck_assert_int_eq(json_len(j, "vgpus"), 1);
	ck_assert_ptr_null(json_path(j, "types"));
	ck_assert_str_eq(json_str(j, "vgpus[0].state"), "not-created");
	ck_assert_str_eq(json_str(j, "vgpus[0].origin"), "boot");
	ck_assert_str_eq(json_str(j, "vgpus[0].type"), T8);
	json_free(j);

	run("--config", "/" CONF, "list", "--parent", "mtty", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out,
		"PARENT TYPE   NAME               AVAIL RESOLUTION APERTURE HIDDEN FENCE WEIGHT API\n"
		"mtty   mtty-1 Single port serial    24 -                 -      -     -      - vfio-pci\n");

	run("list", "--uuid", "dddddddd-4444-4444-8444-444444444444", NULL);
	assert_rc(1);
	ck_assert_str_eq(res.out, "");
	assert_err_has("listing vGPU dddddddd-4444-4444-8444-444444444444: no such vGPU");
	run("list", "--parent", "0000:00:02.1", NULL);
	assert_rc(1);
	assert_err_has("did you mean '0000:00:02.0'?");
	run("list", "--uuid", "nope", NULL);
	assert_rc(2);

	/* mdevctl's definitions are narrowed the same way */
	fakesys_write(fs, "etc/mdevctl.d/mtty/dddddddd-4444-4444-8444-444444444444",
		      "{\"mdev_type\":\"mtty-1\",\"start\":\"manual\",\"attrs\":[]}\n");
	run("list", "--json", "--uuid", "dddddddd-4444-4444-8444-444444444444", NULL);
	assert_rc(0);
	j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	ck_assert_int_eq(json_len(j, "vgpus"), 0);
	ck_assert_int_eq(json_len(j, "definitions"), 1);
	ck_assert_str_eq(json_str(j, "definitions[0].parent"), "mtty");
	json_free(j);
	run("list", "--json", "--parent", GPU, NULL);
	assert_rc(0);
	j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	ck_assert_int_eq(json_len(j, "definitions"), 0);
	ck_assert_int_eq(json_len(j, "vgpus"), 2);
	json_free(j);

	/* a broken configuration is said, and the active vGPUs are still listed */
	fakesys_write(fs, CONF, "[" UC "]\nboot = perhaps\n");
	run("--config", "/" CONF, "list", "--uuid", UA, NULL);
	assert_rc(0);
	assert_err_has("gvtgctl: reading the configuration: /" CONF ", line 2: ");
	assert_out_has(UA " 0000:00:02.0 i915-GVTg_V5_4 win10 adopted active\n");
}
END_TEST

/* Every --json output is JSON, on a host without any parent too. */
START_TEST(json_on_empty_host)
{
	static const char *const cmds[][3] = { { "types", "--json", NULL },
					       { "--json", "types", NULL },
					       { "list", "--json", NULL },
					       { "check", "--json", NULL } };
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run(cmds[i][0], cmds[i][1], NULL);
		struct json *j = json_parse(res.out);
		ck_assert_msg(j, "%s %s: not JSON:\n%s", cmds[i][0], cmds[i][1], res.out);
		json_free(j);
	}
	run("types", "--json", NULL);
	assert_rc(0);
	struct json *j = json_parse(res.out);
	ck_assert_int_eq(json_len(j, "types"), 0);
	json_free(j);
}
END_TEST

START_TEST(list_no_parent)
{
	run("list", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "");
	run("list", "--json", NULL);
	assert_rc(0);
	struct json *j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	ck_assert_int_eq(json_len(j, "types"), 0);
	ck_assert_int_eq(json_len(j, "vgpus"), 0);
	json_free(j);
}
END_TEST

START_TEST(list_other_driver)
{
	/* A parent without GVT-g's description (the kernel's mtty sample). */
	fakesys_add_parent(fs, "mtty");
	fakesys_add_type(fs, "mtty", "mtty-1", "Single port serial", "vfio-pci", NULL, 24);
	run("types", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out,
			 "PARENT TYPE   NAME               AVAIL RESOLUTION APERTURE HIDDEN FENCE "
			 "WEIGHT API\n"
			 "mtty   mtty-1 Single port serial    24 -                 -      -     - "
			 "     - vfio-pci\n");
}
END_TEST

START_TEST(types_of_parent)
{
	fakesys_gvt_host(fs);
	fakesys_add_parent(fs, "mtty");
	run("types", GPU, NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, types_table);

	run("types", "--json", GPU, NULL);
	assert_rc(0);
	struct json *j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	ck_assert_int_eq(json_len(j, "types"), 4);
	ck_assert_str_eq(json_str(j, "types[3].name"), "GVTg_V5_8");
	ck_assert_str_eq(json_str(j, "types[3].device_api"), "vfio-pci");
	json_free(j);
}
END_TEST

START_TEST(types_unknown_parent)
{
	fakesys_gvt_host(fs);
	run("types", "0000:00:03.0", NULL);
	assert_rc(1);
	ck_assert_str_eq(res.out, "");
	ck_assert_str_eq(res.err, "gvtgctl: listing types, 0000:00:03.0: no such mdev parent; did "
				  "you mean '0000:00:02.0'? Registered parents: 0000:00:02.0\n");
	run("types", "../etc", NULL);
	assert_rc(1);
	assert_err_has("not a valid parent name");
	run("types", GPU, "extra", NULL);
	assert_rc(2);
}
END_TEST

/* ---- create ------------------------------------------------------------------------ */

START_TEST(create_named)
{
	fakesys_gvt_host(fs);
	run("create", "--type", T4, "AAAAAAAA-1111-4111-8111-111111111111", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, UA "\n");
	ck_assert_str_eq(res.err, "");
	/* exactly the 36 lower-case bytes, nothing on the other types */
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), UA);
	ck_assert_str_eq(file(TYPES "/" T8 "/create"), "");
	const char *rec = file(STATE "/" UA);
	ck_assert_ptr_nonnull(rec);
	ck_assert_ptr_nonnull(strstr(rec, "origin=manual\n"));
	ck_assert_ptr_nonnull(strstr(rec, "domain_uuid=\n"));
	ck_assert_ptr_nonnull(strstr(rec, "parent=" GPU "\n"));
	ck_assert_ptr_nonnull(strstr(rec, "type=" T4 "\n"));
}
END_TEST

START_TEST(create_generated)
{
	fakesys_gvt_host(fs);
	run("create", "--parent", GPU, "--type", T8, NULL);
	assert_rc(0);
	ck_assert_int_eq(strlen(res.out), 37);
	char u[GVTG_UUID_STRLEN + 1];
	res.out[36] = '\0';
	ck_assert_int_eq(gvtg_uuid_normalize(res.out, u), 0);
	ck_assert_str_eq(u, res.out);
	ck_assert_str_eq(file(TYPES "/" T8 "/create"), u);
	ck_assert(has_record(u));
}
END_TEST

START_TEST(create_config_default)
{
	fakesys_gvt_host(fs);
	fakesys_write(fs, CONF, "[defaults]\ntype = " T8 "\n");
	run("--config", "/" CONF, "create", UA, NULL);
	assert_rc(0);
	ck_assert_str_eq(file(TYPES "/" T8 "/create"), UA);
	/* the per-UUID section wins over [defaults], as in the hook */
	fakesys_write(fs, CONF, "[defaults]\ntype = " T8 "\n[" UB "]\ntype = " T4 "\n");
	run("create", "--config", "/" CONF, UB, NULL);
	assert_rc(0);
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), UB);
	/* and the built-in configuration path is read under the root too */
	fakesys_write(fs, REL(GVTG_CONFIG_FILE), "[defaults]\ntype = " T4 "\n");
	run("create", UC, NULL);
	assert_rc(0);
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), UC);
}
END_TEST

START_TEST(create_ambiguous)
{
	fakesys_gvt_host(fs);
	run("create", UA, NULL);
	assert_rc(1);
	ck_assert_str_eq(res.out, "");
	assert_err_has("gvtgctl: creating vGPU " UA ": parent 0000:00:02.0 has several types "
		       "and none is chosen: i915-GVTg_V5_1 (1920x1200, 1 left), i915-GVTg_V5_2 "
		       "(1920x1200, 2 left), i915-GVTg_V5_4 (1920x1200, 2 left), i915-GVTg_V5_8 "
		       "(1024x768, 2 left). Set type= in the domain metadata (gvtgctl xml), pass "
		       "--type to gvtgctl");
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), "");
	ck_assert(!has_record(UA));

	fakesys_add_parent(fs, "mtty");
	fakesys_add_type(fs, "mtty", "mtty-1", "Single port serial", "vfio-pci", NULL, 24);
	run("create", UA, NULL);
	assert_rc(1);
	assert_err_has("several mdev parents and none is chosen: 0000:00:02.0, mtty. Set "
		       "parent= in the domain metadata (gvtgctl xml), pass --parent to gvtgctl");
	/* the only parent that has the type is chosen */
	run("create", "--type", "mtty-1", UA, NULL);
	assert_rc(0);
	ck_assert_str_eq(file("sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1/create"),
			 UA);
}
END_TEST

/* define: mdevctl's file, placed as create places it, nothing created; every holder of
 * the UUID refused; undefine takes the file away. */
START_TEST(define_and_undefine)
{
	fakesys_gvt_host(fs);
	unsetenv("GVTG_MDEVCTL"); /* the file itself, as on a host without mdevctl */
	run("define", "--type", T8, "AAAAAAAA11114111811111111111 1112", NULL);
	assert_rc(0);
	assert_out_has("Defined vGPU aaaaaaaa-1111-4111-8111-111111111112: parent 0000:00:02.0 "
		       "(automatic), type " T8 " (command line), start manual, in "
		       "/etc/mdevctl.d/0000:00:02.0/aaaaaaaa-1111-4111-8111-111111111112.\n");
	ck_assert_str_eq(file("etc/mdevctl.d/0000:00:02.0/aaaaaaaa-1111-4111-8111-111111111112"),
			 "{\n  \"mdev_type\": \"" T8 "\",\n  \"start\": \"manual\",\n  "
			 "\"attrs\": []\n}\n");
	ck_assert_str_eq(file(TYPES "/" T8 "/create"), "");
	run("list", "--defined", "--json", NULL);
	assert_out_has("\"uuid\": \"aaaaaaaa-1111-4111-8111-111111111112\"");

	/* defined already, held by a record, active: refused, nothing written */
	run("define", "--type", T4, "aaaaaaaa-1111-4111-8111-111111111112", NULL);
	assert_rc(1);
	assert_err_has("gvtgctl: defining vGPU aaaaaaaa-1111-4111-8111-111111111112: it is defined "
		       "already in /etc/mdevctl.d/0000:00:02.0/aaaaaaaa-1111-4111-8111-111111111112 "
		       "(0000:00:02.0 type " T8 ")");
	write_record(UC, "manual", "win10", DOM_UUID);
	run("define", "--type", T8, UC, NULL);
	assert_rc(1);
	assert_err_has("defining vGPU " UC ": domain 'win10' holds it");
	ck_assert_int_eq(fakesys_add_device(fs, GPU, T8, UB), 0);
	run("define", "--type", T8, UB, NULL);
	assert_rc(1);
	assert_err_has("defining vGPU " UB ": it exists already (0000:00:02.0 type " T8 ")");
	run("define", "--type", "nope", NULL);
	assert_rc(1);
	assert_err_has("gvtgctl: defining a vGPU: parent 0000:00:02.0 has no type 'nope'");
	run("define", "--type", T8, "not-a-uuid", NULL);
	assert_rc(2);
	assert_err_has("'not-a-uuid' is a malformed UUID");

	/* --auto, and --json */
	run("--json", "define", "--type", T4, "--auto", UA, NULL);
	assert_rc(0);
	assert_out_has("\"start\": \"auto\"");
	assert_out_has("\"file\": \"/etc/mdevctl.d/0000:00:02.0/" UA "\"");

	run("undefine", "aaaaaaaa-1111-4111-8111-111111111112", NULL);
	assert_rc(0);
	assert_out_has("Removed the definition /etc/mdevctl.d/0000:00:02.0/"
		       "aaaaaaaa-1111-4111-8111-111111111112 of vGPU "
		       "aaaaaaaa-1111-4111-8111-111111111112.\n");
	ck_assert_ptr_null(fakesys_read(fs, "etc/mdevctl.d/0000:00:02.0/"
					    "aaaaaaaa-1111-4111-8111-111111111112"));
	run("undefine", "aaaaaaaa-1111-4111-8111-111111111112", NULL);
	assert_rc(1);
	assert_err_has("undefining vGPU aaaaaaaa-1111-4111-8111-111111111112: it has no definition");
}
END_TEST

START_TEST(create_refusals)
{
	run("create", "--type", T4, UA, NULL);
	assert_rc(1);
	assert_err_has("no mdev parent device is registered on this host");
	assert_err_has("'gvtgctl check'");

	fakesys_gvt_host(fs);
	run("create", "--type", "i915-GVTg_V5_3", UA, NULL);
	assert_rc(1);
	assert_err_has("parent 0000:00:02.0 has no type 'i915-GVTg_V5_3' (from the command "
		       "line). Choose one of its types: i915-GVTg_V5_1 (1920x1200, 1 left)");
	/* the NAME column's value, or the id without its driver's prefix */
	run("create", "--type", "GVTg_V5_4", UA, NULL);
	assert_rc(1);
	assert_err_has("creating vGPU " UA ": parent 0000:00:02.0 has no type 'GVTg_V5_4' "
		       "(from the command line). Did you mean 'i915-GVTg_V5_4'? Choose one of "
		       "its types: ");

	run("create", "--parent", "0000:00:03.0", "--type", T4, UA, NULL);
	assert_rc(1);
	assert_err_has("mdev parent '0000:00:03.0' (from the command line) is not registered: "
		       "GVT-g is not enabled on it or the PCI address is wrong. Name a registered "
		       "parent: 0000:00:02.0");

	fakesys_write(fs, TYPES "/" T4 "/available_instances", "0\n");
	run("create", "--type", T4, UA, NULL);
	assert_rc(1);
	assert_err_has("0000:00:02.0 type i915-GVTg_V5_4 has no instances left");
	/* only the types with an instance left are offered */
	assert_err_has("choose a type that still fits: i915-GVTg_V5_1 (1920x1200, 1 left), "
		       "i915-GVTg_V5_2 (1920x1200, 2 left), i915-GVTg_V5_8 (1024x768, 2 left)");
	ck_assert_ptr_null(strstr(res.err, "0 left"));
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), "");
	ck_assert(!has_record(UA));

	ck_assert_int_eq(fakesys_add_device(fs, GPU, T8, UB), 0);
	run("create", "--type", T8, UB, NULL);
	assert_rc(1);
	assert_err_has("it exists already (0000:00:02.0 type i915-GVTg_V5_8)");
	ck_assert_str_eq(file(TYPES "/" T8 "/create"), "");

	write_record(UC, "manual", "win10", DOM_UUID);
	run("create", "--type", T8, UC, NULL);
	assert_rc(1);
	assert_err_has("creating vGPU " UC ": domain 'win10' holds it");

	/* the vGPU exists and a running domain's record holds it: that domain is named */
	write_record(UB, "created", "win10", DOM_UUID);
	run("create", "--type", T8, UB, NULL);
	assert_rc(1);
	assert_err_has("it exists already (0000:00:02.0 type i915-GVTg_V5_8) and domain 'win10' "
		       "holds it. Choose another UUID, or leave it out to get a new one; this one "
		       "stays with 'win10'");

	/* any form libvirt takes; a malformed one is named as such */
	run("create", "--type", T8, "BBBBBBBB22224222822222222222 2222", NULL);
	assert_rc(1);
	assert_err_has("creating vGPU " UB ": it exists already");
	run("create", "--type", T8, "not-a-uuid", NULL);
	assert_rc(2);
	assert_err_has("'not-a-uuid' is a malformed UUID (32 hex digits, with or without dashes)");
	run("create", "--type", "../x", NULL);
	assert_rc(2);
	run("create", UA, UB, NULL);
	assert_rc(2);
	ck_assert_str_eq(file(TYPES "/" T8 "/create"), "");
}
END_TEST

START_TEST(create_bad_config)
{
	fakesys_gvt_host(fs);
	fakesys_write(fs, CONF, "[defaults]\ntypo = 1\n");
	run("--config", "/" CONF, "create", "--type", T4, UA, NULL);
	assert_rc(1);
	assert_err_has("gvtgctl: reading the configuration: /" CONF
		       ", line 2: unknown key 'typo'");
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), "");
}
END_TEST

START_TEST(create_lock_held)
{
	fakesys_gvt_host(fs);
	fakesys_write(fs, CONF, "[hook]\nlock_timeout = 0.2\n");
	fakesys_write(fs, STATE "/lock", "");
	char path[256];
	snprintf(path, sizeof(path), "%s/" STATE "/lock", fakesys_root(fs));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	int64_t t0 = now_ms();
	run("--config", "/" CONF, "create", "--type", T4, UA, NULL);
	int64_t took = now_ms() - t0;
	close(fd);
	assert_rc(1);
	assert_err_has("still held after 0 s by another gvtg-hook or gvtgctl");
	ck_assert_int_lt(took, 5000);
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), "");
}
END_TEST

/* ---- remove ------------------------------------------------------------------------ */

START_TEST(remove_held_by_domain)
{
	gvt_host_with_vgpus();
	run("remove", UA, NULL);
	assert_rc(1);
	ck_assert_str_eq(res.err, "gvtgctl: removing vGPU " UA ": domain 'win10' holds it. Shut "
				  "'win10' down first (its stop releases the vGPU), or use another "
				  "UUID; if 'win10' is not running, 'gvtgctl remove --force " UA
				  "'\n");
	ck_assert_str_eq(file(GPU_DIR "/" UA "/remove"), "");
	ck_assert(has_record(UA));

	run("remove", "--force", UA, NULL);
	assert_rc(0);
	ck_assert_str_eq(file(GPU_DIR "/" UA "/remove"), "1");
	ck_assert(!has_record(UA));
}
END_TEST

START_TEST(remove_manual)
{
	gvt_host_with_vgpus();
	run("remove", "BBBBBBBB-2222-4222-8222-222222222222", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "");
	ck_assert_str_eq(res.err, "");
	ck_assert_str_eq(file(GPU_DIR "/" UB "/remove"), "1");
	ck_assert(!has_record(UB));
	/* a vGPU nobody recorded is removed too: no domain is known to hold it */
	ck_assert_int_eq(fakesys_add_device(fs, GPU, T8, UC), 0);
	run("remove", UC, NULL);
	assert_rc(0);
	ck_assert_str_eq(file(GPU_DIR "/" UC "/remove"), "1");
}
END_TEST

START_TEST(remove_missing)
{
	fakesys_gvt_host(fs);
	run("remove", UA, NULL);
	assert_rc(1);
	assert_err_has("removing vGPU " UA ": no such vGPU");
	/* only a stale record is left: it goes */
	write_record(UB, "manual", NULL, NULL);
	run("remove", UB, NULL);
	assert_rc(0);
	assert_err_has("did not exist; deleted its stale record");
	ck_assert(!has_record(UB));
	/* a damaged record needs --force */
	ck_assert_int_eq(fakesys_add_device(fs, GPU, T4, UC), 0);
	fakesys_write(fs, STATE "/" UC, "garbage\n");
	run("remove", UC, NULL);
	assert_rc(1);
	assert_err_has("is damaged");
	ck_assert_str_eq(file(GPU_DIR "/" UC "/remove"), "");
	run("remove", "-f", UC, NULL);
	assert_rc(0);
	ck_assert_str_eq(file(GPU_DIR "/" UC "/remove"), "1");

	run("remove", NULL);
	assert_rc(2);
	run("remove", "xyz", NULL);
	assert_rc(2);
}
END_TEST

/* ---- check ------------------------------------------------------------------------- */

/* Everything a GVT-g host needs, libvirtd started after the hook was installed. */
static void good_host(void)
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
	fakesys_write(fs, REL(GVTG_HOOK_PATH), "#!/bin/sh\n");
	char p[512];
	snprintf(p, sizeof(p), "%s%s", fakesys_root(fs), GVTG_HOOK_PATH);
	ck_assert_int_eq(chmod(p, 0755), 0);
	if (HOOK_IS_LINKED)
		ck_assert_int_eq(fakesys_symlink(fs, REL(GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook"),
						 GVTG_HOOK_PATH), 0);
	/* libvirtd, pid 4242, started 10 s after a boot in the future: after the hook */
	char stat[256];
	snprintf(stat, sizeof(stat), "cpu 1 2 3 4\nbtime %lld\nprocesses 9\n",
		 (long long)time(NULL) + 3600);
	fakesys_write(fs, "proc/stat", stat);
	fakesys_write(fs, "proc/4242/stat",
		      "4242 (libvirtd) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 17 0 "
		      "1000 123456 100 18446744073709551615\n");
	fakesys_write(fs, "run/libvirtd.pid", "4242\n");
}

#define SELF_TEST_PASS                                                                     \
	"PASS  hook " GVTG_HOOK_PATH " loads its module and parses a domain (--self-test)"

static const char good_check[] =
	"PASS  Intel iGPU at 0000:00:02.0 (0x3e92, Coffee Lake/Whiskey Lake) supports GVT-g\n"
	"PASS  GVT-g enabled in i915 (i915.enable_gvt=1)\n"
	"PASS  GuC firmware loading off (i915.enable_guc=0)\n"
	"PASS  module kvmgt loaded\n"
	"PASS  module vfio loaded\n"
	"PASS  module mdev loaded\n"
	"PASS  IOMMU enabled (/sys/class/iommu)\n"
	"PASS  /dev/vfio/vfio present\n"
	"PASS  0000:00:02.0 offers 4 vGPU types\n"
	"PASS  hook installed: " GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook\n"
	SELF_TEST_PASS "\n"
	"PASS  libvirtd (pid 4242) started after the hook was installed\n"
	"PASS  configuration " GVTG_CONFIG_FILE " absent: built-in defaults\n"
	"\n"
	"13 checks: 13 passed, 0 warnings, 0 failed, 0 for information: ready\n";

START_TEST(check_good_host)
{
	good_host();
	run("check", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, good_check);
	ck_assert_str_eq(res.err, "");
}
END_TEST

START_TEST(check_json)
{
	good_host();
	fakesys_write(fs, "sys/module/i915/parameters/enable_guc", "3\n");
	char p[512];
	snprintf(p, sizeof(p), "%s/dev/vfio/vfio", fakesys_root(fs));
	ck_assert_int_eq(unlink(p), 0);
	run("check", "--json", NULL);
	assert_rc(1);
	struct json *j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	ck_assert_int_eq(json_len(j, "checks"), 13);
	/* every check has its stable id */
	static const char *const ids[] = { "igpu", "i915-enable-gvt", "i915-enable-guc",
					   "module-kvmgt", "module-vfio", "module-mdev", "iommu",
					   "vfio-node", "vgpu-types", "hook", "hook-self-test",
					   "libvirt-daemon", "config" };
	for (size_t i = 0; i < 13; i++) {
		char path[32];
		snprintf(path, sizeof(path), "checks[%zu].id", i);
		ck_assert_str_eq(json_str(j, path), ids[i]);
	}
	const struct json *n = json_path(j, "summary.fail");
	ck_assert(n && n->kind == JSON_NUMBER && n->num == 1);
	n = json_path(j, "summary.warn");
	ck_assert(n && n->kind == JSON_NUMBER && n->num == 1);
	n = json_path(j, "summary.pass");
	ck_assert(n && n->kind == JSON_NUMBER && n->num == 11);
	n = json_path(j, "summary.ready");
	ck_assert(n && n->kind == JSON_BOOL && !n->b);
	ck_assert_str_eq(json_str(j, "checks[2].result"), "WARN");
	ck_assert_str_eq(json_str(j, "checks[2].check"), "GuC firmware loading on (i915.enable_guc=3)");
	ck_assert_ptr_nonnull(strstr(json_str(j, "checks[2].fix"), "i915.enable_guc=0"));
	ck_assert_str_eq(json_str(j, "checks[7].result"), "FAIL");
	ck_assert_str_eq(json_str(j, "checks[7].check"), "/dev/vfio/vfio missing");
	ck_assert_str_eq(json_str(j, "checks[0].result"), "PASS");
	const struct json *fix = json_path(j, "checks[0].fix");
	ck_assert(fix && fix->kind == JSON_NULL);
	json_free(j);
}
END_TEST

static void rm(const char *rel);

/* The summary line counts each result; the check lines wrap between words at $COLUMNS,
 * the following lines under the text. */
START_TEST(check_summary_and_wrap)
{
	good_host();
	fakesys_write(fs, "sys/module/i915/parameters/enable_guc", "3\n");
	rm(REL(GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook"));
	setenv("COLUMNS", "60", 1);
	run("check", NULL);
	unsetenv("COLUMNS");
	assert_rc(1);
	assert_out_has("WARN  GuC firmware loading on (i915.enable_guc=3): add\n"
		       "      i915.enable_guc=0 to the kernel command line: GVT-g\n"
		       "      does not work with GuC submission\n");
	assert_out_has("FAIL  hook not installed where libvirt looks\n"
		       "      (" GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook): install\n"
		       "      gvtg-hook (meson install), or ln -s\n");
	assert_out_has("\n\n12 checks: 9 passed, 1 warning, 1 failed, 1 for information:\n"
		       "this host cannot run GVT-g vGPUs yet\n");
	char *text = strdup(res.out);
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		ck_assert_msg(strlen(l) <= 60 || !strchr(l + 6, ' '), "longer than 60: %s", l);
	free(text);
	/* without a terminal and without COLUMNS: one line per check */
	run("check", NULL);
	assert_out_has("WARN  GuC firmware loading on (i915.enable_guc=3): add i915.enable_guc=0 "
		       "to the kernel command line: GVT-g does not work with GuC submission\n");
}
END_TEST

/* An Alder Lake iGPU cannot do GVT-g: the GVT-g-only checks are no failures with GVT-g
 * fixes (no reboot for enable_gvt, no kvmgt), and the summary says what the host can
 * use instead, which gvtg-hook does not manage. */
START_TEST(check_gpu_without_gvt)
{
	good_host();
	fakesys_write(fs, GPU_DIR "/device", "0x4680\n");
	rm("sys/module/i915/parameters/enable_gvt");
	rm("sys/module/kvmgt");
	rm(TYPES);
	run("check", NULL);
	assert_rc(1);
	assert_out_has("FAIL  Intel iGPU at 0000:00:02.0 (0x4680, Alder Lake): GVT-g is not "
		       "supported on this generation; use SR-IOV\n");
	assert_out_has("INFO  i915 has no enable_gvt parameter (i915 not loaded, or built "
		       "without GVT-g) (needed only for GVT-g, which this GPU cannot do)\n");
	assert_out_has("INFO  module kvmgt not loaded (needed only for GVT-g, which this GPU "
		       "cannot do)\n");
	assert_out_has("INFO  0000:00:02.0 offers no vGPU types (needed only for GVT-g, which "
		       "this GPU cannot do)\n");
	ck_assert_ptr_null(strstr(res.out, "enable_gvt=1"));
	ck_assert_ptr_null(strstr(res.out, "modprobe kvmgt"));
	/* one failure: the GPU itself */
	ck_assert_ptr_null(strstr(strstr(res.out, "FAIL") + 4, "FAIL"));
	assert_out_has(" failed, 3 for information: this GPU cannot do GVT-g; it can use SR-IOV "
		       "virtual functions (with the xe driver, or the i915 SR-IOV module) or be "
		       "passed whole to one VM (GVT-d), which gvtg-hook does not manage\n");

	run("check", "--json", NULL);
	struct json *j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	ck_assert_ptr_nonnull(strstr(json_str(j, "summary.instead"), "GVT-d"));
	json_free(j);

	/* an Ice Lake: GVT-d only */
	fakesys_write(fs, GPU_DIR "/device", "0x8a52\n");
	run("check", NULL);
	assert_out_has(": this GPU cannot do GVT-g; it can be passed whole to one VM (GVT-d), "
		       "which gvtg-hook does not manage\n");
}
END_TEST

#define FIX_REINSTALL "reinstall gvtg-hook (meson install): its module belongs in " GVTG_HOOK_DIR

/* The installed hook copied as the main hooks/qemu file (what older libvirt needs, and
 * what some guides say): found as ours, and its self-test decides.  A hook from before
 * --self-test finds its module beside it or in the directory it was built for. */
START_TEST(check_hook_copied)
{
	good_host();
	rm(REL(GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook"));
	fakesys_write(fs, REL(GVTG_HOOKS_DIR "/qemu"),
		      "#!/bin/sh\n"
		      "echo 'usage: gvtg-hook DOMAIN OPERATION SUB-OPERATION EXTRA < domain.xml' >&2\n"
		      "exit 2\n");
	char p[512];
	snprintf(p, sizeof(p), "%s%s/qemu", fakesys_root(fs), GVTG_HOOKS_DIR);
	ck_assert_int_eq(chmod(p, 0755), 0);
	run("check", NULL);
	assert_rc(1);
	assert_out_has("PASS  hook installed: " GVTG_HOOKS_DIR "/qemu\n"
		       "FAIL  hook " GVTG_HOOKS_DIR "/qemu cannot load its module: " GVTG_HOOK_DIR
		       "/gvtg-hook-core.so is missing: " FIX_REINSTALL "\n");
	fakesys_write(fs, REL(GVTG_HOOK_DIR "/gvtg-hook-core.so"), "\177ELF");
	run("check", NULL);
	assert_out_has("PASS  hook installed: " GVTG_HOOKS_DIR "/qemu\n"
		       "PASS  hook module " GVTG_HOOK_DIR "/gvtg-hook-core.so present (this hook "
		       "has no --self-test)\n");
	/* a hook with --self-test that passes: fine wherever it is */
	fakesys_write(fs, REL(GVTG_HOOKS_DIR "/qemu"),
		      "#!/bin/sh\n# usage: gvtg-hook DOMAIN OPERATION\n[ \"$1\" = --self-test ]\n");
	run("check", NULL);
	assert_out_has("PASS  hook installed: " GVTG_HOOKS_DIR "/qemu\n"
		       "PASS  hook " GVTG_HOOKS_DIR "/qemu loads its module and parses a domain "
		       "(--self-test)\n");
}
END_TEST

/* The registered hook reads another installation's configuration (its usage text says
 * which): a warning naming both; none when it is this gvtgctl's. */
/* An upgrade replaces the link in qemu.d while the daemon runs: the daemon found hooks
 * when it started (the directory, made by the first install, was there), so no restart
 * is asked for; a first install after the daemon started still asks for one. */
START_TEST(check_daemon_after_upgrade)
{
	if (!HOOK_IS_LINKED)
		return;
	good_host();
	struct timespec pause = { 1, 100 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	/* libvirtd started now (btime + 1000 ticks of 100 Hz), after qemu.d was made */
	char stat[256];
	snprintf(stat, sizeof(stat), "cpu 1\nbtime %lld\n", (long long)time(NULL) - 10);
	fakesys_write(fs, "proc/stat", stat);
	nanosleep(&pause, NULL);
	/* the upgrade: a new link in place of the old one */
	rm(REL(GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook"));
	ck_assert_int_eq(fakesys_symlink(fs, REL(GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook"),
					 GVTG_HOOK_PATH), 0);
	run("check", NULL);
	ck_assert_msg(strstr(res.out, "PASS  libvirtd (pid 4242) started after the hook was installed"),
		      "%s", res.out);

	/* the first install: qemu.d made after the daemon started */
	rm(REL(GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook"));
	rm(REL(GVTG_HOOKS_DIR "/qemu.d"));
	nanosleep(&pause, NULL);
	ck_assert_int_eq(fakesys_symlink(fs, REL(GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook"),
					 GVTG_HOOK_PATH), 0);
	run("check", NULL);
	ck_assert_msg(strstr(res.out, "WARN  libvirtd (pid 4242) started before the hook was installed"),
		      "%s", res.out);
}
END_TEST

START_TEST(check_config_in_effect)
{
	good_host();
	char p[512];
	snprintf(p, sizeof(p), "%s%s", fakesys_root(fs), GVTG_HOOK_PATH);
	static const char hook[] = "#!/bin/sh\n[ \"$1\" = --self-test ]\nexit $?\n"
				   "usage: gvtg-hook DOMAIN OPERATION SUB-OPERATION EXTRA\n"
				   "configuration: %s\n";
	char text[512];
	snprintf(text, sizeof(text), hook, "/opt/other/gvtg-hook.conf");
	fakesys_write(fs, REL(GVTG_HOOK_PATH), text);
	ck_assert_int_eq(chmod(p, 0755), 0);
	run("check", NULL);
	assert_rc(0);
	assert_out_has("WARN  the registered hook " GVTG_HOOK_PATH " reads /opt/other/gvtg-hook.conf, "
		       "not " GVTG_CONFIG_FILE ": another installation's configuration is the one "
		       "in effect: edit /opt/other/gvtg-hook.conf (the hook's), or uninstall the "
		       "installation you do not use\n");
	snprintf(text, sizeof(text), hook, GVTG_CONFIG_FILE);
	fakesys_write(fs, REL(GVTG_HOOK_PATH), text);
	ck_assert_int_eq(chmod(p, 0755), 0);
	run("check", NULL);
	ck_assert_ptr_null(strstr(res.out, "in effect"));
}
END_TEST

/* Run gvtgctl with its stdout on a pseudo-terminal; the output into res.out. */
static void run_on_tty(const char *no_color, const char *arg)
{
	const char *prog = getenv("GVTGCTL");
	int master, slave;
	ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(slave, STDOUT_FILENO);
		int null = open("/dev/null", O_RDWR);
		dup2(null, STDERR_FILENO);
		setenv("TERM", "xterm", 1);
		if (no_color)
			setenv("NO_COLOR", no_color, 1);
		else
			unsetenv("NO_COLOR");
		execl(prog, prog, "--root", fakesys_root(fs), arg, (char *)NULL);
		_exit(127);
	}
	close(slave);
	result_clear(&res);
	size_t len = 0;
	append(&res.out, &len, "", 0);
	char buf[4096];
	ssize_t n;
	while ((n = read(master, buf, sizeof(buf))) > 0)
		append(&res.out, &len, buf, (size_t)n);
	close(master);
	int st;
	waitpid(pid, &st, 0);
	res.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(check_colour_on_terminal_only)
{
	good_host();
	run_on_tty(NULL, "check");
	assert_rc(0);
	assert_out_has("\033[32mPASS\033[0m  module kvmgt loaded");
	run_on_tty("1", "check");
	assert_rc(0);
	ck_assert_ptr_null(strchr(res.out, '\033'));
	assert_out_has("PASS  module kvmgt loaded");
	run("check", NULL);
	ck_assert_ptr_null(strchr(res.out, '\033'));
}
END_TEST

struct broken {
	const char *name;
	void (*breaks)(void);
	const char *line;       /* the one line that differs from the good host's */
	int rc;
	bool hook_gone;         /* the hook cannot be run: no self-test line */
};

static void rm(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", fakesys_root(fs), rel);
	/* a file, an empty directory, or a directory of files */
	if (unlink(p) == 0 || rmdir(p) == 0)
		return;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
	ck_assert_int_eq(system(cmd), 0);
}

static void no_igpu(void)
{
	fakesys_write(fs, GPU_DIR "/vendor", "0x1002\n");
}
static void tiger_lake(void)
{
	fakesys_write(fs, GPU_DIR "/device", "0x9a49\n");
}
static void ice_lake(void)
{
	fakesys_write(fs, GPU_DIR "/device", "0x8a52\n");
}
static void gemini_lake(void)
{
	fakesys_write(fs, GPU_DIR "/device", "0x3185\n");
}
static void haswell(void)
{
	fakesys_write(fs, GPU_DIR "/device", "0x0416\n");
}
static void unknown_id(void)
{
	fakesys_write(fs, GPU_DIR "/device", "0x1234\n");
}
static void skylake(void)
{
	fakesys_write(fs, GPU_DIR "/device", "0x1912\n");
}
static void gvt_off(void)
{
	fakesys_write(fs, "sys/module/i915/parameters/enable_gvt", "N\n");
}
static void no_gvt_param(void)
{
	rm("sys/module/i915/parameters/enable_gvt");
}
static void guc_on(void)
{
	fakesys_write(fs, "sys/module/i915/parameters/enable_guc", "2\n");
}
static void guc_auto(void)
{
	fakesys_write(fs, "sys/module/i915/parameters/enable_guc", "-1\n");
}
static void no_kvmgt(void)
{
	rm("sys/module/kvmgt");
}
static void no_vfio(void)
{
	rm("sys/module/vfio");
}
static void no_mdev(void)
{
	rm("sys/module/mdev");
}
static void vfio_mdev(void)
{
	rm("sys/module/mdev");
	fakesys_write(fs, "sys/module/vfio_mdev/refcnt", "0\n");
}
static void no_iommu(void)
{
	rm("sys/class/iommu/dmar0");
}
static void iommu_cmdline(void)
{
	rm("sys/class/iommu/dmar0");
	fakesys_write(fs, "proc/cmdline", "root=/dev/sda1 intel_iommu=on,sm_on i915.enable_gvt=1\n");
}
static void no_vfio_node(void)
{
	rm("dev/vfio/vfio");
}
static void no_types(void)
{
	rm(TYPES);
	fakesys_write(fs, TYPES "/.keep", "");
}
static void small_types(void)
{
	rm(TYPES "/i915-GVTg_V5_1");
	rm(TYPES "/i915-GVTg_V5_2");
}
static void no_hook(void)
{
	rm(REL(GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook"));
}
static void hook_not_executable(void)
{
	char p[512];
	snprintf(p, sizeof(p), "%s%s", fakesys_root(fs), GVTG_HOOK_PATH);
	ck_assert_int_eq(chmod(p, 0644), 0);
}
static void hook_dangling(void)
{
	rm(REL(GVTG_HOOK_PATH));
	if (!HOOK_IS_LINKED)
		fakesys_symlink(fs, REL(GVTG_HOOK_PATH), "/usr/sbin/gvtg-hook");
}
static void hook_main_file(void)
{
	no_hook();
	fakesys_symlink(fs, REL(GVTG_HOOKS_DIR "/qemu"), GVTG_HOOK_PATH);
}
static void hook_other_main_file(void)
{
	no_hook();
	fakesys_write(fs, REL(GVTG_HOOKS_DIR "/qemu"), "#!/bin/sh\n");
}
static void daemon_older(void)
{
	fakesys_write(fs, "proc/stat", "cpu 1\nbtime 1000\n");
}
static void virtqemud_older(void)
{
	daemon_older();
	rm("run/libvirtd.pid");
	fakesys_write(fs, "run/virtqemud.pid", "4242\n");
}
static void no_daemon(void)
{
	rm("proc/4242");
}
static void bad_config(void)
{
	fakesys_write(fs, REL(GVTG_CONFIG_FILE), "[hook]\nrelease = sometimes\n");
}
static void good_config(void)
{
	fakesys_write(fs, REL(GVTG_CONFIG_FILE), "[hook]\nrelease = keep\n");
}

static void hook_script(const char *body)
{
	char p[512], text[512];
	snprintf(text, sizeof(text), "#!/bin/sh\n%s", body);
	fakesys_write(fs, REL(GVTG_HOOK_PATH), text);
	snprintf(p, sizeof(p), "%s%s", fakesys_root(fs), GVTG_HOOK_PATH);
	ck_assert_int_eq(chmod(p, 0755), 0);
}
static void hook_self_test_fails(void)
{
	/* what a hook prints when its module is not where it looks */
	hook_script("[ \"$1\" = --self-test ] || exit 9\n"
		    "[ -n \"$GVTG_ROOT\" ] || exit 8\n"
		    "echo 'gvtg-hook: loading gvtg-hook-core.so: No such file or directory' >&2\n"
		    "exit 1\n");
}
static void old_hook(void)
{
	hook_script("echo 'usage: gvtg-hook DOMAIN OPERATION SUB-OPERATION EXTRA < domain.xml' >&2\n"
		    "exit 2\n");
}
static void old_hook_with_module(void)
{
	old_hook();
	fakesys_write(fs, REL(GVTG_HOOK_DIR "/gvtg-hook-core.so"), "\177ELF");
}
static void hook_hangs(void)
{
	hook_script("exec sleep 30\n");
}

static const struct broken broken_hosts[] = {
	{ "hook fails its self-test", hook_self_test_fails,
	  "FAIL  hook " GVTG_HOOK_PATH " fails its self-test (exit 1): gvtg-hook: loading "
	  "gvtg-hook-core.so: No such file or directory: " FIX_REINSTALL, 1, false },
	{ "hook without --self-test, no module", old_hook,
	  "FAIL  hook " GVTG_HOOK_PATH " cannot load its module: " GVTG_HOOK_DIR
	  "/gvtg-hook-core.so is missing: " FIX_REINSTALL, 1, false },
	{ "hook without --self-test, module beside it", old_hook_with_module,
	  "PASS  hook module " GVTG_HOOK_DIR "/gvtg-hook-core.so present (this hook has no "
	  "--self-test)", 0, false },
	{ "hook self-test hangs", hook_hangs,
	  "FAIL  hook " GVTG_HOOK_PATH " --self-test did not finish within 5 s: " FIX_REINSTALL, 1, false },
	{ "no iGPU", no_igpu,
	  "FAIL  no Intel integrated GPU at 0000:00:02.0: GVT-g needs the integrated GPU of an "
	  "Intel Core CPU from Broadwell to Comet Lake (5th to 10th generation)", 1, false },
	{ "Tiger Lake", tiger_lake,
	  "FAIL  Intel iGPU at 0000:00:02.0 (0x9a49, Tiger Lake): GVT-g is not supported on this "
	  "generation; use SR-IOV", 1, false },
	{ "Ice Lake", ice_lake,
	  "FAIL  Intel iGPU at 0000:00:02.0 (0x8a52, Ice Lake): GVT-g is not supported on this "
	  "generation; only GVT-d (passing the whole GPU to one VM) works", 1, false },
	{ "Gemini Lake", gemini_lake,
	  "FAIL  Intel iGPU at 0000:00:02.0 (0x3185, Gemini Lake): GVT-g is not supported on "
	  "Atom/Pentium Silver/Celeron iGPUs; it needs a Core CPU from Broadwell to Comet Lake", 1, false },
	{ "Haswell", haswell,
	  "FAIL  Intel iGPU at 0000:00:02.0 (0x0416, Haswell) is older than GVT-g: GVT-g needs "
	  "Broadwell (5th generation) or newer, up to Comet Lake", 1, false },
	{ "unknown ID", unknown_id,
	  "WARN  Intel iGPU at 0000:00:02.0 has the unknown device ID 0x1234: cannot tell whether "
	  "GVT-g supports it: GVT-g covers Broadwell to Comet Lake only", 0, false },
	{ "Skylake", skylake,
	  "PASS  Intel iGPU at 0000:00:02.0 (0x1912, Skylake) supports GVT-g", 0, false },
	{ "enable_gvt=N", gvt_off,
	  "FAIL  GVT-g not enabled in i915 (enable_gvt is N): add i915.enable_gvt=1 to the kernel "
	  "command line and reboot", 1, false },
	{ "no enable_gvt", no_gvt_param,
	  "FAIL  i915 has no enable_gvt parameter (i915 not loaded, or built without GVT-g): add "
	  "i915.enable_gvt=1 to the kernel command line and reboot", 1, false },
	{ "GuC on", guc_on,
	  "WARN  GuC firmware loading on (i915.enable_guc=2): add i915.enable_guc=0 to the kernel "
	  "command line: GVT-g does not work with GuC submission", 0, false },
	{ "GuC auto", guc_auto, "PASS  GuC firmware loading off (i915.enable_guc=-1)", 0, false },
	{ "no kvmgt", no_kvmgt,
	  "FAIL  module kvmgt not loaded: modprobe kvmgt, and add it to /etc/modules-load.d/ to "
	  "load it at boot", 1, false },
	{ "no vfio", no_vfio, "FAIL  module vfio not loaded: modprobe vfio vfio_iommu_type1", 1, false },
	{ "no mdev", no_mdev,
	  "FAIL  module mdev (or vfio_mdev) not loaded: modprobe mdev (vfio_mdev before Linux "
	  "5.16)", 1, false },
	{ "vfio_mdev", vfio_mdev, "PASS  module vfio_mdev loaded", 0, false },
	{ "no IOMMU", no_iommu,
	  "FAIL  IOMMU not enabled: add intel_iommu=on to the kernel command line and reboot", 1, false },
	{ "IOMMU on the command line", iommu_cmdline, "PASS  IOMMU enabled (intel_iommu=on)", 0, false },
	{ "no /dev/vfio/vfio", no_vfio_node,
	  "FAIL  /dev/vfio/vfio missing: modprobe vfio; the device node comes with it", 1, false },
	{ "no types", no_types,
	  "FAIL  0000:00:02.0 offers no vGPU types: enable GVT-g (i915.enable_gvt=1, module "
	  "kvmgt); if it is on, the graphics aperture is too small: raise it in the firmware "
	  "setup", 1, false },
	{ "small aperture", small_types,
	  "WARN  0000:00:02.0 offers only small vGPU types (largest i915-GVTg_V5_4, 128 MB "
	  "aperture): the graphics aperture set in the firmware is small; raise it (512 MB or "
	  "more) in the firmware setup for larger types", 0, false },
	{ "no hook", no_hook,
	  "FAIL  hook not installed where libvirt looks (" GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook): "
	  "install gvtg-hook (meson install), or ln -s " GVTG_HOOK_PATH " " GVTG_HOOKS_DIR
	  "/qemu.d/50-gvtg-hook", 1, true },
	{ "hook not executable", hook_not_executable,
	  "FAIL  hook " GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook is not executable: libvirt skips it: "
	  "chmod 755 " GVTG_HOOK_PATH, 1, true },
	{ "hook dangling", hook_dangling,
	  "FAIL  hook " GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook points to a missing file (No such "
	  "file or directory): reinstall gvtg-hook", 1, true },
	{ "hook as hooks/qemu", hook_main_file, "PASS  hook installed: " GVTG_HOOKS_DIR "/qemu", 0, false },
	{ "another hooks/qemu", hook_other_main_file,
	  "FAIL  hook not installed where libvirt looks (" GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook): "
	  "install gvtg-hook (meson install), or ln -s " GVTG_HOOK_PATH " " GVTG_HOOKS_DIR
	  "/qemu.d/50-gvtg-hook", 1, true },
	{ "libvirtd older than the hook", daemon_older,
	  "WARN  libvirtd (pid 4242) started before the hook was installed: restart libvirtd: it "
	  "looks for hooks only when it starts", 0, false },
	{ "virtqemud older than the hook", virtqemud_older,
	  "WARN  virtqemud (pid 4242) started before the hook was installed: restart virtqemud: "
	  "it looks for hooks only when it starts", 0, false },
	{ "no daemon", no_daemon,
	  "INFO  no libvirt daemon running: it finds the hook when it starts", 0, false },
	{ "bad configuration", bad_config,
	  "FAIL  configuration " GVTG_CONFIG_FILE ", line 2: release must be 'remove' or 'keep', "
	  "not 'sometimes': fix the file (see gvtg-hook.conf(5))", 1, false },
	{ "configuration", good_config, "PASS  configuration " GVTG_CONFIG_FILE " valid", 0, false },
};

/* Every line but one is the good host's (or an INFO); that one is exactly the expected
 * line. */
START_TEST(check_broken_host)
{
	const struct broken *b = &broken_hosts[_i];
	/* A hooks/qemu linked to the executable: only where the executable is not the file
	 * in qemu.d itself. */
	if (!HOOK_IS_LINKED && b->breaks == hook_main_file)
		return;
	good_host();
	b->breaks();
	run("check", NULL);
	ck_assert_msg(res.rc == b->rc, "%s: exit %d, expected %d:\n%s", b->name, res.rc, b->rc,
		      res.out);
	ck_assert_str_eq(res.err, "");

	char *got = strdup(res.out), *want = strdup(good_check);
	/* the summary is checked on its own */
	char *sum = strstr(got, "\n\n");
	ck_assert_msg(sum, "%s: no summary line:\n%s", b->name, res.out);
	sum[1] = '\0';
	*strstr(want, "\n\n") = '\0';
	char *gs = NULL, *ws = NULL;
	int differing = 0;
	char *g = strtok_r(got, "\n", &gs), *w = strtok_r(want, "\n", &ws);
	for (; g && w; g = strtok_r(NULL, "\n", &gs), w = strtok_r(NULL, "\n", &ws)) {
		if (!strcmp(g, w))
			continue;
		/* a hook that cannot run is not run */
		if (!strcmp(w, SELF_TEST_PASS) && b->hook_gone) {
			w = strtok_r(NULL, "\n", &ws);
			if (w && !strcmp(g, w))
				continue;
		}
		/* a check that cannot judge without the broken part says so, and that is
		 * not a second failure */
		if (!strncmp(g, "INFO  ", 6) && strcmp(g, b->line) != 0)
			continue;
		differing++;
		ck_assert_msg(!strcmp(g, b->line), "%s: got\n  %s\nexpected\n  %s", b->name, g,
			      b->line);
	}
	ck_assert_msg(!g && !w, "%s: a different number of lines:\n%s", b->name, res.out);
	ck_assert_msg(differing == 1, "%s: %d lines differ:\n%s", b->name, differing, res.out);
	free(got);
	free(want);
}
END_TEST

/* ---- xml --------------------------------------------------------------------------- */

static void assert_well_formed(const char *snippet)
{
	char *doc;
	ck_assert_int_ge(asprintf(&doc,
				  "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
				  "%s</domain>",
				  snippet),
			 0);
	xmlDocPtr d = xmlReadMemory(doc, (int)strlen(doc), "xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	ck_assert_msg(d, "not well-formed:\n%s", snippet);
	xmlFreeDoc(d);
	free(doc);
}

/* The block the README shows: metadata with parent and type, the hostdev. */
static const char xml_readme[] =
	"<metadata>\n"
	"  <gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'>\n"
	"    <gvtg:device uuid='" UA "' parent='" GPU "' type='" T4 "'/>\n"
	"  </gvtg:vgpu>\n"
	"</metadata>\n"
	"<devices>\n"
	"  <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>\n"
	"    <source>\n"
	"      <address uuid='" UA "'/>\n"
	"    </source>\n"
	"  </hostdev>\n"
	"</devices>\n";

START_TEST(xml_plain)
{
	fakesys_gvt_host(fs);
	run("xml", "--parent", GPU, "--type", T4, UA, NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, xml_readme);
	ck_assert_str_eq(res.err, "");
	assert_well_formed(res.out);
	/* the only parent is pinned too when only the type is named */
	run("xml", "--type", T4, "--display=off", UA, NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, xml_readme);

	/* the metadata element is what the hook reads */
	char *dom;
	ck_assert_int_ge(asprintf(&dom, "<domain><name>x</name><uuid>" DOM_UUID "</uuid>%s</domain>",
				  res.out),
			 0);
	struct gvtg_domain *d;
	ck_assert_int_eq(gvtg_domain_parse(dom, strlen(dom), &d), 0);
	ck_assert_int_eq(d->n_meta, 1);
	ck_assert_str_eq(d->meta[0].uuid, UA);
	ck_assert_str_eq(d->meta[0].parent, GPU);
	ck_assert_str_eq(d->meta[0].type, T4);
	ck_assert_int_eq(d->n_hostdevs, 1);
	ck_assert_str_eq(d->hostdevs[0].uuid, UA);
	gvtg_domain_free(d);
	free(dom);
}
END_TEST

START_TEST(xml_displays)
{
	fakesys_gvt_host(fs);
	run("xml", "--display=spice", "--type", T4, UA, NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out,
		"<metadata>\n"
		"  <gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'>\n"
		"    <gvtg:device uuid='" UA "' parent='" GPU "' type='" T4 "'/>\n"
		"  </gvtg:vgpu>\n"
		"</metadata>\n"
		"<devices>\n"
		"  <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='on'>\n"
		"    <source>\n"
		"      <address uuid='" UA "'/>\n"
		"    </source>\n"
		"    <alias name='ua-gvtg-aaaaaaaa'/>\n"
		"  </hostdev>\n"
		"  <!-- instead of the domain's own <graphics> and <video> -->\n"
		"  <graphics type='spice'>\n"
		"    <listen type='none'/>\n"
		"    <gl enable='yes'/>\n"
		"  </graphics>\n"
		"  <video>\n"
		"    <model type='none'/>\n"
		"  </video>\n"
		"</devices>\n"
		"<qemu:override xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
		"  <qemu:device alias='ua-gvtg-aaaaaaaa'>\n"
		"    <qemu:frontend>\n"
		"      <qemu:property name='x-igd-opregion' type='bool' value='true'/>\n"
		"    </qemu:frontend>\n"
		"  </qemu:device>\n"
		"</qemu:override>\n");
	assert_well_formed(res.out);

	run("xml", "--display", "gtk", "--ramfb", "--romfile", "/var/lib/libvirt/a&b's.rom",
	    "--type", T4, UA, NULL);
	assert_rc(0);
	assert_out_has("display='off'>");
	assert_out_has("<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
		       "  <qemu:arg value='-display'/>\n"
		       "  <qemu:arg value='gtk,gl=on,zoom-to-fit=off'/>\n"
		       "  <qemu:env name='DISPLAY' value=':0'/>\n</qemu:commandline>\n");
	assert_out_has("      <qemu:property name='display' type='string' value='on'/>\n"
		       "      <qemu:property name='x-igd-opregion' type='bool' value='true'/>\n"
		       "      <qemu:property name='driver' type='string' value='vfio-pci-nohotplug'/>\n"
		       "      <qemu:property name='ramfb' type='bool' value='true'/>\n"
		       "      <qemu:property name='romfile' type='string' "
		       "value='/var/lib/libvirt/a&amp;b&apos;s.rom'/>\n");
	ck_assert_ptr_null(strstr(res.out, "<graphics type"));
	assert_well_formed(res.out);

	/* RAMFB alone turns the vGPU's display on */
	run("xml", "--ramfb", "--type", T8, UA, NULL);
	assert_rc(0);
	assert_out_has("display='on'>");
	assert_out_has("name='ramfb' type='bool' value='true'");
	assert_well_formed(res.out);
}
END_TEST

START_TEST(xml_pins_resolved_choice)
{
	fakesys_gvt_host(fs);
	fakesys_write(fs, CONF, "[defaults]\ntype = " T8 "\n");
	run("--config", "/" CONF, "xml", UA, NULL);
	assert_rc(0);
	assert_out_has("<gvtg:device uuid='" UA "' parent='" GPU "' type='" T8 "'/>");
	/* no UUID: a new one, the same in the metadata and the hostdev */
	run("xml", "--type", T4, NULL);
	assert_rc(0);
	const char *u = strstr(res.out, "<address uuid='");
	ck_assert_ptr_nonnull(u);
	char uuid[GVTG_UUID_STRLEN + 1], norm[GVTG_UUID_STRLEN + 1], meta[128];
	memcpy(uuid, u + 15, GVTG_UUID_STRLEN);
	uuid[GVTG_UUID_STRLEN] = '\0';
	ck_assert_int_eq(gvtg_uuid_normalize(uuid, norm), 0);
	snprintf(meta, sizeof(meta), "<gvtg:device uuid='%s' parent='" GPU "'", uuid);
	assert_out_has(meta);
}
END_TEST

/* Never metadata the hook would refuse: no type, a type or parent the host lacks. */
START_TEST(xml_refusals)
{
	fakesys_gvt_host(fs);
	run("xml", UA, NULL);
	assert_rc(1);
	ck_assert_str_eq(res.out, "");
	/* in the diagnosis table's words; the UUID gvtgctl made up is not named */
	ck_assert_str_eq(res.err,
			 "gvtgctl: writing the domain XML of vGPU " UA ": parent 0000:00:02.0 has several types and "
			 "none is chosen: i915-GVTg_V5_1 (1920x1200, 1 left), i915-GVTg_V5_2 "
			 "(1920x1200, 2 left), i915-GVTg_V5_4 (1920x1200, 2 left), i915-GVTg_V5_8 "
			 "(1024x768, 2 left). Set type= in the domain metadata (gvtgctl xml), pass "
			 "--type to gvtgctl, or set type= in " GVTG_CONFIG_FILE " [defaults]\n");
	run("xml", NULL);
	assert_rc(1);
	assert_err_has("gvtgctl: writing the domain XML of a vGPU: parent 0000:00:02.0 has several types");
	run("xml", "--type", "GVTg_V5_4", UA, NULL);
	assert_rc(1);
	ck_assert_str_eq(res.out, "");
	assert_err_has("gvtgctl: writing the domain XML of vGPU " UA ": parent 0000:00:02.0 has no type 'GVTg_V5_4' "
		       "(from the command line). Did you mean 'i915-GVTg_V5_4'? Choose one of its "
		       "types: ");
	run("xml", "--type", "i915-GVTg_V5_3", "--parent", GPU, UA, NULL);
	assert_rc(1);
	assert_err_has("parent 0000:00:02.0 has no type 'i915-GVTg_V5_3' (from the command line). "
		       "Choose one of its types: i915-GVTg_V5_1 (1920x1200, 1 left)");
	/* with a second parent, a type neither has is still named as a type */
	fakesys_add_parent(fs, "mtty");
	fakesys_add_type(fs, "mtty", "mtty-1", "Single port serial", "vfio-pci", NULL, 24);
	run("xml", "--type", "GVTg_V5_8", UA, NULL);
	assert_rc(1);
	assert_err_has("parent 0000:00:02.0 has no type 'GVTg_V5_8' (from the command line). Did "
		       "you mean 'i915-GVTg_V5_8'?");
	rm("sys/class/mdev_bus/mtty");
	run("xml", "--type", T4, "--parent", "0000:00:09.9", UA, NULL);
	assert_rc(1);
	ck_assert_str_eq(res.out, "");
	assert_err_has("mdev parent '0000:00:09.9' (from the command line) is not registered: "
		       "GVT-g is not enabled on it or the PCI address is wrong. Name a registered "
		       "parent: 0000:00:02.0");
	/* a type from the configuration that the host lacks names the file's part */
	fakesys_write(fs, CONF, "[defaults]\ntype = i915-GVTg_V5_16\n");
	run("--config", "/" CONF, "xml", UA, NULL);
	assert_rc(1);
	assert_err_has("has no type 'i915-GVTg_V5_16' (from the configuration [defaults])");
	/* no GVT-g at all */
	fakesys_free(fs);
	fs = fakesys_new();
	run("xml", "--type", T4, UA, NULL);
	assert_rc(1);
	assert_err_has("no mdev parent device is registered on this host");
}
END_TEST

START_TEST(xml_usage)
{
	run("xml", "--display=vnc", UA, NULL);
	assert_rc(2);
	assert_err_has("--display is off, gtk or spice, not 'vnc'");
	run("xml", "--romfile", "vbios.rom", UA, NULL);
	assert_rc(2);
	assert_err_has("--romfile needs an absolute path");
	run("xml", "nope", NULL);
	assert_rc(2);
	ck_assert_str_eq(res.out, "");
	run("xml", "--type", "../x", UA, NULL);
	assert_rc(1);
	assert_err_has("the parent or type '../x' (from the command line) is not a valid sysfs name");
}
END_TEST

/* ---- boot, sleep ------------------------------------------------------------------- */

START_TEST(boot_creates_configured)
{
	fakesys_gvt_host(fs);
	ck_assert_int_eq(fakesys_add_device(fs, GPU, T8, UB), 0);
	fakesys_write(fs, CONF,
		      "[defaults]\ntype = " T4 "\n"
		      "[" UA "]\nboot = yes\n"
		      "[" UB "]\nboot = yes\ntype = " T8 "\n"
		      "[" UC "]\ntype = " T8 "\n");
	run("--config", "/" CONF, "boot", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "created boot vGPU " UA " (" GPU " " T4 ")\n");
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), UA);
	ck_assert_str_eq(file(TYPES "/" T8 "/create"), ""); /* UB exists; UC is not boot */
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "origin=boot\n"));
	ck_assert(!has_record(UB));

	/* one that cannot be placed fails the run, and what the run made goes again: a
	 * failed unit never runs its ExecStop, so it must leave nothing behind */
	fakesys_write(fs, TYPES "/" T4 "/create", "");
	rm(STATE "/" UA);
	fakesys_write(fs, CONF,
		      "[" UC "]\nboot = yes\ntype = " T8 "\n"
		      "[" UA "]\nboot = yes\ntype = i915-GVTg_V5_3\n");
	run("--config", "/" CONF, "boot", NULL);
	assert_rc(1);
	assert_err_has("creating boot vGPU " UA ": parent 0000:00:02.0 has no type "
		       "'i915-GVTg_V5_3' (from the configuration [uuid] section)");
	ck_assert_str_eq(file(TYPES "/" T8 "/create"), UC);
	ck_assert_str_eq(res.out, "created boot vGPU " UC " (" GPU " " T8 ")\n"
				  "removed boot vGPU " UC " again: another boot vGPU failed\n");
	ck_assert(!has_record(UC));

	/* a parent that has not registered yet is waited for, not a failure */
	fakesys_write(fs, TYPES "/" T8 "/create", "");
	fakesys_write(fs, CONF,
		      "[" UA "]\nboot = yes\nparent = 0000:00:03.0\ntype = " T4 "\n"
		      "[" UC "]\nboot = yes\ntype = " T8 "\n");
	run("--config", "/" CONF, "boot", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "skipped boot vGPU " UA ": parent 0000:00:03.0 is not "
				  "registered yet\n"
				  "created boot vGPU " UC " (" GPU " " T8 ")\n");
	ck_assert_str_eq(res.err, "");
}
END_TEST

START_TEST(boot_stop_removes_idle)
{
	fakesys_gvt_host(fs);
	const char *uuids[] = { UA, UB, UC };
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(fakesys_add_device(fs, GPU, T4, uuids[i]), 0);
	write_record(UA, "boot", NULL, NULL);
	write_record(UB, "boot", "win10", DOM_UUID);
	write_record(UC, "manual", NULL, NULL);
	run("boot", "--stop", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "removed boot vGPU " UA "\n"
				  "kept boot vGPU " UB ": domain 'win10' holds it\n");
	ck_assert_str_eq(file(GPU_DIR "/" UA "/remove"), "1");
	ck_assert_str_eq(file(GPU_DIR "/" UB "/remove"), "");
	ck_assert_str_eq(file(GPU_DIR "/" UC "/remove"), "");
	ck_assert(!has_record(UA));
	ck_assert(has_record(UB));
	ck_assert(has_record(UC));
}
END_TEST

START_TEST(sleep_off_does_nothing)
{
	gvt_host_with_vgpus();
	run("sleep", "pre", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "");
	ck_assert_str_eq(file(GPU_DIR "/" UB "/remove"), "");
	ck_assert(!fakesys_exists(fs, STATE "/sleep"));
	run("sleep", "post", NULL);
	assert_rc(0);
	run("sleep", "later", NULL);
	assert_rc(2);
}
END_TEST

/* The sleep list's bookkeeping: a damaged line is named and skipped, the others come
 * back; 'post' with remove_idle switched off still brings back a pending list; boot
 * --stop between 'pre' and 'post' keeps the record of a boot vGPU removed for suspend. */
START_TEST(sleep_list_bookkeeping)
{
	gvt_host_with_vgpus(); /* UA held by win10, UB manual and idle */
	write_record(UC, "boot", NULL, NULL);
	fakesys_write(fs, CONF, "[sleep]\nremove_idle = yes\n");
	fakesys_write(fs, STATE "/sleep",
		      UB " " GPU " " T4 "\n" "cut-short-line\n" UC " " GPU " " T8 "\n");
	rm("sys/bus/mdev/devices/" UB);
	rm(GPU_DIR "/" UB);
	/* UB and UC are gone for suspend: boot --stop leaves UC's record to 'post' */
	run("boot", "--stop", NULL);
	assert_rc(0);
	ck_assert(has_record(UC));
	run("--config", "/" CONF, "sleep", "post", NULL);
	assert_rc(0);
	assert_err_has("line 2 of the list /" STATE "/sleep of vGPUs removed for a suspend is "
		       "damaged: skipped, the other lines are handled");
	ck_assert_str_eq(res.out, "created vGPU " UB " again after resume\n"
				  "created vGPU " UC " again after resume\n");
	ck_assert(!fakesys_exists(fs, STATE "/sleep"));
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UC), "origin=boot\n"));

	/* remove_idle switched off between 'pre' and 'post': what 'pre' took comes back */
	fakesys_write(fs, STATE "/sleep", UB " " GPU " " T4 "\n");
	fakesys_write(fs, TYPES "/" T4 "/create", "");
	run("sleep", "post", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "created vGPU " UB " again after resume\n");
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), UB);
}
END_TEST

START_TEST(sleep_removes_and_recreates)
{
	gvt_host_with_vgpus(); /* UA held by win10, UB manual and idle */
	ck_assert_int_eq(fakesys_add_device(fs, GPU, T8, UC), 0); /* no record: not ours */
	fakesys_write(fs, CONF, "[sleep]\nremove_idle = yes\n");
	run("--config", "/" CONF, "sleep", "pre", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "removed idle vGPU " UB " for suspend\n");
	ck_assert_str_eq(file(GPU_DIR "/" UA "/remove"), "");
	ck_assert_str_eq(file(GPU_DIR "/" UB "/remove"), "1");
	ck_assert_str_eq(file(GPU_DIR "/" UC "/remove"), "");
	ck_assert_ptr_nonnull(strstr(file(STATE "/sleep"), UB " " GPU " " T4 "\n"));
	ck_assert(has_record(UB)); /* it comes back as it was */

	/* what the kernel did: UB is gone */
	rm("sys/bus/mdev/devices/" UB);
	rm(GPU_DIR "/" UB);
	run("--config", "/" CONF, "sleep", "post", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "created vGPU " UB " again after resume\n");
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), UB);
	ck_assert(!fakesys_exists(fs, STATE "/sleep"));
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UB), "origin=manual\n"));
}
END_TEST

START_TEST(sleep_post_keeps_failures)
{
	fakesys_gvt_host(fs);
	fakesys_write(fs, CONF, "[sleep]\nremove_idle = yes\n");
	fakesys_write(fs, STATE "/sleep", UA " " GPU " i915-GVTg_V5_3\n" UB " " GPU " " T4 "\n");
	run("--config", "/" CONF, "sleep", "post", NULL);
	assert_rc(1);
	assert_err_has("creating vGPU " UA " again after resume: the kernel has no type "
		       "i915-GVTg_V5_3 on " GPU " (ENOENT)");
	ck_assert_str_eq(file(TYPES "/" T4 "/create"), UB);
	const char *left = file(STATE "/sleep");
	ck_assert_ptr_nonnull(left);
	ck_assert_ptr_nonnull(strstr(left, UA " " GPU " i915-GVTg_V5_3\n"));
	ck_assert_ptr_null(strstr(left, UB));
}
END_TEST

/* ---- global options ---------------------------------------------------------------- */

/* Each command's --help (and 'gvtgctl help COMMAND') is its own synopsis and options. */
static const char *const help_cmds[][2] = {
	{ "list", "usage: gvtgctl list [--uuid UUID] [--parent PARENT] [--defined] [--json]\n" },
	{ "types", "usage: gvtgctl types [PARENT] [--json]\n" },
	{ "create", "usage: gvtgctl create [--parent PARENT] [--type TYPE] [UUID]\n" },
	{ "remove", "usage: gvtgctl remove [-f|--force] UUID\n" },
	{ "check", "usage: gvtgctl check [--json]\n" },
	{ "config", "usage: gvtgctl config [--json]\n" },
	{ "metrics", "usage: gvtgctl metrics [--output FILE]\n" },
	{ "attach", "usage: gvtgctl attach DOMAIN [--type TYPE] [--parent PARENT] [--uuid UUID]\n" },
	{ "detach", "usage: gvtgctl detach DOMAIN [UUID] [--dry-run] [--connect URI]\n" },
	{ "xml", "usage: gvtgctl xml [UUID] [--type TYPE] [--parent PARENT] " },
	{ "boot", "usage: gvtgctl boot [--stop]\n" },
	{ "sleep", "usage: gvtgctl sleep pre|post\n" },
	{ "help", "usage: gvtgctl help [COMMAND]\n" },
};

START_TEST(command_help)
{
	const char *cmd = help_cmds[_i][0], *want = help_cmds[_i][1];
	run(cmd, "--help", NULL);
	assert_rc(0);
	ck_assert_msg(!strncmp(res.out, want, strlen(want)), "%s --help:\n%s", cmd, res.out);
	char *first = strdup(res.out);
	run("help", cmd, NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, first);
	free(first);
}
END_TEST

START_TEST(help_details)
{
	run("remove", "--help", NULL);
	assert_out_has("  -f, --force ");
	run("attach", "--help", NULL);
	assert_out_has("  --connect URI ");
	assert_out_has("  --dry-run ");
	run("help", NULL);
	assert_rc(0);
	assert_out_has("usage: gvtgctl [--root DIR] [--config FILE] [--json] [--verbose] COMMAND");
	assert_out_has("  attach   give a defined domain a vGPU");
	/* the built-in configuration path, as the admin's build has it */
	assert_out_has("(default " GVTG_CONFIG_FILE ")");
	/* --json before the command, as gvtgctl(8) says; refused where it means nothing */
	fakesys_gvt_host(fs);
	run("--json", "types", NULL);
	assert_rc(0);
	struct json *j = json_parse(res.out);
	ck_assert_msg(j, "not JSON:\n%s", res.out);
	json_free(j);
	run("--json", "create", NULL);
	assert_rc(2);
	assert_err_has("--json is for list, types, check, config and define, not create");
}
END_TEST

/* attach and detach refuse a session daemon before anything else; their usage. */
START_TEST(attach_refusals)
{
	fakesys_gvt_host(fs);
	run("attach", "win10", "--type", T4, "--connect", "qemu:///session", NULL);
	assert_rc(1);
	assert_err_has("gvtgctl: attaching a vGPU to win10, qemu:///session: the hook cannot "
		       "create vGPUs for a session daemon");
	setenv("LIBVIRT_DEFAULT_URI", "qemu:///session", 1);
	run("detach", "win10", NULL);
	unsetenv("LIBVIRT_DEFAULT_URI");
	assert_rc(1);
	assert_err_has("detaching a vGPU from win10, qemu:///session:");
	run("attach", NULL);
	assert_rc(2);
	assert_err_has("attach needs a DOMAIN");
	run("attach", "win10", "--uuid", "nope", NULL);
	assert_rc(2);
	run("detach", "win10", UA, "extra", NULL);
	assert_rc(2);
	run("attach", "win10", "--display=vnc", NULL);
	assert_rc(2);
}
END_TEST

START_TEST(usage_and_version)
{
	run(NULL);
	assert_rc(2);
	assert_err_has("gvtgctl: no command given. See 'gvtgctl --help'");
	run("frobnicate", NULL);
	assert_rc(2);
	ck_assert_str_eq(res.err, "gvtgctl: unknown command 'frobnicate'. See 'gvtgctl --help'\n");
	run("lsit", NULL);
	assert_rc(2);
	ck_assert_str_eq(res.err, "gvtgctl: unknown command 'lsit' (did you mean 'list'?). See "
				  "'gvtgctl --help'\n");
	run("help", "atach", NULL);
	assert_rc(2);
	assert_err_has("(did you mean 'attach'?)");
	run("list", "--frob", NULL);
	assert_rc(2);
	assert_err_has("'--frob'");
	run("list", "--jsno", NULL);
	assert_rc(2);
	ck_assert_str_eq(res.err, "gvtgctl: unknown option '--jsno' (did you mean '--json'?). See "
				  "'gvtgctl --help'\n");
	run("xml", "--type", NULL);
	assert_rc(2);
	assert_err_has("gvtgctl: option '--type' needs an argument.");
	run("--help", NULL);
	assert_rc(0);
	assert_out_has("usage: gvtgctl");
	run("list", "--help", NULL);
	assert_rc(0);
	assert_out_has("usage: gvtgctl list [--uuid UUID] [--parent PARENT] [--defined] [--json]\n");
	run("--version", NULL);
	assert_rc(0);
	ck_assert_str_eq(res.out, "gvtgctl " GVTG_VERSION "\n");

	const char *prog = getenv("GVTGCTL");
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "'%s' --root /nonexistent/dir list 2>/dev/null", prog);
	int st = system(cmd);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("gvtgctl");
	TCase *tc;
#define CASE(name, ...)                                                                    \
	tc = tcase_create(name);                                                            \
	tcase_add_checked_fixture(tc, setup, teardown);                                     \
	__VA_ARGS__ suite_add_tcase(s, tc);

	CASE("list", tcase_add_test(tc, list_gvt_host); tcase_add_test(tc, list_json);
	     tcase_add_test(tc, list_no_parent); tcase_add_test(tc, list_other_driver);
	     tcase_add_test(tc, types_of_parent); tcase_add_test(tc, types_unknown_parent);
	     tcase_add_test(tc, list_owner_named_none); tcase_add_test(tc, list_filters_and_boot);
	     tcase_add_test(tc, json_on_empty_host);)
	CASE("create", tcase_add_test(tc, create_named); tcase_add_test(tc, create_generated);
	     tcase_add_test(tc, create_config_default); tcase_add_test(tc, create_ambiguous);
	     tcase_add_test(tc, create_refusals); tcase_add_test(tc, create_bad_config);
	     tcase_add_test(tc, define_and_undefine);
	     tcase_add_test(tc, create_lock_held);)
	CASE("remove", tcase_add_test(tc, remove_held_by_domain);
	     tcase_add_test(tc, remove_manual); tcase_add_test(tc, remove_missing);)
	CASE("check", tcase_add_test(tc, check_good_host); tcase_add_test(tc, check_json);
	     tcase_add_test(tc, check_summary_and_wrap); tcase_add_test(tc, check_hook_copied);
	     tcase_add_test(tc, check_gpu_without_gvt);
	     tcase_add_test(tc, check_colour_on_terminal_only);
	     tcase_add_test(tc, check_config_in_effect);
	     tcase_add_test(tc, check_daemon_after_upgrade);
	     tcase_add_loop_test(tc, check_broken_host, 0,
				 (int)(sizeof(broken_hosts) / sizeof(broken_hosts[0])));)
	CASE("xml", tcase_add_test(tc, xml_plain); tcase_add_test(tc, xml_displays);
	     tcase_add_test(tc, xml_pins_resolved_choice); tcase_add_test(tc, xml_usage);
	     tcase_add_test(tc, xml_refusals); tcase_add_test(tc, attach_refusals);)
	CASE("boot", tcase_add_test(tc, boot_creates_configured);
	     tcase_add_test(tc, boot_stop_removes_idle); tcase_add_test(tc, sleep_off_does_nothing);
	     tcase_add_test(tc, sleep_removes_and_recreates);
	     tcase_add_test(tc, sleep_list_bookkeeping);
	     tcase_add_test(tc, sleep_post_keeps_failures);)
	CASE("usage", tcase_add_test(tc, usage_and_version); tcase_add_test(tc, help_details);
	     tcase_add_loop_test(tc, command_help, 0,
				 (int)(sizeof(help_cmds) / sizeof(help_cmds[0])));)
#undef CASE
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
