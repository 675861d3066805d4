// SPDX-License-Identifier: GPL-2.0
/*
 * The mbochs display (upstream's C sample or mbochs_rs): PCI identity and
 * BAR sizing, regions and the EDID region's capability chain, the VBE dispi
 * registers, the EDID registers and blob, video memory through pread/pwrite
 * and mmap, GFX plane queries, dma-bufs (export, mapping, lifetimes) and
 * the megabyte budget the types share. Regions are found through
 * GET_REGION_INFO: upstream does not lay them out at index << 40.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <drm/drm.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

#define FORMAT_XRGB8888		0x34325258	/* "XR24" */
#define DRM_PLANE_TYPE_CURSOR	2
#define EDID_REGION_INDEX	VFIO_PCI_NUM_REGIONS
#define NUM_REGIONS		(EDID_REGION_INDEX + 1)
#define EDID_LINK_UP		1
#define EDID_LINK_DOWN		2

/* A mapping of video memory. */
struct vram_map {
	void *addr;
	size_t len;
};

FIXTURE(bochs) {
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	int fd;
	pid_t owner;	/* the process that opened vd */
	struct vfio_region_info cfg, vram, mmio, edid;
	/*
	 * The test's mapping of video memory, unmapped by the teardown if a
	 * failed assertion left it: it holds the device file, so removing
	 * the instance would wait for it forever.
	 */
	struct vram_map map;
};

FIXTURE_VARIANT(bochs) {
	const char *type;
	unsigned int mbytes, max_x, max_y;
};

FIXTURE_VARIANT_ADD(bochs, small) {
	.type = "mbochs-small", .mbytes = 4, .max_x = 800, .max_y = 600,
};

FIXTURE_VARIANT_ADD(bochs, medium) {
	.type = "mbochs-medium", .mbytes = 16, .max_x = 1920, .max_y = 1440,
};

FIXTURE_VARIANT_ADD(bochs, large) {
	.type = "mbochs-large", .mbytes = 64,
};

static uint16_t dispi_get(int fd, const struct vfio_region_info *mmio,
			  unsigned int index)
{
	uint16_t v;

	if (info_pread(fd, mmio, DISPI + 2 * index, &v, 2) != 2)
		abort();
	return v;
}

static void dispi_set(int fd, const struct vfio_region_info *mmio,
		      unsigned int index, uint16_t v)
{
	if (info_pwrite(fd, mmio, DISPI + 2 * index, &v, 2) != 2)
		abort();
}

/* Turns the display on in @width x @height at 32 bpp from @y_offset. */
static void set_mode(int fd, const struct vfio_region_info *mmio,
		     unsigned int width, unsigned int height,
		     unsigned int y_offset)
{
	if (bochs_set_mode(fd, mmio, width, height, y_offset))
		abort();
}

/*
 * The primary plane, queried until it answers: upstream fails the first
 * query after a mode change with ENOMEM (a listed deviation of its own
 * test), which must not hide what the other tests check.
 */
static int primary_plane(int fd, struct vfio_device_gfx_plane_info *plane)
{
	int ret = query_plane(fd, VFIO_GFX_PLANE_TYPE_DMABUF,
			      DRM_PLANE_TYPE_PRIMARY, plane);

	if (ret == -ENOMEM)
		ret = query_plane(fd, VFIO_GFX_PLANE_TYPE_DMABUF,
				  DRM_PLANE_TYPE_PRIMARY, plane);
	return ret;
}

/* GET_GFX_DMABUF: a dma-buf fd, or -errno. */
static int get_dmabuf(int fd, uint32_t id)
{
	int buf = ioctl(fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);

	return buf < 0 ? -errno : buf;
}

/*
 * Turns the display on in 640x480 and exports its plane: the dma-buf's
 * descriptor, or -errno.
 */
static int export_vga(int fd, const struct vfio_region_info *mmio)
{
	struct vfio_device_gfx_plane_info plane;
	int err;

	set_mode(fd, mmio, 640, 480, 0);
	err = primary_plane(fd, &plane);
	return err ? err : get_dmabuf(fd, plane.dmabuf_id);
}

/* An EDID blob a guest accepts: one block, the header, a good checksum. */
static void edid_block(uint8_t *blob)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0 };
	uint8_t sum = 0;
	int i;

	memcpy(blob, header, 8);
	for (i = 8; i < 127; i++)
		blob[i] = i * 3;
	for (i = 0; i < 127; i++)
		sum += blob[i];
	blob[127] = -sum;
}

static int edid_reg_write(int fd, const struct vfio_region_info *edid,
			  unsigned int reg, uint32_t v)
{
	return info_pwrite(fd, edid, reg, &v, 4) == 4 ? 0 : -1;
}

/* Maps the first @len bytes of video memory into @m, where the teardown finds it. */
static void *map_vram(struct vram_map *m, int fd,
		      const struct vfio_region_info *vram, size_t len, int prot)
{
	m->len = len;
	m->addr = mmap(NULL, len, prot, MAP_SHARED, fd, vram->offset);
	if (m->addr == MAP_FAILED)
		m->addr = NULL;
	return m->addr;
}

static void unmap_vram(struct vram_map *m)
{
	if (m->addr)
		munmap(m->addr, m->len);
	m->addr = NULL;
}

/* The vendor module, as a path (insmod) or a name (modprobe). */
static const char *vendor_module(void)
{
	return module_name("MDEV_MBOCHS_MODULE", "mbochs");
}

static bool vendor_loaded(void)
{
	char name[64], path[PATH_MAX];

	module_sysfs_name(vendor_module(), name, sizeof(name));
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return path_exists(path);
}

/*
 * A descriptor of vgem's DRM device, loading vgem if it has none yet, or
 * -1.
 */
static int open_vgem(void)
{
	struct drm_version version;
	char path[32], name[16];
	int attempt, i, fd;

	for (attempt = 0; attempt < 2; attempt++) {
		for (i = 0; i < 16; i++) {
			snprintf(path, sizeof(path), "/dev/dri/card%d", i);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				continue;
			memset(&version, 0, sizeof(version));
			memset(name, 0, sizeof(name));
			version.name = name;
			version.name_len = sizeof(name) - 1;
			if (!ioctl(fd, DRM_IOCTL_VERSION, &version) &&
			    !strcmp(name, "vgem"))
				return fd;
			close(fd);
		}
		if (!attempt &&
		    module_load(module_name("MDEV_VGEM_MODULE", "vgem")))
			return -1;
	}
	return -1;
}

FIXTURE_SETUP(bochs)
{
	uuid_gen(self->uuid);
	ASSERT_EQ(0, mdev_create(variant->type, self->uuid));
	ASSERT_EQ(0, vfio_open_mdev(self->uuid, &self->vd));
	self->fd = self->vd.device;
	self->owner = getpid();
	ASSERT_EQ(0, region_info(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
				 &self->cfg));
	ASSERT_EQ(0, region_info(self->fd, VFIO_PCI_BAR0_REGION_INDEX,
				 &self->vram));
	ASSERT_EQ(0, region_info(self->fd, VFIO_PCI_BAR2_REGION_INDEX,
				 &self->mmio));
	/* the EDID region's fixed part (its capability is another test's) */
	ASSERT_EQ(0, region_info(self->fd, EDID_REGION_INDEX, &self->edid));
}

/* See mdev_vfio_test.c: the 6.12 harness may run this in the test process. */
FIXTURE_TEARDOWN_PARENT(bochs)
{
	if (getpid() == self->owner) {
		unmap_vram(&self->map);
		vfio_close_mdev(&self->vd);
	}
	mdev_remove(self->uuid);
	/* a test that unloads the vendor module may fail before reloading it */
	if (!vendor_loaded())
		module_load(vendor_module());
}

TEST_F(bochs, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(NUM_REGIONS, info.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
}

TEST_F(bochs, device_info_reset_flag)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_RESET);
}

/* no interrupts: every index has no vectors and no flags */
TEST_F(bochs, irq_info_no_interrupts)
{
	EXPECT_EQ(0, irq_none(self->fd));
}

TEST_F(bochs, config_identity)
{
	int fd = self->fd;

	EXPECT_EQ(0x11111234, info_read32(fd, &self->cfg, PCI_VENDOR_ID));
	EXPECT_EQ(0x11001af4, info_read32(fd, &self->cfg, PCI_SUBSYSTEM_VENDOR_ID));
	EXPECT_EQ(0x03800001, info_read32(fd, &self->cfg, PCI_CLASS_REVISION));
	/* BAR0: 32-bit prefetchable memory; BAR2: 32-bit memory */
	EXPECT_EQ(PCI_BASE_ADDRESS_MEM_PREFETCH,
		  info_read32(fd, &self->cfg, PCI_BASE_ADDRESS_0) & 0xf);
	EXPECT_EQ(0, info_read32(fd, &self->cfg, PCI_BASE_ADDRESS_2) & 0xf);
}

TEST_F(bochs, bar_sizing)
{
	uint32_t ones = 0xffffffff;
	uint32_t vram = variant->mbytes << 20;

	ASSERT_EQ(4, info_pwrite(self->fd, &self->cfg, PCI_BASE_ADDRESS_0,
				 &ones, 4));
	ASSERT_EQ(4, info_pwrite(self->fd, &self->cfg, PCI_BASE_ADDRESS_2,
				 &ones, 4));
	EXPECT_EQ(~(vram - 1) | PCI_BASE_ADDRESS_MEM_PREFETCH,
		  info_read32(self->fd, &self->cfg, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(0xfffff000, info_read32(self->fd, &self->cfg, PCI_BASE_ADDRESS_2));
}

TEST_F(bochs, region_info)
{
	uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	static const unsigned int none[] = {
		VFIO_PCI_BAR1_REGION_INDEX, VFIO_PCI_BAR3_REGION_INDEX,
		VFIO_PCI_BAR4_REGION_INDEX, VFIO_PCI_BAR5_REGION_INDEX,
		VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX,
	};
	struct vfio_region_info info;
	unsigned int i;

	EXPECT_EQ(rw, self->cfg.flags);
	EXPECT_EQ(rw | VFIO_REGION_INFO_FLAG_MMAP, self->vram.flags);
	EXPECT_EQ((uint64_t)variant->mbytes << 20, self->vram.size);
	EXPECT_EQ(rw, self->mmio.flags);
	EXPECT_EQ(4096, self->mmio.size);
	EXPECT_EQ(rw | VFIO_REGION_INFO_FLAG_CAPS, self->edid.flags);
	EXPECT_EQ(4096, self->edid.size);
	for (i = 0; i < ARRAY_SIZE(none); i++) {
		ASSERT_EQ(0, region_info(self->fd, none[i], &info));
		EXPECT_EQ(0, info.size) TH_LOG("region %u", none[i]);
		EXPECT_EQ(0, info.flags) TH_LOG("region %u", none[i]);
	}
	EXPECT_EQ(-EINVAL, region_info(self->fd, NUM_REGIONS, &info));
}

TEST_F(bochs, config_region_size)
{
	EXPECT_EQ(256, self->cfg.size);
}

/*
 * The EDID region's type, through the capability chain: the first call
 * says how much room it needs, the second gets the chain.
 */
TEST_F(bochs, edid_region_type_capability)
{
	union {
		struct vfio_region_info info;
		uint8_t bytes[256];
	} buf;
	struct vfio_region_info_cap_type *cap;
	uint32_t need;

	memset(&buf, 0, sizeof(buf));
	buf.info.argsz = sizeof(buf.info);
	buf.info.index = EDID_REGION_INDEX;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &buf));
	EXPECT_TRUE(buf.info.flags & VFIO_REGION_INFO_FLAG_CAPS);
	need = buf.info.argsz;
	ASSERT_LE(sizeof(buf.info) + sizeof(*cap), need);
	ASSERT_GE(sizeof(buf), need);

	memset(&buf, 0, sizeof(buf));
	buf.info.argsz = need;
	buf.info.index = EDID_REGION_INDEX;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &buf));
	ASSERT_LE(sizeof(buf.info), buf.info.cap_offset);
	ASSERT_GE(need - sizeof(*cap), buf.info.cap_offset);
	cap = (void *)(buf.bytes + buf.info.cap_offset);
	EXPECT_EQ(VFIO_REGION_INFO_CAP_TYPE, cap->header.id);
	EXPECT_EQ(1, cap->header.version);
	EXPECT_EQ(0, cap->header.next);
	EXPECT_EQ(VFIO_REGION_TYPE_GFX, cap->type);
	EXPECT_EQ(VFIO_REGION_SUBTYPE_GFX_EDID, cap->subtype);
}

/* argsz may be larger than the answer, as for every VFIO info ioctl */
TEST_F(bochs, region_info_large_argsz)
{
	union {
		struct vfio_region_info info;
		uint8_t bytes[512];
	} buf;

	memset(&buf, 0, sizeof(buf));
	buf.info.argsz = sizeof(buf);
	buf.info.index = VFIO_PCI_BAR2_REGION_INDEX;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &buf));
	EXPECT_EQ(4096, buf.info.size);
}

TEST_F(bochs, dispi_after_reset)
{
	EXPECT_EQ(0xb0c5, dispi_get(self->fd, &self->mmio, DISPI_ID));
	EXPECT_EQ(variant->mbytes * 16,
		  dispi_get(self->fd, &self->mmio, DISPI_VIDEO_MEMORY_64K));
	EXPECT_EQ(0, dispi_get(self->fd, &self->mmio, DISPI_ENABLE));
	dispi_set(self->fd, &self->mmio, DISPI_XRES, 1024);
	EXPECT_EQ(1024, dispi_get(self->fd, &self->mmio, DISPI_XRES));
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, dispi_get(self->fd, &self->mmio, DISPI_XRES));
	EXPECT_EQ(0xb0c5, dispi_get(self->fd, &self->mmio, DISPI_ID));
}

TEST_F(bochs, edid_registers)
{
	struct vfio_region_gfx_edid regs;

	ASSERT_EQ(sizeof(regs), info_pread(self->fd, &self->edid, 0, &regs,
					   sizeof(regs)));
	EXPECT_EQ(0x800, regs.edid_offset);
	EXPECT_EQ(0x400, regs.edid_max_size);
	EXPECT_EQ(0, regs.edid_size);
	EXPECT_EQ(variant->max_x, regs.max_xres);
	EXPECT_EQ(variant->max_y, regs.max_yres);
}

/* the uAPI's protocol: link down, blob and size, link up; the guest sees it */
TEST_F(bochs, edid_blob_shown_to_the_guest)
{
	uint8_t blob[128], seen[128];
	int fd = self->fd;

	edid_block(blob);
	ASSERT_EQ(0, edid_reg_write(fd, &self->edid, 20, EDID_LINK_DOWN));
	ASSERT_EQ(128, info_pwrite(fd, &self->edid, 0x800, blob, 128));
	ASSERT_EQ(0, edid_reg_write(fd, &self->edid, 8, 128));
	ASSERT_EQ(0, edid_reg_write(fd, &self->edid, 20, EDID_LINK_UP));
	ASSERT_EQ(128, info_pread(fd, &self->mmio, 0, seen, 128));
	EXPECT_EQ(0, memcmp(blob, seen, 128));
	ASSERT_EQ(0, edid_reg_write(fd, &self->edid, 20, EDID_LINK_DOWN));
	ASSERT_EQ(128, info_pread(fd, &self->mmio, 0, seen, 128));
	memset(blob, 0, sizeof(blob));
	EXPECT_EQ(0, memcmp(blob, seen, 128));
}

/* values the registers cannot take are refused, as Intel's GVT does */
TEST_F(bochs, edid_bad_writes_refused)
{
	uint8_t blob[128];
	uint32_t v = 0;
	int fd = self->fd;

	EXPECT_EQ(-EINVAL, info_pwrite(fd, &self->edid, 8, &(uint32_t){ 0x401 },
				       4));
	EXPECT_EQ(-EINVAL, info_pwrite(fd, &self->edid, 20, &(uint32_t){ 7 },
				       4));
	EXPECT_EQ(-EPERM, info_pwrite(fd, &self->edid, 12, &v, 4));
	EXPECT_EQ(-EINVAL, info_pread(fd, &self->edid, 2, &v, 4));
	EXPECT_EQ(-EINVAL, info_pread(fd, &self->edid, 0x800 + 0x3ff, &v, 4));
	/* a blob with a bad checksum never goes up */
	edid_block(blob);
	blob[127]++;
	ASSERT_EQ(128, info_pwrite(fd, &self->edid, 0x800, blob, 128));
	ASSERT_EQ(0, edid_reg_write(fd, &self->edid, 8, 128));
	EXPECT_EQ(-EINVAL, info_pwrite(fd, &self->edid, 20,
				       &(uint32_t){ EDID_LINK_UP }, 4));
}

TEST_F(bochs, vram_starts_zeroed)
{
	size_t size = self->vram.size, off;
	uint8_t *vram;

	vram = map_vram(&self->map, self->fd, &self->vram, size, PROT_READ);
	ASSERT_NE(NULL, vram);
	for (off = 0; off < size; off += 64 * 4096 + 8)
		ASSERT_EQ(0, vram[off]) TH_LOG("offset %zu", off);
	unmap_vram(&self->map);
}

/* Closing the device gives its video memory back: the next user finds zeros. */
TEST_F(bochs, vram_cleared_at_close)
{
	uint8_t buf[64];
	int i;

	memset(buf, 0x5a, sizeof(buf));
	ASSERT_EQ(64, info_pwrite(self->fd, &self->vram, 3 * 4096 + 5, buf, 64));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(64, info_pread(self->fd, &self->vram, 3 * 4096 + 5, buf, 64));
	ASSERT_EQ(0x5a, buf[63]);
	vfio_close_mdev(&self->vd);
	ASSERT_EQ(0, vfio_open_mdev(self->uuid, &self->vd));
	self->fd = self->vd.device;
	ASSERT_EQ(64, info_pread(self->fd, &self->vram, 3 * 4096 + 5, buf, 64));
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, buf[i]) TH_LOG("byte %d", i);
}

/*
 * pread/pwrite at odd offsets, of lengths across page boundaries, reach
 * the bytes the mapping shows at those offsets, in both directions.
 */
TEST_F(bochs, vram_mmap_agrees_with_pread_pwrite)
{
	static const size_t lens[] = { 1, 2, 3, 4, 8, 9, 255, 257, 4099 };
	uint8_t buf[4099], *vram;
	size_t i, j, off;

	vram = map_vram(&self->map, self->fd, &self->vram, 4 << 20,
			PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, vram);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		off = 4096 * (i + 1) - 5 + i;
		for (j = 0; j < lens[i]; j++)
			buf[j] = i * 31 + j;
		ASSERT_EQ(lens[i], info_pwrite(self->fd, &self->vram, off, buf,
					       lens[i]));
		EXPECT_EQ(0, memcmp(buf, vram + off, lens[i]))
			TH_LOG("pwrite of %zu at %zu", lens[i], off);
		for (j = 0; j < lens[i]; j++)
			vram[off + j] = ~buf[j];
		ASSERT_EQ(lens[i], info_pread(self->fd, &self->vram, off, buf,
					      lens[i]));
		EXPECT_EQ(0, memcmp(buf, vram + off, lens[i]))
			TH_LOG("pread of %zu at %zu", lens[i], off);
	}
	unmap_vram(&self->map);
}

/* the last page of video memory, and nothing past it */
TEST_F(bochs, vram_end)
{
	uint64_t end = self->vram.size;
	uint8_t v = 0x5a, back = 0;

	ASSERT_EQ(1, info_pwrite(self->fd, &self->vram, end - 1, &v, 1));
	ASSERT_EQ(1, info_pread(self->fd, &self->vram, end - 1, &back, 1));
	EXPECT_EQ(0x5a, back);
	EXPECT_GT(0, info_pread(self->fd, &self->vram, end - 1, &back, 2));
	EXPECT_GT(0, info_pwrite(self->fd, &self->vram, end, &v, 1));
}

TEST_F(bochs, mmap_refused)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd,
		 self->vram.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->vram.size + page, PROT_READ, MAP_SHARED,
		 self->fd, self->vram.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, self->fd,
		 self->mmio.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(bochs, plane_disabled)
{
	struct vfio_device_gfx_plane_info plane;

	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_PROBE |
				 VFIO_GFX_PLANE_TYPE_DMABUF,
				 DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(-EINVAL, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_PROBE |
				       VFIO_GFX_PLANE_TYPE_REGION,
				       DRM_PLANE_TYPE_PRIMARY, &plane));
	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_DMABUF,
				 DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(0, plane.drm_format);
	EXPECT_EQ(0, plane.width);
	EXPECT_EQ(0, plane.height);
	EXPECT_EQ(0, plane.size);
	EXPECT_EQ(0, plane.dmabuf_id);
}

/* the uAPI: no hotspot is 0xFFFFFFFF */
TEST_F(bochs, plane_no_hotspot)
{
	struct vfio_device_gfx_plane_info plane;

	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_DMABUF,
				 DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(0xffffffff, plane.x_hot);
	EXPECT_EQ(0xffffffff, plane.y_hot);
}

/* the first query after a mode change answers it */
TEST_F(bochs, plane_after_mode_set)
{
	struct vfio_device_gfx_plane_info plane;

	set_mode(self->fd, &self->mmio, 640, 480, 0);
	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_DMABUF,
				 DRM_PLANE_TYPE_PRIMARY, &plane));
	EXPECT_EQ(FORMAT_XRGB8888, plane.drm_format);
	EXPECT_EQ(640, plane.width);
	EXPECT_EQ(480, plane.height);
	EXPECT_EQ(2560, plane.stride);
	EXPECT_EQ(640 * 480 * 4, plane.size);
	EXPECT_NE(0, plane.dmabuf_id);
}

TEST_F(bochs, plane_ids_follow_modes)
{
	struct vfio_device_gfx_plane_info plane;
	uint32_t first;

	set_mode(self->fd, &self->mmio, 640, 480, 0);
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	first = plane.dmabuf_id;
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	EXPECT_EQ(first, plane.dmabuf_id);
	set_mode(self->fd, &self->mmio, 320, 240, 0);
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	EXPECT_NE(first, plane.dmabuf_id);
	EXPECT_EQ(320, plane.width);
	/* a cursor plane the device does not have */
	ASSERT_EQ(0, query_plane(self->fd, VFIO_GFX_PLANE_TYPE_DMABUF,
				 DRM_PLANE_TYPE_CURSOR, &plane));
	EXPECT_EQ(0, plane.drm_format);
	EXPECT_EQ(0, plane.size);
	/* modes that cannot be shown are a disabled plane */
	dispi_set(self->fd, &self->mmio, DISPI_BPP, 16);
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	EXPECT_EQ(0, plane.size);
	dispi_set(self->fd, &self->mmio, DISPI_BPP, 32);
	dispi_set(self->fd, &self->mmio, DISPI_Y_OFFSET, 0xffff);
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	EXPECT_EQ(0, plane.size);
}

TEST_F(bochs, dmabuf_of_unknown_id)
{
	EXPECT_EQ(-ENOENT, get_dmabuf(self->fd, 12345));
}

/* the dma-buf's size is the plane's */
TEST_F(bochs, dmabuf_size)
{
	int buf;

	buf = export_vga(self->fd, &self->mmio);
	ASSERT_LE(0, buf);
	EXPECT_EQ(640 * 480 * 4, lseek(buf, 0, SEEK_END));
	close(buf);
}

/*
 * The dma-buf shows the framebuffer's video memory, from the mode's first
 * line, mapped read-write or read-only; writes through it reach video
 * memory.
 */
TEST_F(bochs, dmabuf_maps_the_framebuffer)
{
	struct vfio_device_gfx_plane_info plane;
	/* from line 8: a dma-buf starts on a page (8 lines of 2560 bytes) */
	size_t fb = 640 * 480 * 4, lines = 8 * 640 * 4;
	uint32_t *vram, *rw, *ro, i;
	int buf;

	vram = map_vram(&self->map, self->fd, &self->vram, lines + fb,
			PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, vram);
	for (i = 0; i < (lines + fb) / 4; i++)
		vram[i] = i * 2654435761u;
	set_mode(self->fd, &self->mmio, 640, 480, 8);
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	buf = get_dmabuf(self->fd, plane.dmabuf_id);
	ASSERT_LE(0, buf);
	rw = mmap(NULL, fb, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, rw);
	ro = mmap(NULL, fb, PROT_READ, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(0, memcmp(rw, vram + lines / 4, fb));
	rw[77] = 0xfeedf00d;
	EXPECT_EQ(0xfeedf00d, vram[lines / 4 + 77]);
	EXPECT_EQ(0xfeedf00d, ro[77]);
	munmap(rw, fb);
	munmap(ro, fb);
	unmap_vram(&self->map);
	close(buf);
}

/* every GET_GFX_DMABUF gives a descriptor of its own */
TEST_F(bochs, dmabuf_twice)
{
	struct vfio_device_gfx_plane_info plane;
	int a, b;

	set_mode(self->fd, &self->mmio, 640, 480, 0);
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	a = get_dmabuf(self->fd, plane.dmabuf_id);
	ASSERT_LE(0, a);
	b = get_dmabuf(self->fd, plane.dmabuf_id);
	ASSERT_LE(0, b);
	EXPECT_NE(a, b);
	close(a);
	EXPECT_EQ(640 * 480 * 4, lseek(b, 0, SEEK_END));
	close(b);
}

/*
 * A dma-buf and its mapping outlive the device file and the instance: the
 * pixels stay readable and writable, and closing it later is clean.
 */
TEST_F(bochs, dmabuf_outlives_the_instance)
{
	struct vfio_device_gfx_plane_info plane;
	size_t fb = 640 * 480 * 4;
	uint32_t *pixels;
	int buf;

	set_mode(self->fd, &self->mmio, 640, 480, 0);
	ASSERT_EQ(4, info_pwrite(self->fd, &self->vram, 0, "\x11\x22\x33\x44",
				 4));
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	buf = get_dmabuf(self->fd, plane.dmabuf_id);
	ASSERT_LE(0, buf);
	vfio_close_mdev(&self->vd);
	self->owner = 0;
	ASSERT_EQ(0, mdev_remove(self->uuid));
	pixels = mmap(NULL, fb, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, pixels);
	EXPECT_EQ(0x44332211, pixels[0]);
	pixels[1] = 7;
	EXPECT_EQ(7, pixels[1]);
	close(buf);
	EXPECT_EQ(7, pixels[1]);
	munmap(pixels, fb);
}

/*
 * A dma-buf holds the vendor module: unloading it is refused while one
 * exists, even once the device file and the instance are gone, and works
 * after the last one is closed.
 */
TEST_F(bochs, dmabuf_holds_the_module)
{
	int buf;

	buf = export_vga(self->fd, &self->mmio);
	ASSERT_LE(0, buf);
	vfio_close_mdev(&self->vd);
	self->owner = 0;
	ASSERT_EQ(0, mdev_remove(self->uuid));
	EXPECT_NE(0, module_unload(vendor_module()));
	EXPECT_TRUE(vendor_loaded());
	EXPECT_EQ(640 * 480 * 4, lseek(buf, 0, SEEK_END));
	close(buf);
	ASSERT_EQ(0, module_unload(vendor_module()));
	ASSERT_EQ(0, module_load(vendor_module()));
}

/*
 * Another driver imports the dma-buf: vgem attaches to it and maps it for
 * DMA. Importing it again finds the same object; letting go of it is clean.
 */
TEST_F(bochs, dmabuf_imported_by_vgem)
{
	struct drm_prime_handle first = { 0 }, again = { 0 };
	struct drm_gem_close gem = { 0 };
	int drm, buf;

	drm = open_vgem();
	ASSERT_LE(0, drm);
	buf = export_vga(self->fd, &self->mmio);
	ASSERT_LE(0, buf);
	first.fd = buf;
	ASSERT_EQ(0, ioctl(drm, DRM_IOCTL_PRIME_FD_TO_HANDLE, &first));
	EXPECT_NE(0, first.handle);
	again.fd = buf;
	ASSERT_EQ(0, ioctl(drm, DRM_IOCTL_PRIME_FD_TO_HANDLE, &again));
	EXPECT_EQ(first.handle, again.handle);
	gem.handle = first.handle;
	EXPECT_EQ(0, ioctl(drm, DRM_IOCTL_GEM_CLOSE, &gem));
	close(buf);
	close(drm);
}

/*
 * What vgem imported it keeps after our descriptor, the device file and
 * the instance are gone; it hands back the same buffer, pixels intact.
 */
TEST_F(bochs, dmabuf_kept_by_vgem)
{
	struct vfio_device_gfx_plane_info plane;
	struct drm_prime_handle in = { 0 }, out = { 0 };
	struct drm_gem_close gem = { 0 };
	size_t fb = 640 * 480 * 4;
	uint32_t *pixels;
	int drm, buf;

	drm = open_vgem();
	ASSERT_LE(0, drm);
	set_mode(self->fd, &self->mmio, 640, 480, 0);
	ASSERT_EQ(8, info_pwrite(self->fd, &self->vram, fb - 8,
				 "\x01\x02\x03\x04\x05\x06\x07\x08", 8));
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	buf = get_dmabuf(self->fd, plane.dmabuf_id);
	ASSERT_LE(0, buf);
	in.fd = buf;
	ASSERT_EQ(0, ioctl(drm, DRM_IOCTL_PRIME_FD_TO_HANDLE, &in));
	close(buf);
	vfio_close_mdev(&self->vd);
	self->owner = 0;
	ASSERT_EQ(0, mdev_remove(self->uuid));
	out.handle = in.handle;
	out.flags = DRM_CLOEXEC | DRM_RDWR;
	ASSERT_EQ(0, ioctl(drm, DRM_IOCTL_PRIME_HANDLE_TO_FD, &out));
	EXPECT_EQ(fb, lseek(out.fd, 0, SEEK_END));
	pixels = mmap(NULL, fb, PROT_READ, MAP_SHARED, out.fd, 0);
	ASSERT_NE(MAP_FAILED, pixels);
	EXPECT_EQ(0x04030201, pixels[fb / 4 - 2]);
	EXPECT_EQ(0x08070605, pixels[fb / 4 - 1]);
	munmap(pixels, fb);
	close(out.fd);
	gem.handle = in.handle;
	EXPECT_EQ(0, ioctl(drm, DRM_IOCTL_GEM_CLOSE, &gem));
	close(drm);
}

/* a mode change leaves the dma-buf of the old mode as it was */
TEST_F(bochs, mode_change_keeps_old_dmabuf)
{
	struct vfio_device_gfx_plane_info plane;
	size_t fb = 640 * 480 * 4;
	uint32_t *pixels;
	int buf;

	buf = export_vga(self->fd, &self->mmio);
	ASSERT_LE(0, buf);
	pixels = mmap(NULL, fb, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	ASSERT_NE(MAP_FAILED, pixels);
	set_mode(self->fd, &self->mmio, 800, 600, 0);
	ASSERT_EQ(0, primary_plane(self->fd, &plane));
	EXPECT_EQ(800, plane.width);
	pixels[fb / 4 - 1] = 0xabcdef;
	EXPECT_EQ(640 * 480 * 4, lseek(buf, 0, SEEK_END));
	EXPECT_EQ(0xabcdef, pixels[fb / 4 - 1]);
	munmap(pixels, fb);
	close(buf);
}

/*
 * Eight threads share four instance slots for MDEV_RACE_SECONDS (default
 * 30): each step creates or removes a slot's instance, or opens it and
 * maps video memory, sets a mode, exports the framebuffer, maps the
 * dma-buf and keeps it open while the instance may be removed. Only the
 * errnos listed for each step are allowed; everything else fails the test.
 */
#define STORM_THREADS	8
#define STORM_SLOTS	4

struct storm {
	char uuid[STORM_SLOTS][UUID_STR_LEN + 1];
	double deadline;
	atomic_long steps, uses, exports, errors;
};

static void storm_error(struct storm *st, const char *what, const char *uuid,
			int err)
{
	fprintf(stderr, "# %s %s: %s\n", what, uuid,
		err ? strerror(-err) : "wrong answer");
	atomic_fetch_add(&st->errors, 1);
}

/*
 * Uses an open instance, whose removal waits for the close, so no step may
 * fail: the dma-buf of a 64x64 mode over the pages just written, or -1.
 */
static int storm_use(struct storm *st, int fd, const char *uuid)
{
	struct vfio_region_info vram, mmio;
	struct vfio_device_gfx_plane_info plane;
	size_t len = 16 * 4096, fb = 64 * 64 * 4;
	uint32_t *map, *pixels;
	const char *what;
	int buf, err, i;

	what = "region info";
	err = region_info(fd, VFIO_PCI_BAR0_REGION_INDEX, &vram);
	if (!err)
		err = region_info(fd, VFIO_PCI_BAR2_REGION_INDEX, &mmio);
	if (err)
		goto fail;
	what = "mmap";
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   vram.offset);
	if (map == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	for (i = 0; i < len / 4; i += 1024)
		map[i] = i;
	munmap(map, len);
	set_mode(fd, &mmio, 64, 64, 0);
	what = "plane query";
	err = primary_plane(fd, &plane);
	if (err)
		goto fail;
	what = "GET_GFX_DMABUF";
	buf = get_dmabuf(fd, plane.dmabuf_id);
	if (buf < 0) {
		err = buf;
		goto fail;
	}
	pixels = mmap(NULL, fb, PROT_READ, MAP_SHARED, buf, 0);
	if (pixels == MAP_FAILED) {
		storm_error(st, "dma-buf mmap", uuid, -errno);
		close(buf);
		return -1;
	}
	if (pixels[1024] != 1024)
		storm_error(st, "dma-buf pixels", uuid, 0);
	munmap(pixels, fb);
	atomic_fetch_add(&st->exports, 1);
	return buf;
fail:
	storm_error(st, what, uuid, err);
	return -1;
}

static void *storm_thread(void *arg)
{
	struct storm *st = arg;
	unsigned int seed = (uintptr_t)&seed ^ getpid();
	int kept = -1, err, buf;
	struct vfio_dev vd;
	const char *uuid;

	while (now_seconds() < st->deadline) {
		uuid = st->uuid[rand_r(&seed) % STORM_SLOTS];
		atomic_fetch_add(&st->steps, 1);
		/* create 2, remove 1, use 5 times in 8 */
		switch (rand_r(&seed) % 8) {
		case 0:
		case 1:
			err = mdev_create("mbochs-small", uuid);
			if (err && err != -EEXIST)
				storm_error(st, "create", uuid, err);
			break;
		case 2:
			/* gone, being removed, or still being created */
			err = mdev_remove(uuid);
			if (err && err != -ENOENT && err != -ENODEV &&
			    err != -EAGAIN)
				storm_error(st, "remove", uuid, err);
			break;
		default:
			/* gone, being removed, or open in another thread */
			err = vfio_open_mdev(uuid, &vd);
			if (err && err != -ENOENT && err != -ENODEV &&
			    err != -EBUSY) {
				storm_error(st, "open", uuid, err);
				break;
			}
			if (err)
				break;
			atomic_fetch_add(&st->uses, 1);
			buf = storm_use(st, vd.device, uuid);
			vfio_close_mdev(&vd);
			/* the last export stays open across later steps */
			if (buf >= 0) {
				if (kept >= 0)
					close(kept);
				kept = buf;
			}
		}
	}
	if (kept >= 0)
		close(kept);
	return NULL;
}

FIXTURE(storm) {
	struct storm st;
	long avail;
};

FIXTURE_SETUP(storm)
{
	int i;

	memset(&self->st, 0, sizeof(self->st));
	for (i = 0; i < STORM_SLOTS; i++)
		uuid_gen(self->st.uuid[i]);
	self->avail = mdev_available("mbochs-small");
	ASSERT_LT(STORM_SLOTS, self->avail);
}

FIXTURE_TEARDOWN(storm)
{
	int i;

	for (i = 0; i < STORM_SLOTS; i++)
		if (mdev_exists(self->st.uuid[i]))
			mdev_remove(self->st.uuid[i]);
}

TEST_F_TIMEOUT(storm, eight_threads, 300)
{
	const char *env = getenv("MDEV_RACE_SECONDS");
	pthread_t threads[STORM_THREADS];
	int i;

	self->st.deadline = now_seconds() + (env ? atoi(env) : 30);
	for (i = 0; i < STORM_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, storm_thread,
					    &self->st));
	for (i = 0; i < STORM_THREADS; i++)
		pthread_join(threads[i], NULL);
	TH_LOG("%ld steps, %ld uses, %ld exports", self->st.steps,
	       self->st.uses, self->st.exports);
	EXPECT_EQ(0, self->st.errors);
	EXPECT_LT(0, self->st.exports);
	for (i = 0; i < STORM_SLOTS; i++)
		if (mdev_exists(self->st.uuid[i]))
			EXPECT_EQ(0, mdev_remove(self->st.uuid[i]));
	EXPECT_EQ(self->avail, mdev_available("mbochs-small"));
}

/* The megabytes of video memory every type draws from. */
FIXTURE(budget) {
	char uuid[4][UUID_STR_LEN + 1];
};

FIXTURE_SETUP(budget)
{
	int i;

	for (i = 0; i < 4; i++)
		uuid_gen(self->uuid[i]);
}

FIXTURE_TEARDOWN(budget)
{
	int i;

	for (i = 0; i < 4; i++)
		if (mdev_exists(self->uuid[i]))
			mdev_remove(self->uuid[i]);
	if (!vendor_loaded())
		module_load(vendor_module());
}

TEST_F(budget, shared_by_the_types)
{
	char buf[64];
	int i;

	ASSERT_EQ(64, mdev_wait_available("mbochs-small", 64, 5000));
	EXPECT_EQ(16, mdev_available("mbochs-medium"));
	EXPECT_EQ(4, mdev_available("mbochs-large"));
	ASSERT_LT(0, mdev_type_attr("mbochs-medium", "description", buf,
				    sizeof(buf)));
	EXPECT_STREQ("virtual display, 16 MB video memory\n", buf);
	ASSERT_EQ(0, mdev_create("mbochs-large", self->uuid[0]));
	EXPECT_EQ(48, mdev_available("mbochs-small"));
	EXPECT_EQ(12, mdev_available("mbochs-medium"));
	EXPECT_EQ(3, mdev_available("mbochs-large"));
	for (i = 1; i < 4; i++)
		ASSERT_EQ(0, mdev_create("mbochs-large", self->uuid[i]));
	EXPECT_EQ(0, mdev_available("mbochs-small"));
	EXPECT_EQ(-ENOSPC, mdev_create("mbochs-small",
				       "c0ffee00-0000-4000-8000-000000000001"));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, mdev_remove(self->uuid[i]));
	EXPECT_EQ(64, mdev_wait_available("mbochs-small", 64, 5000));
}

/*
 * The budget is the module parameter "count", read-only in sysfs; a value
 * the parser refuses fails the load.
 */
TEST_F(budget, count_parameter)
{
	char name[64], path[PATH_MAX], buf[16];

	module_sysfs_name(vendor_module(), name, sizeof(name));
	snprintf(path, sizeof(path), "/sys/module/%s/parameters/count", name);
	ASSERT_LT(0, sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("256\n", buf);
	EXPECT_EQ(-EACCES, sysfs_write(path, "64", 2));
	ASSERT_EQ(0, module_unload(vendor_module()));
	EXPECT_NE(0, module_load_param(vendor_module(), "count=many"));
	ASSERT_EQ(0, module_load_param(vendor_module(), "count=24"));
	ASSERT_LT(0, sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("24\n", buf);
	EXPECT_EQ(6, mdev_wait_available("mbochs-small", 6, 5000));
	EXPECT_EQ(1, mdev_available("mbochs-medium"));
	EXPECT_EQ(0, mdev_available("mbochs-large"));
	ASSERT_EQ(0, mdev_create("mbochs-medium", self->uuid[0]));
	EXPECT_EQ(2, mdev_available("mbochs-small"));
	EXPECT_EQ(-ENOSPC, mdev_create("mbochs-medium", self->uuid[1]));
	ASSERT_EQ(0, mdev_remove(self->uuid[0]));
	ASSERT_EQ(0, module_unload(vendor_module()));
	ASSERT_EQ(0, module_load(vendor_module()));
	EXPECT_EQ(64, mdev_wait_available("mbochs-small", 64, 5000));
}

TEST_HARNESS_MAIN
