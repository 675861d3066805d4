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
 * dma-buf exports (mbochs), migration save and resume (mtty), and the
 * vendor module's load (its parent registration).
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
#define DRM_PLANE_TYPE_PRIMARY	1

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
 * between arm() and injected(): 0 or -errno. undo() takes a success back;
 * intact() says whether a failure left everything as it was (0) or what is
 * wrong (-errno). @ctx is theirs.
 */
struct path {
	const char *name;
	int (*run)(void *ctx);
	void (*undo)(void *ctx);
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
			p->undo(p->ctx);
			TH_LOG("%s: %u allocation points, %u failures absorbed",
			       p->name, n - 1, absorbed);
			return n - 1;
		}
		if (!ret) {
			/* a fallback took the failure: fine, if it works */
			absorbed++;
			p->undo(p->ctx);
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
	.plane = true,
};

FIXTURE_VARIANT_ADD(inject, mbochs) {
	.type = "mbochs-small", .module_env = "MDEV_MBOCHS_MODULE",
	.module = "mbochs_rs", .mmap_region = VFIO_PCI_BAR0_REGION_INDEX,
	.plane = true, .dmabuf = true,
};

/* The 4 bytes at the start of config space: vendor and device id. */
static int read_ids(int fd, uint32_t *ids)
{
	struct vfio_region_info cfg;
	int err = region_info(fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);

	if (err)
		return err;
	return info_pread(fd, &cfg, 0, ids, 4) == 4 ? 0 : -EIO;
}

FIXTURE_SETUP(inject)
{
	self->vd.device = -1;
	self->avail = mdev_available(variant->type);
	ASSERT_LT(0, self->avail);
	uuid_gen(self->uuid);
	ASSERT_EQ(0, mdev_create_wait(variant->type, self->uuid, 10000));
	ASSERT_EQ(0, vfio_open_mdev(self->uuid, &self->vd));
	ASSERT_EQ(0, read_ids(self->vd.device, &self->ids));
}

FIXTURE_TEARDOWN(inject)
{
	if (self->vd.device >= 0)
		vfio_close_mdev(&self->vd);
	mdev_remove(self->uuid);
	mdev_wait_available(variant->type, self->avail, 10000);
}

/* -- create ------------------------------------------------------------- */

struct create_ctx {
	const char *type;
	char path[PATH_MAX + 16];
	char uuid[UUID_STR_LEN + 1];
	long avail;
};

static int create_run(void *p)
{
	struct create_ctx *c = p;
	int fd = open(c->path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, c->uuid, UUID_STR_LEN) < 0)
		err = -errno;
	close(fd);
	return err;
}

static void create_undo(void *p)
{
	struct create_ctx *c = p;

	mdev_remove(c->uuid);
	mdev_wait_available(c->type, c->avail, 10000);
	uuid_gen(c->uuid);
}

static int create_intact(void *p)
{
	struct create_ctx *c = p;

	if (mdev_exists(c->uuid))
		return -EEXIST;
	if (mdev_wait_available(c->type, c->avail, 10000) != c->avail)
		return -ENOSPC;
	return 0;
}

TEST_F(inject, create)
{
	struct create_ctx c = { .type = variant->type };
	struct path p = { "create", create_run, create_undo, create_intact, &c };
	char dir[PATH_MAX];

	ASSERT_EQ(0, mdev_type_dir(variant->type, dir, sizeof(dir)));
	snprintf(c.path, sizeof(c.path), "%s/create", dir);
	uuid_gen(c.uuid);
	c.avail = mdev_available(variant->type);
	ASSERT_LT(0, inject_each(_metadata, &p));
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
	int err = read_ids(c->vd->device, &ids);

	if (err)
		return err;
	return ids == c->ids ? 0 : -EIO;
}

/* A failed first open: the next one works and the device answers. */
static int reopen_intact(void *p)
{
	struct dev_ctx *c = p;
	uint32_t ids;
	int err = open_run(c);

	if (!err) {
		err = read_ids(c->fd, &ids);
		if (!err && ids != c->ids)
			err = -EIO;
		close_fd(c);
	}
	return err;
}

/* The first open of the device, which runs the vendor's open_device. */
TEST_F(inject, open)
{
	struct dev_ctx c = { &self->vd, self->uuid, self->ids, -1 };
	struct path p = { "open", open_run, close_fd, reopen_intact, &c };

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

	if (err)
		return err;
	if (info_pread(c->vd->device, &info, 0, &v, c->len) != c->len)
		return -errno;
	if (info_pwrite(c->vd->device, &info, 0, &v, c->len) != c->len)
		return -errno;
	return 0;
}

static void nothing(void *p)
{
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

static void unmap(void *p)
{
	struct dev_ctx *c = p;

	munmap(c->map, c->len);
}

TEST_F(inject, mmap_and_fault)
{
	struct dev_ctx c = { &self->vd, self->uuid, self->ids, -1 };
	struct path p = { "mmap and fault", mmap_run, unmap, dev_intact, &c };

	if (variant->mmap_region < 0)
		return;		/* nothing to map: the fuzzer checks EINVAL */
	c.region = variant->mmap_region;
	c.len = 4096;
	ASSERT_LT(0, inject_each(_metadata, &p));
}

/* -- plane query and dma-buf export ---------------------------------------- */

#define DISPI	0x500

static void bochs_mode(struct __test_metadata *_metadata, int fd)
{
	static const uint16_t regs[][2] = {
		{ 4, 0 }, { 1, 640 }, { 2, 480 }, { 3, 32 }, { 6, 640 },
		{ 8, 0 }, { 9, 0 }, { 4, 1 },
	};
	struct vfio_region_info mmio;
	unsigned int i;

	ASSERT_EQ(0, region_info(fd, VFIO_PCI_BAR2_REGION_INDEX, &mmio));
	for (i = 0; i < ARRAY_SIZE(regs); i++)
		ASSERT_EQ(2, info_pwrite(fd, &mmio, DISPI + 2 * regs[i][0],
					 &regs[i][1], 2));
}

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
		return;
	if (variant->dmabuf)
		bochs_mode(_metadata, self->vd.device);
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

static void export_undo(void *p)
{
	struct dev_ctx *c = p;

	munmap(c->map, 4096);
	close_fd(c);
}

TEST_F(inject, dmabuf_export)
{
	struct dev_ctx c = { &self->vd, self->uuid, self->ids, -1 };
	struct path p = { "dma-buf export", export_run, export_undo,
			  dev_intact, &c };

	if (!variant->dmabuf)
		return;
	bochs_mode(_metadata, self->vd.device);
	c.plane_flags = VFIO_GFX_PLANE_TYPE_DMABUF;
	ASSERT_EQ(0, plane_run(&c));
	ASSERT_LE(0, inject_each(_metadata, &p));
}

/* -- migration ------------------------------------------------------------- */

static int set_state(int fd, uint32_t state)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_mig_state s;
	} req = {
		.f = { .argsz = sizeof(req),
		       .flags = VFIO_DEVICE_FEATURE_SET |
				VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
		.s = { .device_state = state, .data_fd = -1 },
	};

	if (ioctl(fd, VFIO_DEVICE_FEATURE, &req))
		return -errno;
	return req.s.data_fd;
}

struct mig_ctx {
	int fd;
	uint8_t stream[8192];
	ssize_t len;
};

/* RUNNING -> STOP -> STOP_COPY, read the stream, -> STOP -> RUNNING */
static int save_run(void *p)
{
	struct mig_ctx *c = p;
	ssize_t n;
	int dfd;

	dfd = set_state(c->fd, VFIO_DEVICE_STATE_STOP);
	if (dfd < -1)
		return dfd;
	dfd = set_state(c->fd, VFIO_DEVICE_STATE_STOP_COPY);
	if (dfd < 0)
		return dfd;
	c->len = 0;
	while ((n = read(dfd, c->stream + c->len,
			 sizeof(c->stream) - c->len)) > 0)
		c->len += n;
	close(dfd);
	if (n < 0)
		return -errno;
	dfd = set_state(c->fd, VFIO_DEVICE_STATE_STOP);
	if (dfd < -1)
		return dfd;
	dfd = set_state(c->fd, VFIO_DEVICE_STATE_RUNNING);
	return dfd < -1 ? dfd : 0;
}

/* -> STOP -> RESUMING, write the stream, -> STOP -> RUNNING */
static int resume_run(void *p)
{
	struct mig_ctx *c = p;
	int dfd, err = 0;

	dfd = set_state(c->fd, VFIO_DEVICE_STATE_STOP);
	if (dfd < -1)
		return dfd;
	dfd = set_state(c->fd, VFIO_DEVICE_STATE_RESUMING);
	if (dfd < 0)
		return dfd;
	if (write(dfd, c->stream, c->len) != c->len)
		err = -errno;
	close(dfd);
	if (err)
		return err;
	dfd = set_state(c->fd, VFIO_DEVICE_STATE_STOP);
	if (dfd < -1)
		return dfd;
	dfd = set_state(c->fd, VFIO_DEVICE_STATE_RUNNING);
	return dfd < -1 ? dfd : 0;
}

/* A failed arc leaves the device in some state: reset brings it back. */
static int mig_intact(void *p)
{
	struct mig_ctx *c = p;

	int ret;

	if (ioctl(c->fd, VFIO_DEVICE_RESET))
		return -errno;
	ret = set_state(c->fd, VFIO_DEVICE_STATE_RUNNING);
	return ret < -1 ? ret : 0;
}

TEST_F(inject, migration)
{
	struct mig_ctx c = { .fd = self->vd.device };
	struct path save = { "migration save", save_run, nothing, mig_intact,
			     &c };
	struct path resume = { "migration resume", resume_run, nothing,
			       mig_intact, &c };

	if (!variant->migration)
		return;
	ASSERT_LE(0, inject_each(_metadata, &save));
	ASSERT_LT(0, c.len);
	ASSERT_LE(0, inject_each(_metadata, &resume));
}

/* -- the vendor module's load ------------------------------------------------ */

/*
 * Loads @path in a child whose @n-th allocation fails (0: none): 0 or
 * -errno of finit_module, and in *@hit whether the failure was injected.
 */
static int load_failing(const char *path, unsigned int n, bool *hit)
{
	int pipefd[2], status;
	struct { int ret; bool hit; } r = { -EIO, false };
	pid_t pid;

	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			arm(n);
			r.ret = syscall(SYS_finit_module, fd, "", 0) ?
				-errno : 0;
			r.hit = injected();
		}
		if (write(pipefd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], &r, sizeof(r)) != sizeof(r))
		r.ret = -EIO;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	*hit = r.hit;
	return r.ret;
}

TEST_F(inject, module_load)
{
	const char *path = module_name(variant->module_env, variant->module);
	char name[64], sysdir[PATH_MAX];
	unsigned int n, absorbed = 0;
	bool hit;
	int ret;

	/* the fixture's instance goes first: the module must be unloadable */
	vfio_close_mdev(&self->vd);
	self->vd.device = -1;
	ASSERT_EQ(0, mdev_remove(self->uuid));
	module_sysfs_name(path, name, sizeof(name));
	snprintf(sysdir, sizeof(sysdir), "/sys/module/%s", name);
	ASSERT_TRUE(strchr(path, '/') != NULL)
		TH_LOG("%s=%s: a path to the .ko is needed", variant->module_env,
		       path);
	for (n = 1; n < MAX_POINTS; n++) {
		/* a delayed release may still hold the module for a moment */
		while (path_exists(sysdir) &&
		       syscall(SYS_delete_module, name, O_NONBLOCK))
			msleep(100);
		ret = load_failing(path, n, &hit);
		if (!hit) {
			ASSERT_EQ(0, ret) TH_LOG("load failed uninjected");
			break;
		}
		if (!ret) {
			absorbed++;
			continue;
		}
		/* any errno the failure gives is clean if nothing is left */
		ASSERT_FALSE(path_exists(sysdir))
			TH_LOG("allocation %u: %s, but the module is there",
			       n, strerror(-ret));
	}
	TH_LOG("module load: %u allocation points, %u failures absorbed",
	       n - 1, absorbed);
	ASSERT_LT(n, MAX_POINTS);
	/* the module is loaded again, as the other tests expect */
	ASSERT_EQ(self->avail, mdev_wait_available(variant->type, self->avail,
						   10000));
	uuid_gen(self->uuid);
	ASSERT_EQ(0, mdev_create_wait(variant->type, self->uuid, 10000));
	ASSERT_EQ(0, vfio_open_mdev(self->uuid, &self->vd));
	ASSERT_EQ(0, read_ids(self->vd.device, &self->ids));
}

TEST_HARNESS_MAIN
