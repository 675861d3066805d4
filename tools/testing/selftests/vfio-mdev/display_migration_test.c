// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration of the Rust display samples (mdpy_rs and mbochs_rs;
 * upstream's have none): a picture drawn through the framebuffer (video
 * memory) mapping of one instance and a configuration-space write move to
 * another of the same type, directly in STOP_COPY and in PRE_COPY, where the
 * stop-copy part must carry only the pages that changed after the pre-copy
 * part was read. A corrupted stream, or one of another type, is refused
 * (EINVAL) without touching the resuming device's picture.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

#define FB_PAGE		4096
/* the display stream's layout (samples/vfio-mdev/display_stream.rs) */
#define HEADER_SIZE	24
#define RECORD_HEAD	8
#define MIG_FLAGS	(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | \
			 VFIO_MIGRATION_PRE_COPY)

struct display {
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	struct vfio_region_info bar0;
	uint8_t *map;
};

FIXTURE(dm) {
	struct display src, dst;
	uint8_t *stream, *picture;
	size_t max;
	pid_t owner;
};

FIXTURE_VARIANT(dm) {
	const char *type, *other_type;
	/* bytes of the device's registers in the stream's state record */
	size_t state_len;
	/* whether a reset repaints the picture (mdpy) or leaves it (mbochs) */
	bool reset_repaints;
};

/* configuration space */
FIXTURE_VARIANT_ADD(dm, mdpy) {
	.type = "mdpy-vga", .other_type = "mdpy-xga", .state_len = 256,
	.reset_repaints = true,
};

/* configuration space, dispi registers, EDID size, link state and blob */
FIXTURE_VARIANT_ADD(dm, mbochs) {
	.type = "mbochs-small", .other_type = "mbochs-medium",
	.state_len = 256 + 22 + 8 + 1024,
};

static void display_close(struct display *d)
{
	if (d->map && d->map != MAP_FAILED)
		munmap(d->map, d->bar0.size);
	vfio_close_mdev(&d->vd);
}

/* Makes, opens and maps an instance of @type; on failure leaves none. */
static int display_open(struct display *d, const char *type)
{
	int err;

	uuid_gen(d->uuid);
	err = mdev_create(type, d->uuid);
	if (err)
		return err;
	err = vfio_open_mdev(d->uuid, &d->vd);
	if (err) {
		mdev_remove(d->uuid);
		return err;
	}
	err = region_info(d->vd.device, VFIO_PCI_BAR0_REGION_INDEX, &d->bar0);
	if (!err) {
		d->map = mmap(NULL, d->bar0.size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, d->vd.device, d->bar0.offset);
		if (d->map == MAP_FAILED)
			err = -errno;
	}
	if (err) {
		display_close(d);
		mdev_remove(d->uuid);
	}
	return err;
}

FIXTURE_SETUP(dm)
{
	int err;

	self->owner = getpid();
	/* a failed setup has no teardown: it leaves no instance behind */
	ASSERT_EQ(0, display_open(&self->src, variant->type));
	err = display_open(&self->dst, variant->type);
	if (err) {
		display_close(&self->src);
		mdev_remove(self->src.uuid);
	}
	ASSERT_EQ(0, err);
	/* every page in both phases, the state and the end */
	self->max = HEADER_SIZE + 2 * self->src.bar0.size / FB_PAGE *
		    (RECORD_HEAD + FB_PAGE) + 2 * RECORD_HEAD +
		    variant->state_len;
	self->stream = malloc(self->max + FB_PAGE);
	self->picture = malloc(self->src.bar0.size);
	ASSERT_TRUE(self->stream && self->picture);
}

/* See mdev_vfio_test.c: the 6.12 harness may run this in the test process. */
FIXTURE_TEARDOWN_PARENT(dm)
{
	if (getpid() == self->owner) {
		display_close(&self->src);
		display_close(&self->dst);
		free(self->stream);
		free(self->picture);
	}
	mdev_remove(self->src.uuid);
	mdev_remove(self->dst.uuid);
}

/* Draws a picture that differs on every page and with every @seed. */
static void draw(struct display *d, unsigned int seed)
{
	uint32_t *px = (uint32_t *)d->map;
	size_t i;

	for (i = 0; i < d->bar0.size / 4; i++)
		px[i] = (i * 2654435761u) ^ (seed * 0x01010101u);
}

/* The framebuffer as pread sees it, into @buf; 0 or -errno. */
static int read_fb(struct display *d, uint8_t *buf)
{
	size_t off;
	ssize_t n;

	for (off = 0; off < d->bar0.size; off += n) {
		n = info_pread(d->vd.device, &d->bar0, off, buf + off, 65536);
		if (n <= 0)
			return n < 0 ? n : -EIO;
	}
	return 0;
}

/* Whether @d's framebuffer holds @picture. */
static bool shows(struct display *d, const uint8_t *picture)
{
	uint8_t *now = malloc(d->bar0.size);
	bool same = now && !read_fb(d, now) &&
		    !memcmp(now, picture, d->bar0.size);

	free(now);
	return same;
}

/* Saves @d in STOP_COPY into @buf (room @size) and stops it: length or -errno. */
static ssize_t save_stopped(struct display *d, uint8_t *buf, size_t size)
{
	ssize_t len;
	int dfd, err;

	err = mig_set_state(d->vd.device, VFIO_DEVICE_STATE_STOP_COPY, &dfd);
	if (err)
		return err;
	if (dfd < 0)
		return -EPROTO;
	len = mig_read_all(dfd, buf, size);
	close(dfd);
	err = mig_set_state(d->vd.device, VFIO_DEVICE_STATE_STOP, NULL);
	return err ? err : len;
}

/* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE of @fd: the stop-copy length, or -errno */
static int64_t stop_copy_length(int fd)
{
	uint64_t length = 0;
	int err = vfio_feature(fd, VFIO_DEVICE_FEATURE_GET |
			       VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
			       &length, sizeof(length));

	return err ? err : (int64_t)length;
}

TEST_F(dm, capabilities)
{
	uint64_t flags = 0;

	ASSERT_EQ(0, vfio_feature(self->src.vd.device, VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_MIGRATION, &flags,
				  sizeof(flags)));
	EXPECT_EQ(MIG_FLAGS, flags);
}

/*
 * The stop-copy length the device reports is an estimate of what a save
 * sends once the device stopped: here (no pre-copy) all of it, but never
 * more than one copy of every page with the state and the end.
 */
TEST_F(dm, picture_moves_in_stop_copy)
{
	int64_t estimate, one_copy;
	ssize_t len;

	draw(&self->src, 1);
	cfg_write32(self->src.vd.device, PCI_COMMAND, PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, read_fb(&self->src, self->picture));
	ASSERT_EQ(0, mig_set_state(self->src.vd.device, VFIO_DEVICE_STATE_STOP,
				   NULL));
	estimate = stop_copy_length(self->src.vd.device);
	len = save_stopped(&self->src, self->stream, self->max);
	ASSERT_LT(HEADER_SIZE, len);
	one_copy = HEADER_SIZE + self->src.bar0.size / FB_PAGE *
		   (RECORD_HEAD + FB_PAGE) + 2 * RECORD_HEAD + variant->state_len;
	EXPECT_LE(len, estimate);
	EXPECT_GE(one_copy, estimate);

	ASSERT_EQ(0, mig_resume(self->dst.vd.device, self->stream, len));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mig_get_state(self->dst.vd.device));
	EXPECT_TRUE(shows(&self->dst, self->picture));
	/* through the mapping the VMM already had, too */
	EXPECT_EQ(0, memcmp(self->dst.map, self->picture, self->dst.bar0.size));
	EXPECT_EQ(PCI_COMMAND_MEMORY,
		  cfg_read16(self->dst.vd.device, PCI_COMMAND));
}

/*
 * The pre-copy part carries the picture; the stop-copy part the state (a
 * configuration-space write made while pre-copying), the three pages drawn
 * on after the pre-copy part was read, and the end.
 */
TEST_F(dm, pre_copy_resends_what_changed)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	ssize_t len, more;
	int dfd, end;

	draw(&self->src, 2);
	ASSERT_EQ(0, mig_set_state(self->src.vd.device,
				   VFIO_DEVICE_STATE_PRE_COPY, &dfd));
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, ioctl(dfd, VFIO_MIG_GET_PRECOPY_INFO, &info));
	len = mig_read_stream(dfd, self->stream, self->max, &end);
	EXPECT_EQ(ENOMSG, end);
	EXPECT_EQ((ssize_t)info.initial_bytes, len);
	/* all of it read: nothing of the initial part is left */
	ASSERT_EQ(0, ioctl(dfd, VFIO_MIG_GET_PRECOPY_INFO, &info));
	EXPECT_EQ(0, info.initial_bytes);
	/* the device still runs: the guest draws on three pages */
	self->src.map[5] ^= 0xff;
	self->src.map[7 * FB_PAGE + 100] ^= 0xff;
	self->src.map[self->src.bar0.size - 1] ^= 0xff;
	/* and the VMM writes configuration space */
	cfg_write32(self->src.vd.device, PCI_COMMAND, PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, mig_set_state(self->src.vd.device,
				   VFIO_DEVICE_STATE_STOP_COPY, NULL));
	more = mig_read_stream(dfd, self->stream + len, self->max - len, &end);
	close(dfd);
	EXPECT_EQ(0, end);
	EXPECT_EQ(RECORD_HEAD + variant->state_len +
		  3 * (RECORD_HEAD + FB_PAGE) +
		  RECORD_HEAD, more);
	ASSERT_EQ(0, read_fb(&self->src, self->picture));
	ASSERT_EQ(PCI_COMMAND_MEMORY,
		  cfg_read16(self->src.vd.device, PCI_COMMAND));
	ASSERT_EQ(0, mig_set_state(self->src.vd.device, VFIO_DEVICE_STATE_STOP,
				   NULL));

	ASSERT_EQ(0, mig_resume(self->dst.vd.device, self->stream, len + more));
	EXPECT_TRUE(shows(&self->dst, self->picture));
	EXPECT_EQ(PCI_COMMAND_MEMORY,
		  cfg_read16(self->dst.vd.device, PCI_COMMAND));
}

/*
 * Each corruption is refused with EINVAL, and the resuming device's picture
 * is untouched; the intact stream then resumes.
 */
TEST_F(dm, corrupted_stream_refused)
{
	uint8_t *bad = malloc(self->max + FB_PAGE);
	uint8_t *mine = malloc(self->dst.bar0.size);
	ssize_t len;
	int i;

	ASSERT_TRUE(bad && mine);
	draw(&self->src, 3);
	ASSERT_EQ(0, read_fb(&self->src, self->picture));
	len = save_stopped(&self->src, self->stream, self->max);
	ASSERT_LT(HEADER_SIZE + RECORD_HEAD, len);

	for (i = 0; i < 6; i++) {
		size_t blen = len;

		draw(&self->dst, 4);
		ASSERT_EQ(0, read_fb(&self->dst, mine));
		memcpy(bad, self->stream, len);
		switch (i) {
		case 0:	/* magic */
			bad[0] ^= 0xff;
			break;
		case 1:	/* version */
			bad[8] ^= 0x40;
			break;
		case 2:	/* the first record: a page beyond the memory */
			memset(bad + HEADER_SIZE + 4, 0xff, 4);
			break;
		case 3:	/* an end record cut short */
			blen = len - 1;
			break;
		case 4:	/* no end record */
			blen = len - RECORD_HEAD;
			break;
		case 5:	/* bytes after the end */
			memset(bad + len, 0, RECORD_HEAD);
			blen = len + RECORD_HEAD;
			break;
		}
		EXPECT_EQ(-EINVAL, mig_resume(self->dst.vd.device, bad, blen))
			TH_LOG("corruption %d", i);
		EXPECT_TRUE(shows(&self->dst, mine)) TH_LOG("corruption %d", i);
		ASSERT_EQ(0, ioctl(self->dst.vd.device, VFIO_DEVICE_RESET));
		EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING,
			  mig_get_state(self->dst.vd.device));
	}
	ASSERT_EQ(0, mig_resume(self->dst.vd.device, self->stream, len));
	EXPECT_TRUE(shows(&self->dst, self->picture));
	free(bad);
	free(mine);
}

/* A stream of one type does not resume into another of the sample's. */
TEST_F(dm, other_type_refused)
{
	struct display other = {};
	ssize_t len;

	draw(&self->src, 5);
	len = save_stopped(&self->src, self->stream, self->max);
	ASSERT_LT(HEADER_SIZE, len);
	ASSERT_EQ(0, display_open(&other, variant->other_type));
	EXPECT_EQ(-EINVAL, mig_resume(other.vd.device, self->stream, len));
	display_close(&other);
	EXPECT_EQ(0, mdev_remove(other.uuid));
}

struct resumer {
	int fd;
	const uint8_t *stream;
	size_t len;
	pthread_barrier_t *go;
	int err;
};

/*
 * Writes the stream into a resuming data file, waits at the barrier, then
 * leaves RESUMING (the device loads the stream) and runs again.
 */
static void *resume_thread(void *p)
{
	struct resumer *r = p;
	int dfd = -1, err;
	ssize_t n;

	err = mig_set_state(r->fd, VFIO_DEVICE_STATE_STOP, NULL);
	if (!err)
		err = mig_set_state(r->fd, VFIO_DEVICE_STATE_RESUMING, &dfd);
	if (!err && dfd < 0)
		err = -EPROTO;
	if (!err) {
		n = write(dfd, r->stream, r->len);
		if (n != (ssize_t)r->len)
			err = n < 0 ? -errno : -EIO;
	}
	pthread_barrier_wait(r->go);
	if (!err)
		err = mig_set_state(r->fd, VFIO_DEVICE_STATE_STOP, NULL);
	if (dfd >= 0)
		close(dfd);
	if (!err)
		err = mig_set_state(r->fd, VFIO_DEVICE_STATE_RUNNING, NULL);
	r->err = err;
	return NULL;
}

/*
 * A reset racing the load of a resumed stream (RESUMING to STOP), started
 * a little later each round: once both returned, the device shows the
 * resumed picture or what the reset leaves (mdpy repaints its reset
 * picture; mbochs keeps its video memory), never part of each, and neither
 * call fails. A reset ends the resuming session (vfio.h): a load may run
 * before it, never after it. So where the reset repaints, the resumed
 * picture left behind means the stream was loaded after the reset began.
 */
TEST_F(dm, reset_against_resume)
{
	uint8_t *reset_picture = malloc(self->dst.bar0.size);
	pthread_barrier_t go;
	struct resumer r = { .fd = self->dst.vd.device, .go = &go };
	pthread_t thread;
	int i, resumed = 0, reset_won = 0;
	ssize_t len;

	ASSERT_NE(NULL, reset_picture);
	ASSERT_EQ(0, ioctl(self->dst.vd.device, VFIO_DEVICE_RESET));
	ASSERT_EQ(0, read_fb(&self->dst, reset_picture));
	draw(&self->src, 6);
	ASSERT_EQ(0, read_fb(&self->src, self->picture));
	len = save_stopped(&self->src, self->stream, self->max);
	ASSERT_LT(HEADER_SIZE, len);
	r.stream = self->stream;
	r.len = len;
	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 2));
	for (i = 0; i < 20; i++) {
		draw(&self->dst, 7);
		if (!variant->reset_repaints)
			ASSERT_EQ(0, read_fb(&self->dst, reset_picture));
		ASSERT_EQ(0, pthread_create(&thread, NULL, resume_thread, &r));
		pthread_barrier_wait(&go);
		usleep(i * 2000);
		ASSERT_EQ(0, ioctl(self->dst.vd.device, VFIO_DEVICE_RESET));
		ASSERT_EQ(0, pthread_join(thread, NULL));
		ASSERT_EQ(0, r.err) TH_LOG("resume: %s", strerror(-r.err));
		if (shows(&self->dst, self->picture)) {
			ASSERT_FALSE(variant->reset_repaints)
				TH_LOG("round %d: loaded after the reset", i);
			resumed++;
		} else {
			ASSERT_TRUE(shows(&self->dst, reset_picture))
				TH_LOG("round %d: neither picture", i);
			reset_won++;
		}
	}
	TH_LOG("the resumed picture %d times, the reset one %d", resumed,
	       reset_won);
	pthread_barrier_destroy(&go);
	free(reset_picture);
}

TEST_HARNESS_MAIN
