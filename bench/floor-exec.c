/* SPDX-License-Identifier: MIT */
/*
 * The floor for an ignored hook operation: what any libvirt hook must cost at least,
 * being exec'd and reading the domain XML that libvirt writes to it (left unread, the
 * daemon's writer would see EPIPE).  Nothing else.
 */
#include <errno.h>
#include <unistd.h>

int main(void)
{
	static char sink[65536];
	ssize_t n;
	while ((n = read(STDIN_FILENO, sink, sizeof(sink))) > 0 || (n < 0 && errno == EINTR))
		;
	return 0;
}
