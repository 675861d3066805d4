// SPDX-License-Identifier: GPL-2.0
/*
 * Races on one parent: concurrent create/open/close/remove while another
 * thread reads available_instances, concurrent removes of one instance, and
 * creates racing the vendor module's unload. The kernel must stay quiet
 * (the runner checks dmesg) and the accounting must add up at the end.
 *
 * MDEV_RACE_SECONDS sets the length of the long race (default 30).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "mdev_util.h"

#define NR_WORKERS	8
#define TYPE		"mtty-1"

struct race {
	atomic_bool stop;
	atomic_long cycles, opens, busy, errors, bad_reads, reads;
	long max_avail;
};

static void *worker(void *arg)
{
	struct race *r = arg;
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	int err, i = 0;

	while (!atomic_load(&r->stop)) {
		uuid_gen(uuid);
		err = mdev_create(TYPE, uuid);
		if (err == -ENOSPC) {		/* budget momentarily exhausted */
			atomic_fetch_add(&r->busy, 1);
			continue;
		}
		if (err) {
			atomic_fetch_add(&r->errors, 1);
			continue;
		}
		/* every other cycle, use the device through VFIO */
		if (i++ & 1) {
			err = vfio_open_mdev(uuid, &vd);
			if (err || cfg_read32(vd.device, 0) != 0x32534348)
				atomic_fetch_add(&r->errors, 1);
			if (!err)
				atomic_fetch_add(&r->opens, 1);
			vfio_close_mdev(&vd);
		}
		if (mdev_remove(uuid))
			atomic_fetch_add(&r->errors, 1);
		atomic_fetch_add(&r->cycles, 1);
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct race *r = arg;
	long v;

	while (!atomic_load(&r->stop)) {
		v = mdev_available(TYPE);
		if (v < 0 || v > r->max_avail)
			atomic_fetch_add(&r->bad_reads, 1);
		atomic_fetch_add(&r->reads, 1);
	}
	return NULL;
}

static int race_seconds(void)
{
	const char *s = getenv("MDEV_RACE_SECONDS");

	return s && atoi(s) > 0 ? atoi(s) : 30;
}

FIXTURE(race) {
	long avail;
};

FIXTURE_SETUP(race)
{
	self->avail = mdev_available(TYPE);
	ASSERT_LT(0, self->avail);
}

FIXTURE_TEARDOWN(race)
{
}

TEST_F_TIMEOUT(race, create_open_remove_while_reading, 300)
{
	pthread_t workers[NR_WORKERS], rd;
	struct race r = { .max_avail = self->avail };
	int i;

	for (i = 0; i < NR_WORKERS; i++)
		ASSERT_EQ(0, pthread_create(&workers[i], NULL, worker, &r));
	ASSERT_EQ(0, pthread_create(&rd, NULL, reader, &r));
	sleep(race_seconds());
	atomic_store(&r.stop, true);
	for (i = 0; i < NR_WORKERS; i++)
		pthread_join(workers[i], NULL);
	pthread_join(rd, NULL);

	TH_LOG("%ld create/remove cycles (%ld opened), %ld budget misses, %ld reads",
	       r.cycles, r.opens, r.busy, r.reads);
	EXPECT_LT(0, r.cycles);
	EXPECT_LT(0, r.opens);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(0, r.bad_reads);
	/* everything created was removed and given back */
	EXPECT_EQ(self->avail, mdev_available(TYPE));
	EXPECT_EQ(0, mdev_remove_all(TYPE));
}

struct remover {
	const char *uuid;
	int err;
};

static void *remove_thread(void *arg)
{
	struct remover *rm = arg;

	rm->err = mdev_remove(rm->uuid);
	return NULL;
}

TEST_F_TIMEOUT(race, concurrent_removes_of_one_instance, 120)
{
	struct remover rm[4];
	pthread_t t[4];
	char uuid[UUID_STR_LEN + 1];
	int round, i, ok;

	for (round = 0; round < 50; round++) {
		uuid_gen(uuid);
		ASSERT_EQ(0, mdev_create(TYPE, uuid));
		for (i = 0; i < 4; i++) {
			rm[i].uuid = uuid;
			ASSERT_EQ(0, pthread_create(&t[i], NULL, remove_thread,
						    &rm[i]));
		}
		for (i = 0, ok = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			/*
			 * Losers see the file gone (ENOENT), the removal in
			 * progress (ENODEV), or a no-op success: anything else
			 * fails the test.
			 */
			if (rm[i].err && rm[i].err != -ENOENT)
				EXPECT_EQ(-ENODEV, rm[i].err) {
					TH_LOG("round %d: remove gave %d",
					       round, rm[i].err);
				}
			ok += !rm[i].err;
		}
		EXPECT_LE(1, ok);
		EXPECT_FALSE(mdev_exists(uuid));
	}
	EXPECT_EQ(self->avail, mdev_available(TYPE));
}

TEST_F_TIMEOUT(race, create_while_vendor_unloads, 120)
{
	const char *mod = module_name("MDEV_MTTY_MODULE", "mtty");
	char uuid[UUID_STR_LEN + 1], dir[PATH_MAX];
	int round, err, status, created, refused;
	pid_t pid;

	for (round = 0; round < 5; round++) {
		created = refused = 0;
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			usleep(20000 * round);
			_exit(module_unload(mod) ? 1 : 0);
		}
		/*
		 * Create (keeping every fourth instance, removing the others
		 * so the budget lasts) until the type directory is gone.
		 */
		do {
			uuid_gen(uuid);
			err = mdev_create(TYPE, uuid);
			if (!err && created++ % 4)
				mdev_remove(uuid);
			else if (err == -ENODEV)
				refused++;
			else if (err && err != -ENOSPC && err != -ENOENT)
				EXPECT_EQ(0, err);
		} while (err != -ENOENT);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, WEXITSTATUS(status));
		TH_LOG("round %d: %d created, %d refused with ENODEV", round,
		       created, refused);
		/* unregistering the parent removed every instance */
		EXPECT_EQ(-ENOENT, mdev_type_dir(TYPE, dir, sizeof(dir)));
		ASSERT_EQ(0, module_load(mod));
		EXPECT_EQ(self->avail, mdev_available(TYPE));
		EXPECT_EQ(0, mdev_remove_all(TYPE));
	}
}

TEST_HARNESS_MAIN
