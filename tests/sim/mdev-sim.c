/* SPDX-License-Identifier: MIT */
/*
 * mdev-sim: a FUSE file system that answers like the kernel's mediated-device sysfs.
 *
 * A plain directory tree cannot reject a bad write to `create` or run out of graphics
 * memory, so black-box tests, the demo and the benchmark mount this at <root>/sys.  Every
 * write is decided synchronously under one mutex, with the kernel's errno, so concurrent
 * writers serialise exactly like they do on a real host.
 *
 * The code has two halves: a model (parents, their types, one resource pool per parent,
 * active devices) that owns an in-memory tree of nodes, and the FUSE callbacks that only
 * look nodes up and hand writes to the model.
 */
#define FUSE_USE_VERSION 31
#include <fuse.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define UUID_LEN 36
#define RES_MAX 3
#define MAX_TYPES 4
#define MAX_PARENTS 3

/* ---------------------------------------------------------------- the node tree */

enum node_kind { NODE_DIR, NODE_FILE, NODE_LINK };
enum node_attr { ATTR_TEXT, ATTR_AVAILABLE, ATTR_CREATE, ATTR_REMOVE };

struct sim_type;
struct sim_dev;

struct node {
	char *name;
	enum node_kind kind;
	mode_t mode;
	struct node *parent, *child, *next;
	char *target;           /* NODE_LINK */
	enum node_attr attr;    /* NODE_FILE */
	char *text;             /* ATTR_TEXT */
	struct sim_type *type;  /* ATTR_AVAILABLE, ATTR_CREATE */
	struct sim_dev *dev;    /* ATTR_REMOVE */
};

static void *xzalloc(size_t n)
{
	void *p = calloc(1, n);
	if (!p) {
		fputs("mdev-sim: out of memory\n", stderr);
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p) {
		fputs("mdev-sim: out of memory\n", stderr);
		abort();
	}
	return p;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		fputs("mdev-sim: out of memory\n", stderr);
		abort();
	}
	return s;
}

static struct node *node_child(const struct node *dir, const char *name, size_t len)
{
	for (struct node *c = dir->child; c; c = c->next)
		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return c;
	return NULL;
}

/* Looks a path up without following symlinks: the kernel resolves them before asking. */
static struct node *node_lookup(struct node *root, const char *path)
{
	struct node *n = root;
	while (n && *path) {
		while (*path == '/')
			path++;
		if (!*path)
			break;
		size_t len = strcspn(path, "/");
		if (n->kind != NODE_DIR)
			return NULL;
		n = node_child(n, path, len);
		path += len;
	}
	return n;
}

static struct node *node_add(struct node *dir, const char *name, enum node_kind kind,
			     mode_t mode)
{
	struct node *n = xzalloc(sizeof(*n));
	n->name = xstrdup(name);
	n->kind = kind;
	n->mode = mode;
	n->parent = dir;
	/* Append, so listings come out in creation order like a fresh sysfs directory. */
	struct node **pp = &dir->child;
	while (*pp)
		pp = &(*pp)->next;
	*pp = n;
	return n;
}

static struct node *node_dir(struct node *dir, const char *name)
{
	struct node *n = node_child(dir, name, strlen(name));
	return n ? n : node_add(dir, name, NODE_DIR, S_IFDIR | 0755);
}

/* mkdir -p inside the tree. */
static struct node *node_dirs(struct node *root, const char *path)
{
	struct node *n = root;
	char *copy = xstrdup(path), *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		n = node_dir(n, c);
	free(copy);
	return n;
}

static struct node *node_text(struct node *dir, const char *name, const char *text)
{
	struct node *n = node_add(dir, name, NODE_FILE, S_IFREG | 0444);
	n->attr = ATTR_TEXT;
	n->text = xstrdup(text);
	return n;
}

static struct node *node_attr(struct node *dir, const char *name, enum node_attr attr,
			      mode_t mode)
{
	struct node *n = node_add(dir, name, NODE_FILE, S_IFREG | mode);
	n->attr = attr;
	return n;
}

static struct node *node_link(struct node *dir, const char *name, const char *target)
{
	struct node *n = node_add(dir, name, NODE_LINK, S_IFLNK | 0777);
	n->target = xstrdup(target);
	return n;
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	while (n->child) {
		struct node *c = n->child;
		n->child = c->next;
		c->parent = NULL;
		node_free(c);
	}
	if (n->parent) {
		struct node **pp = &n->parent->child;
		while (*pp != n)
			pp = &(*pp)->next;
		*pp = n->next;
	}
	free(n->name);
	free(n->target);
	free(n->text);
	free(n);
}

/* ------------------------------------------------------------------- the model */

struct sim_parent;

struct sim_type {
	char id[64];
	struct sim_parent *parent;
	unsigned long cost[RES_MAX];
	struct node *dir, *devices;
};

struct sim_parent {
	char name[32];
	char path[96];                 /* relative to the mount point */
	unsigned long left[RES_MAX];   /* what the pool still holds */
	int exhausted;                 /* errno when a create does not fit */
	struct sim_type types[MAX_TYPES];
	size_t n_types;
	struct node *dir;
};

struct sim_dev {
	char uuid[UUID_LEN + 1];
	struct sim_type *type;
	struct node *dir, *bus_link, *type_link;
	struct sim_dev *next;
};

struct sim {
	pthread_mutex_t lock;
	struct node *root;
	struct node *bus_devices;
	struct sim_parent parents[MAX_PARENTS];
	size_t n_parents;
	struct sim_dev *devs;
	int log_fd;
	struct timespec born;
};

static unsigned long type_available(const struct sim_type *t)
{
	unsigned long avail = ULONG_MAX;
	for (size_t i = 0; i < RES_MAX; i++)
		if (t->cost[i] && t->parent->left[i] / t->cost[i] < avail)
			avail = t->parent->left[i] / t->cost[i];
	return avail == ULONG_MAX ? 0 : avail;
}

static struct sim_parent *parent_add(struct sim *sim, const char *name, const char *path,
				     int exhausted)
{
	struct sim_parent *p = &sim->parents[sim->n_parents++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->exhausted = exhausted;
	p->dir = node_dirs(sim->root, path);
	node_dir(p->dir, "mdev_supported_types");

	/* class/mdev_bus/<name> climbs two levels to reach sys/. */
	struct node *bus = node_dirs(sim->root, "class/mdev_bus");
	char *target = xasprintf("../../%s", path);
	node_link(bus, name, target);
	free(target);
	return p;
}

/* Registers a type only when one instance fits in the full pool, as GVT-g does. */
static void type_add(struct sim_parent *p, const char *id, const char *name,
		     const char *description, unsigned long c0, unsigned long c1,
		     unsigned long c2)
{
	struct sim_type t = { .parent = p, .cost = { c0, c1, c2 } };
	snprintf(t.id, sizeof(t.id), "%s", id);
	if (type_available(&t) == 0 || p->n_types == MAX_TYPES)
		return;
	struct sim_type *nt = &p->types[p->n_types++];
	*nt = t;

	struct node *types = node_child(p->dir, "mdev_supported_types",
					strlen("mdev_supported_types"));
	nt->dir = node_dir(types, id);
	char *line = xasprintf("%s\n", name);
	node_text(nt->dir, "name", line);
	free(line);
	node_attr(nt->dir, "available_instances", ATTR_AVAILABLE, 0444)->type = nt;
	node_text(nt->dir, "device_api", "vfio-pci\n");
	if (description)
		node_text(nt->dir, "description", description);
	node_attr(nt->dir, "create", ATTR_CREATE, 0200)->type = nt;
	nt->devices = node_dir(nt->dir, "devices");
}

static void build_gvt(struct sim *sim, unsigned long low_mb, unsigned long high_mb,
		      unsigned long fences)
{
	static const struct {
		const char *suffix, *resolution;
		unsigned long low, high, fence, weight;
	} gvt[] = {
		{ "8", "1024x768", 64, 384, 4, 2 },
		{ "4", "1920x1200", 128, 512, 4, 4 },
		{ "2", "1920x1200", 256, 1024, 4, 8 },
		{ "1", "1920x1200", 512, 2048, 4, 16 },
	};
	const char *path = "devices/pci0000:00/0000:00:02.0";
	struct sim_parent *p = parent_add(sim, "0000:00:02.0", path, ENOSPC);
	p->left[0] = low_mb;
	p->left[1] = high_mb;
	p->left[2] = fences;
	node_text(p->dir, "vendor", "0x8086\n");
	node_text(p->dir, "device", "0x3e92\n");
	node_text(p->dir, "class", "0x030000\n");
	node_link(node_dirs(sim->root, "bus/pci/devices"), "0000:00:02.0",
		  "../../../devices/pci0000:00/0000:00:02.0");

	for (size_t i = 0; i < sizeof(gvt) / sizeof(gvt[0]); i++) {
		char *id = xasprintf("i915-GVTg_V5_%s", gvt[i].suffix);
		char *desc = xasprintf("low_gm_size: %luMB\nhigh_gm_size: %luMB\nfence: %lu\n"
				       "resolution: %s\nweight: %lu\n",
				       gvt[i].low, gvt[i].high, gvt[i].fence,
				       gvt[i].resolution, gvt[i].weight);
		type_add(p, id, id + strlen("i915-"), desc, gvt[i].low, gvt[i].high,
			 gvt[i].fence);
		free(id);
		free(desc);
	}
}

/* The kernel's sample drivers (samples/vfio-mdev) with their module defaults. */
static void build_samples(struct sim *sim)
{
	struct sim_parent *p = parent_add(sim, "mtty", "devices/virtual/mtty/mtty", ENOSPC);
	p->left[0] = 24;
	type_add(p, "mtty-1", "Single port serial", NULL, 1, 0, 0);
	type_add(p, "mtty-2", "Dual port serial", NULL, 2, 0, 0);

	/* mdpy counts devices in the mdev core, which answers EUSERS, not the driver. */
	p = parent_add(sim, "mdpy", "devices/virtual/mdpy/mdpy", EUSERS);
	p->left[0] = 4;
	type_add(p, "mdpy-vga", "mdpy-vga", "virtual display, 640x480 framebuffer\n", 1, 0, 0);
	type_add(p, "mdpy-xga", "mdpy-xga", "virtual display, 1024x768 framebuffer\n", 1, 0, 0);
	type_add(p, "mdpy-hd", "mdpy-hd", "virtual display, 1920x1080 framebuffer\n", 1, 0, 0);

	/* mbochs shares 256 MB of video memory among its types. */
	p = parent_add(sim, "mbochs", "devices/virtual/mbochs/mbochs", ENOSPC);
	p->left[0] = 256;
	type_add(p, "mbochs-small", "mbochs-small", "virtual display, 4 MB video memory\n",
		 4, 0, 0);
	type_add(p, "mbochs-medium", "mbochs-medium", "virtual display, 16 MB video memory\n",
		 16, 0, 0);
	type_add(p, "mbochs-large", "mbochs-large", "virtual display, 64 MB video memory\n",
		 64, 0, 0);
}

static struct sim_dev *dev_find(struct sim *sim, const char *uuid)
{
	for (struct sim_dev *d = sim->devs; d; d = d->next)
		if (!strcmp(d->uuid, uuid))
			return d;
	return NULL;
}

/* The kernel's uuid_is_valid(): 8-4-4-4-12 hex digits, either case. */
static bool uuid_valid(const char *s)
{
	for (size_t i = 0; i < UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* Called with the lock held.  Same checks in the same order as mdev's create_store(). */
static int sim_create(struct sim *sim, struct sim_type *t, const char *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (len != UUID_LEN && len != UUID_LEN + 1)
		return -EINVAL;
	char uuid[UUID_LEN + 1];
	memcpy(uuid, buf, UUID_LEN);
	uuid[UUID_LEN] = '\0';
	if (!uuid_valid(uuid))
		return -EINVAL;
	for (size_t i = 0; i < UUID_LEN; i++)
		uuid[i] = (char)tolower((unsigned char)uuid[i]);
	if (dev_find(sim, uuid))
		return -EEXIST;
	if (type_available(t) == 0)
		return -t->parent->exhausted;

	struct sim_parent *p = t->parent;
	for (size_t i = 0; i < RES_MAX; i++)
		p->left[i] -= t->cost[i];

	struct sim_dev *d = xzalloc(sizeof(*d));
	memcpy(d->uuid, uuid, sizeof(uuid));
	d->type = t;
	d->dir = node_dir(p->dir, uuid);
	node_attr(d->dir, "remove", ATTR_REMOVE, 0200)->dev = d;
	char *target = xasprintf("../mdev_supported_types/%s", t->id);
	node_link(d->dir, "mdev_type", target);
	free(target);
	/* sys/bus/mdev/devices/ is three levels below sys/. */
	target = xasprintf("../../../%s/%s", p->path, uuid);
	d->bus_link = node_link(sim->bus_devices, uuid, target);
	free(target);
	/* <type>/devices/ is three levels below the parent. */
	target = xasprintf("../../../%s", uuid);
	d->type_link = node_link(t->devices, uuid, target);
	free(target);
	d->next = sim->devs;
	sim->devs = d;
	return 0;
}

/* The kernel's kstrtoul(buf, 0, ...): 0x/0 prefixes, one trailing newline, a leading
 * '+', nothing else; -ERANGE on overflow.  buf is NUL-terminated. */
static int parse_ulong(const char *s, unsigned long *ret)
{
	unsigned base = 10;
	if (*s == '+')
		s++;
	if (s[0] == '0' && tolower((unsigned char)s[1]) == 'x' &&
	    isxdigit((unsigned char)s[2])) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	unsigned long v = 0;
	bool overflow = false;
	const char *start = s;
	for (;; s++) {
		int c = tolower((unsigned char)*s);
		unsigned digit;
		if (c >= '0' && c <= '9')
			digit = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			digit = (unsigned)(c - 'a' + 10);
		else
			break;
		if (digit >= base)
			break;
		if (v > (ULONG_MAX - digit) / base)
			overflow = true;
		v = v * base + digit;
	}
	if (s == start)
		return -EINVAL;
	if (overflow)
		return -ERANGE;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Called with the lock held; mdev's remove_store(). */
static int sim_remove(struct sim *sim, struct sim_dev *d, const char *buf, size_t len)
{
	char copy[64];
	if (len >= sizeof(copy))
		return -EINVAL;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	unsigned long v;
	int r = parse_ulong(copy, &v);
	if (r < 0)
		return r;
	if (v == 0)
		return 0;

	struct sim_parent *p = d->type->parent;
	for (size_t i = 0; i < RES_MAX; i++)
		p->left[i] += d->type->cost[i];
	node_free(d->bus_link);
	node_free(d->type_link);
	node_free(d->dir);
	for (struct sim_dev **pp = &sim->devs; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	free(d);
	return 0;
}

/* One line per write, written at once under the lock so lines never interleave:
 * "<path> <bytes> <result>".  Bytes are escaped so the line splits on spaces:
 * \n \r \t \\ and \xHH for anything else outside printable ASCII and for space.
 * A write of 0 bytes never gets here (the kernel's FUSE client answers it itself), so it
 * leaves no line; "" stands for one anyway should a kernel pass it on. */
static void sim_log(struct sim *sim, const char *path, const char *buf, size_t len, int r)
{
	if (sim->log_fd < 0)
		return;
	size_t cap = strlen(path) + 4 * len + 64;
	char *line = xzalloc(cap), *o = line;
	o += sprintf(o, "%s ", path[0] == '/' ? path + 1 : path);
	if (len == 0)
		o += sprintf(o, "\"\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\n')
			o += sprintf(o, "\\n");
		else if (c == '\r')
			o += sprintf(o, "\\r");
		else if (c == '\t')
			o += sprintf(o, "\\t");
		else if (c == '\\')
			o += sprintf(o, "\\\\");
		else if (c > ' ' && c < 0x7f)
			*o++ = (char)c;
		else
			o += sprintf(o, "\\x%02x", c);
	}
	const char *name = r ? strerrorname_np(-r) : "0";
	o += sprintf(o, " %s\n", name ? name : "?");
	ssize_t w = write(sim->log_fd, line, (size_t)(o - line));
	(void)w;
	free(line);
}

/* ------------------------------------------------------------- FUSE callbacks */

static struct sim *sim_get(void)
{
	return fuse_get_context()->private_data;
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* Nothing may be cached: devices come and go and every write must reach us. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	return fuse_get_context()->private_data;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct sim *sim = sim_get();
	int r = 0;
	pthread_mutex_lock(&sim->lock);
	struct node *n = node_lookup(sim->root, path);
	if (!n) {
		r = -ENOENT;
	} else {
		memset(st, 0, sizeof(*st));
		st->st_mode = n->mode;
		st->st_nlink = n->kind == NODE_DIR ? 2 : 1;
		/* sysfs reports one page for every attribute, whatever it holds. */
		st->st_size = n->kind == NODE_FILE ? 4096 :
			      n->kind == NODE_LINK ? (off_t)strlen(n->target) : 0;
		st->st_atim = st->st_mtim = st->st_ctim = sim->born;
	}
	pthread_mutex_unlock(&sim->lock);
	return r;
}

static int op_readlink(const char *path, char *buf, size_t size)
{
	struct sim *sim = sim_get();
	int r = 0;
	pthread_mutex_lock(&sim->lock);
	struct node *n = node_lookup(sim->root, path);
	if (!n)
		r = -ENOENT;
	else if (n->kind != NODE_LINK)
		r = -EINVAL;
	else
		snprintf(buf, size, "%s", n->target);
	pthread_mutex_unlock(&sim->lock);
	return r;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct sim *sim = sim_get();
	int r = 0;
	pthread_mutex_lock(&sim->lock);
	struct node *n = node_lookup(sim->root, path);
	if (!n) {
		r = -ENOENT;
	} else if (n->kind != NODE_DIR) {
		r = -ENOTDIR;
	} else {
		fill(buf, ".", NULL, 0, 0);
		fill(buf, "..", NULL, 0, 0);
		for (struct node *c = n->child; c; c = c->next) {
			struct stat st = { .st_mode = c->mode };
			fill(buf, c->name, &st, 0, 0);
		}
	}
	pthread_mutex_unlock(&sim->lock);
	return r;
}

/* kernfs refuses at open() what an attribute cannot do (EACCES), even for root. */
static int op_open(const char *path, struct fuse_file_info *fi)
{
	struct sim *sim = sim_get();
	int r = 0;
	pthread_mutex_lock(&sim->lock);
	struct node *n = node_lookup(sim->root, path);
	if (!n) {
		r = -ENOENT;
	} else if (n->kind != NODE_FILE) {
		r = -EISDIR;
	} else {
		int acc = fi->flags & O_ACCMODE;
		bool store = n->attr == ATTR_CREATE || n->attr == ATTR_REMOVE;
		if ((acc != O_WRONLY && store) || (acc != O_RDONLY && !store))
			r = -EACCES;
	}
	pthread_mutex_unlock(&sim->lock);
	fi->direct_io = 1;
	return r;
}

static int op_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct sim *sim = sim_get();
	char tmp[512];
	int r = 0;
	pthread_mutex_lock(&sim->lock);
	struct node *n = node_lookup(sim->root, path);
	if (!n)
		r = -ENODEV;
	else if (n->attr == ATTR_TEXT)
		snprintf(tmp, sizeof(tmp), "%s", n->text);
	else if (n->attr == ATTR_AVAILABLE)
		snprintf(tmp, sizeof(tmp), "%lu\n", type_available(n->type));
	else
		r = -EACCES;
	pthread_mutex_unlock(&sim->lock);
	if (r < 0)
		return r;
	size_t len = strlen(tmp);
	if (off < 0 || (size_t)off >= len)
		return 0;
	len -= (size_t)off;
	if (len > size)
		len = size;
	memcpy(buf, tmp + off, len);
	return (int)len;
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct sim *sim = sim_get();
	int r;
	pthread_mutex_lock(&sim->lock);
	struct node *n = node_lookup(sim->root, path);
	if (!n)
		r = -ENODEV;    /* the device went away under an open fd */
	else if (n->attr == ATTR_CREATE)
		r = sim_create(sim, n->type, buf, size);
	else if (n->attr == ATTR_REMOVE)
		r = sim_remove(sim, n->dev, buf, size);
	else
		r = -EACCES;
	sim_log(sim, path, buf, size, r);
	pthread_mutex_unlock(&sim->lock);
	return r < 0 ? r : (int)size;
}

/* sysfs ignores size changes, so O_TRUNC (a shell's `>`) must succeed. */
static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct sim *sim = sim_get();
	pthread_mutex_lock(&sim->lock);
	struct node *n = node_lookup(sim->root, path);
	pthread_mutex_unlock(&sim->lock);
	return n ? 0 : -ENOENT;
}

/* What the VFS answers for a sysfs directory: no create (EACCES), no mkdir/unlink
 * (EPERM). */
static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return -EACCES;
}

static int op_mknod(const char *path, mode_t mode, dev_t rdev)
{
	return -EACCES;
}

static int op_mkdir(const char *path, mode_t mode)
{
	return -EPERM;
}

static int op_unlink(const char *path)
{
	return -EPERM;
}

static int op_symlink(const char *from, const char *to)
{
	return -EPERM;
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
	return -EPERM;
}

static int op_link(const char *from, const char *to)
{
	return -EPERM;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return -EPERM;
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	return -EPERM;
}

static int op_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	return 0;
}

static const struct fuse_operations sim_ops = {
	.init = op_init,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.truncate = op_truncate,
	.create = op_create,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.rmdir = op_unlink,
	.unlink = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.chmod = op_chmod,
	.chown = op_chown,
	.utimens = op_utimens,
};

/* ------------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fputs("Usage: mdev-sim [-f] [--profile gvt|samples] [--low-gm MB] [--high-gm MB]\n"
	      "                [--fences N] [--log FILE] MOUNTPOINT\n"
	      "Mounts a simulated mdev sysfs at MOUNTPOINT (normally <root>/sys).\n"
	      "Without -f it returns once the mount is ready and keeps serving in the\n"
	      "background; SIGTERM, SIGINT or `fusermount3 -u MOUNTPOINT` unmount it.\n", f);
}

static int parse_count(const char *opt, const char *s, unsigned long *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "mdev-sim: %s needs a number, got \"%s\"\n", opt, s);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int mkdir_p(const char *path)
{
	char *copy = xstrdup(path);
	int r = 0;
	for (char *p = copy + 1; r == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			r = -errno;
		*p = c;
		if (!c)
			break;
	}
	free(copy);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "low-gm", required_argument, NULL, 'l' },
		{ "high-gm", required_argument, NULL, 'H' },
		{ "fences", required_argument, NULL, 'F' },
		{ "log", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *profile = "gvt", *log_path = NULL;
	unsigned long low = 512, high = 2048, fences = 8;
	bool foreground = false;
	int c;
	while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': foreground = true; break;
		case 'p': profile = optarg; break;
		case 'l': if (parse_count("--low-gm", optarg, &low) < 0) return 2; break;
		case 'H': if (parse_count("--high-gm", optarg, &high) < 0) return 2; break;
		case 'F': if (parse_count("--fences", optarg, &fences) < 0) return 2; break;
		case 'L': log_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (strcmp(profile, "gvt") && strcmp(profile, "samples")) {
		fprintf(stderr, "mdev-sim: unknown profile \"%s\" (gvt or samples)\n", profile);
		return 2;
	}

	static struct sim sim = { .lock = PTHREAD_MUTEX_INITIALIZER, .log_fd = -1 };
	clock_gettime(CLOCK_REALTIME, &sim.born);
	sim.root = xzalloc(sizeof(*sim.root));
	sim.root->name = xstrdup("");
	sim.root->kind = NODE_DIR;
	sim.root->mode = S_IFDIR | 0755;
	sim.bus_devices = node_dirs(sim.root, "bus/mdev/devices");
	if (!strcmp(profile, "gvt"))
		build_gvt(&sim, low, high, fences);
	else
		build_samples(&sim);

	if (log_path) {
		sim.log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (sim.log_fd < 0) {
			fprintf(stderr, "mdev-sim: cannot open log %s: %m\n", log_path);
			return 1;
		}
	}

	int r = mkdir_p(argv[optind]);
	char *mnt = r < 0 ? NULL : realpath(argv[optind], NULL);
	if (!mnt) {
		fprintf(stderr, "mdev-sim: cannot create mount point %s: %s\n", argv[optind],
			strerror(r < 0 ? -r : errno));
		return 1;
	}

	char *fargv[] = { argv[0], "-o", "fsname=mdev-sim,subtype=mdev-sim", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse *f = fuse_new(&args, &sim_ops, sizeof(sim_ops), &sim);
	fuse_opt_free_args(&args);
	if (!f) {
		fprintf(stderr, "mdev-sim: cannot set up FUSE\n");
		return 1;
	}
	if (fuse_mount(f, mnt) != 0) {
		fprintf(stderr, "mdev-sim: cannot mount on %s (is /dev/fuse usable?)\n", mnt);
		fuse_destroy(f);
		return 1;
	}
	/* Forks only now, so the parent exits once the mount exists and the caller can use
	 * the tree right away; requests wait in the kernel until the loop runs. */
	if (fuse_daemonize(foreground) != 0) {
		fuse_unmount(f);
		fuse_destroy(f);
		return 1;
	}
	struct fuse_session *se = fuse_get_session(f);
	if (fuse_set_signal_handlers(se) != 0) {
		fuse_unmount(f);
		fuse_destroy(f);
		return 1;
	}
	r = fuse_loop_mt(f, 0);
	fuse_remove_signal_handlers(se);
	fuse_unmount(f);
	fuse_destroy(f);
	free(mnt);
	while (sim.devs) {
		struct sim_dev *d = sim.devs;
		sim.devs = d->next;
		free(d);
	}
	node_free(sim.root);
	return r < 0 ? 1 : 0;
}
