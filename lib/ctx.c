/* SPDX-License-Identifier: MIT */
/* The library context: the root directory every path is relative to, and logging. */
#include <fcntl.h>
#include <string.h>

#include "gvtg-private.h"

int gvtg_ctx_new(const char *root, struct gvtg_ctx **ret_ctx)
{
	if (!root || !*root)
		root = "/";
	struct gvtg_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->root = strdup(root);
	if (!ctx->root) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->lock_fd = -1;
	ctx->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->root_fd < 0) {
		int r = negative_errno();
		free(ctx->root);
		free(ctx);
		return r;
	}
	*ret_ctx = ctx;
	return 0;
}

struct gvtg_ctx *gvtg_ctx_free(struct gvtg_ctx *ctx)
{
	if (!ctx)
		return NULL;
	if (ctx->root_fd >= 0)
		close(ctx->root_fd);
	free(ctx->root);
	free(ctx);
	return NULL;
}

void gvtg_ctx_set_log_fn(struct gvtg_ctx *ctx, gvtg_log_fn fn, void *userdata)
{
	ctx->log_fn = fn;
	ctx->log_userdata = userdata;
}

const char *gvtg_ctx_get_root(const struct gvtg_ctx *ctx)
{
	return ctx->root;
}

int gvtg_ctx_get_root_fd(const struct gvtg_ctx *ctx)
{
	return ctx->root_fd;
}

void gvtg_log(struct gvtg_ctx *ctx, int priority, const char *format, ...)
{
	if (!ctx || !ctx->log_fn)
		return;
	int saved = errno;
	va_list ap;
	va_start(ap, format);
	ctx->log_fn(ctx->log_userdata, priority, format, ap);
	va_end(ap);
	errno = saved;
}
