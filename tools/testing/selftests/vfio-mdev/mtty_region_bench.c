// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark for `make bench`: the cost of region accesses through a VFIO
 * device fd of an mtty-1 instance, in operations per second: 4-byte config
 * space reads, 1-byte reads and writes of a UART register in BAR0 (the
 * scratch register, which has no side effects), and the floor: 1-byte
 * reads of /dev/zero. Prints figures; never judges them.
 *
 * usage: mtty_region_bench SECONDS_PER_OPERATION
 *        mtty_region_bench --loop OPERATION
 *
 * The second form repeats one operation until killed, for an instruction
 * trace from outside the guest (scripts/profile.sh); it prints "ready" once
 * the device is open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/serial_reg.h>

#include "mdev_util.h"

enum op { CFG_READ4, BAR_READ1, BAR_WRITE1, ZERO_READ1, NR_OPS };

static const char *const names[NR_OPS] = {
	"cfg_read4", "bar_read1", "bar_write1", "zero_read1",
};

/* One @op on @fd (the device) or @zero; exits on a failure. */
static void do_op(enum op op, int fd, int zero)
{
	off_t cfg = REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX);
	off_t scr = REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + UART_SCR;
	uint32_t v = 0;
	ssize_t r;

	switch (op) {
	case CFG_READ4:
		r = pread(fd, &v, 4, cfg) - 4;
		break;
	case BAR_READ1:
		r = pread(fd, &v, 1, scr) - 1;
		break;
	case BAR_WRITE1:
		r = pwrite(fd, &v, 1, scr) - 1;
		break;
	default:
		r = pread(zero, &v, 1, 0) - 1;
		break;
	}
	if (r) {
		perror(names[op]);
		exit(1);
	}
}

/* Operations per second of @op for @secs. */
static double run(enum op op, int fd, int zero, double secs)
{
	double start = now_seconds(), elapsed;
	long n = 0;
	int i;

	do {
		/* check the clock every 256 operations */
		for (i = 0; i < 256; i++)
			do_op(op, fd, zero);
		n += 256;
		elapsed = now_seconds() - start;
	} while (elapsed < secs);
	return n / elapsed;
}

int main(int argc, char **argv)
{
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	int zero, op, err, loop = -1;

	if (argc == 3 && !strcmp(argv[1], "--loop")) {
		for (op = 0; op < NR_OPS; op++)
			if (!strcmp(argv[2], names[op]))
				loop = op;
	}
	if (argc != 2 && loop < 0) {
		fprintf(stderr, "usage: %s SECONDS_PER_OPERATION\n"
			"       %s --loop OPERATION\n", argv[0], argv[0]);
		return 2;
	}
	zero = open("/dev/zero", O_RDONLY);
	uuid_gen(uuid);
	err = mdev_create("mtty-1", uuid);
	if (!err)
		err = vfio_open_mdev(uuid, &vd);
	if (err || zero < 0) {
		fprintf(stderr, "setup: %s\n", strerror(err ? -err : errno));
		return 1;
	}
	if (loop >= 0) {
		printf("ready\n");
		fflush(stdout);
		for (;;)
			do_op(loop, vd.device, zero);
	}
	for (op = 0; op < NR_OPS; op++)
		printf("%s%s=%.0f", op ? " " : "", names[op],
		       run(op, vd.device, zero, atof(argv[1])));
	printf("\n");
	vfio_close_mdev(&vd);
	mdev_remove(uuid);
	close(zero);
	return 0;
}
