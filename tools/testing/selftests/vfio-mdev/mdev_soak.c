// SPDX-License-Identifier: GPL-2.0
/*
 * Unload under load: worker threads create, open, map, export and remove
 * instances of one sample while the main thread tries to unload the
 * sample's module, then vfio_mdev, then the mdev core, and loads back what
 * went. Every unload must be refused (the module is in use) or clean, and
 * every request of the workers must succeed or fail with an errno that
 * says the device or its type is going or gone. Afterwards the stack is as
 * it was: no instance left, every budget back, a fresh instance works. The
 * test kernel's checkers judge the rest (splats, kmemleak).
 *
 * The other vendor modules of the stack are unloaded first (vfio_mdev and
 * the core cannot go while they are there) and loaded back at the end.
 * A mapping keeps its device open, so a touch never faults: a signal kills
 * the test.
 *
 * usage: mdev_soak [-t SECONDS] [-j THREADS] TYPE VENDOR_KO
 * Environment: MDEV_CORE_MODULE, MDEV_VFIO_MDEV_MODULE (paths to .ko)
 *              MDEV_STACK (the stack: "c+…" for upstream's core)
 *              MDEV_RUST_VENDOR_MODULES (every vendor .ko on vfio_mdev)
 * Exit code 0 when every answer was allowed and the stack came back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/vfio.h>

#include "../kselftest.h"
#include "mdev_util.h"

#define MAX_THREADS	16
#define MAX_VENDORS	8
#define PAGE		4096
/* times the whole stack must have gone down and come back */
#define MIN_ROUNDS	2

enum step { S_CREATE, S_OPEN, S_ACCESS, S_MAP, S_EXPORT, S_REMOVE, S_COUNT };

static const char *const step_name[S_COUNT] = {
	"create", "open", "access", "map", "export", "remove",
};

/*
 * What a step may answer at any time: create finds no room left while
 * removed instances are released (ENOSPC, EUSERS). The device file, once
 * open, holds the device: access, map and export may never fail.
 */
static const __uint128_t step_allowed[S_COUNT] = {
	[S_CREATE] = ERRNO_BIT(ENOSPC) | ERRNO_BIT(EUSERS),
};

/*
 * What a step may answer only while the sample is going or gone (the
 * cycle overlapped an unload). create: the type directory is gone
 * (ENOENT) or its parent is going (ENODEV). open: the instance or its
 * group went between the lookup and the open (ENOENT, ENODEV), or its
 * group number was taken by another device (EINVAL: the uuid is not in
 * that group; EPERM: not viable). remove: the instance is gone already.
 */
static const __uint128_t step_gone[S_COUNT] = {
	[S_CREATE] = ERRNO_BIT(ENOENT) | ERRNO_BIT(ENODEV),
	[S_OPEN] = ERRNO_BIT(ENOENT) | ERRNO_BIT(ENODEV) | ERRNO_BIT(EINVAL) |
		   ERRNO_BIT(EPERM),
	[S_REMOVE] = ERRNO_BIT(ENOENT) | ERRNO_BIT(ENODEV),
};

static struct {
	atomic_ullong ok[S_COUNT], refused[S_COUNT];
	atomic_bool seen[128];		/* errnos seen */
	atomic_int failed;
	atomic_bool stop;
	/*
	 * Odd from just before an unload of the sample until it is loaded
	 * back: a cycle that saw it odd, or saw it change, overlapped an
	 * unload.
	 */
	atomic_uint gone_gen;
} st;

static const char *type;
static bool display, dmabuf;
static uint32_t ids;		/* of a fresh instance, before the soak */

static void __printf(4, 5) step_result(enum step s, unsigned int gen,
				       int err, const char *fmt, ...);

/*
 * Tallies step @s's result (0 or -errno) in a cycle that began at gone_gen
 * @gen; an errno not allowed then fails.
 */
static void step_result(enum step s, unsigned int gen, int err,
			const char *fmt, ...)
{
	__uint128_t allowed = step_allowed[s];
	va_list ap;

	if (!err) {
		atomic_fetch_add(&st.ok[s], 1);
		return;
	}
	atomic_fetch_add(&st.refused[s], 1);
	if ((gen & 1) || atomic_load(&st.gone_gen) != gen)
		allowed |= step_gone[s];
	if (-err < 128 && (allowed & ERRNO_BIT(-err))) {
		atomic_store(&st.seen[-err], true);
		return;
	}
	printf("# FAIL %s: %s: ", step_name[s], strerror(-err));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	atomic_store(&st.failed, 1);
}

/* Plane query, export, map and read of the dma-buf; 0 or -errno. */
static int export(int fd)
{
	struct vfio_device_gfx_plane_info plane;
	uint8_t *map;
	uint32_t id;
	int err, buf;

	err = bochs_set_mode_bar2(fd, 640, 480);
	if (err)
		return err;
	err = query_plane(fd, VFIO_GFX_PLANE_TYPE_DMABUF,
			  DRM_PLANE_TYPE_PRIMARY, &plane);
	if (err)
		return err;
	id = plane.dmabuf_id;
	buf = ioctl(fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
	if (buf < 0)
		return -errno;
	map = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, buf, 0);
	close(buf);
	if (map == MAP_FAILED)
		return -errno;
	(void)__atomic_load_n(map, __ATOMIC_RELAXED);
	munmap(map, PAGE);
	return 0;
}

/* One instance's life: create, open, use, close, remove. */
static void cycle(void)
{
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	uint32_t got = 0;
	unsigned int gen = atomic_load(&st.gone_gen);
	uint8_t *map;
	int err;

	uuid_gen(uuid);
	err = mdev_create(type, uuid);
	step_result(S_CREATE, gen, err, "%s", uuid);
	if (err) {
		/* the type is gone for now: let the loader run */
		while ((atomic_load(&st.gone_gen) & 1) &&
		       !atomic_load(&st.stop))
			usleep(10000);
		if (err == -ENOSPC || err == -EUSERS)
			usleep(2000);
		return;
	}
	err = vfio_open_mdev(uuid, &vd);
	step_result(S_OPEN, gen, err, "%s", uuid);
	if (!err) {
		err = read_pci_ids(vd.device, &got);
		if (!err && got != ids)
			err = -EIO;
		step_result(S_ACCESS, gen, err, "ids %08x, expected %08x", got, ids);
		if (display) {
			map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
				   vd.device,
				   REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX));
			err = map == MAP_FAILED ? -errno : 0;
			step_result(S_MAP, gen, err, "BAR 0");
			if (!err) {
				__atomic_store_n(map, 0x5a, __ATOMIC_RELAXED);
				munmap(map, PAGE);
			}
		}
		if (dmabuf)
			step_result(S_EXPORT, gen, export(vd.device),
				    "dma-buf");
		vfio_close_mdev(&vd);
	}
	step_result(S_REMOVE, gen, mdev_remove(uuid), "%s", uuid);
}

static void *worker(void *arg)
{
	while (!atomic_load(&st.stop) && !atomic_load(&st.failed))
		cycle();
	return NULL;
}

/* -- modules --------------------------------------------------------------- */

struct module {
	const char *path;
	char name[64];
	bool loaded;
	bool retry;		/* see load_back() */
	unsigned long unloads, refusals, retries;
};

static int load(struct module *m)
{
	int fd = open(m->path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		err = -errno;
	close(fd);
	if (!err)
		m->loaded = true;
	return err;
}

/*
 * One unload attempt: 0 when the module went, -EWOULDBLOCK or -EBUSY when
 * it is in use (or still loading); anything else fails the test.
 */
static int unload(struct module *m)
{
	int err = syscall(SYS_delete_module, m->name, O_NONBLOCK) ? -errno : 0;

	if (!err) {
		m->loaded = false;
		m->unloads++;
	} else if (err == -EWOULDBLOCK || err == -EBUSY) {
		m->refusals++;
	} else {
		printf("# FAIL delete_module %s: %s\n", m->name,
		       strerror(-err));
		atomic_store(&st.failed, 1);
	}
	return err;
}

/*
 * Loads @m back if it went; false (and says why) if that failed. Upstream's
 * C core cannot come back at once on the test kernel: its class_compat
 * directory (/sys/class/mdev_bus) goes only with its kobject's release,
 * which the kernel delays by up to 4 s (DEBUG_KOBJECT_RELEASE), and a load
 * meanwhile fails (ENOMEM). For that module alone (@m->retry), a failed
 * load is tried again for 5 s, and counted.
 */
static bool load_back(struct module *m)
{
	int err, ms;

	if (m->loaded)
		return true;
	err = load(m);
	for (ms = 0; err && m->retry && ms < 5000; ms += 250) {
		m->retries++;
		msleep(250);
		err = load(m);
	}
	if (err) {
		printf("# FAIL load %s: %s\n", m->name, strerror(-err));
		atomic_store(&st.failed, 1);
	}
	return !err;
}

/* Unloads @m, waiting up to @ms for its users to go; 0 or -errno. */
static int unload_wait(struct module *m, int ms)
{
	int err;

	while ((err = unload(m)) && ms > 0 && !atomic_load(&st.failed)) {
		msleep(50);
		ms -= 50;
	}
	return err;
}

static void init_module_entry(struct module *m, const char *path)
{
	m->path = path;
	module_sysfs_name(path, m->name, sizeof(m->name));
	m->loaded = true;
}

int main(int argc, char **argv)
{
	struct module vendor = { 0 }, vfio_mdev = { 0 }, core = { 0 };
	struct module others[MAX_VENDORS] = { 0 };
	int seconds = 10, threads = 8, opt, i, nothers = 0, ret = 0, started;
	char *list, *tok, *save;
	pthread_t tid[MAX_THREADS];
	long avail_before, avail;
	unsigned long long busy;
	unsigned long rounds = 0;
	const char *env;
	uint32_t after = 0;
	double end;
	int err;

	while ((opt = getopt(argc, argv, "t:j:")) != -1) {
		switch (opt) {
		case 't':
			seconds = atoi(optarg);
			break;
		case 'j':
			threads = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || threads < 1 || threads > MAX_THREADS ||
	    !getenv("MDEV_CORE_MODULE") || !getenv("MDEV_VFIO_MDEV_MODULE")) {
usage:
		fprintf(stderr, "usage: %s [-t SECONDS] [-j THREADS] TYPE VENDOR_KO (with MDEV_CORE_MODULE, MDEV_VFIO_MDEV_MODULE)\n",
			argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	type = argv[optind];
	display = !strncmp(type, "mdpy", 4) || !strncmp(type, "mbochs", 6);
	dmabuf = !strncmp(type, "mbochs", 6);
	init_module_entry(&vendor, argv[optind + 1]);
	init_module_entry(&vfio_mdev, getenv("MDEV_VFIO_MDEV_MODULE"));
	init_module_entry(&core, getenv("MDEV_CORE_MODULE"));
	/* MDEV_STACK "c+…": the core is upstream's (see load_back()) */
	core.retry = !strncmp(getenv("MDEV_STACK") ?: "", "c+", 2);

	avail_before = mdev_available(type);
	if (avail_before <= 0 || fresh_pci_ids(type, &ids)) {
		printf("# %s does not work before the soak\n", type);
		return 1;
	}
	/* the stack's other vendors go for the soak, in reverse load order */
	env = getenv("MDEV_RUST_VENDOR_MODULES");
	list = strdup(env ? env : "");
	for (tok = strtok_r(list, " ", &save); tok && nothers < MAX_VENDORS;
	     tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, vendor.path))
			init_module_entry(&others[nothers++], tok);
	}
	for (i = nothers - 1; i >= 0; i--) {
		if (unload_wait(&others[i], 10000)) {
			printf("# cannot unload %s before the soak\n",
			       others[i].name);
			ret = 1;
			goto reload;
		}
	}

	for (started = 0; started < threads; started++) {
		if (pthread_create(&tid[started], NULL, worker, NULL)) {
			printf("# FAIL pthread_create: %s\n", strerror(errno));
			atomic_store(&st.failed, 1);
			break;
		}
	}
	/*
	 * Until the time is up and the whole stack went down MIN_ROUNDS
	 * times (an exported dma-buf pins mbochs, so some tries are refused),
	 * within 10 times the time.
	 */
	end = now_seconds() + seconds;
	while ((now_seconds() < end || core.unloads < MIN_ROUNDS) &&
	       now_seconds() < end + 9 * seconds && !atomic_load(&st.failed)) {
		rounds++;
		/* the modules above each still use it: both refused */
		if (!unload(&core) || !unload(&vfio_mdev)) {
			printf("# FAIL: %s unloaded under a loaded %s\n",
			       core.loaded ? vfio_mdev.name : core.name,
			       vendor.name);
			atomic_store(&st.failed, 1);
		}
		/* from the top down, as far as each lets go */
		atomic_fetch_add(&st.gone_gen, 1);
		if (unload(&vendor))
			/*
			 * Refused before anything was torn down (the module
			 * stayed live throughout): no cycle could see it go,
			 * so they all stay judged strictly.
			 */
			atomic_fetch_sub(&st.gone_gen, 1);
		else if (!unload(&vfio_mdev))
			unload(&core);
		msleep(random() % 20);
		/* back in load order, whatever went */
		if (!load_back(&core) || !load_back(&vfio_mdev) ||
		    !load_back(&vendor))
			break;
		if (atomic_load(&st.gone_gen) & 1)
			atomic_fetch_add(&st.gone_gen, 1);
		/* the next unload comes under load: the workers busy again */
		busy = atomic_load(&st.ok[S_CREATE]) + threads;
		for (i = 0; i < 60 && atomic_load(&st.ok[S_CREATE]) < busy &&
		     !atomic_load(&st.failed); i++)
			msleep(50);
		msleep(random() % 50);
	}
	atomic_store(&st.stop, true);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);

reload:
	load_back(&core);
	load_back(&vfio_mdev);
	load_back(&vendor);
	for (i = 0; i < nothers; i++)
		load_back(&others[i]);

	printf("# %s: %d s, %d threads, %lu rounds: %s unloaded %lu times (%lu refused), %s %lu (%lu), %s %lu (%lu)\n",
	       type, seconds, threads, rounds, vendor.name, vendor.unloads,
	       vendor.refusals, vfio_mdev.name, vfio_mdev.unloads,
	       vfio_mdev.refusals, core.name, core.unloads, core.refusals);
	if (core.retries)
		printf("#   upstream's %s loaded again after %lu tries (its old sysfs directory was still there)\n",
		       core.name, core.retries);
	for (i = 0; i < S_COUNT; i++)
		printf("#   %-7s %8llu ok %8llu refused\n", step_name[i],
		       (unsigned long long)st.ok[i],
		       (unsigned long long)st.refused[i]);
	printf("#   errnos seen:");
	for (i = 1; i < 128; i++)
		if (st.seen[i])
			printf(" %s", strerrorname_np(i) ?: "?");
	printf("\n");
	if (st.failed)
		ret = 1;
	/* a soak in which nothing went down, or nothing ran, proves nothing */
	if (!ret && (core.unloads < MIN_ROUNDS || !st.ok[S_OPEN])) {
		printf("# FAIL: the stack went down %lu times (%d needed), %llu instances opened\n",
		       core.unloads, MIN_ROUNDS,
		       (unsigned long long)st.ok[S_OPEN]);
		ret = 1;
	}

	/* nothing left behind: every instance gone, every budget back */
	if (mdev_remove_all(type)) {
		printf("# FAIL: instances of %s were left\n", type);
		ret = 1;
	}
	avail = mdev_wait_available(type, avail_before, 10000);
	if (avail != avail_before) {
		printf("# FAIL: %ld %s available, %ld before\n", avail, type,
		       avail_before);
		ret = 1;
	}
	err = fresh_pci_ids(type, &after);
	if (err || after != ids) {
		printf("# FAIL: a fresh %s after the soak: %s, ids %08x (%08x)\n",
		       type, strerror(-err), after, ids);
		ret = 1;
	}
	free(list);
	return ret;
}
