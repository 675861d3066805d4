// SPDX-License-Identifier: GPL-2.0
/*
 * The parts of the mdev sysfs ABI that need the mdpy sample: a parent whose
 * driver provides a description, and the core's own max_instances budget
 * (mdpy has no get_available), which runs out with EUSERS.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

#define MDPY	"mdpy-vga"

FIXTURE(mdev) {
	char uuid[4][UUID_STR_LEN + 1];
};

FIXTURE_SETUP(mdev)
{
	int i;

	for (i = 0; i < 4; i++)
		uuid_gen(self->uuid[i]);
}

/* In the parent, so that it also runs after a failed ASSERT. */
FIXTURE_TEARDOWN_PARENT(mdev)
{
	int i;

	for (i = 0; i < 4; i++)
		if (mdev_exists(self->uuid[i]))
			mdev_remove(self->uuid[i]);
}

TEST(mdpy_type_attributes)
{
	char buf[256];

	ASSERT_TRUE(path_exists(MDEV_CLASS "/mdpy/mdev_supported_types"));
	ASSERT_LT(0, mdev_type_attr(MDPY, "device_api", buf, sizeof(buf)));
	EXPECT_STREQ("vfio-pci\n", buf);
	ASSERT_LT(0, mdev_type_attr(MDPY, "name", buf, sizeof(buf)));
	EXPECT_STREQ("mdpy-vga\n", buf);
	/* description is shown when the vendor driver provides one */
	ASSERT_LT(0, mdev_type_attr(MDPY, "description", buf, sizeof(buf)));
	EXPECT_STREQ("virtual display, 640x480 framebuffer\n", buf);
}

TEST_F(mdev, max_instances_accounting)
{
	long avail = mdev_available(MDPY);

	/* mdpy has no get_available: the core counts max_instances down */
	ASSERT_LE(2, avail);
	ASSERT_EQ(0, mdev_create(MDPY, self->uuid[0]));
	EXPECT_EQ(avail - 1, mdev_available(MDPY));
	ASSERT_EQ(0, mdev_create("mdpy-xga", self->uuid[1]));
	EXPECT_EQ(avail - 2, mdev_available(MDPY));
	EXPECT_EQ(avail - 2, mdev_available("mdpy-xga"));
	ASSERT_EQ(0, mdev_remove(self->uuid[0]));
	EXPECT_EQ(avail - 1, mdev_available(MDPY));
	ASSERT_EQ(0, mdev_remove(self->uuid[1]));
	EXPECT_EQ(avail, mdev_available(MDPY));
}

TEST_F(mdev, create_on_exhausted_type)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	char extra[UUID_STR_LEN + 1];
	long avail = mdev_available(MDPY);
	long i;

	/* mdpy: the core's max_instances budget runs out -> EUSERS */
	ASSERT_LE(avail, 4);
	for (i = 0; i < avail && !mdev_create(MDPY, self->uuid[i]); i++)
		;
	ASSERT_EQ(avail, i);
	EXPECT_EQ(0, mdev_available(MDPY));
	uuid_gen(extra);
	EXPECT_EQ(-EUSERS, mdev_create(MDPY, extra));
	EXPECT_FALSE(mdev_exists(extra));
	ASSERT_EQ(0, mdev_type_dir(MDPY, dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/devices/%s", dir, extra);
	EXPECT_FALSE(path_exists(path));
	for (i = 0; i < avail && !mdev_remove(self->uuid[i]); i++)
		;
	ASSERT_EQ(avail, i);
	EXPECT_EQ(avail, mdev_available(MDPY));
}

TEST_HARNESS_MAIN
