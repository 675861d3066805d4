/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vfio-mdev kselftests: sysfs access to mdev parents,
 * types and instances, and VFIO group/container/device plumbing.
 *
 * The tests run against whichever stack (mdev core + vendor samples) the
 * runner loaded. Vendor module names come from the environment
 * (MDEV_MTTY_MODULE, ...) so the same binaries test every stack.
 */
#ifndef MDEV_UTIL_H
#define MDEV_UTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>

#define MDEV_BUS_DEVICES	"/sys/bus/mdev/devices"
#define MDEV_CLASS		"/sys/class/mdev_bus"
#define UUID_STR_LEN		36

/* include/drm/drm_plane.h's drm_plane_type (not in the uAPI headers) */
#define DRM_PLANE_TYPE_PRIMARY	1
/* a bit per errno, for sets of the errnos a request may answer */
#define ERRNO_BIT(e)		((__uint128_t)1 << (e))
/* the bochs VBE (dispi) registers of mbochs: 16 bits each, in BAR 2 */
#define DISPI			0x500
#define DISPI_ID		0x0
#define DISPI_XRES		0x1
#define DISPI_YRES		0x2
#define DISPI_BPP		0x3
#define DISPI_ENABLE		0x4
#define DISPI_VIRT_WIDTH	0x6
#define DISPI_X_OFFSET		0x8
#define DISPI_Y_OFFSET		0x9
#define DISPI_VIDEO_MEMORY_64K	0xa
/* Region offsets as the samples lay them out: index << 40. */
#define REGION_OFFSET(idx)	((uint64_t)(idx) << 40)
/* the offset of the first byte after @member of @type */
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* sysfs: a write of all @len bytes, 0 or -errno (a short one: -EIO) */
int sysfs_write(const char *path, const char *buf, size_t len);
/* one write(2) of @len bytes: how many the file took, or -errno */
ssize_t sysfs_write_once(const char *path, const char *buf, size_t len);
/* at most @len - 1 bytes, NUL-terminated: their count or -errno */
int sysfs_read(const char *path, char *buf, size_t len);
/* a file holding one non-negative number: it, or -errno (-EINVAL: no number) */
long sysfs_read_long(const char *path);
bool path_exists(const char *path);

/*
 * Find the type directory "<parent>/mdev_supported_types/<type>" of a type
 * named like upstream (e.g. "mtty-2"). Returns 0 and fills @dir, or -ENOENT.
 */
int mdev_type_dir(const char *type, char *dir, size_t len);

/* One type of one parent, as the mdev_bus class lists them. */
struct mdev_type_name {
	char parent[NAME_MAX + 1];
	char type[NAME_MAX + 1];
};

/*
 * Every type of every registered parent into @out: their number, or -errno
 * (-E2BIG: more than @max; a parent without mdev_supported_types: its errno).
 */
int mdev_list_types(struct mdev_type_name *out, int max);
long mdev_available(const char *type);
/* Read attribute @attr of @type into @buf: its length, or -errno. */
int mdev_type_attr(const char *type, const char *attr, char *buf, size_t len);
void uuid_gen(char *out);
/* 0 or -errno of the write to create / remove. */
int mdev_create(const char *type, const char *uuid);
int mdev_remove(const char *uuid);
/*
 * Create, waiting up to @ms for what a removal gives back: an instance's
 * UUID and budget slot return when its release callback runs, which the
 * kernel may delay (DEBUG_KOBJECT_RELEASE: up to 4 s). Retries only on
 * EEXIST, ENOSPC and EUSERS; 0 or the last -errno.
 */
int mdev_create_wait(const char *type, const char *uuid, int ms);
/* Wait up to @ms for @type's available_instances to reach @n; the last value. */
long mdev_wait_available(const char *type, long n, int ms);
bool mdev_exists(const char *uuid);
/*
 * Removes every instance of @type: how many there were (removed or not;
 * one that refused to go is still there, for mdev_exists() to find).
 */
int mdev_remove_all(const char *type);

/* A VFIO device fd opened the legacy way: container + group. */
struct vfio_dev {
	int container;
	int group;
	int device;
	int group_id;
};

int vfio_open_mdev(const char *uuid, struct vfio_dev *vd);
void vfio_close_mdev(struct vfio_dev *vd);
/*
 * Creates an instance of @type, opens it, hands its device fd and @arg to
 * @fn, then closes and removes it: @fn's answer, else 0 or the first -errno.
 */
int with_fresh_instance(const char *type, int (*fn)(int fd, void *arg),
			void *arg);

/* GET_REGION_INFO of region @index (argsz: the fixed part); 0 or -errno. */
int region_info(int fd, unsigned int index, struct vfio_region_info *info);
/*
 * Turns the bochs display of @fd on at @width x @height, 32 bpp, from line
 * @y_offset, through the dispi registers in the region @mmio (BAR 2)
 * describes; 0 or -errno.
 */
int bochs_set_mode(int fd, const struct vfio_region_info *mmio,
		   unsigned int width, unsigned int height,
		   unsigned int y_offset);
/* bochs_set_mode() from line 0, through BAR 2 as @fd describes it */
int bochs_set_mode_bar2(int fd, unsigned int width, unsigned int height);
/*
 * Moves @fd's migration state to @state: 0 or -errno. The data fd the arc
 * opens (-1 for none) goes to *@data_fd; with @data_fd NULL the arc must
 * open none (if it does, the fd is closed and the answer is -EPROTO).
 */
int mig_set_state(int fd, uint32_t state, int *data_fd);
/* @fd: STOP, RESUMING, write @data, STOP, RUNNING; 0 or -errno */
int mig_resume(int fd, const uint8_t *data, size_t len);
/*
 * VFIO_DEVICE_FEATURE on @fd with @flags and @len (at most 64) bytes of
 * @data, which it reads back: 0 or -errno.
 */
int vfio_feature(int fd, uint32_t flags, void *data, size_t len);
/* @fd's migration state (VFIO_DEVICE_STATE_*), or -errno */
int mig_get_state(int fd);
/* Reads data fd @dfd until its end into @buf: the length, or -errno. */
ssize_t mig_read_all(int dfd, uint8_t *buf, size_t size);
/*
 * Reads data fd @dfd until it has nothing more for now: the length read,
 * and in *@end what stopped it (0 at the end of the stream, else an errno;
 * EFBIG when more came than @size bytes hold, of which one byte more was
 * read and dropped).
 */
ssize_t mig_read_stream(int dfd, uint8_t *buf, size_t size, int *end);
/* The first 4 bytes of config space (vendor and device id); 0 or -errno. */
int read_pci_ids(int fd, uint32_t *ids);
/* read_pci_ids() of a fresh instance of @type (with_fresh_instance()). */
int fresh_pci_ids(const char *type, uint32_t *ids);
/*
 * QUERY_GFX_PLANE with @flags for @plane_type into @plane, whose other
 * bytes are first set to 0xa5 (so a field left alone shows); 0 or -errno.
 */
int query_plane(int fd, uint32_t flags, uint32_t plane_type,
		struct vfio_device_gfx_plane_info *plane);
/* pread/pwrite at @off of the region @info describes; bytes or -errno. */
ssize_t info_pread(int fd, const struct vfio_region_info *info, uint64_t off,
		   void *buf, size_t len);
ssize_t info_pwrite(int fd, const struct vfio_region_info *info, uint64_t off,
		    const void *buf, size_t len);
/* pread/pwrite on a region; return bytes or -errno. */
ssize_t region_read(int fd, int index, uint64_t off, void *buf, size_t len);
ssize_t region_write(int fd, int index, uint64_t off, const void *buf,
		     size_t len);
/*
 * Register access: a transfer that fails or comes up short fails the calling
 * test (abort), never returns a stand-in value.
 */
uint8_t bar_read8(int fd, int bar, unsigned int reg);
void bar_write8(int fd, int bar, unsigned int reg, uint8_t val);
uint32_t cfg_read32(int fd, unsigned int off);
/* 4 bytes at @off of the region @info describes (its own offset) */
uint32_t info_read32(int fd, const struct vfio_region_info *info,
		     unsigned int off);
uint16_t cfg_read16(int fd, unsigned int off);
void cfg_write32(int fd, unsigned int off, uint32_t val);

/*
 * A device without interrupts: every index GET_INFO reports has no vectors
 * and no flags (whatever the caller passed in), the next index is EINVAL,
 * and SET_IRQS is EINVAL on each. 0, or -1 with the failed check printed.
 */
int irq_none(int fd);

/*
 * Module control for lifecycle tests. A module is named by a path to its .ko
 * (insmod) or by its name (modprobe); rmmod takes either.
 */
const char *module_name(const char *env, const char *def);
int module_load(const char *name);
/* module_load() with one "name=value" parameter, or none if @param is NULL */
int module_load_param(const char *name, const char *param);
/* The module's name in /sys/module: @name without directory and ".ko" */
void module_sysfs_name(const char *name, char *out, size_t len);
int module_unload(const char *name);

/* Processes: sleep, remove an instance from a child, wait for a child. */
void msleep(int ms);
/* CLOCK_MONOTONIC in seconds (the guest's clock: instructions under icount) */
double now_seconds(void);
/*
 * Start writing "remove" for @uuid in a child process, which first drops
 * its copies of @vd's fds so that only the caller holds the device open.
 */
pid_t remove_in_child(const char *uuid, struct vfio_dev *vd);
/* The child's exit code, or -1 if it is still running after @ms. */
int wait_child(pid_t pid, int ms);

#endif /* MDEV_UTIL_H */
