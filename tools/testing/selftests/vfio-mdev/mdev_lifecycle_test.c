// SPDX-License-Identifier: GPL-2.0
/*
 * Instance and module lifecycle: remove while the device fd is open, vendor
 * module unload with live instances or right after the last one went away,
 * reload and create again, and unloading the core while a parent is
 * registered.
 *
 * Module names come from the environment (MDEV_CORE_MODULE,
 * MDEV_MTTY_MODULE) so the same test runs on every stack.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

static const char *mtty_mod(void)
{
	return module_name("MDEV_MTTY_MODULE", "mtty");
}

static const char *core_mod(void)
{
	return module_name("MDEV_CORE_MODULE", "mdev");
}

/*
 * Upstream: writing "remove" while a VFIO device fd is open blocks until
 * the fd is closed (mtty has no request callback), then succeeds.
 */
TEST(remove_while_open_waits_for_close)
{
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	pid_t pid;

	uuid_gen(uuid);
	ASSERT_EQ(0, mdev_create("mtty-1", uuid));
	ASSERT_EQ(0, vfio_open_mdev(uuid, &vd));
	pid = remove_in_child(uuid, &vd);
	ASSERT_LE(0, pid);

	/* still blocked after half a second, and the device still answers */
	EXPECT_EQ(-1, wait_child(pid, 500));
	EXPECT_EQ(0x32534348, cfg_read32(vd.device, 0));

	vfio_close_mdev(&vd);
	EXPECT_EQ(0, wait_child(pid, 10000)) {
		kill(pid, SIGKILL);
	}
	EXPECT_FALSE(mdev_exists(uuid));
}

TEST(remove_started_refuses_new_device_fds)
{
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	pid_t pid;
	int fd2;

	uuid_gen(uuid);
	ASSERT_EQ(0, mdev_create("mtty-1", uuid));
	ASSERT_EQ(0, vfio_open_mdev(uuid, &vd));
	/* before removal, the group hands out more fds for the device */
	fd2 = ioctl(vd.group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	ASSERT_LE(0, fd2);
	close(fd2);

	pid = remove_in_child(uuid, &vd);
	ASSERT_LE(0, pid);
	msleep(500);
	/* once removal has started, it does not */
	EXPECT_EQ(-1, ioctl(vd.group, VFIO_GROUP_GET_DEVICE_FD, uuid));
	vfio_close_mdev(&vd);
	EXPECT_EQ(0, wait_child(pid, 10000)) {
		kill(pid, SIGKILL);
	}
	EXPECT_FALSE(mdev_exists(uuid));
}

TEST(unload_vendor_with_live_instances)
{
	char uuid[2][UUID_STR_LEN + 1];
	long avail;

	avail = mdev_available("mtty-2");
	ASSERT_LT(1, avail);
	uuid_gen(uuid[0]);
	uuid_gen(uuid[1]);
	ASSERT_EQ(0, mdev_create("mtty-1", uuid[0]));
	ASSERT_EQ(0, mdev_create("mtty-2", uuid[1]));

	/* unregistering the parent removes every child */
	ASSERT_EQ(0, module_unload(mtty_mod()));
	EXPECT_FALSE(mdev_exists(uuid[0]));
	EXPECT_FALSE(mdev_exists(uuid[1]));
	EXPECT_FALSE(path_exists(MDEV_CLASS "/mtty"));
	EXPECT_EQ(-ENOENT, mdev_create("mtty-1", uuid[0]));

	/*
	 * reload: a clean budget, and the same UUIDs can be used again once
	 * the removed instances are released
	 */
	ASSERT_EQ(0, module_load(mtty_mod()));
	EXPECT_EQ(avail, mdev_wait_available("mtty-2", avail, 10000));
	ASSERT_EQ(0, mdev_create_wait("mtty-1", uuid[0], 10000));
	ASSERT_EQ(0, mdev_create_wait("mtty-2", uuid[1], 10000));
	EXPECT_EQ(0, mdev_remove(uuid[0]));
	EXPECT_EQ(0, mdev_remove(uuid[1]));
}

TEST(unload_vendor_refused_while_device_open)
{
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;

	uuid_gen(uuid);
	ASSERT_EQ(0, mdev_create("mtty-1", uuid));
	ASSERT_EQ(0, vfio_open_mdev(uuid, &vd));
	/* an open device fd pins the vendor module */
	EXPECT_NE(0, module_unload(mtty_mod()));
	EXPECT_TRUE(mdev_exists(uuid));
	EXPECT_EQ(0x32534348, cfg_read32(vd.device, 0));
	vfio_close_mdev(&vd);
	ASSERT_EQ(0, module_unload(mtty_mod()));
	EXPECT_FALSE(mdev_exists(uuid));
	ASSERT_EQ(0, module_load(mtty_mod()));
}

/*
 * The parent's records must outlive the release callbacks of its types and
 * instances, which the kernel may run seconds after the last put
 * (DEBUG_KOBJECT_RELEASE on the test kernel): unload the vendor as soon as
 * its last instance is gone, again and again. A record freed with the
 * vendor module is a use-after-free that KASAN reports.
 */
TEST(unload_vendor_right_after_remove)
{
	char uuid[2][UUID_STR_LEN + 1];
	struct vfio_dev vd;
	int round;

	for (round = 0; round < 5; round++) {
		uuid_gen(uuid[0]);
		uuid_gen(uuid[1]);
		ASSERT_EQ(0, mdev_create("mtty-1", uuid[0]));
		ASSERT_EQ(0, mdev_create("mtty-2", uuid[1]));
		ASSERT_EQ(0, vfio_open_mdev(uuid[1], &vd));
		EXPECT_EQ(0x32534348, cfg_read32(vd.device, 0));
		vfio_close_mdev(&vd);
		EXPECT_EQ(0, mdev_remove(uuid[0]));
		EXPECT_EQ(0, mdev_remove(uuid[1]));
		ASSERT_EQ(0, module_unload(mtty_mod())) TH_LOG("round %d", round);
		EXPECT_FALSE(path_exists(MDEV_CLASS "/mtty"));
		ASSERT_EQ(0, module_load(mtty_mod())) TH_LOG("round %d", round);
	}
}

TEST(unload_core_refused_while_parent_registered)
{
	EXPECT_NE(0, module_unload(core_mod()));
	EXPECT_TRUE(path_exists(MDEV_CLASS "/mtty"));
}

TEST(create_remove_cycles)
{
	char uuid[UUID_STR_LEN + 1];
	long avail = mdev_available("mtty-1");
	int i;

	for (i = 0; i < 50; i++) {
		uuid_gen(uuid);
		ASSERT_EQ(0, mdev_create("mtty-1", uuid));
		ASSERT_EQ(0, mdev_remove(uuid));
	}
	EXPECT_EQ(avail, mdev_available("mtty-1"));
}

TEST_HARNESS_MAIN
