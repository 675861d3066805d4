// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_dmabuf_grab PID OUT: take the picture a VMM shows of its dma-buf
 * display, the way the VMM itself gets it. The VFIO device files of process
 * PID (a running QEMU) are duplicated into this process (pidfd_getfd); the
 * one whose primary plane is a dma-buf answers VFIO_DEVICE_QUERY_GFX_PLANE
 * and VFIO_DEVICE_GET_GFX_DMABUF. The dma-buf is mapped and its rows are
 * written to OUT packed, 4 bytes a pixel (XRGB8888, little endian). Prints
 * "plane WIDTH HEIGHT STRIDE" and exits 0, or explains and exits 1.
 *
 * Used by mdev_qemu_test.sh, whose nested QEMU drives an mbochs instance
 * without an OpenGL display.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "mdev_util.h"

#define FORMAT_XRGB8888		0x34325258

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd	438
#endif

/* A copy of the first VFIO device file of @pid with a dma-buf plane, or -1. */
static int grab_display(pid_t pid, struct vfio_device_gfx_plane_info *plane)
{
	char dir[64], path[PATH_MAX], link[PATH_MAX];
	struct dirent *e;
	int pidfd, fd = -1;
	ssize_t n;
	DIR *d;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		perror("pidfd_open");
		return -1;
	}
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d) {
		perror(dir);
		close(pidfd);
		return -1;
	}
	while (fd < 0 && (e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[vfio-device]"))
			continue;
		fd = syscall(SYS_pidfd_getfd, pidfd, atoi(e->d_name), 0);
		if (fd < 0) {
			perror("pidfd_getfd");
			continue;
		}
		if (query_plane(fd, VFIO_GFX_PLANE_TYPE_DMABUF,
				DRM_PLANE_TYPE_PRIMARY, plane)) {
			close(fd);
			fd = -1;
		}
	}
	closedir(d);
	close(pidfd);
	return fd;
}

int main(int argc, char **argv)
{
	struct vfio_device_gfx_plane_info plane;
	int dev, buf, out;
	unsigned int y;
	uint8_t *pixels;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PID OUT\n", argv[0]);
		return 1;
	}
	dev = grab_display(atoi(argv[1]), &plane);
	if (dev < 0) {
		fprintf(stderr, "no VFIO device with a dma-buf plane in %s\n",
			argv[1]);
		return 1;
	}
	printf("plane %u %u %u\n", plane.width, plane.height, plane.stride);
	if (plane.drm_format != FORMAT_XRGB8888 || !plane.width ||
	    plane.stride < plane.width * 4 ||
	    plane.size < (uint64_t)plane.stride * plane.height) {
		fprintf(stderr, "not an XRGB8888 plane: format %#x size %u\n",
			plane.drm_format, plane.size);
		return 1;
	}
	buf = ioctl(dev, VFIO_DEVICE_GET_GFX_DMABUF, &plane.dmabuf_id);
	if (buf < 0) {
		perror("VFIO_DEVICE_GET_GFX_DMABUF");
		return 1;
	}
	pixels = mmap(NULL, plane.size, PROT_READ, MAP_SHARED, buf, 0);
	if (pixels == MAP_FAILED) {
		perror("dma-buf mmap");
		return 1;
	}
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0) {
		perror(argv[2]);
		return 1;
	}
	for (y = 0; y < plane.height; y++) {
		if (write(out, pixels + (size_t)y * plane.stride,
			  plane.width * 4) != plane.width * 4) {
			perror("write");
			return 1;
		}
	}
	return close(out) ? 1 : 0;
}
