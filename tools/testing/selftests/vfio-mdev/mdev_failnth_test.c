// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation-failure injection into the Rust samples and the core under
 * them. With the per-task fail-nth interface (/proc/thread-self/fail-nth,
 * CONFIG_FAULT_INJECTION with FAILSLAB and FAIL_PAGE_ALLOC), each operation
 * runs again and again with its 1st, 2nd, 3rd ... allocation failing, until
 * it runs through without reaching the armed one. Every injected failure
 * must end in a clean errno (or in success, where the code has a fallback),
 * leave no instance, slot or module state behind, and leave the device
 * working; kmemleak, scanned after the binary, finds what leaked. Each test
 * prints how many allocation points the operation has.
 *
 * Paths: create (the sysfs write, with the vfio_mdev probe under it), open
 * (GET_DEVICE_FD: the vendor's open_device), region reads and writes,
 * mmap and the first touch of a page (display samples), plane queries and
 * dma-buf exports (mbochs), migration save and resume (mtty and the display
 * samples), and the vendor module's load (its parent registration).
 *
 * The test kernel must let the injection hit sleeping and order-0
 * allocations: guest-tests.sh sets failslab/ignore-gfp-wait and
 * fail_page_alloc/{ignore-gfp-wait,min-order} (debugfs) before the run.
 */
#define _GNU_SOURCE
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
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

/* far more than any path here has: a loop that gets there is stuck */
#define MAX_POINTS	4000

/* The calling thread's fail-nth file, opened once. */
static int nth_fd(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0) {
		perror("fail-nth (CONFIG_FAULT_INJECTION)");
		abort();
	}
	return fd;
}

/* Fail the @n-th allocation from here on (0: none). */
static void arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(nth_fd(), buf, len, 0) != len)
		abort();
}

/* Disarms; whether the armed failure was injected. */
static bool injected(void)
{
	char buf[16] = "";

	if (pread(nth_fd(), buf, sizeof(buf) - 1, 0) <= 0)
		abort();
	arm(0);
	return atoi(buf) == 0;
}

/*
 * One injectable operation. run() does the operation and nothing else
 * between arm() and injected(): 0 or -errno. undo() checks that a success
 * works and takes it back: 0, or -errno for what does not work. intact()
 * says whether a failure left everything as it was (0) or what is wrong
 * (-errno). @ctx is theirs.
 */
struct path {
	const char *name;
	int (*run)(void *ctx);
	int (*undo)(void *ctx);
	int (*intact)(void *ctx);
	void *ctx;
};

/*
 * Runs @p with each allocation failing in turn; the number of points, or
 * -1 after reporting a failure that was not clean.
 */
static int inject_each(struct __test_metadata *_metadata,
		       const struct path *p)
{
	unsigned int n, absorbed = 0;
	int ret, err;

	for (n = 1; n < MAX_POINTS; n++) {
		arm(n);
		ret = p->run(p->ctx);
		if (!injected()) {
			if (ret) {
				TH_LOG("%s: %s without an injected failure",
				       p->name, strerror(-ret));
				return -1;
			}
			err = p->undo(p->ctx);
			if (err) {
				TH_LOG("%s: the uninjected run does not work: %s",
				       p->name, strerror(-err));
				return -1;
			}
			TH_LOG("%s: %u allocation points, %u failures absorbed",
			       p->name, n - 1, absorbed);
			return n - 1;
		}
		if (!ret) {
			/* a fallback took the failure: fine, if it works */
			absorbed++;
			err = p->undo(p->ctx);
			if (err) {
				TH_LOG("%s: allocation %u failed, absorbed, and what was made does not work: %s",
				       p->name, n, strerror(-err));
				return -1;
			}
			continue;
		}
		if (ret != -ENOMEM) {
			TH_LOG("%s: allocation %u failed, the operation said %s",
			       p->name, n, strerror(-ret));
			return -1;
		}
		err = p->intact(p->ctx);
		if (err) {
			TH_LOG("%s: allocation %u failed and left: %s", p->name,
			       n, strerror(-err));
			return -1;
		}
	}
	TH_LOG("%s: still failing after %u points", p->name, n);
	return -1;
}

/*
 * The stacktrace filter of both injection points (failslab, fail_page_alloc:
 * CONFIG_FAULT_INJECTION_STACKTRACE_FILTER): while set, an allocation fails
 * only if a return address of its call stack is in [start, end).
 */
static const char *const filter_dirs[] = {
	"/sys/kernel/debug/failslab", "/sys/kernel/debug/fail_page_alloc",
};
static char filter_saved[2][2][32];	/* dir, start/end: what was there */
static bool filter_set;

static int filter_file(int dir, int end, char *buf, size_t len, bool write)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/require-%s", filter_dirs[dir],
		 end ? "end" : "start");
	return write ? sysfs_write(path, buf, strlen(buf)) :
		       sysfs_read(path, buf, len) < 0 ? -EIO : 0;
}

static void filter_restore(void)
{
	int d, e;

	for (d = 0; filter_set && d < 2; d++)
		for (e = 0; e < 2; e++)
			filter_file(d, e, filter_saved[d][e], 0, true);
	filter_set = false;
}

/* Limits injection to allocations made below @start..@end; 0 or -errno. */
static int filter_to(unsigned long start, unsigned long end)
{
	char buf[32];
	int d, e, err;

	for (d = 0; d < 2; d++) {
		for (e = 0; e < 2; e++) {
			err = filter_file(d, e, filter_saved[d][e],
					  sizeof(filter_saved[d][e]), false);
			if (err)
				return err;
			filter_saved[d][e][strcspn(filter_saved[d][e], "\n")] = 0;
		}
	}
	filter_set = true;
	for (d = 0; d < 2; d++) {
		for (e = 0; e < 2; e++) {
			snprintf(buf, sizeof(buf), "0x%lx", e ? end : start);
			err = filter_file(d, e, buf, 0, true);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * The test kernel's delayed kobject release (DEBUG_KOBJECT_RELEASE, 1 to 4 s
 * per release), which our patch 0004 lets a test turn off for a while: the
 * module loader waits for the release of a failed load's module kobject.
 */
#define RELEASE_DELAY "/sys/module/kernel/parameters/kobject_release_delay"
static char delay_saved[8];	/* what was there, while turned off */

/* Puts the delay back as it was; 0 or -errno. */
static int delay_restore(void)
{
	int err = 0;

	if (delay_saved[0])
		err = sysfs_write(RELEASE_DELAY, delay_saved, 1);
	delay_saved[0] = 0;
	return err;
}

/* Turns the delay off until delay_restore(); 0 or -errno. */
static int delay_off(void)
{
	if (sysfs_read(RELEASE_DELAY, delay_saved, sizeof(delay_saved)) < 0) {
		delay_saved[0] = 0;
		return -ENOENT;
	}
	return sysfs_write(RELEASE_DELAY, "N", 1);
}

/* -- samples ------------------------------------------------------------ */

FIXTURE(inject) {
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	long avail;
	uint32_t ids;
};

FIXTURE_VARIANT(inject) {
	const char *type;
	const char *module_env, *module;
	/* mapping and fault: a region index with the mmap flag, or -1 */
	int mmap_region;
	bool plane, dmabuf, migration;
};

FIXTURE_VARIANT_ADD(inject, mtty) {
	.type = "mtty-2", .module_env = "MDEV_MTTY_MODULE",
	.module = "mtty_rs", .mmap_region = -1, .migration = true,
};

FIXTURE_VARIANT_ADD(inject, minimal) {
	.type = "mdev_minimal-1", .module_env = "MDEV_MINIMAL_MODULE",
	.module = "mdev_minimal", .mmap_region = -1,
};

FIXTURE_VARIANT_ADD(inject, mdpy) {
	.type = "mdpy-vga", .module_env = "MDEV_MDPY_MODULE",
	.module = "mdpy_rs", .mmap_region = VFIO_PCI_BAR0_REGION_INDEX,
	.plane = true, .migration = true,
};

FIXTURE_VARIANT_ADD(inject, mbochs) {
	.type = "mbochs-small", .module_env = "MDEV_MBOCHS_MODULE",
	.module = "mbochs_rs", .mmap_region = VFIO_PCI_BAR0_REGION_INDEX,
	.plane = true, .dmabuf = true, .migration = true,
};

/* The 4 bytes at the start of config space: vendor and device id. */
FIXTURE_SETUP(inject)
{
	self->vd.device = -1;
	self->avail = mdev_available(variant->type);
	ASSERT_LT(0, self->avail);
	uuid_gen(self->uuid);
	ASSERT_EQ(0, mdev_create_wait(variant->type, self->uuid, 10000));
	ASSERT_EQ(0, vfio_open_mdev(self->uuid, &self->vd));
	ASSERT_EQ(0, read_pci_ids(self->vd.device, &self->ids));
}

FIXTURE_TEARDOWN(inject)
{
	filter_restore();
	delay_restore();
	if (self->vd.device >= 0)
		vfio_close_mdev(&self->vd);
	mdev_remove(self->uuid);
	mdev_wait_available(variant->type, self->avail, 10000);
}

/* -- create ------------------------------------------------------------- */

struct create_ctx {
	const char *type;
	int fd;			/* the type's create file */
	char uuid[UUID_STR_LEN + 1];
	long avail;
	uint32_t ids;
};

/* The write alone: the file is opened before (kernfs is not the path). */
static int create_run(void *p)
{
	struct create_ctx *c = p;

	return pwrite(c->fd, c->uuid, UUID_STR_LEN, 0) < 0 ? -errno : 0;
}

/*
 * A created instance as the stack makes it: bound to its driver, in an
 * IOMMU group whose VFIO group device is there. Its /dev node may not be:
 * device_add() takes devtmpfs as best effort and ignores a node it failed
 * to make (an allocation of the caller's, so fail-nth reaches it), where
 * udev would make it from the uevent; that is said, not failed. 0 or
 * -errno. (Opening each one would triple the walk's time; the test opens a
 * fresh instance after it.)
 */
static int instance_made(const char *uuid)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *group;
	ssize_t n;

	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/driver", uuid);
	if (!path_exists(path))
		return -ENODEV;
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	group = strrchr(link, '/') + 1;
	snprintf(path, sizeof(path), "/sys/class/vfio/%s", group);
	if (!path_exists(path))
		return -ENOENT;
	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	if (!path_exists(path))
		fprintf(stderr, "# create: devtmpfs made no %s (best effort)\n",
			path);
	return 0;
}

/* A created instance is made whole; it goes again. */
static int create_undo(void *p)
{
	struct create_ctx *c = p;
	int err = instance_made(c->uuid);

	if (mdev_remove(c->uuid) && !err)
		err = -EIO;
	if (mdev_wait_available(c->type, c->avail, 10000) != c->avail && !err)
		err = -ENOSPC;
	uuid_gen(c->uuid);
	return err;
}

static int create_intact(void *p)
{
	struct create_ctx *c = p;

	if (mdev_exists(c->uuid))
		return -EEXIST;
	if (mdev_wait_available(c->type, c->avail, 10000) != c->avail)
		return -ENOSPC;
	/*
	 * The failed device's UUID stays taken until its release runs, which
	 * the test kernel delays by up to 4 s: the next try takes a new one.
	 */
	uuid_gen(c->uuid);
	return 0;
}

TEST_F_TIMEOUT(inject, create, 900)
{
	struct create_ctx c = { .type = variant->type, .ids = self->ids };
	struct path p = { "create", create_run, create_undo, create_intact, &c };
	char dir[PATH_MAX], path[PATH_MAX + 16];
	uint32_t ids;
	int points;

	ASSERT_EQ(0, mdev_type_dir(variant->type, dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/create", dir);
	c.fd = open(path, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, c.fd) TH_LOG("%s: %s", path, strerror(errno));
	uuid_gen(c.uuid);
	c.avail = mdev_available(variant->type);
	points = inject_each(_metadata, &p);
	close(c.fd);
	ASSERT_LT(0, points);
	/* and after the walk, a fresh instance works */
	ASSERT_EQ(0, fresh_pci_ids(variant->type, &ids));
	ASSERT_EQ(c.ids, ids);
}

/* -- open ----------------------------------------------------------------- */

struct dev_ctx {
	struct vfio_dev *vd;
	const char *uuid;
	uint32_t ids;
	int fd;			/* what run() opened, or -1 */
	int region;
	size_t len;		/* of the access or the mapping */
	uint8_t *map;
	uint32_t plane_flags, plane_id;
};

static int open_run(void *p)
{
	struct dev_ctx *c = p;

	c->fd = ioctl(c->vd->group, VFIO_GROUP_GET_DEVICE_FD, c->uuid);
	return c->fd < 0 ? -errno : 0;
}

static void close_fd(void *p)
{
	struct dev_ctx *c = p;

	close(c->fd);
	c->fd = -1;
}

/* The device still answers: the ids it had. */
static int dev_intact(void *p)
{
	struct dev_ctx *c = p;
	uint32_t ids;
	int err = read_pci_ids(c->vd->device, &ids);

	if (err)
		return err;
	return ids == c->ids ? 0 : -EIO;
}

/* The opened device answers with its ids. */
static int open_undo(void *p)
{
	struct dev_ctx *c = p;
	uint32_t ids;
	int err = read_pci_ids(c->fd, &ids);

	close_fd(c);
	return err ?: ids == c->ids ? 0 : -EIO;
}

/* A failed first open: the next one works and the device answers. */
static int reopen_intact(void *p)
{
	struct dev_ctx *c = p;
	int err = open_run(c);

	return err ?: open_undo(c);
}

/* The first open of the device, which runs the vendor's open_device. */
TEST_F(inject, open)
{
	struct dev_ctx c = { &self->vd, self->uuid, self->ids, -1 };
	struct path p = { "open", open_run, open_undo, reopen_intact, &c };

	close(self->vd.device);
	self->vd.device = -1;
	ASSERT_LT(0, inject_each(_metadata, &p));
	self->vd.device = ioctl(self->vd.group, VFIO_GROUP_GET_DEVICE_FD,
				self->uuid);
	ASSERT_LE(0, self->vd.device);
}

/* -- region access ------------------------------------------------------- */

/* A read and a write back of c->len bytes at the start of c->region. */
static int rw_run(void *p)
{
	struct dev_ctx *c = p;
	struct vfio_region_info info;
	uint32_t v = 0;
	int err = region_info(c->vd->device, c->region, &info);
	ssize_t n;

	if (err)
		return err;
	n = info_pread(c->vd->device, &info, 0, &v, c->len);
	if (n == (ssize_t)c->len)
		n = info_pwrite(c->vd->device, &info, 0, &v, c->len);
	/* a short access is no clean failure: it reaches intact() as EIO */
	return n == (ssize_t)c->len ? 0 : n < 0 ? n : -EIO;
}

/* run() itself showed that the success works */
static int nothing(void *p)
{
	return 0;
}

TEST_F(inject, region_access)
{
	struct dev_ctx c = { &self->vd, self->uuid, self->ids, -1 };
	struct path p = { "region access", rw_run, nothing, dev_intact, &c };
	struct vfio_region_info bar0;
	int cfg, bar;

	c.region = VFIO_PCI_CONFIG_REGION_INDEX;
	c.len = 4;
	cfg = inject_each(_metadata, &p);
	ASSERT_LE(0, cfg);
	/* byte access, which every sample's BAR 0 takes */
	ASSERT_EQ(0, region_info(self->vd.device, VFIO_PCI_BAR0_REGION_INDEX,
				 &bar0));
	bar = 0;
	if (bar0.size) {
		c.region = VFIO_PCI_BAR0_REGION_INDEX;
		c.len = 1;
		bar = inject_each(_metadata, &p);
		ASSERT_LE(0, bar);
	}
	TH_LOG("region access: %d allocation points in all", cfg + bar);
}

/* -- mmap and first touch --------------------------------------------------- */

static int mmap_run(void *p)
{
	struct dev_ctx *c = p;

	c->map = mmap(NULL, c->len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->vd->device, REGION_OFFSET(c->region));
	if (c->map == MAP_FAILED)
		return -errno;
	/* the first touch faults the page in (mbochs allocates it) */
	__atomic_store_n(c->map, 0x5a, __ATOMIC_RELAXED);
	return 0;
}

/* the run's touch showed that the mapping works */
static int unmap(void *p)
{
	struct dev_ctx *c = p;

	return munmap(c->map, c->len) ? -errno : 0;
}

TEST_F(inject, mmap_and_fault)
{
	struct dev_ctx c = { &self->vd, self->uuid, self->ids, -1 };
	struct path p = { "mmap and fault", mmap_run, unmap, dev_intact, &c };

	if (variant->mmap_region < 0)
		SKIP(return, "no mappable region (the fuzzer checks EINVAL)");
	c.region = variant->mmap_region;
	c.len = 4096;
	ASSERT_LT(0, inject_each(_metadata, &p));
}

/* -- plane query and dma-buf export ---------------------------------------- */

static int plane_run(void *p)
{
	struct dev_ctx *c = p;
	struct vfio_device_gfx_plane_info pl = {
		.argsz = sizeof(pl), .drm_plane_type = DRM_PLANE_TYPE_PRIMARY,
		.flags = c->plane_flags,
	};

	if (ioctl(c->vd->device, VFIO_DEVICE_QUERY_GFX_PLANE, &pl))
		return -errno;
	c->plane_id = pl.dmabuf_id;
	return 0;
}

TEST_F(inject, plane_query)
{
	struct dev_ctx c = { &self->vd, self->uuid, self->ids, -1 };
	struct path p = { "plane query", plane_run, nothing, dev_intact, &c };

	if (!variant->plane)
		SKIP(return, "no display");
	if (variant->dmabuf)
		ASSERT_EQ(0, bochs_set_mode_bar2(self->vd.device, 640, 480));
	c.plane_flags = variant->dmabuf ? VFIO_GFX_PLANE_TYPE_DMABUF :
			VFIO_GFX_PLANE_TYPE_REGION;
	ASSERT_LE(0, inject_each(_metadata, &p));
}

static int export_run(void *p)
{
	struct dev_ctx *c = p;
	uint32_t id = c->plane_id;

	c->fd = ioctl(c->vd->device, VFIO_DEVICE_GET_GFX_DMABUF, &id);
	if (c->fd < 0)
		return -errno;
	c->map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, c->fd, 0);
	if (c->map == MAP_FAILED) {
		close(c->fd);
		return -errno;
	}
	/* the dma-buf's own fault handler */
	(void)__atomic_load_n(c->map, __ATOMIC_RELAXED);
	return 0;
}

static int export_undo(void *p)
{
	struct dev_ctx *c = p;

	munmap(c->map, 4096);
	close_fd(c);
	return 0;
}

TEST_F(inject, dmabuf_export)
{
	struct dev_ctx c = { &self->vd, self->uuid, self->ids, -1 };
	struct path p = { "dma-buf export", export_run, export_undo,
			  dev_intact, &c };

	if (!variant->dmabuf)
		SKIP(return, "no dma-buf");
	ASSERT_EQ(0, bochs_set_mode_bar2(self->vd.device, 640, 480));
	c.plane_flags = VFIO_GFX_PLANE_TYPE_DMABUF;
	ASSERT_EQ(0, plane_run(&c));
	ASSERT_LE(0, inject_each(_metadata, &p));
}

/* -- migration ------------------------------------------------------------- */

/*
 * Room for the streams here: mdpy-vga's after a reset is its reset picture
 * (300 pages at most), mbochs-small's the pages touched (none here); a
 * stream that does not fit fails with EFBIG.
 */
#define MIG_STREAM_MAX	(4 << 20)

struct mig_ctx {
	int fd;
	uint8_t *stream;	/* MIG_STREAM_MAX bytes */
	ssize_t len;
};

/* RUNNING -> STOP -> STOP_COPY, read the stream, -> STOP -> RUNNING */
static int save_run(void *p)
{
	struct mig_ctx *c = p;
	int dfd, err;
	ssize_t n;

	err = mig_set_state(c->fd, VFIO_DEVICE_STATE_STOP, NULL);
	if (!err)
		err = mig_set_state(c->fd, VFIO_DEVICE_STATE_STOP_COPY, &dfd);
	if (!err && dfd < 0)
		err = -EPROTO;
	if (err)
		return err;
	n = mig_read_all(dfd, c->stream, MIG_STREAM_MAX);
	c->len = n < 0 ? 0 : n;
	if (n < 0)
		err = n;
	close(dfd);
	if (!err)
		err = mig_set_state(c->fd, VFIO_DEVICE_STATE_STOP, NULL);
	if (!err)
		err = mig_set_state(c->fd, VFIO_DEVICE_STATE_RUNNING, NULL);
	return err;
}

static int resume_run(void *p)
{
	struct mig_ctx *c = p;

	return mig_resume(c->fd, c->stream, c->len);
}

/* A failed arc leaves the device in some state: reset brings it back. */
static int mig_intact(void *p)
{
	struct mig_ctx *c = p;

	if (ioctl(c->fd, VFIO_DEVICE_RESET))
		return -errno;
	return mig_set_state(c->fd, VFIO_DEVICE_STATE_RUNNING, NULL);
}

TEST_F_TIMEOUT(inject, migration, 120)
{
	struct mig_ctx c = { .fd = self->vd.device };
	struct path save = { "migration save", save_run, nothing, mig_intact,
			     &c };
	struct path resume = { "migration resume", resume_run, nothing,
			       mig_intact, &c };

	if (!variant->migration)
		SKIP(return, "no migration");
	c.stream = malloc(MIG_STREAM_MAX);
	ASSERT_NE(NULL, c.stream);
	ASSERT_LE(0, inject_each(_metadata, &save));
	ASSERT_LT(0, c.len);
	ASSERT_LE(0, inject_each(_metadata, &resume));
	free(c.stream);
}

/* -- the vendor module's load ------------------------------------------------ */

/* Where kernel function @name's text is, from /proc/kallsyms; 0 or -errno. */
static int symbol_range(const char *name, unsigned long *start,
			unsigned long *end)
{
	unsigned long addr, next = ULONG_MAX;
	char sym[256], type;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return -errno;
	*start = 0;
	while (fscanf(f, "%lx %c %255s%*[^\n]", &addr, &type, sym) == 3)
		if (!*start && (type == 't' || type == 'T') &&
		    !strcmp(sym, name))
			*start = addr;
	rewind(f);
	while (*start && fscanf(f, "%lx %c %255s%*[^\n]", &addr, &type,
				sym) == 3)
		if (addr > *start && addr < next)
			next = addr;
	fclose(f);
	*end = next;
	return *start && next != ULONG_MAX ? 0 : -ENOENT;
}

/* The whole file at @path in a new buffer (*@len bytes), or NULL. */
static void *read_file(const char *path, size_t *len)
{
	size_t size = 0, cap = 1 << 20;
	char *buf = malloc(cap), *more;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	while (buf && fd >= 0 && (n = read(fd, buf + size, cap - size)) > 0) {
		size += n;
		if (size == cap) {
			more = realloc(buf, cap *= 2);
			if (!more)
				break;
			buf = more;
		}
	}
	if (fd >= 0)
		close(fd);
	if (!buf || fd < 0 || n < 0 || size == cap) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

/*
 * Loads the module @image in a child whose @n-th allocation fails (0:
 * none): 0 or -errno of init_module, and in *@hit whether the failure was
 * injected. From memory, not from the file: reading a file of the VM's
 * 9p root under injection trips a refcount bug of 6.12's netfs, which is
 * not what this test is about. A child that cannot be made, or that does
 * not report and exit cleanly, is -ECHILD and not injected, which fails
 * the caller.
 */
static int load_failing(const void *image, size_t len, unsigned int n,
			bool *hit)
{
	int pipefd[2], status;
	struct { int ret; bool hit; } r = { -ECHILD, false };
	pid_t pid;

	*hit = false;
	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid == 0) {
		arm(n);
		r.ret = syscall(SYS_init_module, image, len, "") ? -errno : 0;
		r.hit = injected();
		if (write(pipefd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (pid > 0 && read(pipefd[0], &r, sizeof(r)) != sizeof(r))
		r.ret = -ECHILD;
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		return -ECHILD;
	*hit = r.hit;
	return r.ret;
}

/*
 * A load that absorbed a failure must have registered the type whole, at
 * @dir (its real path, under the parent device), with all @avail instances
 * available. The /sys/class/mdev_bus link to the parent (class_compat) is
 * best effort, as in upstream's mdev_register_parent(): a failure there is
 * said, not failed. 0 or -errno.
 */
static int load_absorbed(const char *dir, const char *type, long avail)
{
	char path[PATH_MAX + 32];
	long n;

	snprintf(path, sizeof(path), "%s/available_instances", dir);
	n = sysfs_read_long(path);
	if (n != avail)
		return n < 0 ? n : -ENOSPC;
	if (mdev_type_dir(type, path, sizeof(path)))
		fprintf(stderr, "# module load: no %s link to %s (best effort)\n",
			MDEV_CLASS, type);
	return 0;
}

/*
 * Whether MDEV_FAILNTH_LOAD ("all", the default, or module names) has
 * @module's load injected.
 */
static bool load_injected(const char *module)
{
	const char *list = getenv("MDEV_FAILNTH_LOAD") ?: "all";
	size_t len = strlen(module);
	const char *p;

	if (!strcmp(list, "all"))
		return true;
	for (p = strstr(list, module); p; p = strstr(p + 1, module))
		if ((p == list || p[-1] == ' ') && (!p[len] || p[len] == ' '))
			return true;
	return false;
}

/*
 * The module's load, with injection only below do_init_module(): the
 * sample's init (its parent registration with everything under it) and
 * what the loader does around it, not the loader's own hundreds of
 * allocations before (its copy of the image, sections, symbols), which are
 * not the sample's, and which fail-nth would take minutes to walk under
 * TCG. The filter looks 32 frames up: deeper allocations are not failed.
 *
 * A failed load waits for the release of the module's kobject, which the
 * test kernel delays by 1 to 4 s: with the delay, mdev_minimal alone took
 * more than ten minutes, so the loop runs with it turned off (KASAN and
 * kmemleak still watch): about 150 to 220 points per module, a minute or
 * two each. MDEV_FAILNTH_LOAD names the modules whose load is injected
 * ("all", the default, or names, e.g. "none"); the others are unloaded and
 * loaded once, must come back working, and the test says it skipped.
 */
TEST_F_TIMEOUT(inject, module_load, 900)
{
	const char *path = module_name(variant->module_env, variant->module);
	char name[64], sysdir[PATH_MAX], typedir[PATH_MAX], realdir[PATH_MAX];
	unsigned int n, absorbed = 0, last, tries;
	unsigned long start = 0, end = 0;
	uint32_t ids = self->ids;
	void *image;
	size_t len;
	bool hit;
	int ret;

	/* where the type is, under its parent device (the same every load) */
	ASSERT_EQ(0, mdev_type_dir(variant->type, typedir, sizeof(typedir)));
	ASSERT_TRUE(realpath(typedir, realdir) != NULL);
	/* the fixture's instance goes first: the module must be unloadable */
	vfio_close_mdev(&self->vd);
	self->vd.device = -1;
	ASSERT_EQ(0, mdev_remove(self->uuid));
	module_sysfs_name(path, name, sizeof(name));
	snprintf(sysdir, sizeof(sysdir), "/sys/module/%s", name);
	ASSERT_TRUE(strchr(path, '/') != NULL)
		TH_LOG("%s=%s: a path to the .ko is needed", variant->module_env,
		       path);
	image = read_file(path, &len);
	ASSERT_TRUE(image != NULL) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, symbol_range("do_init_module", &start, &end));
	ASSERT_EQ(0, filter_to(start, end))
		TH_LOG("CONFIG_FAULT_INJECTION_STACKTRACE_FILTER?");
	/* not injected: one load whose failure point is never reached */
	last = load_injected(variant->module) ? MAX_POINTS : 1;
	if (last > 1)
		ASSERT_EQ(0, delay_off()) TH_LOG("%s: patch 0004?", RELEASE_DELAY);
	for (n = 1; n <= last; n++) {
		/* a delayed release may still hold the module for a moment */
		for (tries = 0; path_exists(sysdir); tries++) {
			ASSERT_LT(tries, 100) TH_LOG("%s stays loaded: %s",
						     name, strerror(errno));
			if (!syscall(SYS_delete_module, name, O_NONBLOCK))
				break;
			msleep(100);
		}
		ret = load_failing(image, len,
				   last == 1 ? MAX_POINTS * 1000 : n, &hit);
		if (!hit) {
			ASSERT_EQ(0, ret) TH_LOG("load failed uninjected");
			break;
		}
		if (!ret) {
			absorbed++;
			ret = load_absorbed(realdir, variant->type, self->avail);
			ASSERT_EQ(0, ret)
				TH_LOG("allocation %u absorbed, but type %s: %s",
				       n, variant->type, strerror(-ret));
			continue;
		}
		/* any errno the failure gives is clean if nothing is left */
		ASSERT_FALSE(path_exists(sysdir))
			TH_LOG("allocation %u: %s, but the module is there",
			       n, strerror(-ret));
		ASSERT_FALSE(path_exists(realdir))
			TH_LOG("allocation %u: %s, but type %s is there", n,
			       strerror(-ret), variant->type);
	}
	free(image);
	filter_restore();
	ASSERT_EQ(0, delay_restore());
	ASSERT_LT(n, MAX_POINTS);
	if (last > 1)
		TH_LOG("module load: %u allocation points, %u failures absorbed",
		       n - 1, absorbed);
	/* the module is loaded again, as the other tests expect */
	ASSERT_EQ(self->avail, mdev_wait_available(variant->type, self->avail,
						   10000));
	uuid_gen(self->uuid);
	ASSERT_EQ(0, mdev_create_wait(variant->type, self->uuid, 10000));
	ASSERT_EQ(0, vfio_open_mdev(self->uuid, &self->vd));
	ASSERT_EQ(0, read_pci_ids(self->vd.device, &self->ids));
	/* the walk changed nothing of what an instance shows */
	ASSERT_EQ(ids, self->ids);
	if (last == 1)
		SKIP(return, "not injected (MDEV_FAILNTH_LOAD): reloaded once");
}

TEST_HARNESS_MAIN
