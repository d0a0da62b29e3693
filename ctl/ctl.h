/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl's internals: the state every command shares, the commands, and the helpers
 * for messages, tables and files under the root.  Each command lives in its own file
 * (cmd-*.c) with its row (name, help, options); options are read in opt.c; main.c only
 * reads the global options and dispatches.
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <libsmartcols.h>

#include "gvtg.h"

/* Exit codes, documented in gvtgctl(8). */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILURE = 1,
	CTL_EXIT_USAGE = 2,
};

struct ctl_command;

struct ctl {
	const char *root;       /* --root, NULL: "/" */
	char *config;           /* --config made absolute, NULL: built-in path */
	bool json;              /* --json */
	int verbose;            /* --verbose: the library's own log lines on stderr */
	bool notices_to_stdout; /* boot, sleep: say what was done on stdout */
	struct gvtg_ctx *ctx;
	struct gvtg_config *cfg;
	const struct ctl_command *command; /* the one running, for its --help */
};

/* Long options every command accepts, so they may come before or after it. */
enum {
	OPT_ROOT = 0x100,
	OPT_CONFIG,
	OPT_JSON,
	OPT_VERBOSE,
	OPT_HELP,
	OPT_VERSION,
	OPT_FIRST_COMMAND_OPTION, /* commands number their own options from here */
};
#define CTL_COMMON_OPTIONS                                                                 \
	{ "root", required_argument, NULL, OPT_ROOT },                                      \
		{ "config", required_argument, NULL, OPT_CONFIG },                          \
		{ "verbose", no_argument, NULL, OPT_VERBOSE },                              \
		{ "help", no_argument, NULL, OPT_HELP },                                    \
		{ "version", no_argument, NULL, OPT_VERSION }

/* Handles a common option; returns -1 when opt is not one, else an exit code to return
 * now (help, version, error) or CTL_CONTINUE. */
#define CTL_CONTINUE (-2)
int ctl_common_option(struct ctl *c, int opt, const char *arg);

/* The option loop of every command: returns the next option of the command's own
 * (> 0), -1 when the options are done (optind is at the first argument), or 0 when the
 * command must return *ret_exit now (--help, --version, a bad option).  Common options
 * are handled on the way. */
int ctl_next_option(struct ctl *c, int argc, char **argv, const char *shortopts,
		    const struct option *options, int *ret_exit);

/* For getopt's '?': names the option in a usage error; returns CTL_EXIT_USAGE. */
int ctl_bad_option(char **argv);

/* A UUID argument in any form libvirt takes, into the kernel's form: CTL_CONTINUE, or
 * the exit code of a usage error naming it as malformed. */
int ctl_parse_uuid(const char *arg, char ret_uuid[GVTG_UUID_STRLEN + 1]);

/* ---- messages (common.c) ---------------------------------------------------------- */

/* One line on stderr: "gvtgctl: <what failed>, <which>: <cause>. <what to do>". */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message, a hint to --help; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- setup (common.c) ------------------------------------------------------------- */

/* Open the library context on the root. */
int ctl_open(struct ctl *c);
/* Open the context and read the configuration; on a bad file say so and fail. */
int ctl_open_config(struct ctl *c);
/* The configuration file's path, for messages. */
const char *ctl_config_path(const struct ctl *c);
void ctl_free(struct ctl *c);
/* "0000:00:02.0, mtty" or "none": registered parents, for messages. */
void ctl_describe_parents(struct ctl *c, char *out, size_t size);
/* Where a placement choice came from, in gvtgctl's words. */
const char *ctl_source_string(enum gvtg_source s);
/* Print a diagnosis of the table (cause set here) as the library's reports are. */
void ctl_report(struct ctl *c, struct gvtg_diag *d, enum gvtg_cause cause);

/* ---- tables (common.c) ------------------------------------------------------------ */

struct ctl_column {
	const char *human;      /* header for people */
	const char *json;       /* key in JSON */
	int json_type;          /* SCOLS_JSON_* */
	int flags;              /* SCOLS_FL_* */
	double width;           /* width hint, 0 for none */
};

/* A table in the output mode of c, named for JSON, with these columns. */
struct libscols_table *ctl_table_new(struct ctl *c, const char *name,
				     const struct ctl_column *cols, size_t n_cols);
/* Set a cell; NULL is "-" for people and null in JSON. */
int ctl_cell(struct ctl *c, struct libscols_line *ln, size_t col, const char *value);
int ctl_cell_fmt(struct ctl *c, struct libscols_line *ln, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Print tables: for people one after the other with an empty line between them; in JSON
 * one object holding every table's array.  Frees the tables. */
int ctl_tables_print(struct ctl *c, struct libscols_table **tables, size_t n);

/* ---- files under the root (common.c) ---------------------------------------------- */

/* Read a small text file under the root, trailing newlines stripped; -errno. */
int ctl_read_file(struct ctl *c, const char *path, char **ret_text);
/* Does path exist under the root (following links within the root)? */
bool ctl_exists(struct ctl *c, const char *path);

/* ---- commands and their help (cmd-help.c; each row in its command's file) -------- */

typedef int (*ctl_command_fn)(struct ctl *c, int argc, char **argv);

struct ctl_command {
	const char *name;
	ctl_command_fn fn;
	bool json;              /* takes --json */
	const char *synopsis;   /* after "gvtgctl " */
	const char *summary;    /* one line for the usage */
	const char *description;
	const char *options;    /* one option a line, indented; NULL: none */
};

extern const struct ctl_command ctl_cmd_list, ctl_cmd_types, ctl_cmd_create,
	ctl_cmd_remove, ctl_cmd_check, ctl_cmd_config, ctl_cmd_metrics, ctl_cmd_attach,
	ctl_cmd_detach,
	ctl_cmd_xml, ctl_cmd_define, ctl_cmd_undefine, ctl_cmd_boot, ctl_cmd_sleep,
	ctl_cmd_help;

const struct ctl_command *ctl_command_find(const char *name);
/* The usage: every command with its summary, the global options. */
void ctl_usage(FILE *f);
void ctl_command_help(FILE *f, const struct ctl_command *cmd);
/* A usage error for a command that does not exist, with the nearest one. */
int ctl_unknown_command(const char *name);

/* ---- terminal and text (term.c) --------------------------------------------------- */

/* Colour on f: a terminal, TERM not dumb, NO_COLOR unset or empty. */
bool ctl_color(FILE *f);
/* Columns to wrap at: $COLUMNS, else the terminal's width, else 0 (do not wrap). */
int ctl_term_width(FILE *f);
/* lead (lead_width visible columns), then text wrapped between words at width, the
 * following lines indented by lead_width; a newline at the end. */
void ctl_wrap(FILE *f, const char *lead, size_t lead_width, const char *text, int width);
/* The choice word is most likely a typo of, or NULL. */
const char *ctl_did_you_mean(const char *word, const char *const *choices, size_t n);
/* A JSON string (NULL: null). */
void ctl_json_string(FILE *f, const char *s);

/* ---- vGPU placement for xml, attach and define (place.c) ---------------------------------- */

/* What a vGPU needs in a domain: the library's placement (a definition, the command
 * line, the configuration, automatic), with the type checked on its parent.  Explains failures in the diagnosis table's
 * words (the choices when ambiguous, a "did you mean" for a mistyped type); a UUID not
 * given by the admin (uuid_given false) stays out of them, domain (or NULL) is named. */
int ctl_place_vgpu(struct ctl *c, enum gvtg_op op, const char *uuid, bool uuid_given,
		   const char *domain, const char *parent, const char *type,
		   struct gvtg_placement *ret_placement);

/* ---- the display pieces and the domain edit (domxml.c) ---------------------------- */

enum ctl_display {
	CTL_DISPLAY_OFF,
	CTL_DISPLAY_GTK,
	CTL_DISPLAY_SPICE,
};

struct ctl_vgpu_spec {
	char uuid[GVTG_UUID_STRLEN + 1];
	char *parent;
	char *type;
	enum ctl_display display;
	bool ramfb;
	const char *romfile;
};

/* Parse --display's value; -EINVAL for another word. */
int ctl_display_parse(const char *s, enum ctl_display *ret);

/* ---- gvtgctl check (cmd-check.c): one line per check --------------------------------- */

enum ctl_check_status {
	CTL_CHECK_PASS,
	CTL_CHECK_INFO,
	CTL_CHECK_WARN,
	CTL_CHECK_FAIL,
};

struct ctl_check_report;
/* Add a check's result: id is stable (scripts match it in --json), what says what was
 * found, fix what to do (NULL for none).  Checks in other files (e.g. confinement) call
 * this from a function cmd_check calls. */
void ctl_check_report(struct ctl_check_report *rp, const char *id, enum ctl_check_status st,
		      const char *fix, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
struct ctl *ctl_check_report_ctl(struct ctl_check_report *rp);
/* The iGPU cannot do GVT-g: what it can use instead, for the summary (a static string). */
void ctl_check_report_instead(struct ctl_check_report *rp, const char *instead);
/* The host's checks (check-host.c): the iGPU, the kernel options and modules, the vGPU
 * types. */
void ctl_check_host(struct ctl_check_report *rp);
/* Run every check without printing: fn gets each result line's id and status (for
 * gvtgctl metrics).  -ENOMEM. */
typedef void (*ctl_check_result_fn)(void *userdata, const char *id,
				    enum ctl_check_status status);
int ctl_check_each(struct ctl *c, ctl_check_result_fn fn, void *userdata);

/* ---- gvtgctl list's tables (cmd-list.c) ----------------------------------------------- */

/* The types of every parent and every vGPU (with the boot vGPUs not created yet), as
 * 'gvtgctl list' shows them, in c's output mode (JSON: the columns named as in --json,
 * empty cells NULL).  The context must be open; reads the configuration. */
int ctl_list_tables(struct ctl *c, struct libscols_table **ret_types,
		    struct libscols_table **ret_vgpus);

/* ---- definitions: mdevctl's persistent vGPUs (definitions.c, check-mdevctl.c) ---- */

/* The "definitions" table of gvtgctl list: every definition, active or not, with its
 * origin (mdevctl auto, mdevctl manual) and its file.  Damaged files are listed and
 * named on stderr. */
int ctl_definitions_table(struct ctl *c, struct libscols_table **ret_tb);
/* After gvtgctl remove: say that an auto definition brings the vGPU back. */
void ctl_note_removed_definition(struct ctl *c, const char *uuid);
/* gvtgctl check's lines about mdevctl's udev rule and other hooks that handle mdevs.
 * status: 0 PASS, 1 INFO, 2 WARN, 3 FAIL. */
typedef void (*ctl_check_add_fn)(void *rp, int status, const char *fix, const char *what);
void ctl_check_mdevctl(struct ctl *c, ctl_check_add_fn add, void *rp);
