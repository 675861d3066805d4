// SPDX-License-Identifier: GPL-2.0
/*
 * The minimal Rust vendor sample (mdev_minimal) end to end: its parent and
 * type in sysfs, create, open through VFIO (group and container), device,
 * region and irq info (with a capability chain), config space reads and
 * writes, reset, bad input, remove, and the module dependencies of
 * vfio_mdev. It exercises the kernel
 * crate's mdev bindings and vfio_mdev on whichever mdev core is loaded.
 *
 * Module paths come from the environment (MDEV_CORE_MODULE,
 * MDEV_VFIO_MDEV_MODULE, MDEV_MINIMAL_MODULE, and MDEV_RUST_VENDOR_MODULES:
 * every module loaded on vfio_mdev, in load order).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

#define TYPE		"mdev_minimal-1"
#define PARENT		MDEV_CLASS "/mdev_minimal"
#define TYPE_DIR	PARENT "/mdev_supported_types/" TYPE
#define INSTANCES	4
#define IDS		0x4d4d1d6b	/* device 4d4d, vendor 1d6b */
#define CFG_SIZE	256
/* the identification region: the instance's UUID, of a vendor region type */
#define ID_REGION	VFIO_PCI_NUM_REGIONS
#define ID_SIZE		16
#define ID_TYPE		(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0x1d6b)
#define ID_SUBTYPE	1

static const char *core_mod(void)
{
	return module_name("MDEV_CORE_MODULE", "mdev");
}

static const char *vfio_mdev_mod(void)
{
	return module_name("MDEV_VFIO_MDEV_MODULE", "vfio_mdev");
}

static const char *minimal_mod(void)
{
	return module_name("MDEV_MINIMAL_MODULE", "mdev_minimal");
}

/*
 * Apply @fn to each module of MDEV_RUST_VENDOR_MODULES (default: this
 * sample alone), in reverse order if @reverse; stops at the first error.
 */
static int apply_to_vendors(int (*fn)(const char *), bool reverse)
{
	const char *env = getenv("MDEV_RUST_VENDOR_MODULES");
	char list[4096], *mods[16], *save, *m;
	int n = 0, i, err;

	snprintf(list, sizeof(list), "%s", env && *env ? env : minimal_mod());
	for (m = strtok_r(list, " ", &save); m && n < 16;
	     m = strtok_r(NULL, " ", &save))
		mods[n++] = m;
	for (i = 0; i < n; i++) {
		err = fn(mods[reverse ? n - 1 - i : i]);
		if (err)
			return err;
	}
	return 0;
}

FIXTURE(dev) {
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	int fd;
	pid_t owner;	/* the process that opened vd */
};

FIXTURE_SETUP(dev)
{
	uuid_gen(self->uuid);
	ASSERT_EQ(0, mdev_create(TYPE, self->uuid));
	ASSERT_EQ(0, vfio_open_mdev(self->uuid, &self->vd));
	self->fd = self->vd.device;
	self->owner = getpid();
}

/* See mdev_vfio_test.c: the 6.12 harness may run this in the test process. */
FIXTURE_TEARDOWN_PARENT(dev)
{
	if (getpid() == self->owner)
		vfio_close_mdev(&self->vd);
	mdev_remove(self->uuid);
}

TEST(parent_and_type_attributes)
{
	char buf[256];

	ASSERT_TRUE(path_exists(TYPE_DIR));
	ASSERT_LT(0, sysfs_read(TYPE_DIR "/name", buf, sizeof(buf)));
	EXPECT_STREQ("Minimal PCI device\n", buf);
	ASSERT_LT(0, sysfs_read(TYPE_DIR "/device_api", buf, sizeof(buf)));
	EXPECT_STREQ("vfio-pci\n", buf);
	ASSERT_LT(0, sysfs_read(TYPE_DIR "/description", buf, sizeof(buf)));
	EXPECT_STREQ("PCI configuration space only, 4 instances\n", buf);
	EXPECT_EQ(INSTANCES, mdev_available(TYPE));
	EXPECT_TRUE(path_exists(TYPE_DIR "/devices"));
	/* the parent's own mdev driver */
	EXPECT_TRUE(path_exists("/sys/bus/mdev/drivers/mdev_minimal"));
}

TEST(create_open_read_close_remove)
{
	char uuid[UUID_STR_LEN + 1], path[PATH_MAX], buf[64];
	struct vfio_dev vd;

	uuid_gen(uuid);
	ASSERT_EQ(0, mdev_create(TYPE, uuid));
	EXPECT_EQ(INSTANCES - 1, mdev_available(TYPE));
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/mdev_type/name", uuid);
	ASSERT_LT(0, sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("Minimal PCI device\n", buf);
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/driver", uuid);
	EXPECT_TRUE(path_exists(path));
	/* the iommufd cdev next to the group */
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/vfio-dev", uuid);
	EXPECT_TRUE(path_exists(path));

	ASSERT_EQ(0, vfio_open_mdev(uuid, &vd));
	EXPECT_EQ(IDS, cfg_read32(vd.device, PCI_VENDOR_ID));
	EXPECT_EQ(0xff, cfg_read32(vd.device, PCI_CLASS_REVISION) >> 24);
	EXPECT_EQ(1, cfg_read32(vd.device, PCI_CLASS_REVISION) & 0xff);
	EXPECT_EQ(IDS, cfg_read32(vd.device, PCI_SUBSYSTEM_VENDOR_ID));
	vfio_close_mdev(&vd);

	EXPECT_EQ(0, mdev_remove(uuid));
	EXPECT_FALSE(mdev_exists(uuid));
	EXPECT_EQ(INSTANCES, mdev_available(TYPE));
}

TEST_F(dev, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET, info.flags);
	EXPECT_EQ(ID_REGION + 1, info.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);

	info.argsz = 8;
	EXPECT_EQ(-1, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VFIO_DEVICE_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, region_info)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	unsigned int i;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		ri.index = i;
		ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
		EXPECT_EQ(REGION_OFFSET(i), ri.offset);
		if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			EXPECT_EQ(CFG_SIZE, ri.size);
			EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE, ri.flags);
		} else {
			EXPECT_EQ(0, ri.size);
			EXPECT_EQ(0, ri.flags);
		}
	}
	ri.index = ID_REGION + 1;
	EXPECT_EQ(-1, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ri.argsz = 16;
	EXPECT_EQ(-1, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * A region with a capability: an argsz without room for the chain gets the
 * size it needs and no chain; with room, the chain follows the answer.
 */
TEST_F(dev, region_capability_chain)
{
	union {
		struct vfio_region_info ri;
		uint8_t bytes[256];
	} u;
	struct vfio_region_info_cap_type *cap;
	const size_t need = sizeof(u.ri) + sizeof(*cap);

	memset(&u, 0xa5, sizeof(u));
	u.ri.argsz = sizeof(u.ri);
	u.ri.index = ID_REGION;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &u.ri));
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_CAPS,
		  u.ri.flags);
	EXPECT_EQ(need, u.ri.argsz);
	EXPECT_EQ(0, u.ri.cap_offset);
	EXPECT_EQ(ID_SIZE, u.ri.size);
	EXPECT_EQ(REGION_OFFSET(ID_REGION), u.ri.offset);
	/* nothing was written past the answer */
	EXPECT_EQ(0xa5, u.bytes[sizeof(u.ri)]);

	u.ri.argsz = need - 1;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &u.ri));
	EXPECT_EQ(need, u.ri.argsz);
	EXPECT_EQ(0, u.ri.cap_offset);
	EXPECT_EQ(0xa5, u.bytes[sizeof(u.ri)]);

	u.ri.argsz = sizeof(u);
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &u.ri));
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_CAPS,
		  u.ri.flags);
	/* argsz is the caller's when the chain fits */
	EXPECT_EQ(sizeof(u), u.ri.argsz);
	ASSERT_EQ(sizeof(u.ri), u.ri.cap_offset);
	cap = (void *)(u.bytes + u.ri.cap_offset);
	EXPECT_EQ(VFIO_REGION_INFO_CAP_TYPE, cap->header.id);
	EXPECT_EQ(1, cap->header.version);
	EXPECT_EQ(0, cap->header.next);
	EXPECT_EQ(ID_TYPE, cap->type);
	EXPECT_EQ(ID_SUBTYPE, cap->subtype);

	/* the PCI regions have no capability */
	u.ri.argsz = sizeof(u);
	u.ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &u.ri));
	EXPECT_EQ(0, u.ri.flags & VFIO_REGION_INFO_FLAG_CAPS);
	EXPECT_EQ(0, u.ri.cap_offset);
}

/* The identification region holds the instance's UUID and is read-only. */
TEST_F(dev, id_region)
{
	uint8_t id[ID_SIZE + 1], want[ID_SIZE];
	const char *p = self->uuid;
	char hex[3] = "", *end;
	unsigned int i;

	for (i = 0; i < ID_SIZE; i++) {
		if (*p == '-')
			p++;
		memcpy(hex, p, 2);
		want[i] = strtoul(hex, &end, 16);
		ASSERT_EQ(hex + 2, end);
		p += 2;
	}
	ASSERT_EQ(ID_SIZE, region_read(self->fd, ID_REGION, 0, id, ID_SIZE));
	EXPECT_EQ(0, memcmp(want, id, ID_SIZE));
	ASSERT_EQ(4, region_read(self->fd, ID_REGION, 12, id, 4));
	EXPECT_EQ(0, memcmp(want + 12, id, 4));
	EXPECT_EQ(-EINVAL, region_read(self->fd, ID_REGION, 0, id, ID_SIZE + 1));
	EXPECT_EQ(-EINVAL, region_read(self->fd, ID_REGION, ID_SIZE, id, 1));
	EXPECT_EQ(-EINVAL, region_write(self->fd, ID_REGION, 0, id, 4));
}

TEST_F(dev, irq_info)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	unsigned int i;

	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		ii.index = i;
		ii.count = 99;
		ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
		EXPECT_EQ(0, ii.count);
	}
	ii.index = VFIO_PCI_NUM_IRQS;
	EXPECT_EQ(-1, ioctl(self->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);
}

/* No interrupts: the binding answers for a driver without irq callbacks. */
TEST_F(dev, no_interrupts)
{
	EXPECT_EQ(0, irq_none(self->fd));
}

TEST_F(dev, config_space_every_width)
{
	uint8_t all[CFG_SIZE], b;
	uint16_t w;
	unsigned int off;

	/* one read of the whole space, then each byte and word on its own */
	ASSERT_EQ(CFG_SIZE, region_read(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
					0, all, sizeof(all)));
	for (off = 0; off < CFG_SIZE; off++) {
		ASSERT_EQ(1, region_read(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
					 off, &b, 1));
		EXPECT_EQ(all[off], b);
	}
	ASSERT_EQ(2, region_read(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
				 PCI_DEVICE_ID, &w, 2));
	EXPECT_EQ(IDS >> 16, w);
}

/*
 * Every length from one byte to past a register access (vfio_mdev serves
 * up to 8 bytes in one driver call, longer accesses in 256-byte chunks),
 * at every alignment, and the chunk boundaries: each read returns what the
 * whole-space read returned, and writes nothing past its end.
 */
TEST_F(dev, access_lengths)
{
	static const size_t longer[] = { 200, 255, 256 };
	uint8_t all[CFG_SIZE], buf[CFG_SIZE + 8];
	size_t len, i;
	unsigned int off;

	ASSERT_EQ(CFG_SIZE, region_read(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
					0, all, sizeof(all)));
	for (len = 1; len <= 9; len++) {
		for (off = 0; off < 16; off++) {
			memset(buf, 0xa5, sizeof(buf));
			ASSERT_EQ(len, region_read(self->fd,
						   VFIO_PCI_CONFIG_REGION_INDEX,
						   off, buf, len));
			EXPECT_EQ(0, memcmp(buf, all + off, len));
			EXPECT_EQ(0xa5, buf[len]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(longer); i++) {
		len = longer[i];
		off = CFG_SIZE - len;
		memset(buf, 0xa5, sizeof(buf));
		ASSERT_EQ(len, region_read(self->fd,
					   VFIO_PCI_CONFIG_REGION_INDEX, off,
					   buf, len));
		EXPECT_EQ(0, memcmp(buf, all + off, len));
		EXPECT_EQ(0xa5, buf[len]);
	}
	/* a 3-byte write reaches the command register through its low byte */
	memset(buf, 0xff, 3);
	ASSERT_EQ(3, region_write(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
				  PCI_COMMAND - 1, buf, 3));
	EXPECT_EQ(0x0407, cfg_read16(self->fd, PCI_COMMAND));
}

/*
 * A user buffer that faults part of the way: the access fails with EFAULT
 * on both paths (nothing moved), and a write changes nothing.
 */
TEST_F(dev, user_buffer_faults_part_way)
{
	off_t cfg = REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX);
	uint8_t *pages, *end;

	pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, mprotect(pages + 4096, 4096, PROT_NONE));
	end = pages + 4096;

	EXPECT_EQ(-1, pread(self->fd, end - 2, 4, cfg));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pread(self->fd, end - 100, 200, cfg));
	EXPECT_EQ(EFAULT, errno);
	memset(end - 2, 0xff, 2);
	EXPECT_EQ(-1, pwrite(self->fd, end - 2, 4, cfg + PCI_COMMAND));
	EXPECT_EQ(EFAULT, errno);
	memset(end - 100, 0xff, 100);
	EXPECT_EQ(-1, pwrite(self->fd, end - 100, 200, cfg));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, cfg_read16(self->fd, PCI_COMMAND));
	munmap(pages, 8192);
}

TEST_F(dev, command_register_and_reset)
{
	/* only I/O, memory, bus master and INTx disable are implemented */
	cfg_write32(self->fd, PCI_COMMAND, 0xffff);
	EXPECT_EQ(0x0407, cfg_read16(self->fd, PCI_COMMAND));
	/* read-only registers ignore writes */
	cfg_write32(self->fd, PCI_VENDOR_ID, 0);
	EXPECT_EQ(IDS, cfg_read32(self->fd, PCI_VENDOR_ID));

	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, cfg_read16(self->fd, PCI_COMMAND));
	EXPECT_EQ(IDS, cfg_read32(self->fd, PCI_VENDOR_ID));
}

TEST_F(dev, instances_are_independent)
{
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev other;

	uuid_gen(uuid);
	ASSERT_EQ(0, mdev_create(TYPE, uuid));
	ASSERT_EQ(0, vfio_open_mdev(uuid, &other));
	cfg_write32(self->fd, PCI_COMMAND, PCI_COMMAND_MEMORY);
	EXPECT_EQ(PCI_COMMAND_MEMORY, cfg_read16(self->fd, PCI_COMMAND));
	EXPECT_EQ(0, cfg_read16(other.device, PCI_COMMAND));
	vfio_close_mdev(&other);
	EXPECT_EQ(0, mdev_remove(uuid));
}

TEST_F(dev, bad_region_access)
{
	uint8_t big[CFG_SIZE + 1];
	void *none;
	uint32_t v;

	/* past the end of config space, in part or wholly */
	EXPECT_EQ(-EINVAL, region_read(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
				       CFG_SIZE - 2, &v, 4));
	EXPECT_EQ(-EINVAL, region_read(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
				       CFG_SIZE, &v, 1));
	/*
	 * an access that runs past the end moves what lies before it and
	 * says so with a short count (vfio_mdev stops at the first chunk the
	 * device refuses); only an access that moves nothing fails
	 */
	EXPECT_EQ(CFG_SIZE, region_read(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
					0, big, sizeof(big)));
	EXPECT_EQ(CFG_SIZE, region_write(self->fd,
					 VFIO_PCI_CONFIG_REGION_INDEX, 0, big,
					 sizeof(big)));
	EXPECT_EQ(-EINVAL, region_write(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
					CFG_SIZE - 1, &v, 2));
	/* regions the device does not have */
	EXPECT_EQ(-EINVAL, region_read(self->fd, VFIO_PCI_BAR0_REGION_INDEX,
				       0, &v, 4));
	EXPECT_EQ(-EINVAL, region_write(self->fd, VFIO_PCI_NUM_REGIONS + 3,
					0, &v, 4));
	/* a user buffer that cannot be accessed */
	none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	EXPECT_EQ(-1, pread(self->fd, none, 4,
			    REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pwrite(self->fd, none, 4,
			     REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)));
	EXPECT_EQ(EFAULT, errno);
	munmap(none, 4096);
	/* the device still works */
	EXPECT_EQ(IDS, cfg_read32(self->fd, PCI_VENDOR_ID));
}

TEST_F(dev, unknown_ioctl_and_mmap)
{
	void *p;

	EXPECT_EQ(-1, ioctl(self->fd, _IO(VFIO_TYPE, VFIO_BASE + 60)));
	EXPECT_EQ(ENOTTY, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd,
		 REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX));
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST(budget_runs_out)
{
	char uuid[INSTANCES + 1][UUID_STR_LEN + 1];
	int i;

	for (i = 0; i < INSTANCES; i++) {
		uuid_gen(uuid[i]);
		ASSERT_EQ(0, mdev_create(TYPE, uuid[i]));
	}
	EXPECT_EQ(0, mdev_available(TYPE));
	uuid_gen(uuid[i]);
	EXPECT_EQ(-ENOSPC, mdev_create(TYPE, uuid[i]));
	EXPECT_FALSE(mdev_exists(uuid[i]));
	for (i = 0; i < INSTANCES; i++)
		EXPECT_EQ(0, mdev_remove(uuid[i]));
	EXPECT_EQ(INSTANCES, mdev_available(TYPE));
}

/* vfio_mdev asks for the device back and waits until it is closed */
TEST(remove_while_open_waits_for_close)
{
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	pid_t pid;

	uuid_gen(uuid);
	ASSERT_EQ(0, mdev_create(TYPE, uuid));
	ASSERT_EQ(0, vfio_open_mdev(uuid, &vd));
	pid = remove_in_child(uuid, &vd);
	ASSERT_LE(0, pid);

	EXPECT_EQ(-1, wait_child(pid, 500));
	EXPECT_EQ(IDS, cfg_read32(vd.device, PCI_VENDOR_ID));

	vfio_close_mdev(&vd);
	EXPECT_EQ(0, wait_child(pid, 10000)) {
		kill(pid, SIGKILL);
	}
	EXPECT_FALSE(mdev_exists(uuid));
	EXPECT_EQ(INSTANCES, mdev_available(TYPE));
}

TEST(unload_vendor_refused_while_device_open)
{
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;

	uuid_gen(uuid);
	ASSERT_EQ(0, mdev_create(TYPE, uuid));
	ASSERT_EQ(0, vfio_open_mdev(uuid, &vd));
	EXPECT_NE(0, module_unload(minimal_mod()));
	EXPECT_EQ(IDS, cfg_read32(vd.device, PCI_VENDOR_ID));
	vfio_close_mdev(&vd);
	/* with the device closed, unloading removes the instance */
	ASSERT_EQ(0, module_unload(minimal_mod()));
	EXPECT_FALSE(mdev_exists(uuid));
	EXPECT_FALSE(path_exists(PARENT));
	ASSERT_EQ(0, module_load(minimal_mod()));
	EXPECT_EQ(INSTANCES, mdev_available(TYPE));
}

/* vfio_mdev and the core stay while a Rust parent needs them */
TEST(unload_vfio_mdev_and_core_refused_while_in_use)
{
	char uuid[UUID_STR_LEN + 1];

	uuid_gen(uuid);
	ASSERT_EQ(0, mdev_create(TYPE, uuid));
	EXPECT_NE(0, module_unload(vfio_mdev_mod()));
	EXPECT_NE(0, module_unload(core_mod()));
	EXPECT_TRUE(mdev_exists(uuid));
	EXPECT_EQ(0, mdev_remove(uuid));

	/* without a vendor driver, vfio_mdev unloads and loads cleanly */
	ASSERT_EQ(0, apply_to_vendors(module_unload, true));
	EXPECT_FALSE(path_exists(PARENT));
	EXPECT_NE(0, module_unload(core_mod()));
	ASSERT_EQ(0, module_unload(vfio_mdev_mod()));
	ASSERT_EQ(0, module_load(vfio_mdev_mod()));
	ASSERT_EQ(0, apply_to_vendors(module_load, false));
	EXPECT_EQ(INSTANCES, mdev_available(TYPE));
}

TEST_HARNESS_MAIN
