// SPDX-License-Identifier: GPL-2.0
/*
 * A small display client for `make run`: open an mdpy instance through
 * VFIO, find its framebuffer through VFIO_DEVICE_QUERY_GFX_PLANE, draw
 * colour bars into it through an mmap of the plane's region, then read the
 * picture back the way a VMM's display does (from the region the plane
 * names, with the plane's geometry) and write it as a binary PPM.
 *
 * usage: mdpy_demo UUID OUT.ppm
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "mdev_util.h"

static const uint32_t bars[8] = {
	0x00ffffff, 0x00ffff00, 0x0000ffff, 0x0000ff00,
	0x00ff00ff, 0x00ff0000, 0x000000ff, 0x00000000,
};

static void draw(uint32_t *fb, const struct vfio_device_gfx_plane_info *p)
{
	uint32_t x, y, *line;

	for (y = 0; y < p->height; y++) {
		line = fb + y * (p->stride / 4);
		for (x = 0; x < p->width; x++) {
			if (y < p->height * 2 / 3)
				line[x] = bars[x * 8 / p->width];
			else
				line[x] = (x * 255 / p->width) * 0x00010101;
		}
	}
}

static int write_ppm(const char *path, const uint32_t *fb,
		     const struct vfio_device_gfx_plane_info *p)
{
	FILE *f = fopen(path, "wb");
	uint32_t x, y, px;
	int err = 0;

	if (!f)
		return -errno;
	fprintf(f, "P6\n%u %u\n255\n", p->width, p->height);
	for (y = 0; y < p->height; y++) {
		for (x = 0; x < p->width; x++) {
			px = fb[y * (p->stride / 4) + x];
			fputc(px >> 16 & 0xff, f);
			fputc(px >> 8 & 0xff, f);
			fputc(px & 0xff, f);
		}
	}
	if (ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

int main(int argc, char **argv)
{
	struct vfio_device_gfx_plane_info plane = { .argsz = sizeof(plane) };
	struct vfio_region_info region = { .argsz = sizeof(region) };
	struct vfio_dev vd;
	uint32_t *fb;
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s UUID OUT.ppm\n", argv[0]);
		return 2;
	}
	err = vfio_open_mdev(argv[1], &vd);
	if (err) {
		fprintf(stderr, "cannot open %s through VFIO: %s\n", argv[1],
			strerror(-err));
		return 1;
	}
	plane.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION;
	if (ioctl(vd.device, VFIO_DEVICE_QUERY_GFX_PLANE, &plane)) {
		perror("VFIO_DEVICE_QUERY_GFX_PLANE (probe region)");
		return 1;
	}
	plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
	plane.drm_plane_type = 1;	/* DRM_PLANE_TYPE_PRIMARY */
	if (ioctl(vd.device, VFIO_DEVICE_QUERY_GFX_PLANE, &plane)) {
		perror("VFIO_DEVICE_QUERY_GFX_PLANE");
		return 1;
	}
	printf("primary plane: %ux%u, format %.4s, stride %u, %u bytes in region %u\n",
	       plane.width, plane.height, (char *)&plane.drm_format,
	       plane.stride, plane.size, plane.region_index);
	region.index = plane.region_index;
	if (ioctl(vd.device, VFIO_DEVICE_GET_REGION_INFO, &region)) {
		perror("VFIO_DEVICE_GET_REGION_INFO");
		return 1;
	}
	printf("region %u: %llu bytes at offset 0x%llx, flags 0x%x%s\n",
	       region.index, (unsigned long long)region.size,
	       (unsigned long long)region.offset, region.flags,
	       region.flags & VFIO_REGION_INFO_FLAG_MMAP ? " (mmap)" : "");
	if (plane.stride < plane.width * 4 ||
	    (uint64_t)plane.stride * plane.height > region.size) {
		fprintf(stderr, "the plane does not fit its region\n");
		return 1;
	}
	fb = mmap(NULL, region.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		  vd.device, region.offset);
	if (fb == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	draw(fb, &plane);
	printf("drew colour bars through the mapping\n");
	err = write_ppm(argv[2], fb, &plane);
	if (err) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(-err));
		return 1;
	}
	printf("wrote what the plane shows to %s\n", argv[2]);
	munmap(fb, region.size);
	vfio_close_mdev(&vd);
	return 0;
}
