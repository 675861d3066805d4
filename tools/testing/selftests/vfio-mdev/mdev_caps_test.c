// SPDX-License-Identifier: GPL-2.0
/*
 * The capabilities directory of every mdev type of the stack
 * (Documentation/ABI/testing/sysfs-bus-vfio-mdev-rs) against what an
 * instance of the type answers once it is opened: the display kind and its
 * largest mode against the plane queries, the migration flags against
 * VFIO_DEVICE_FEATURE_MIGRATION. Every type of the Rust samples has the
 * directory; upstream's C samples have none (a parent is a Rust sample's
 * when the sample's module, <parent>_rs or mdev_minimal, is loaded).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

#define MAX_TYPES	16

enum display { DISPLAY_NONE, DISPLAY_REGION, DISPLAY_DMABUF };

/* A type's capabilities, as its directory says them. */
struct caps {
	char type[NAME_MAX + 1];
	enum display display;
	unsigned int max_width, max_height;
	uint64_t migration;	/* VFIO_MIGRATION_* */
	char stream[64];
	unsigned long version;
	char why[256];		/* what disagreed */
};

/* Whether type @t has a capabilities directory. */
static bool has_caps(const struct mdev_type_name *t)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path),
		 MDEV_CLASS "/%.*s/mdev_supported_types/%.*s/capabilities",
		 NAME_MAX, t->parent, NAME_MAX, t->type);
	return path_exists(path);
}

/* capabilities/@file of @type, its line without the newline; 0 or -errno */
static int cap_read(const char *type, const char *file, char *buf, size_t len)
{
	char attr[128];
	int n;

	snprintf(attr, sizeof(attr), "capabilities/%s", file);
	n = mdev_type_attr(type, attr, buf, len);
	if (n < 0)
		return n;
	if (n == 0 || buf[n - 1] != '\n')
		return -EINVAL;
	buf[n - 1] = '\0';
	return 0;
}

/* Parses @type's directory into @c: 0, or -1 with the reason in c->why. */
static int caps_parse(const char *type, struct caps *c)
{
	static const struct { const char *name; uint64_t flag; } flags[] = {
		{ "stop_copy", VFIO_MIGRATION_STOP_COPY },
		{ "p2p", VFIO_MIGRATION_P2P },
		{ "pre_copy", VFIO_MIGRATION_PRE_COPY },
	};
	char buf[256], *word, *save, end;
	unsigned int i;
	int err;

	memset(c, 0, sizeof(*c));
	snprintf(c->type, sizeof(c->type), "%.*s", NAME_MAX, type);
	err = cap_read(type, "display", buf, sizeof(buf));
	if (err)
		goto bad_read;
	if (!strcmp(buf, "none"))
		c->display = DISPLAY_NONE;
	else if (!strcmp(buf, "region"))
		c->display = DISPLAY_REGION;
	else if (!strcmp(buf, "dmabuf"))
		c->display = DISPLAY_DMABUF;
	else
		goto bad_value;
	err = cap_read(type, "display_max_resolution", buf, sizeof(buf));
	if (c->display == DISPLAY_NONE && err != -ENOENT)
		goto bad_presence;
	if (c->display != DISPLAY_NONE &&
	    (err || sscanf(buf, "%ux%u%c", &c->max_width, &c->max_height,
			   &end) != 2 || !c->max_width || !c->max_height))
		goto bad_read;
	err = cap_read(type, "migration", buf, sizeof(buf));
	if (err)
		goto bad_read;
	if (strcmp(buf, "none")) {
		for (word = strtok_r(buf, " ", &save); word;
		     word = strtok_r(NULL, " ", &save)) {
			for (i = 0; i < ARRAY_SIZE(flags); i++)
				if (!strcmp(word, flags[i].name))
					break;
			if (i == ARRAY_SIZE(flags) || (c->migration & flags[i].flag))
				goto bad_value;
			c->migration |= flags[i].flag;
		}
		if (!c->migration)
			goto bad_value;
	}
	err = cap_read(type, "migration_stream", c->stream, sizeof(c->stream));
	if (!c->migration) {
		if (err != -ENOENT)
			goto bad_presence;
		if (cap_read(type, "migration_version", buf, sizeof(buf)) != -ENOENT)
			goto bad_presence;
		return 0;
	}
	if (err || !c->stream[0] || strchr(c->stream, ' '))
		goto bad_read;
	err = cap_read(type, "migration_version", buf, sizeof(buf));
	if (err || sscanf(buf, "%lu%c", &c->version, &end) != 1)
		goto bad_read;
	return 0;

bad_read:
	snprintf(c->why, sizeof(c->why), "unreadable or malformed file (%s)",
		 strerror(-err));
	return -1;
bad_value:
	snprintf(c->why, sizeof(c->why), "unknown value \"%.64s\"", buf);
	return -1;
bad_presence:
	snprintf(c->why, sizeof(c->why),
		 "a file present or absent against display/migration");
	return -1;
}

/* GET of VFIO_DEVICE_FEATURE_MIGRATION: the flags, or -errno. */
static int64_t migration_flags(int fd)
{
	struct vfio_device_feature_migration m = {};
	int err = vfio_feature(fd, VFIO_DEVICE_FEATURE_GET |
			       VFIO_DEVICE_FEATURE_MIGRATION, &m, sizeof(m));

	return err ? err : (int64_t)m.flags;
}

/* The opened instance @fd of c->type against @arg's capabilities. */
static int caps_agree(int fd, void *arg)
{
	struct vfio_device_gfx_plane_info plane;
	struct caps *c = arg;
	bool region, dmabuf;
	int64_t flags;
	int err;

	region = !query_plane(fd, VFIO_GFX_PLANE_TYPE_PROBE |
			      VFIO_GFX_PLANE_TYPE_REGION,
			      DRM_PLANE_TYPE_PRIMARY, &plane);
	dmabuf = !query_plane(fd, VFIO_GFX_PLANE_TYPE_PROBE |
			      VFIO_GFX_PLANE_TYPE_DMABUF,
			      DRM_PLANE_TYPE_PRIMARY, &plane);
	if (region != (c->display == DISPLAY_REGION) ||
	    dmabuf != (c->display == DISPLAY_DMABUF)) {
		snprintf(c->why, sizeof(c->why),
			 "plane probes: region %d, dma-buf %d", region, dmabuf);
		return -EPROTO;
	}
	if (c->display == DISPLAY_DMABUF) {
		/* the largest mode is one the device shows */
		err = bochs_set_mode_bar2(fd, c->max_width, c->max_height);
		if (err) {
			snprintf(c->why, sizeof(c->why), "mode %ux%u: %s",
				 c->max_width, c->max_height, strerror(-err));
			return err;
		}
	}
	if (c->display != DISPLAY_NONE) {
		err = query_plane(fd, c->display == DISPLAY_REGION ?
				  VFIO_GFX_PLANE_TYPE_REGION :
				  VFIO_GFX_PLANE_TYPE_DMABUF,
				  DRM_PLANE_TYPE_PRIMARY, &plane);
		/*
		 * a region display has one mode, its largest; a dma-buf
		 * one was just set to its largest
		 */
		if (err || plane.width != c->max_width ||
		    plane.height != c->max_height) {
			snprintf(c->why, sizeof(c->why),
				 "plane %ux%u (%s), largest %ux%u",
				 err ? 0 : plane.width, err ? 0 : plane.height,
				 strerror(-err), c->max_width, c->max_height);
			return -EPROTO;
		}
	}
	flags = migration_flags(fd);
	if (c->migration ? flags != (int64_t)c->migration : flags != -ENOTTY) {
		snprintf(c->why, sizeof(c->why),
			 "migration feature %lld, capabilities 0x%llx",
			 (long long)flags,
			 (unsigned long long)c->migration);
		return -EPROTO;
	}
	return 0;
}

/*
 * Whether parent @parent is one of our Rust samples: mdev_minimal, or the
 * Rust twin (module <parent>_rs) of an upstream sample.
 */
static bool rust_sample(const char *parent)
{
	char path[PATH_MAX];

	if (!strcmp(parent, "mdev_minimal"))
		return true;
	snprintf(path, sizeof(path), "/sys/module/%.*s_rs", NAME_MAX, parent);
	return path_exists(path);
}

/*
 * Every type of the Rust samples has a capabilities directory, no type of
 * the C samples has one.
 */
TEST(directory_where_declared)
{
	struct mdev_type_name t[MAX_TYPES];
	int i, n = mdev_list_types(t, MAX_TYPES);
	bool want;

	ASSERT_LT(0, n) TH_LOG("no mdev types (%s)", strerror(-n));
	for (i = 0; i < n; i++) {
		want = rust_sample(t[i].parent);
		EXPECT_EQ(want, has_caps(&t[i]))
			TH_LOG("%s: capabilities %s", t[i].type,
			       want ? "missing" : "present");
	}
}

/* What the files say is what an opened instance does. */
TEST(capabilities_agree)
{
	struct mdev_type_name t[MAX_TYPES];
	int i, n = mdev_list_types(t, MAX_TYPES), checked = 0, err;
	struct caps c;

	ASSERT_LT(0, n) TH_LOG("no mdev types (%s)", strerror(-n));
	for (i = 0; i < n; i++) {
		if (!has_caps(&t[i]))
			continue;
		ASSERT_EQ(0, caps_parse(t[i].type, &c))
			TH_LOG("%s: %s", t[i].type, c.why);
		err = with_fresh_instance(t[i].type, caps_agree, &c);
		EXPECT_EQ(0, err) TH_LOG("%s: %s", t[i].type,
					 c.why[0] ? c.why : strerror(-err));
		TH_LOG("%s: display %s %ux%u, migration 0x%llx %s %lu", t[i].type,
		       c.display == DISPLAY_NONE ? "none" :
		       c.display == DISPLAY_REGION ? "region" : "dmabuf",
		       c.max_width, c.max_height,
		       (unsigned long long)c.migration, c.stream, c.version);
		checked++;
	}
	if (!checked)
		SKIP(return, "no type has a capabilities directory");
}

/*
 * A reader of a capabilities file while its driver goes: it reads the file's
 * line until the directory is gone (ENODEV), never anything else, and the
 * kernel never reads a freed record or driver for it (KASAN). The reloaded
 * driver's directory reads as before.
 */
TEST(read_across_unload)
{
	const char *ko = getenv("MDEV_MTTY_MODULE");
	char path[PATH_MAX], line[64], again[64];
	int fd, i;
	ssize_t n;
	pid_t pid;

	if (!ko || !*ko || !rust_sample("mtty"))
		SKIP(return, "the stack's mtty is not ours");
	snprintf(path, sizeof(path),
		 MDEV_CLASS "/mtty/mdev_supported_types/mtty-1/capabilities/migration");
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	n = pread(fd, line, sizeof(line) - 1, 0);
	ASSERT_LT(0, n);
	line[n] = '\0';
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char buf[64];
		int reads;

		for (reads = 0;; reads++) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			if (n < 0)
				_exit(errno == ENODEV && reads ? 0 : 1);
			buf[n] = '\0';
			if (strcmp(buf, line))
				_exit(2);
		}
	}
	/* an instance released late may hold the driver a moment */
	for (i = 0; i < 50 && module_unload(ko); i++)
		msleep(200);
	EXPECT_GT(50, i) TH_LOG("rmmod %s with a capabilities file open", ko);
	EXPECT_EQ(0, wait_child(pid, 60000));
	n = pread(fd, again, sizeof(again) - 1, 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ENODEV, errno);
	close(fd);
	ASSERT_EQ(0, module_load(ko));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s after the reload: %s", path, strerror(errno));
	n = pread(fd, again, sizeof(again) - 1, 0);
	close(fd);
	ASSERT_LT(0, n);
	again[n] = '\0';
	EXPECT_STREQ(line, again);
}

TEST_HARNESS_MAIN
