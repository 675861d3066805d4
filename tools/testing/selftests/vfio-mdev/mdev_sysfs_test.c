// SPDX-License-Identifier: GPL-2.0
/*
 * mdev sysfs ABI: parents, supported types, create/remove by UUID and the
 * errno values of bad input, as the 6.12 mdev core defines them.
 *
 * Runs on any stack with an mtty (C or Rust) and at least one other parent
 * loaded; mdev_sysfs_mdpy_test covers what needs mdpy.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

#define MTTY1	"mtty-1"
#define MTTY2	"mtty-2"
/* more than any stack registers */
#define MAX_TYPES	16

/* The first type of the first parent that is not mtty, in @type. */
static int other_parent_type(char *type, size_t len)
{
	struct mdev_type_name t[MAX_TYPES];
	int i, n = mdev_list_types(t, MAX_TYPES);

	for (i = 0; i < n; i++) {
		if (strcmp(t[i].parent, "mtty")) {
			snprintf(type, len, "%s", t[i].type);
			return 0;
		}
	}
	return n < 0 ? n : -ENOENT;
}

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

TEST(parents_under_mdev_bus_class)
{
	ASSERT_TRUE(path_exists(MDEV_CLASS "/mtty"));
	ASSERT_TRUE(path_exists(MDEV_CLASS "/mtty/mdev_supported_types"));
}

TEST(type_directory_layout)
{
	static const char * const types[] = { MTTY1, MTTY2 };
	static const char * const attrs[] = {
		"name", "device_api", "available_instances", "create",
		"devices",
	};
	char dir[PATH_MAX], path[PATH_MAX + 64];
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		ASSERT_EQ(0, mdev_type_dir(types[i], dir, sizeof(dir)))
			TH_LOG("type %s", types[i]);
		for (j = 0; j < ARRAY_SIZE(attrs); j++) {
			snprintf(path, sizeof(path), "%s/%s", dir, attrs[j]);
			EXPECT_TRUE(path_exists(path)) TH_LOG("%s", path);
		}
	}
}

TEST(type_attributes)
{
	char buf[256];

	ASSERT_LT(0, mdev_type_attr(MTTY1, "name", buf, sizeof(buf)));
	EXPECT_STREQ("Single port serial\n", buf);
	ASSERT_LT(0, mdev_type_attr(MTTY2, "name", buf, sizeof(buf)));
	EXPECT_STREQ("Dual port serial\n", buf);
	ASSERT_LT(0, mdev_type_attr(MTTY2, "device_api", buf, sizeof(buf)));
	EXPECT_STREQ("vfio-pci\n", buf);
}

TEST(description_hidden_without_vendor_callback)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];

	ASSERT_EQ(0, mdev_type_dir(MTTY2, dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/description", dir);
	EXPECT_FALSE(path_exists(path));
}

TEST(attribute_modes)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], buf[8];

	ASSERT_EQ(0, mdev_type_dir(MTTY2, dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/create", dir);
	EXPECT_EQ(-EACCES, sysfs_read(path, buf, sizeof(buf)));
	snprintf(path, sizeof(path), "%s/name", dir);
	EXPECT_EQ(-EACCES, sysfs_write(path, "x", 1));
}

TEST_F(mdev, create_and_remove)
{
	char dir[PATH_MAX], path[PATH_MAX + 128], link[PATH_MAX];
	long avail1, avail2;
	ssize_t n;

	avail1 = mdev_available(MTTY1);
	avail2 = mdev_available(MTTY2);
	ASSERT_LT(0, avail2);

	ASSERT_EQ(0, mdev_create(MTTY2, self->uuid[0]));
	ASSERT_TRUE(mdev_exists(self->uuid[0]));

	/* The instance's sysfs files */
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/remove",
		 self->uuid[0]);
	EXPECT_TRUE(path_exists(path));
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/iommu_group",
		 self->uuid[0]);
	EXPECT_TRUE(path_exists(path));
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/mdev_type",
		 self->uuid[0]);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	EXPECT_STREQ(MTTY2, strrchr(link, '/') + 1);
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/mdev_type/name",
		 self->uuid[0]);
	EXPECT_TRUE(path_exists(path));

	/* ... and it is listed in its type's devices/ */
	ASSERT_EQ(0, mdev_type_dir(MTTY2, dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/devices/%s", dir, self->uuid[0]);
	EXPECT_TRUE(path_exists(path));

	/* mtty's types share one port budget */
	EXPECT_EQ(avail2 - 1, mdev_available(MTTY2));
	EXPECT_EQ(avail1 - 2, mdev_available(MTTY1));

	ASSERT_EQ(0, mdev_remove(self->uuid[0]));
	EXPECT_FALSE(mdev_exists(self->uuid[0]));
	EXPECT_FALSE(path_exists(path));
	EXPECT_EQ(avail2, mdev_available(MTTY2));
	EXPECT_EQ(avail1, mdev_available(MTTY1));
}

TEST_F(mdev, create_newline_terminated)
{
	char buf[UUID_STR_LEN + 2];

	snprintf(buf, sizeof(buf), "%s\n", self->uuid[0]);
	ASSERT_EQ(0, mdev_create(MTTY1, buf));
	EXPECT_TRUE(mdev_exists(self->uuid[0]));
}

TEST_F(mdev, create_uppercase_uuid)
{
	char upper[UUID_STR_LEN + 1];
	int i;

	for (i = 0; i < UUID_STR_LEN; i++)
		upper[i] = toupper(self->uuid[0][i]);
	upper[UUID_STR_LEN] = '\0';
	ASSERT_EQ(0, mdev_create(MTTY1, upper));
	/* devices are named by the lower-case form */
	EXPECT_TRUE(mdev_exists(self->uuid[0]));
	/* and upper and lower case name the same UUID */
	EXPECT_EQ(-EEXIST, mdev_create(MTTY1, self->uuid[0]));
}

TEST_F(mdev, duplicate_uuid)
{
	char other[NAME_MAX + 1];
	long avail;

	ASSERT_EQ(0, mdev_create(MTTY1, self->uuid[0]));
	avail = mdev_available(MTTY1);
	EXPECT_EQ(-EEXIST, mdev_create(MTTY1, self->uuid[0]));
	/* UUIDs are unique across types and parents */
	EXPECT_EQ(-EEXIST, mdev_create(MTTY2, self->uuid[0]));
	ASSERT_EQ(0, other_parent_type(other, sizeof(other)));
	EXPECT_EQ(-EEXIST, mdev_create(other, self->uuid[0])) TH_LOG("%s", other);
	/* a failed create leaves the accounting alone */
	EXPECT_EQ(avail, mdev_available(MTTY1));
}

TEST_F(mdev, malformed_uuids)
{
	static const char * const bad[] = {
		"\n",					/* empty line */
		"1234",					/* short */
		"00000000-0000-0000-0000-00000000000",	/* one short */
		"0000000g-0000-0000-0000-000000000000",	/* non-hex */
		"00000000_0000-0000-0000-000000000000",	/* bad separator */
		"000000000000-0000-0000-0000-00000000",	/* misplaced dashes */
		"00000000-0000-0000-0000-000000000000xy", /* trailing junk */
		"00000000-0000-0000-0000-000000000000\n\n",
		" 00000000-0000-0000-0000-000000000000",
	};
	long avail = mdev_available(MTTY1);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, mdev_create(MTTY1, bad[i])) {
			TH_LOG("input \"%s\" was accepted", bad[i]);
			mdev_remove("00000000-0000-0000-0000-000000000000");
		}
	}
	EXPECT_EQ(avail, mdev_available(MTTY1));
}

/*
 * A UUID followed by one byte that is not a newline is malformed too.
 * Upstream 6.12 accepts it (it only checks the length): an oracle deviation.
 */
TEST_F(mdev, trailing_byte_rejected)
{
	char buf[UUID_STR_LEN + 2];

	snprintf(buf, sizeof(buf), "%sx", self->uuid[0]);
	EXPECT_EQ(-EINVAL, mdev_create(MTTY1, buf));
	EXPECT_FALSE(mdev_exists(self->uuid[0]));
}

TEST(create_on_exhausted_vendor_budget)
{
	char (*uuids)[UUID_STR_LEN + 1];
	char extra[UUID_STR_LEN + 1];
	long avail = mdev_available(MTTY2);
	long i;

	/* mtty: its own get_available budget runs out -> ENOSPC from create */
	ASSERT_LT(0, avail);
	uuids = calloc(avail, sizeof(*uuids));
	ASSERT_NE(NULL, uuids);
	for (i = 0; i < avail; i++) {
		uuid_gen(uuids[i]);
		ASSERT_EQ(0, mdev_create(MTTY2, uuids[i]));
	}
	EXPECT_EQ(0, mdev_available(MTTY2));
	uuid_gen(extra);
	EXPECT_EQ(-ENOSPC, mdev_create(MTTY2, extra));
	EXPECT_FALSE(mdev_exists(extra));
	for (i = 0; i < avail; i++)
		EXPECT_EQ(0, mdev_remove(uuids[i]));
	EXPECT_EQ(avail, mdev_available(MTTY2));
	free(uuids);
}

TEST_F(mdev, remove_twice)
{
	char path[PATH_MAX];
	int fd;

	ASSERT_EQ(0, mdev_create(MTTY1, self->uuid[0]));
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/remove",
		 self->uuid[0]);
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mdev_remove(self->uuid[0]));
	EXPECT_FALSE(mdev_exists(self->uuid[0]));
	/* the attribute is gone: a new open fails, an old fd is dead */
	EXPECT_EQ(-ENOENT, mdev_remove(self->uuid[0]));
	EXPECT_EQ(-1, write(fd, "1", 1));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
}

TEST_F(mdev, remove_bad_input)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, mdev_create(MTTY1, self->uuid[0]));
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/remove",
		 self->uuid[0]);
	EXPECT_EQ(-EINVAL, sysfs_write(path, "yes", 3));
	/* 0 is accepted and does nothing */
	EXPECT_EQ(0, sysfs_write(path, "0", 1));
	EXPECT_TRUE(mdev_exists(self->uuid[0]));
	EXPECT_EQ(0, sysfs_write(path, "1\n", 2));
	EXPECT_FALSE(mdev_exists(self->uuid[0]));
}

TEST_F(mdev, instances_listed_per_type)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];

	ASSERT_EQ(0, mdev_create(MTTY1, self->uuid[0]));
	ASSERT_EQ(0, mdev_create(MTTY2, self->uuid[1]));
	ASSERT_EQ(0, mdev_type_dir(MTTY1, dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/devices/%s", dir, self->uuid[0]);
	EXPECT_TRUE(path_exists(path));
	snprintf(path, sizeof(path), "%s/devices/%s", dir, self->uuid[1]);
	EXPECT_FALSE(path_exists(path));
	/* both hang off the parent device */
	snprintf(path, sizeof(path), MDEV_CLASS "/mtty/%s", self->uuid[0]);
	EXPECT_TRUE(path_exists(path));
	snprintf(path, sizeof(path), MDEV_CLASS "/mtty/%s", self->uuid[1]);
	EXPECT_TRUE(path_exists(path));
}

/*
 * Every type of every registered parent (mtty, mdpy and mbochs, or the Rust
 * samples) can create an instance, which shows up in its devices/ and goes
 * away on remove.
 */
TEST(every_type_creates)
{
	char dpath[PATH_MAX * 2], uuid[UUID_STR_LEN + 1];
	struct mdev_type_name t[MAX_TYPES];
	int i, n = mdev_list_types(t, MAX_TYPES), tested = 0;
	long avail;

	ASSERT_LT(0, n) TH_LOG("no mdev types (%s)", strerror(-n));
	for (i = 0; i < n; i++) {
		avail = mdev_available(t[i].type);
		if (avail <= 0)
			continue;
		uuid_gen(uuid);
		snprintf(dpath, sizeof(dpath),
			 MDEV_CLASS "/%s/mdev_supported_types/%s/devices/%s",
			 t[i].parent, t[i].type, uuid);
		EXPECT_EQ(0, mdev_create(t[i].type, uuid))
			TH_LOG("type %s", t[i].type);
		EXPECT_TRUE(path_exists(dpath)) TH_LOG("%s", dpath);
		EXPECT_EQ(0, mdev_remove(uuid));
		EXPECT_FALSE(path_exists(dpath));
		EXPECT_EQ(avail, mdev_available(t[i].type));
		tested++;
	}
	/* every type had room, and there are two parents at least */
	EXPECT_EQ(n, tested);
	EXPECT_LE(3, tested);
}

TEST_HARNESS_MAIN
