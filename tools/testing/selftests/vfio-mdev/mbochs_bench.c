// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark for `make bench`: an mbochs-large instance as a VMM with a
 * dma-buf display uses it. Figures, each over SECONDS of the guest's clock:
 *   first_touch   pages per second faulted in for the first time through
 *                 the mmap'd BAR0 (one write a page); the device is closed
 *                 and opened again, untimed, whenever video memory has been
 *                 touched all over, so every timed fault allocates
 *   export        plane query + VFIO_DEVICE_GET_GFX_DMABUF + close of the
 *                 dma-buf, per second (a 1024x768 mode)
 *   dmabuf_read   bytes per second copied (memcpy) out of the mmap'd
 *                 dma-buf, a whole frame at a time; 0 when the dma-buf
 *                 cannot be mapped (upstream's mbochs)
 *   anon_read     the same copy out of anonymous memory (the floor)
 * Prints figures; never judges them. With OPERATION names, only those run
 * (the others print 0, as not measured).
 *
 * usage: mbochs_bench SECONDS [OPERATION...]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "../kselftest.h"
#include "mdev_util.h"

#define DISPI			0x500
#define WIDTH			1024
#define HEIGHT			768
#define FRAME			(WIDTH * HEIGHT * 4)

struct bench {
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	struct vfio_region_info vram, mmio;
};

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void dispi_set(struct bench *b, unsigned int index, uint16_t v)
{
	if (info_pwrite(b->vd.device, &b->mmio, DISPI + 2 * index, &v, 2) != 2)
		die("dispi write");
}

/* Opens the instance and sets a 1024x768, 32 bpp mode. */
static void open_device(struct bench *b)
{
	static const uint16_t mode[][2] = {
		{ 4, 0 }, { 1, WIDTH }, { 2, HEIGHT }, { 3, 32 },
		{ 6, WIDTH }, { 8, 0 }, { 9, 0 }, { 4, 1 },
	};
	unsigned int i;
	int err;

	err = vfio_open_mdev(b->uuid, &b->vd);
	if (!err)
		err = region_info(b->vd.device, VFIO_PCI_BAR0_REGION_INDEX,
				  &b->vram);
	if (!err)
		err = region_info(b->vd.device, VFIO_PCI_BAR2_REGION_INDEX,
				  &b->mmio);
	if (err) {
		errno = -err;
		die("open");
	}
	for (i = 0; i < ARRAY_SIZE(mode); i++)
		dispi_set(b, mode[i][0], mode[i][1]);
}

/* The primary plane's dma-buf id (upstream answers a second query). */
static uint32_t plane_id(struct bench *b)
{
	struct vfio_device_gfx_plane_info plane;
	int err;

	err = query_plane(b->vd.device, VFIO_GFX_PLANE_TYPE_DMABUF,
			  DRM_PLANE_TYPE_PRIMARY, &plane);
	if (err == -ENOMEM)
		err = query_plane(b->vd.device, VFIO_GFX_PLANE_TYPE_DMABUF,
				  DRM_PLANE_TYPE_PRIMARY, &plane);
	if (err || plane.width != WIDTH) {
		errno = -err;
		die("plane query");
	}
	return plane.dmabuf_id;
}

static double first_touch(struct bench *b, double secs)
{
	size_t pages = b->vram.size / 4096, done = 0, i;
	double timed = 0, start;
	uint8_t *map;

	while (timed < secs) {
		map = mmap(NULL, b->vram.size, PROT_READ | PROT_WRITE,
			   MAP_SHARED, b->vd.device, b->vram.offset);
		if (map == MAP_FAILED)
			die("mmap");
		start = now_seconds();
		for (i = 0; i < pages; i++)
			map[i * 4096] = 1;
		timed += now_seconds() - start;
		done += pages;
		munmap(map, b->vram.size);
		/* closing gives video memory back: the next touches allocate */
		vfio_close_mdev(&b->vd);
		open_device(b);
	}
	return done / timed;
}

static double export(struct bench *b, double secs)
{
	double start = now_seconds(), elapsed;
	long n = 0;
	uint32_t id;
	int buf;

	do {
		id = plane_id(b);
		buf = ioctl(b->vd.device, VFIO_DEVICE_GET_GFX_DMABUF, &id);
		if (buf < 0)
			die("GET_GFX_DMABUF");
		close(buf);
		n++;
		elapsed = now_seconds() - start;
	} while (elapsed < secs);
	return n / elapsed;
}

/* Bytes per second copied out of @src into @dst, a frame at a time. */
static double copy_out(uint8_t *dst, const uint8_t *src, double secs)
{
	double start = now_seconds(), elapsed, bytes = 0;

	do {
		memcpy(dst, src, FRAME);
		bytes += FRAME;
		elapsed = now_seconds() - start;
	} while (elapsed < secs);
	return bytes / elapsed;
}

/* Whether @op is to run: named on the command line, or none named. */
static bool wanted(int argc, char **argv, const char *op)
{
	int i;

	for (i = 2; i < argc; i++)
		if (!strcmp(argv[i], op))
			return true;
	return argc == 2;
}

int main(int argc, char **argv)
{
	double secs, touch = 0, exports = 0, dmabuf = 0, anon = 0;
	struct bench b;
	uint8_t *dst, *src, *pixels;
	uint32_t id;
	int err, buf;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SECONDS [OPERATION...]\n", argv[0]);
		return 2;
	}
	secs = atof(argv[1]);
	uuid_gen(b.uuid);
	err = mdev_create("mbochs-large", b.uuid);
	if (err) {
		errno = -err;
		die("create");
	}
	open_device(&b);
	dst = mmap(NULL, FRAME, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, FRAME, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED || src == MAP_FAILED)
		die("buffers");
	memset(dst, 1, FRAME);
	memset(src, 2, FRAME);

	if (wanted(argc, argv, "first_touch"))
		touch = first_touch(&b, secs);
	if (wanted(argc, argv, "export"))
		exports = export(&b, secs);
	if (wanted(argc, argv, "dmabuf_read")) {
		id = plane_id(&b);
		buf = ioctl(b.vd.device, VFIO_DEVICE_GET_GFX_DMABUF, &id);
		if (buf < 0)
			die("GET_GFX_DMABUF");
		pixels = mmap(NULL, FRAME, PROT_READ, MAP_SHARED, buf, 0);
		if (pixels != MAP_FAILED) {
			memcpy(dst, pixels, FRAME);	/* fault the frame in */
			dmabuf = copy_out(dst, pixels, secs);
			munmap(pixels, FRAME);
		}
		close(buf);
	}
	if (wanted(argc, argv, "anon_read"))
		anon = copy_out(dst, src, secs);
	printf("first_touch=%.0f export=%.0f dmabuf_read=%.0f anon_read=%.0f\n",
	       touch, exports, dmabuf, anon);
	vfio_close_mdev(&b.vd);
	mdev_remove(b.uuid);
	return 0;
}
