// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark for `make bench`: an mdpy-xga instance's framebuffer as a VMM
 * uses it. Figures, each over SECONDS of the guest's clock:
 *   fb_mmap_write  bytes per second copied (memcpy) into the mmap'd BAR0,
 *                  a whole frame at a time
 *   anon_memcpy    the same copy into anonymous memory (the floor)
 *   fb_pwrite      bytes per second written with pwrite, a frame per call
 *   plane_query    VFIO_DEVICE_QUERY_GFX_PLANE calls per second (primary)
 * Prints figures; never judges them.
 *
 * usage: mdpy_bench SECONDS
 *        mdpy_bench --loop OPERATION
 *
 * The second form repeats one operation until killed, for an instruction
 * trace from outside the guest (scripts/profile.sh); it prints "ready" once
 * the device is open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "mdev_util.h"


enum bench_op { FB_MMAP_WRITE, ANON_MEMCPY, FB_PWRITE, PLANE_QUERY, NR_OPS };

static const char *const names[NR_OPS] = {
	"fb_mmap_write", "anon_memcpy", "fb_pwrite", "plane_query",
};

struct bench {
	int fd;
	struct vfio_region_info bar0;
	size_t frame;		/* bytes of one frame */
	uint8_t *fb;		/* BAR0, mapped */
	uint8_t *anon;		/* anonymous memory of a frame, touched */
	uint8_t *src;		/* the frame copied */
};

/* One @op; its count of bytes (or 1 for a query). Exits on a failure. */
static size_t do_op(struct bench *b, enum bench_op op)
{
	struct vfio_device_gfx_plane_info plane;

	switch (op) {
	case FB_MMAP_WRITE:
		memcpy(b->fb, b->src, b->frame);
		return b->frame;
	case ANON_MEMCPY:
		memcpy(b->anon, b->src, b->frame);
		return b->frame;
	case FB_PWRITE:
		if (pwrite(b->fd, b->src, b->frame, b->bar0.offset) !=
		    (ssize_t)b->frame) {
			perror("fb_pwrite");
			exit(1);
		}
		return b->frame;
	default:
		memset(&plane, 0, sizeof(plane));
		plane.argsz = sizeof(plane);
		plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
		plane.drm_plane_type = DRM_PLANE_TYPE_PRIMARY;
		if (ioctl(b->fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane) ||
		    plane.width != 1024) {
			perror("plane_query");
			exit(1);
		}
		return 1;
	}
}

/* Units (bytes or queries) per second of @op over @secs. */
static double run(struct bench *b, enum bench_op op, double secs)
{
	double start = now_seconds(), elapsed;
	double units = 0;

	do {
		units += do_op(b, op);
		elapsed = now_seconds() - start;
	} while (elapsed < secs);
	return units / elapsed;
}

int main(int argc, char **argv)
{
	char uuid[UUID_STR_LEN + 1];
	struct bench b = { 0 };
	struct vfio_dev vd;
	int err, op, loop = -1;
	size_t i;

	if (argc == 3 && !strcmp(argv[1], "--loop")) {
		for (op = 0; op < NR_OPS; op++)
			if (!strcmp(argv[2], names[op]))
				loop = op;
	}
	if (argc != 2 && loop < 0) {
		fprintf(stderr, "usage: %s SECONDS\n       %s --loop OPERATION\n",
			argv[0], argv[0]);
		return 2;
	}
	uuid_gen(uuid);
	err = mdev_create("mdpy-xga", uuid);
	if (!err)
		err = vfio_open_mdev(uuid, &vd);
	if (err) {
		fprintf(stderr, "setup: %s\n", strerror(-err));
		return 1;
	}
	b.fd = vd.device;
	b.bar0.argsz = sizeof(b.bar0);
	b.bar0.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(b.fd, VFIO_DEVICE_GET_REGION_INFO, &b.bar0)) {
		perror("region info");
		return 1;
	}
	b.frame = 1024 * 768 * 4;
	b.fb = mmap(NULL, b.bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    b.fd, b.bar0.offset);
	b.anon = mmap(NULL, b.frame, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b.src = malloc(b.frame);
	if (b.fb == MAP_FAILED || b.anon == MAP_FAILED || !b.src) {
		perror("buffers");
		return 1;
	}
	for (i = 0; i < b.frame; i++)
		b.src[i] = i * 13;
	memset(b.anon, 1, b.frame);
	if (loop >= 0) {
		printf("ready\n");
		fflush(stdout);
		for (;;)
			do_op(&b, loop);
	}
	for (op = 0; op < NR_OPS; op++)
		printf("%s%s=%.0f", op ? " " : "", names[op],
		       run(&b, op, atof(argv[1])));
	printf("\n");
	munmap(b.fb, b.bar0.size);
	vfio_close_mdev(&vd);
	mdev_remove(uuid);
	return 0;
}
