// SPDX-License-Identifier: GPL-2.0
/*
 * The mdpy display (upstream's C sample or mdpy_rs): PCI identity and the
 * vendor capability that describes the framebuffer, BAR0 sizing, region
 * info, the framebuffer through mmap and through pread/pwrite, GFX plane
 * probes and queries, reset, and removal while the framebuffer is mapped.
 * Regions are found through GET_REGION_INFO: upstream does not lay them
 * out at index << 40.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

#define FORMAT_XRGB8888		0x34325258	/* "XR24" */
#define DRM_PLANE_TYPE_OVERLAY	0
#define DRM_PLANE_TYPE_CURSOR	2
#define PLANE_MINSZ		60	/* up to region_index, as upstream */
#define VENDOR_CAP		0x40

FIXTURE(dpy) {
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	int fd;
	pid_t owner;	/* the process that opened vd */
	struct vfio_region_info cfg, bar0;
};

FIXTURE_VARIANT(dpy) {
	const char *type;
	unsigned int width, height, fb_size;
};

FIXTURE_VARIANT_ADD(dpy, vga) {
	.type = "mdpy-vga", .width = 640, .height = 480, .fb_size = 2 << 20,
};

FIXTURE_VARIANT_ADD(dpy, xga) {
	.type = "mdpy-xga", .width = 1024, .height = 768, .fb_size = 4 << 20,
};

FIXTURE_VARIANT_ADD(dpy, hd) {
	.type = "mdpy-hd", .width = 1920, .height = 1080, .fb_size = 8 << 20,
};

static void *map_fb(int fd, const struct vfio_region_info *bar0, size_t len,
		    int prot, int flags, off_t off)
{
	return mmap(NULL, len, prot, flags, fd, bar0->offset + off);
}

/* The pixel the reset picture has in line @row: a gray gradient. */
static uint32_t reset_pixel(unsigned int row, unsigned int height)
{
	uint8_t shade = row * 255 / height;

	return shade * 0x01010101u;
}

FIXTURE_SETUP(dpy)
{
	uuid_gen(self->uuid);
	ASSERT_EQ(0, mdev_create(variant->type, self->uuid));
	ASSERT_EQ(0, vfio_open_mdev(self->uuid, &self->vd));
	self->fd = self->vd.device;
	self->owner = getpid();
	ASSERT_EQ(0, region_info(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
				 &self->cfg));
	ASSERT_EQ(0, region_info(self->fd, VFIO_PCI_BAR0_REGION_INDEX,
				 &self->bar0));
}

/* See mdev_vfio_test.c: the 6.12 harness may run this in the test process. */
FIXTURE_TEARDOWN_PARENT(dpy)
{
	if (getpid() == self->owner)
		vfio_close_mdev(&self->vd);
	mdev_remove(self->uuid);
}

TEST_F(dpy, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
}

/* RESET works (reset_restores_picture), so the flag says so */
TEST_F(dpy, device_info_reset_flag)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_RESET);
}

TEST_F(dpy, config_identity_and_vendor_capability)
{
	int fd = self->fd;

	EXPECT_EQ(0x000f1b36, info_read32(fd, &self->cfg, PCI_VENDOR_ID));
	EXPECT_EQ(0x11001af4, info_read32(fd, &self->cfg, PCI_SUBSYSTEM_VENDOR_ID));
	EXPECT_EQ(0x03800001, info_read32(fd, &self->cfg, PCI_CLASS_REVISION));
	EXPECT_TRUE(info_read32(fd, &self->cfg, PCI_COMMAND) >> 16 &
		    PCI_STATUS_CAP_LIST);
	EXPECT_EQ(VENDOR_CAP, info_read32(fd, &self->cfg, PCI_CAPABILITY_LIST) & 0xff);
	/* vendor-specific, last in the list, 16 bytes */
	EXPECT_EQ(0x00100009, info_read32(fd, &self->cfg, VENDOR_CAP) & 0xffffff);
	EXPECT_EQ(FORMAT_XRGB8888, info_read32(fd, &self->cfg, VENDOR_CAP + 4));
	EXPECT_EQ(variant->width, info_read32(fd, &self->cfg, VENDOR_CAP + 8));
	EXPECT_EQ(variant->height, info_read32(fd, &self->cfg, VENDOR_CAP + 12));
	/* BAR0: 32-bit prefetchable memory */
	EXPECT_EQ(PCI_BASE_ADDRESS_MEM_PREFETCH,
		  info_read32(fd, &self->cfg, PCI_BASE_ADDRESS_0) & 0xf);
}

TEST_F(dpy, bar0_sizing)
{
	uint32_t ones = 0xffffffff;

	ASSERT_EQ(4, info_pwrite(self->fd, &self->cfg, PCI_BASE_ADDRESS_0,
			       &ones, 4));
	EXPECT_EQ(~(variant->fb_size - 1) | PCI_BASE_ADDRESS_MEM_PREFETCH,
		  info_read32(self->fd, &self->cfg, PCI_BASE_ADDRESS_0));
}

TEST_F(dpy, region_info)
{
	struct vfio_region_info info;
	unsigned int i;

	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		  self->cfg.flags);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		  VFIO_REGION_INFO_FLAG_MMAP, self->bar0.flags);
	EXPECT_EQ(variant->fb_size, self->bar0.size);
	for (i = VFIO_PCI_BAR1_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX;
	     i++) {
		ASSERT_EQ(0, region_info(self->fd, i, &info));
		EXPECT_EQ(0, info.size);
		EXPECT_EQ(0, info.flags);
	}
	EXPECT_EQ(-EINVAL, region_info(self->fd, VFIO_PCI_NUM_REGIONS, &info));
}

/* configuration space is 256 bytes */
TEST_F(dpy, config_region_size)
{
	EXPECT_EQ(256, self->cfg.size);
}

/* the reset picture, read through a mapping */
TEST_F(dpy, mmap_shows_reset_picture)
{
	size_t stride = variant->width * 4;
	uint32_t *fb;
	unsigned int row;

	fb = map_fb(self->fd, &self->bar0, variant->fb_size, PROT_READ,
		    MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, fb);
	for (row = 0; row < variant->height; row += 37) {
		EXPECT_EQ(reset_pixel(row, variant->height),
			  fb[row * stride / 4]);
		EXPECT_EQ(reset_pixel(row, variant->height),
			  fb[(row * stride + stride - 4) / 4]);
	}
	munmap(fb, variant->fb_size);
}

/*
 * A pixel written through pwrite at a non-zero offset is read back through
 * the mapping at that offset, and the other way round.
 */
TEST_F(dpy, mmap_shared_with_pread_pwrite)
{
	size_t stride = variant->width * 4;
	uint64_t a = 100 * stride + 50 * 4, b = (variant->height - 1) * stride;
	uint32_t red = 0x00ff0000, green = 0x0000ff00, got = 0;
	uint32_t *fb;

	fb = map_fb(self->fd, &self->bar0, variant->fb_size,
		    PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, fb);
	ASSERT_EQ(4, info_pwrite(self->fd, &self->bar0, a, &red, 4));
	EXPECT_EQ(red, fb[a / 4]);
	fb[b / 4] = green;
	ASSERT_EQ(4, info_pread(self->fd, &self->bar0, b, &got, 4));
	EXPECT_EQ(green, got);
	/* the pixel before each is the reset picture's */
	EXPECT_EQ(reset_pixel(100, variant->height), fb[a / 4 - 1]);
	munmap(fb, variant->fb_size);
}

/*
 * The framebuffer's last bytes through pwrite land there (seen through a
 * mapping) and read back through pread; an access that runs past the end
 * fails.
 */
TEST_F(dpy, pread_pwrite_bounds)
{
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8];
	uint64_t end = variant->fb_size;
	uint8_t *fb;

	fb = map_fb(self->fd, &self->bar0, variant->fb_size, PROT_READ,
		    MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, fb);
	ASSERT_EQ(8, info_pwrite(self->fd, &self->bar0, end - 8, buf, 8));
	EXPECT_EQ(0, memcmp(buf, fb + end - 8, 8));
	memset(back, 0, sizeof(back));
	ASSERT_EQ(8, info_pread(self->fd, &self->bar0, end - 8, back, 8));
	EXPECT_EQ(0, memcmp(buf, back, 8));
	EXPECT_GT(0, info_pread(self->fd, &self->bar0, end - 4, back, 8));
	EXPECT_GT(0, info_pwrite(self->fd, &self->bar0, end, buf, 1));
	munmap(fb, variant->fb_size);
}

/*
 * Accesses of every length the binding splits differently (1 to 9 bytes,
 * one call; longer ones in 256-byte chunks) at odd offsets read and write
 * exactly the bytes the mapping shows there.
 */
TEST_F(dpy, pread_pwrite_lengths)
{
	static const size_t lens[] = { 1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257,
				       4099 };
	uint8_t buf[4099 + 1], want[4099];
	size_t i, j, off;
	uint8_t *fb;

	fb = map_fb(self->fd, &self->bar0, variant->fb_size,
		    PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, fb);
	for (i = 0; i < 3 * 4096; i++)
		fb[4096 + i] = i * 7 + 1;
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		off = 4096 + 3 + 5 * i;
		memset(buf, 0xee, sizeof(buf));
		ASSERT_EQ(lens[i], info_pread(self->fd, &self->bar0, off, buf,
					    lens[i]));
		EXPECT_EQ(0, memcmp(buf, fb + off, lens[i]))
			TH_LOG("read of %zu at %zu", lens[i], off);
		EXPECT_EQ(0xee, buf[lens[i]]);
		for (j = 0; j < lens[i]; j++)
			want[j] = ~(j + i);
		ASSERT_EQ(lens[i], info_pwrite(self->fd, &self->bar0, off, want,
					     lens[i]));
		EXPECT_EQ(0, memcmp(want, fb + off, lens[i]))
			TH_LOG("write of %zu at %zu", lens[i], off);
		EXPECT_EQ((uint8_t)((off - 4096 - 1) * 7 + 1), fb[off - 1]);
		EXPECT_EQ((uint8_t)((off + lens[i] - 4096) * 7 + 1),
			  fb[off + lens[i]]);
		for (j = 0; j < lens[i] + 2; j++)
			fb[off - 1 + j] = (off - 1 + j - 4096) * 7 + 1;
	}
	munmap(fb, variant->fb_size);
}

/* config space is 256 bytes: an access that runs past it fails */
TEST_F(dpy, config_access_past_end)
{
	uint8_t buf[8];

	EXPECT_EQ(4, info_pread(self->fd, &self->cfg, 252, buf, 4));
	EXPECT_GT(0, info_pread(self->fd, &self->cfg, 252, buf, 8));
	EXPECT_GT(0, info_pread(self->fd, &self->cfg, 256, buf, 1));
	EXPECT_GT(0, info_pwrite(self->fd, &self->cfg, 256, buf, 1));
}

TEST_F(dpy, mmap_refused)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	/* private: writes would not reach the device */
	p = map_fb(self->fd, &self->bar0, page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* larger than the framebuffer */
	p = map_fb(self->fd, &self->bar0, variant->fb_size + page, PROT_READ,
		   MAP_SHARED, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* past its end */
	p = map_fb(self->fd, &self->bar0, page, PROT_READ, MAP_SHARED,
		   variant->fb_size);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* starting inside it and running past its end */
	p = map_fb(self->fd, &self->bar0, 2 * page, PROT_READ, MAP_SHARED,
		   variant->fb_size - page);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* configuration space cannot be mapped */
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, self->fd, self->cfg.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* nor a BAR the device does not have (BAR2's offset) */
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, self->fd,
		 self->bar0.offset + 2 * (self->bar0.offset - self->cfg.offset));
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

/* a mapping may start inside BAR0, as with vfio-pci */
TEST_F(dpy, mmap_inside_bar)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t *p, v = 0x00123456;

	p = map_fb(self->fd, &self->bar0, page, PROT_READ | PROT_WRITE,
		   MAP_SHARED, variant->fb_size - page);
	ASSERT_NE(MAP_FAILED, p);
	p[1] = v;
	munmap(p, page);
	v = 0;
	ASSERT_EQ(4, info_pread(self->fd, &self->bar0,
			      variant->fb_size - page + 4, &v, 4));
	EXPECT_EQ(0x00123456, v);
}

TEST_F(dpy, plane_probe_and_bad_flags)
{
	struct vfio_device_gfx_plane_info plane;
	int fd = self->fd;

	EXPECT_EQ(0, query_plane(fd, VFIO_GFX_PLANE_TYPE_PROBE |
				 VFIO_GFX_PLANE_TYPE_REGION,
				 DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(-EINVAL, query_plane(fd, VFIO_GFX_PLANE_TYPE_PROBE |
				       VFIO_GFX_PLANE_TYPE_DMABUF,
				       DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(-EINVAL, query_plane(fd, VFIO_GFX_PLANE_TYPE_PROBE,
				       DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(-EINVAL, query_plane(fd, VFIO_GFX_PLANE_TYPE_PROBE |
				       VFIO_GFX_PLANE_TYPE_REGION |
				       VFIO_GFX_PLANE_TYPE_DMABUF,
				       DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(-EINVAL, query_plane(fd, VFIO_GFX_PLANE_TYPE_DMABUF,
				       DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(-EINVAL, query_plane(fd, 0, DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(-EINVAL, query_plane(fd, VFIO_GFX_PLANE_TYPE_REGION |
				       VFIO_GFX_PLANE_TYPE_DMABUF,
				       DRM_PLANE_TYPE_PRIMARY, &plane));
	/* argsz must cover the answer up to region_index */
	memset(&plane, 0, sizeof(plane));
	plane.argsz = PLANE_MINSZ - 1;
	plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
	plane.drm_plane_type = DRM_PLANE_TYPE_PRIMARY;
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane));
	EXPECT_EQ(EINVAL, errno);
	plane.argsz = PLANE_MINSZ;
	EXPECT_EQ(0, ioctl(fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane));
}

/* a probe answers with its return value alone: the buffer stays as it was */
TEST_F(dpy, plane_probe_writes_nothing)
{
	struct vfio_device_gfx_plane_info plane, before;

	memset(&plane, 0xa5, sizeof(plane));
	plane.argsz = sizeof(plane);
	plane.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION;
	plane.drm_plane_type = DRM_PLANE_TYPE_PRIMARY;
	before = plane;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane));
	EXPECT_EQ(0, memcmp(&before, &plane, sizeof(plane)));
}

/* the answer ends at region_index: bytes after it are never written */
TEST_F(dpy, plane_answer_ends_at_region_index)
{
	union {
		struct vfio_device_gfx_plane_info plane;
		unsigned char bytes[sizeof(struct vfio_device_gfx_plane_info) + 8];
	} buf;
	size_t i;

	memset(&buf, 0xa5, sizeof(buf));
	buf.plane.argsz = sizeof(buf);
	buf.plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
	buf.plane.drm_plane_type = DRM_PLANE_TYPE_PRIMARY;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_QUERY_GFX_PLANE, &buf));
	EXPECT_EQ(variant->width, buf.plane.width);
	EXPECT_EQ(variant->height, buf.plane.height);
	for (i = PLANE_MINSZ; i < sizeof(buf); i++)
		EXPECT_EQ(0xa5, buf.bytes[i]) TH_LOG("byte %zu written", i);
}

/* the uAPI: x_hot/y_hot are 0xFFFFFFFF when there is no hotspot */
TEST_F(dpy, plane_primary_no_hotspot)
{
	struct vfio_device_gfx_plane_info plane;

	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_REGION,
				 DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(0xffffffff, plane.x_hot);
	EXPECT_EQ(0xffffffff, plane.y_hot);
}

/*
 * QEMU's region display queries with drm_plane_type left 0 (the value of
 * DRM_PLANE_TYPE_OVERLAY) and shows what that answers: the framebuffer.
 */
TEST_F(dpy, plane_type_zero_is_the_framebuffer)
{
	struct vfio_device_gfx_plane_info plane;

	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_REGION,
				 DRM_PLANE_TYPE_OVERLAY, &plane));
	EXPECT_EQ(FORMAT_XRGB8888, plane.drm_format);
	EXPECT_EQ(variant->width, plane.width);
	EXPECT_EQ(variant->height, plane.height);
	EXPECT_EQ(variant->fb_size, plane.size);
}

/* a value that names no DRM plane type is refused */
TEST_F(dpy, plane_unknown_type_refused)
{
	struct vfio_device_gfx_plane_info plane;

	EXPECT_EQ(-EINVAL, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_REGION,
				       3, &plane));
	EXPECT_EQ(-EINVAL, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_REGION,
				       0xffffffff, &plane));
}

TEST_F(dpy, plane_primary_geometry)
{
	struct vfio_device_gfx_plane_info plane;

	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_REGION,
				 DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(FORMAT_XRGB8888, plane.drm_format);
	EXPECT_EQ(0, plane.drm_format_mod);
	EXPECT_EQ(variant->width, plane.width);
	EXPECT_EQ(variant->height, plane.height);
	EXPECT_EQ(variant->width * 4, plane.stride);
	EXPECT_EQ(variant->fb_size, plane.size);
	EXPECT_EQ(0, plane.x_pos);
	EXPECT_EQ(0, plane.y_pos);
}

/* the plane's region is BAR0, a region the device has and maps */
TEST_F(dpy, plane_region_is_bar0)
{
	struct vfio_device_gfx_plane_info plane;
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_REGION,
				 DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(VFIO_PCI_BAR0_REGION_INDEX, plane.region_index);
	EXPECT_GT(info.num_regions, plane.region_index);
}

/*
 * The device has no cursor plane: the uAPI answers success with zero
 * format, size and geometry, and no hotspot.
 */
TEST_F(dpy, plane_cursor_absent)
{
	struct vfio_device_gfx_plane_info plane;

	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_REGION,
				 DRM_PLANE_TYPE_CURSOR, &plane));
	EXPECT_EQ(0, plane.drm_format);
	EXPECT_EQ(0, plane.size);
	EXPECT_EQ(0, plane.width);
	EXPECT_EQ(0, plane.height);
	EXPECT_EQ(0xffffffff, plane.x_hot);
	EXPECT_EQ(0xffffffff, plane.y_hot);
}

TEST_F(dpy, reset_restores_picture)
{
	size_t stride = variant->width * 4;
	uint32_t *fb;
	unsigned int row;

	fb = map_fb(self->fd, &self->bar0, variant->fb_size,
		    PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, fb);
	for (row = 0; row < variant->height; row++)
		fb[row * stride / 4 + row % variant->width] = 0x00ff00ff;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_RESET));
	for (row = 0; row < variant->height; row++)
		ASSERT_EQ(reset_pixel(row, variant->height),
			  fb[row * stride / 4 + row % variant->width]);
	munmap(fb, variant->fb_size);
}

/*
 * RESET is a function-level reset: config space goes back to its power-on
 * values too (BAR0's address and the command register cleared), as on a
 * real PCI function.
 */
TEST_F(dpy, reset_restores_config)
{
	uint32_t addr = 0xe0000000;
	uint16_t command = PCI_COMMAND_MEMORY;

	ASSERT_EQ(4, info_pwrite(self->fd, &self->cfg, PCI_BASE_ADDRESS_0,
			       &addr, 4));
	ASSERT_EQ(2, info_pwrite(self->fd, &self->cfg, PCI_COMMAND,
			       &command, 2));
	ASSERT_EQ(addr | PCI_BASE_ADDRESS_MEM_PREFETCH,
		  info_read32(self->fd, &self->cfg, PCI_BASE_ADDRESS_0));
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(PCI_BASE_ADDRESS_MEM_PREFETCH,
		  info_read32(self->fd, &self->cfg, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(0, info_read32(self->fd, &self->cfg, PCI_COMMAND) & 0xffff);
}

/* no interrupts: every index has no vectors and no flags */
TEST_F(dpy, irq_info_no_interrupts)
{
	EXPECT_EQ(0, irq_none(self->fd));
}

FIXTURE(mapped) {
	char uuid[UUID_STR_LEN + 1];
};

FIXTURE_SETUP(mapped)
{
	uuid_gen(self->uuid);
	ASSERT_EQ(0, mdev_create("mdpy-vga", self->uuid));
}

/* In the parent, once the test's mapping and fds are gone. */
FIXTURE_TEARDOWN_PARENT(mapped)
{
	if (mdev_exists(self->uuid))
		mdev_remove(self->uuid);
}

struct remover {
	const char *uuid;
	atomic_int done;	/* mdev_remove()'s result + 1; 0 until it returns */
};

static void *remove_thread(void *arg)
{
	struct remover *rm = arg;

	atomic_store(&rm->done, mdev_remove(rm->uuid) + 1);
	return NULL;
}

/*
 * Removal waits while the framebuffer is mapped, even after the device fd
 * is closed (each mapping holds the file), and the memory stays usable and
 * shared by the mappings; it completes once the last one is gone.
 */
TEST_F_TIMEOUT(mapped, remove_waits_for_unmap, 60)
{
	/* static: a remover that never returns must not write into a dead frame */
	static struct remover rm;
	struct vfio_region_info bar0;
	uint32_t *fb, *fb2;
	struct vfio_dev vd;
	pthread_t remover;
	int ms;

	rm.uuid = self->uuid;
	ASSERT_EQ(0, vfio_open_mdev(self->uuid, &vd));
	ASSERT_EQ(0, region_info(vd.device, VFIO_PCI_BAR0_REGION_INDEX, &bar0));
	fb = map_fb(vd.device, &bar0, bar0.size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, fb);
	fb2 = map_fb(vd.device, &bar0, bar0.size, PROT_READ | PROT_WRITE,
		     MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, fb2);
	vfio_close_mdev(&vd);
	ASSERT_EQ(0, pthread_create(&remover, NULL, remove_thread, &rm));
	msleep(1000);
	EXPECT_EQ(0, atomic_load(&rm.done));
	fb[1000] = 0x00abcdef;
	EXPECT_EQ(0x00abcdef, fb2[1000]);
	munmap(fb, bar0.size);
	msleep(1000);
	EXPECT_EQ(0, atomic_load(&rm.done));
	fb2[1001] = 0x00fedcba;
	EXPECT_EQ(0x00abcdef, fb2[1000]);
	EXPECT_EQ(0x00fedcba, fb2[1001]);
	munmap(fb2, bar0.size);
	for (ms = 0; ms < 15000 && !atomic_load(&rm.done); ms += 50)
		msleep(50);
	EXPECT_EQ(1, atomic_load(&rm.done));
	if (atomic_load(&rm.done))
		pthread_join(remover, NULL);
	EXPECT_FALSE(mdev_exists(self->uuid));
}

struct race {
	atomic_bool stop;
	atomic_long cycles, busy, errors;
};

/* One instance's life: create, open, map, draw, check, unmap, close, remove. */
static void *race_worker(void *arg)
{
	struct race *r = arg;
	char uuid[UUID_STR_LEN + 1];
	struct vfio_region_info bar0;
	uint32_t pixel, got;
	struct vfio_dev vd;
	uint32_t *fb;
	int err;

	for (pixel = 1; !atomic_load(&r->stop); pixel++) {
		uuid_gen(uuid);
		err = mdev_create("mdpy-vga", uuid);
		if (err == -EUSERS) {		/* budget momentarily exhausted */
			atomic_fetch_add(&r->busy, 1);
			usleep(1000);
			continue;
		}
		if (err || vfio_open_mdev(uuid, &vd)) {
			atomic_fetch_add(&r->errors, 1);
			if (!err)
				mdev_remove(uuid);
			continue;
		}
		fb = MAP_FAILED;
		if (!region_info(vd.device, VFIO_PCI_BAR0_REGION_INDEX, &bar0))
			fb = map_fb(vd.device, &bar0, bar0.size,
				    PROT_READ | PROT_WRITE, MAP_SHARED, 0);
		if (fb == MAP_FAILED) {
			atomic_fetch_add(&r->errors, 1);
		} else {
			fb[0] = pixel;
			if (info_pread(vd.device, &bar0, 0, &got, 4) != 4 ||
			    got != pixel)
				atomic_fetch_add(&r->errors, 1);
			munmap(fb, bar0.size);
		}
		vfio_close_mdev(&vd);
		if (mdev_remove(uuid))
			atomic_fetch_add(&r->errors, 1);
		atomic_fetch_add(&r->cycles, 1);
	}
	return NULL;
}

/*
 * 8 threads create, open, map, draw, unmap, close and remove instances
 * for MDEV_RACE_SECONDS (default 30), sharing the budget of 4; every step
 * succeeds and the budget comes back whole.
 */
FIXTURE(race) {
};

FIXTURE_SETUP(race)
{
}

FIXTURE_TEARDOWN(race)
{
}

TEST_F_TIMEOUT(race, create_map_remove, 300)
{
	const char *env = getenv("MDEV_RACE_SECONDS");
	int secs = env && atoi(env) > 0 ? atoi(env) : 30, i;
	long avail = mdev_available("mdpy-vga");
	struct race r = { 0 };
	pthread_t workers[8];

	ASSERT_LT(0, avail);
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&workers[i], NULL, race_worker, &r));
	sleep(secs);
	atomic_store(&r.stop, true);
	for (i = 0; i < 8; i++)
		pthread_join(workers[i], NULL);
	TH_LOG("%ld cycles, %ld budget misses", r.cycles, r.busy);
	EXPECT_LT(0, r.cycles);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(avail, mdev_wait_available("mdpy-vga", avail, 5000));
}

TEST_HARNESS_MAIN
