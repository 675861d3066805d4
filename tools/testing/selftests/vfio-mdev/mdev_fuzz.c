// SPDX-License-Identifier: GPL-2.0
/*
 * Operation fuzzer for mdev vendor samples: random, seeded sequences of what
 * a hostile VMM can do to an instance, each answer checked against the
 * errnos the VFIO uAPI and upstream allow for that request.
 *
 * One run fuzzes one sample with several worker processes, each on its own
 * instance. One worker is killed at random points and started again on the
 * same instance with the next seed. Operations: every VFIO_DEVICE_* ioctl
 * and VFIO_DEVICE_FEATURE (migration included) with random argsz, flags,
 * indexes, counts and data (eventfds, closed fds, fds of the wrong type),
 * pread/pwrite across and between regions, mmap/munmap/touches of random
 * ranges and protections, plane queries and dma-buf exports (mapped and
 * read), migration state changes with random and truncated streams, resets,
 * reopening the device, and writes of random bytes to the sysfs files of
 * the sample's types and instances. After the run the instances are
 * removed, the types' available_instances must be back, and a fresh
 * instance must still answer a known-good sequence.
 *
 * A worker stops at the first answer outside the allowed set and prints its
 * seed and operation index, and the command that replays the same sequence
 * in one worker, never killed: "mdev_fuzz -w 1 -s SEED -n OP+1 TYPE".
 *
 * usage: mdev_fuzz [-n OPS] [-w WORKERS] [-s SEED] [-q] TYPE [TYPE...]
 *   OPS      operations per sample over all workers (default 10000)
 *   WORKERS  processes per sample (default 3; the last one is the one
 *            killed and restarted, unless there is only one)
 *   SEED     the first worker's seed (default: from the clock, printed)
 *   TYPE     a type of the sample (e.g. mtty-1); the first is fuzzed, the
 *            others are where random creates may land
 * Exit code 0 when every answer was allowed and the sample still works.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/vfio.h>

#include "../kselftest.h"
#include "mdev_util.h"

#define MAX_REGIONS	16
#define MAX_MAPS	8
#define MAX_BUFS	4
#define MAX_SCRATCH	2
#define ARG_SIZE	(64 * 1024)
#define PAGE		4096UL

/* Request kinds, each with its allowed errnos (bit n: errno n). */
enum kind {
	K_DEVICE_INFO, K_REGION_INFO, K_IRQ_INFO, K_SET_IRQS, K_RESET,
	K_PLANE, K_DMABUF, K_DMABUF_MAP, K_PREAD, K_PWRITE, K_MMAP, K_TOUCH,
	K_MUNMAP, K_MIG_STATE, K_MIG_DATA, K_FEATURE, K_OTHER_IOCTL,
	K_MODE, K_REOPEN, K_SYSFS_CREATE, K_SYSFS_REMOVE, K_SYSFS_ATTR, K_COUNT
};

static const char *const kind_name[K_COUNT] = {
	"device_info", "region_info", "irq_info", "set_irqs", "reset",
	"plane_query", "get_dmabuf", "dmabuf_mmap", "pread", "pwrite", "mmap",
	"touch", "munmap", "mig_state", "mig_data", "feature", "other_ioctl",
	"bochs_mode", "reopen", "sysfs_create", "sysfs_remove", "sysfs_attr",
};

/*
 * Relative frequency of each kind. On the test kernel under TCG, beside a
 * second VM, a sysfs write or a reopen costs 20 to 120 ms (a create makes
 * a device), an mmap 8 to 12 ms (most are refused, after the VMA was
 * made), mtty's migration arcs 5 ms (a stop-copy saves its state), mdpy's
 * 31 ms on average (a stop-copy or a pre-copy saves the framebuffer) and
 * mdpy's reset 47 ms (it clears the framebuffer): 50 to 500 times an
 * ioctl. With twice the share they have now, they were 80 % of the
 * fuzzer's time; now a million operations make about 1,200 of each slow
 * kind, 7,500 mmaps, 5,000 resets and 25,000 migration arcs. The display
 * samples' saves make mdpy's run about twice as long as before they
 * migrated.
 */
static const unsigned int kind_weight[K_COUNT] = {
	[K_DEVICE_INFO] = 32, [K_REGION_INFO] = 80, [K_IRQ_INFO] = 48,
	[K_SET_IRQS] = 80, [K_RESET] = 4, [K_PLANE] = 48, [K_DMABUF] = 32,
	[K_DMABUF_MAP] = 16, [K_PREAD] = 112, [K_PWRITE] = 112, [K_MMAP] = 6,
	[K_TOUCH] = 64, [K_MUNMAP] = 4, [K_MIG_STATE] = 20, [K_MIG_DATA] = 40,
	[K_FEATURE] = 40, [K_OTHER_IOCTL] = 32, [K_MODE] = 24,
	[K_REOPEN] = 1, [K_SYSFS_CREATE] = 1, [K_SYSFS_REMOVE] = 1,
	[K_SYSFS_ATTR] = 1,
};

/*
 * The errnos each request may answer. EFAULT only where the fuzzer passed a
 * bad pointer (added per call). Anything else, ENOMEM included (the guest
 * has plenty), is a failure.
 */
static const __uint128_t kind_allowed[K_COUNT] = {
	[K_DEVICE_INFO] = ERRNO_BIT(EINVAL),
	[K_REGION_INFO] = ERRNO_BIT(EINVAL),
	[K_IRQ_INFO] = ERRNO_BIT(EINVAL),
	/* EBADF: a closed fd as eventfd; EINVAL: a file that is no eventfd */
	[K_SET_IRQS] = ERRNO_BIT(EINVAL) | ERRNO_BIT(EBADF),
	[K_RESET] = ERRNO_BIT(ENOTTY) | ERRNO_BIT(EINVAL),
	/* a plane or flags it does not have (no display: see below) */
	[K_PLANE] = ERRNO_BIT(EINVAL),
	/* unknown id: ENOENT (upstream mbochs) or EINVAL */
	[K_DMABUF] = ERRNO_BIT(EINVAL) | ERRNO_BIT(ENOENT),
	[K_DMABUF_MAP] = ERRNO_BIT(EINVAL),
	[K_PREAD] = ERRNO_BIT(EINVAL),
	[K_PWRITE] = ERRNO_BIT(EINVAL),
	/*
	 * not mappable, beyond the region or a protection it refuses: EINVAL;
	 * an offset the core's page offset cannot hold: EOVERFLOW
	 */
	[K_MMAP] = ERRNO_BIT(EINVAL) | ERRNO_BIT(EOVERFLOW),
	[K_TOUCH] = 0,
	[K_MUNMAP] = 0,
	/* an arc the FSM does not have (no migration: see below) */
	[K_MIG_STATE] = ERRNO_BIT(EINVAL),
	/*
	 * a stream the device rejects, or one in the wrong state; EBADF: a
	 * read of the resume file or a write of the save file (one-way files)
	 */
	[K_MIG_DATA] = ERRNO_BIT(EINVAL) | ERRNO_BIT(ENODEV) | ERRNO_BIT(ENOMSG) |
		       ERRNO_BIT(EBADF),
	/*
	 * the dirty-logging features carry user pointers (random here):
	 * EFAULT; more ranges than the core takes: E2BIG
	 */
	[K_FEATURE] = ERRNO_BIT(EINVAL) | ERRNO_BIT(ENOTTY) | ERRNO_BIT(EFAULT) | ERRNO_BIT(E2BIG),
	[K_OTHER_IOCTL] = ERRNO_BIT(EINVAL) | ERRNO_BIT(ENOTTY),
	[K_MODE] = 0,
	[K_REOPEN] = 0,
	/* a string that is no UUID, one in use, no room left */
	[K_SYSFS_CREATE] = ERRNO_BIT(EINVAL) | ERRNO_BIT(EEXIST) | ERRNO_BIT(ENOSPC) | ERRNO_BIT(EUSERS),
	/* removal in progress: EAGAIN; already gone: ENODEV, ENOENT */
	[K_SYSFS_REMOVE] = ERRNO_BIT(EINVAL) | ERRNO_BIT(ENODEV) | ERRNO_BIT(ENOENT) | ERRNO_BIT(EAGAIN),
	/*
	 * read-only: EACCES; what the attribute does not take: EINVAL. The
	 * files are the fuzzed instance's and its type's: none may vanish.
	 */
	[K_SYSFS_ATTR] = ERRNO_BIT(EACCES) | ERRNO_BIT(EINVAL),
};

/*
 * What one sample answers beyond the errnos above: ENOTTY for what it does
 * not have (no display plane, no dma-buf, no migration), and what its
 * upstream answers beyond the uAPI's errnos.
 */
static const struct {
	const char *type_prefix;
	enum kind kind;
	__uint128_t errnos;
} sample_allowed[] = {
	{ "mtty-", K_PLANE, ERRNO_BIT(ENOTTY) },
	{ "mtty-", K_DMABUF, ERRNO_BIT(ENOTTY) },
	{ "mdev_minimal-", K_PLANE, ERRNO_BIT(ENOTTY) },
	{ "mdev_minimal-", K_DMABUF, ERRNO_BIT(ENOTTY) },
	{ "mdev_minimal-", K_MIG_STATE, ERRNO_BIT(ENOTTY) },
	{ "mdpy-", K_DMABUF, ERRNO_BIT(ENOTTY) },
	/* upstream mtty answers every failed access with EFAULT */
	{ "mtty-", K_PREAD, ERRNO_BIT(EFAULT) },
	{ "mtty-", K_PWRITE, ERRNO_BIT(EFAULT) },
	/* and a resume stream longer than its state with ENOMEM */
	{ "mtty-", K_MIG_DATA, ERRNO_BIT(ENOMEM) },
	/*
	 * mbochs_rs refuses writes to its read-only EDID registers with EPERM,
	 * as i915's EDID region does (upstream mbochs ignores them)
	 */
	{ "mbochs-", K_PWRITE, ERRNO_BIT(EPERM) },
};

/* per-worker tallies, in memory shared with the parent */
struct tally {
	uint64_t ops;
	uint64_t kind_ops[K_COUNT];
	uint64_t kind_ok[K_COUNT];
	uint64_t kind_ns[K_COUNT];	/* time spent in each kind */
	__uint128_t errnos;		/* bit n: errno n seen */
	uint64_t kills;
	int kind;			/* of the operation under way */
	int failed;
};

struct map {
	uint8_t *addr;
	size_t len;
	int prot;
};

struct fuzz {
	uint64_t rng;
	uint64_t op;
	uint64_t seed;
	const char *type;
	char **types;
	int ntypes;
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	struct vfio_device_info info;
	struct vfio_region_info reg[MAX_REGIONS];
	unsigned int nregions;
	struct map maps[MAX_MAPS];
	int bufs[MAX_BUFS];
	uint32_t plane_id;
	int mig_fd;
	uint8_t stream[4096];
	size_t stream_len;
	char scratch[MAX_SCRATCH][UUID_STR_LEN + 1];
	int efd, pipe_r, pipe_w, closed_fd;
	uint8_t *arg;		/* ARG_SIZE bytes for ioctl arguments */
	__uint128_t allowed[K_COUNT];
	struct tally *t;
};

static bool quiet;

#define MAX_TYPES	8
/* a worker whose operation count stands still this long is stuck */
#define STALL_SECONDS	120
/* and one that outlives a SIGKILL this long */
#define KILL_SECONDS	120
#define MAX_FILES	64
/*
 * The sysfs paths the workers write to, found by the parent before they
 * start (a directory walk costs more under TCG than the writes themselves):
 * each type's directory, and the files of an instance's directory and of
 * the fuzzed type's, relative to them.
 */
static struct {
	char type_dir[MAX_TYPES][PATH_MAX];
	char instance[MAX_FILES][128], type[MAX_FILES][128];
	unsigned int ninstance, ntype;
} sysfs;

/* splitmix64 */
static uint64_t rnd(struct fuzz *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct fuzz *f, uint64_t n)
{
	return n ? rnd(f) % n : 0;
}

static bool chance(struct fuzz *f, unsigned int percent)
{
	return below(f, 100) < percent;
}

/* A length biased to small and boundary values, at most @max. */
static uint32_t some_size(struct fuzz *f, uint32_t max)
{
	static const uint32_t edges[] = { 0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32 };

	switch (below(f, 4)) {
	case 0:
		return edges[below(f, ARRAY_SIZE(edges))] % (max + 1);
	case 1:
		return below(f, 256) % (max + 1);
	default:
		return below(f, (uint64_t)max + 1);
	}
}

static void fill(struct fuzz *f, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			r = rnd(f);
		p[i] = r >> (8 * (i & 7));
	}
}

static void __printf(3, 4) __noreturn
fail(struct fuzz *f, enum kind k, const char *fmt, ...);

static void fail(struct fuzz *f, enum kind k, const char *fmt, ...)
{
	va_list ap;

	int i;

	/* first: a kill while this prints must not pass for a plain kill */
	f->t->failed = 1;
	printf("# FAIL %s seed=%llu op=%llu %s: ", f->type,
	       (unsigned long long)f->seed, (unsigned long long)f->op,
	       kind_name[k]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (replay: mdev_fuzz -w 1 -s %llu -n %llu",
	       (unsigned long long)f->seed, (unsigned long long)f->op + 1);
	for (i = 0; i < f->ntypes; i++)
		printf(" %s", f->types[i]);
	printf("%s)\n", f->t->kills ?
	       "; the worker was restarted: the instance's state came from earlier ones" :
	       "");
	fflush(stdout);
	exit(1);
}

/*
 * Checks the answer @ret (a syscall's return, errno set when negative) of
 * request @k, which may also fail with the errnos in @extra. True on
 * success.
 */
static bool check(struct fuzz *f, enum kind k, long ret, __uint128_t extra,
		  const char *what)
{
	int e = errno;

	f->t->kind_ops[k]++;
	if (ret >= 0) {
		f->t->kind_ok[k]++;
		return true;
	}
	if (e <= 0 || e >= 128 || !((f->allowed[k] | extra) & ERRNO_BIT(e)))
		fail(f, k, "%s: errno %d (%s) not allowed", what, e,
		     strerror(e));
	f->t->errnos |= ERRNO_BIT(e);
	return false;
}

/* Either the argument buffer or, sometimes, an address that faults. */
static void *arg_or_bad(struct fuzz *f, __uint128_t *extra)
{
	if (chance(f, 3)) {
		*extra |= ERRNO_BIT(EFAULT);
		return chance(f, 50) ? NULL : (void *)(uintptr_t)0x10;
	}
	return f->arg;
}

/* A plausible argsz: the struct's, a bit less or more, or anything. */
static uint32_t some_argsz(struct fuzz *f, uint32_t minsz)
{
	switch (below(f, 6)) {
	case 0:
		return some_size(f, minsz);
	case 1:
		return below(f, ARG_SIZE + 1);
	case 2:
		return rnd(f);	/* larger than any buffer */
	default:
		return minsz + some_size(f, 64);
	}
}

static int device_fd(struct fuzz *f)
{
	return f->vd.device;
}

/* -- setup ------------------------------------------------------------- */

static int open_instance(struct fuzz *f)
{
	unsigned int i;
	int err;

	err = vfio_open_mdev(f->uuid, &f->vd);
	if (err)
		return err;
	f->info.argsz = sizeof(f->info);
	if (ioctl(f->vd.device, VFIO_DEVICE_GET_INFO, &f->info))
		return -errno;
	f->nregions = f->info.num_regions < MAX_REGIONS ?
		      f->info.num_regions : MAX_REGIONS;
	for (i = 0; i < f->nregions; i++) {
		err = region_info(f->vd.device, i, &f->reg[i]);
		if (err == -EINVAL) {	/* an index it does not implement */
			memset(&f->reg[i], 0, sizeof(f->reg[i]));
			f->reg[i].offset = REGION_OFFSET(i);
			continue;
		}
		if (err)
			return err;
	}
	return 0;
}

/* An offset into region @i, or near it, or anywhere. */
static uint64_t some_offset(struct fuzz *f, unsigned int *region)
{
	unsigned int i = below(f, f->nregions + 2);
	uint64_t base = i < f->nregions ? f->reg[i].offset : REGION_OFFSET(i);
	uint64_t size = i < f->nregions ? f->reg[i].size : PAGE;

	*region = i;
	switch (below(f, 8)) {
	case 0:
		return rnd(f);
	case 1:
		return base + size - below(f, 8);	/* across the end */
	case 2:
		return base + size + below(f, 64);
	default:
		return base + below(f, size ? size : 1);
	}
}

/* -- requests ---------------------------------------------------------- */

static void do_device_info(struct fuzz *f)
{
	struct vfio_device_info *info = (void *)f->arg;
	__uint128_t extra = 0;
	void *p = arg_or_bad(f, &extra);
	uint32_t asked;
	bool ok;
	long ret;

	fill(f, f->arg, 64);
	info->argsz = asked = some_argsz(f, sizeof(*info));
	if (info->argsz > ARG_SIZE)
		extra |= ERRNO_BIT(EFAULT);
	ret = ioctl(device_fd(f), VFIO_DEVICE_GET_INFO, p);
	ok = check(f, K_DEVICE_INFO, ret, extra, "GET_INFO");
	/* the fields up to num_irqs are what every caller must give room for */
	if (ok && asked < offsetofend(struct vfio_device_info, num_irqs))
		fail(f, K_DEVICE_INFO, "argsz %u accepted", asked);
	if (ok && p == f->arg &&
	    (info->num_regions != f->info.num_regions ||
	     info->num_irqs != f->info.num_irqs))
		fail(f, K_DEVICE_INFO, "regions %u irqs %u, first %u %u",
		     info->num_regions, info->num_irqs, f->info.num_regions,
		     f->info.num_irqs);
}

/* Walks a capability chain the device wrote into @info: it must stay inside. */
static void check_caps(struct fuzz *f, struct vfio_region_info *info)
{
	uint32_t off = info->cap_offset, seen = 0;
	struct vfio_info_cap_header *h;

	if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS) || !off ||
	    info->argsz > ARG_SIZE)
		return;
	while (off) {
		if (off < sizeof(*info) || off + sizeof(*h) > info->argsz ||
		    ++seen > 16)
			fail(f, K_REGION_INFO, "capability at %u, argsz %u", off,
			     info->argsz);
		h = (void *)((uint8_t *)info + off);
		if (h->next && h->next <= off)
			fail(f, K_REGION_INFO, "capability chain loops at %u",
			     off);
		off = h->next;
	}
}

/*
 * GET_REGION_INFO and GET_IRQ_INFO share a head (argsz, flags, index): one
 * request of kind @k with a random argsz (left in *@asked) and an index
 * mostly below @indexes. True when it succeeded on the fuzzer's buffer, which
 * then holds the answer; an accepted argsz below @minsz fails the worker.
 */
static bool info_request(struct fuzz *f, enum kind k, unsigned long cmd,
			 uint32_t minsz, uint32_t indexes, const char *name,
			 uint32_t *asked)
{
	uint32_t *head = (void *)f->arg;
	__uint128_t extra = 0;
	void *p = arg_or_bad(f, &extra);
	long ret;

	fill(f, f->arg, 128);
	head[0] = *asked = some_argsz(f, minsz);
	head[2] = chance(f, 80) ? below(f, indexes + 2) : rnd(f);
	if (*asked > ARG_SIZE)
		extra |= ERRNO_BIT(EFAULT);
	ret = ioctl(device_fd(f), cmd, p);
	if (!check(f, k, ret, extra, name) || p != f->arg)
		return false;
	if (*asked < minsz)
		fail(f, k, "argsz %u accepted", *asked);
	return true;
}

static void do_region_info(struct fuzz *f)
{
	struct vfio_region_info *info = (void *)f->arg;
	uint32_t asked;

	if (!info_request(f, K_REGION_INFO, VFIO_DEVICE_GET_REGION_INFO,
			  sizeof(*info), f->nregions, "GET_REGION_INFO", &asked))
		return;
	if (info->argsz < asked && info->argsz < sizeof(*info))
		fail(f, K_REGION_INFO, "argsz shrank to %u", info->argsz);
	/* a larger argsz asks for room: the chain was not written */
	if (info->argsz <= asked)
		check_caps(f, info);
}

static void do_irq_info(struct fuzz *f)
{
	uint32_t asked;

	info_request(f, K_IRQ_INFO, VFIO_DEVICE_GET_IRQ_INFO,
		     sizeof(struct vfio_irq_info), f->info.num_irqs,
		     "GET_IRQ_INFO", &asked);
}

/* An fd to pass as an eventfd: a real one, closed, of the wrong type, -1. */
static int32_t some_eventfd(struct fuzz *f)
{
	switch (below(f, 6)) {
	case 0:
		return f->closed_fd;
	case 1:
		return f->pipe_r;
	case 2:
		return -1;
	case 3:
		return rnd(f);
	default:
		return f->efd;
	}
}

static void do_set_irqs(struct fuzz *f)
{
	struct vfio_irq_set *set = (void *)f->arg;
	__uint128_t extra = 0;
	void *p = arg_or_bad(f, &extra);
	unsigned int i, n;
	uint32_t asked;
	long ret;

	fill(f, f->arg, 256);
	if (chance(f, 40)) {
		/* well formed: trigger eventfds, or none (disable) */
		set->index = below(f, f->info.num_irqs + 1);
		set->start = 0;
		set->count = below(f, 3);
		set->flags = VFIO_IRQ_SET_ACTION_TRIGGER |
			     (set->count ? VFIO_IRQ_SET_DATA_EVENTFD :
			      VFIO_IRQ_SET_DATA_NONE);
		set->argsz = sizeof(*set) + 4 * set->count;
		for (i = 0; i < set->count; i++)
			((int32_t *)set->data)[i] = chance(f, 80) ? f->efd : -1;
		ret = ioctl(device_fd(f), VFIO_DEVICE_SET_IRQS, set);
		check(f, K_SET_IRQS, ret, 0, "SET_IRQS (well formed)");
		return;
	}
	set->argsz = some_argsz(f, sizeof(*set) + 16);
	set->flags = chance(f, 80) ?
		     (1U << below(f, 3)) | (1U << (below(f, 3) + 5)) :
		     (uint32_t)rnd(f);
	set->index = chance(f, 80) ? below(f, f->info.num_irqs + 2) : rnd(f);
	set->start = chance(f, 70) ? below(f, 3) : rnd(f);
	set->count = chance(f, 70) ? below(f, 4) : rnd(f);
	n = set->count < 16 ? set->count : 16;
	if (set->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		for (i = 0; i < n; i++)
			((int32_t *)set->data)[i] = some_eventfd(f);
	asked = set->argsz;
	if (set->argsz > ARG_SIZE)
		extra |= ERRNO_BIT(EFAULT);
	ret = ioctl(device_fd(f), VFIO_DEVICE_SET_IRQS, p);
	if (check(f, K_SET_IRQS, ret, extra, "SET_IRQS") &&
	    asked < offsetofend(struct vfio_irq_set, count))
		fail(f, K_SET_IRQS, "argsz %u accepted", asked);
}

static void do_reset(struct fuzz *f)
{
	long ret = ioctl(device_fd(f), VFIO_DEVICE_RESET);

	/* a device that says it resets must */
	check(f, K_RESET, ret,
	      0, f->info.flags & VFIO_DEVICE_FLAGS_RESET ? "RESET" : "RESET?");
	if (ret && (f->info.flags & VFIO_DEVICE_FLAGS_RESET))
		fail(f, K_RESET, "errno %d with VFIO_DEVICE_FLAGS_RESET", errno);
}

static void do_plane(struct fuzz *f)
{
	struct vfio_device_gfx_plane_info *pl = (void *)f->arg;
	static const uint32_t flags[] = {
		VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF,
		VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION,
		VFIO_GFX_PLANE_TYPE_DMABUF, VFIO_GFX_PLANE_TYPE_REGION,
		VFIO_GFX_PLANE_TYPE_PROBE, 0,
	};
	__uint128_t extra = 0;
	void *p = arg_or_bad(f, &extra);
	uint32_t asked;
	bool ok;
	long ret;

	fill(f, f->arg, sizeof(*pl) + 16);
	pl->argsz = asked = some_argsz(f, sizeof(*pl));
	pl->flags = chance(f, 85) ? flags[below(f, 6)] : rnd(f);
	pl->drm_plane_type = chance(f, 80) ? 1 + below(f, 3) : rnd(f);
	if (pl->argsz > ARG_SIZE)
		extra |= ERRNO_BIT(EFAULT);
	ret = ioctl(device_fd(f), VFIO_DEVICE_QUERY_GFX_PLANE, p);
	ok = check(f, K_PLANE, ret, extra, "QUERY_GFX_PLANE");
	if (ok && asked < offsetofend(struct vfio_device_gfx_plane_info,
				      region_index))
		fail(f, K_PLANE, "argsz %u accepted", asked);
	if (ok && p == f->arg &&
	    (pl->flags & VFIO_GFX_PLANE_TYPE_DMABUF) &&
	    !(pl->flags & VFIO_GFX_PLANE_TYPE_PROBE) && pl->dmabuf_id)
		f->plane_id = pl->dmabuf_id;
}

static void keep_buf(struct fuzz *f, int fd)
{
	unsigned int i = below(f, MAX_BUFS);

	if (f->bufs[i] >= 0)
		close(f->bufs[i]);
	f->bufs[i] = fd;
}

static void do_dmabuf(struct fuzz *f)
{
	uint32_t id = chance(f, 70) ? f->plane_id : (uint32_t)below(f, 8);
	__uint128_t extra = 0;
	void *p = &id;
	long ret;

	if (chance(f, 3)) {
		p = NULL;
		extra |= ERRNO_BIT(EFAULT);
	}
	ret = ioctl(device_fd(f), VFIO_DEVICE_GET_GFX_DMABUF, p);
	if (check(f, K_DMABUF, ret, extra, "GET_GFX_DMABUF"))
		keep_buf(f, ret);
}

static sigjmp_buf touch_env;
static sig_atomic_t touch_signal;
static bool touching;

/*
 * SIGBUS or SIGSEGV: in touch(), a failed access it reports; anywhere else
 * a crash of the fuzzer, which dies of it as it would without the handler.
 */
static void on_touch_signal(int sig)
{
	if (!__atomic_load_n(&touching, __ATOMIC_RELAXED)) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	touch_signal = sig;
	siglongjmp(touch_env, 1);
}

/* Reads (or writes, if @write) one byte at @p; false if that faulted. */
static bool touch(uint8_t *p, bool write, uint8_t val)
{
	touch_signal = 0;
	if (sigsetjmp(touch_env, 1)) {
		__atomic_store_n(&touching, false, __ATOMIC_RELAXED);
		return false;
	}
	__atomic_store_n(&touching, true, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (write)
		__atomic_store_n(p, val, __ATOMIC_RELAXED);
	else
		(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&touching, false, __ATOMIC_RELAXED);
	return true;
}

static void do_dmabuf_map(struct fuzz *f)
{
	int fd = f->bufs[below(f, MAX_BUFS)], prot, flags;
	size_t len = (1 + below(f, 4)) * PAGE;
	uint8_t *m;

	if (fd < 0)
		return;
	prot = chance(f, 50) ? PROT_READ : PROT_READ | PROT_WRITE;
	flags = chance(f, 85) ? MAP_SHARED : MAP_PRIVATE;
	m = mmap(NULL, len, prot, flags, fd, below(f, 3) * PAGE);
	if (!check(f, K_DMABUF_MAP, m == MAP_FAILED ? -1 : 0, 0,
		   "dma-buf mmap"))
		return;
	if (!touch(m, prot & PROT_WRITE, 0x5a))
		fail(f, K_DMABUF_MAP, "signal %d touching a mapped dma-buf",
		     touch_signal);
	munmap(m, len);
}

static void do_rw(struct fuzz *f, bool write)
{
	enum kind k = write ? K_PWRITE : K_PREAD;
	unsigned int region;
	uint64_t off = some_offset(f, &region);
	__uint128_t extra = 0;
	size_t len = chance(f, 80) ? 1 + below(f, 8) : some_size(f, 8192);
	void *p = arg_or_bad(f, &extra);
	long ret;

	if (write)
		fill(f, f->arg, len);
	ret = write ? pwrite(device_fd(f), p, len, off) :
		      pread(device_fd(f), p, len, off);
	check(f, k, ret, extra, write ? "pwrite" : "pread");
	if (ret > (long)len)
		fail(f, k, "%ld bytes for %zu", ret, len);
}

static void do_mmap(struct fuzz *f)
{
	unsigned int region, slot = below(f, MAX_MAPS);
	uint64_t off = some_offset(f, &region) & ~(PAGE - 1);
	uint64_t size = region < f->nregions ? f->reg[region].size : PAGE;
	size_t len = chance(f, 70) ? (1 + below(f, 4)) * PAGE :
		     ((size + PAGE - 1) & ~(PAGE - 1)) + below(f, 2) * PAGE;
	int prot = (int)below(f, 4), flags;
	struct map *m = &f->maps[slot];
	void *addr;

	if (!len)
		len = PAGE;
	flags = chance(f, 85) ? MAP_SHARED : MAP_PRIVATE;
	addr = mmap(NULL, len, prot, flags, device_fd(f), off);
	if (!check(f, K_MMAP, addr == MAP_FAILED ? -1 : 0, 0, "mmap"))
		return;
	if (m->addr)
		munmap(m->addr, m->len);
	m->addr = addr;
	m->len = len;
	m->prot = prot;
}

static void do_touch(struct fuzz *f)
{
	struct map *m = &f->maps[below(f, MAX_MAPS)];
	size_t at;
	bool write;

	if (!m->addr || !(m->prot & PROT_READ))
		return;
	at = below(f, m->len);
	write = (m->prot & PROT_WRITE) && chance(f, 50);
	f->t->kind_ops[K_TOUCH]++;
	if (!touch(m->addr + at, write, rnd(f)))
		fail(f, K_TOUCH, "signal %d at %zu of a %zu-byte mapping",
		     touch_signal, at, m->len);
	f->t->kind_ok[K_TOUCH]++;
}

/*
 * The part of a mapping beyond a hole: a VMA of its own, kept in a free
 * slot to be touched and unmapped later, or unmapped now if there is none.
 */
static void keep_tail(struct fuzz *f, uint8_t *addr, size_t len, int prot)
{
	unsigned int i;

	for (i = 0; i < MAX_MAPS; i++) {
		if (!f->maps[i].addr) {
			f->maps[i] = (struct map){ addr, len, prot };
			return;
		}
	}
	if (munmap(addr, len))
		fail(f, K_MUNMAP, "munmap: %s", strerror(errno));
}

static void do_munmap(struct fuzz *f)
{
	struct map *m = &f->maps[below(f, MAX_MAPS)];
	size_t pages, first, n;

	if (!m->addr)
		return;
	f->t->kind_ops[K_MUNMAP]++;
	pages = m->len / PAGE;
	if (pages > 1 && chance(f, 50)) {
		/* a hole or an end: the VMA splits, the rest stays mapped */
		first = below(f, pages);
		n = 1 + below(f, pages - first);
		if (first == 0 && n < pages) {
			if (munmap(m->addr, n * PAGE))
				fail(f, K_MUNMAP, "munmap: %s", strerror(errno));
			m->addr += n * PAGE;
			m->len -= n * PAGE;
			f->t->kind_ok[K_MUNMAP]++;
			return;
		}
		if (first > 0) {
			if (munmap(m->addr + first * PAGE, n * PAGE))
				fail(f, K_MUNMAP, "munmap: %s", strerror(errno));
			if (first + n < pages)
				keep_tail(f, m->addr + (first + n) * PAGE,
					  (pages - first - n) * PAGE, m->prot);
			m->len = first * PAGE;
			f->t->kind_ok[K_MUNMAP]++;
			return;
		}
	}
	if (munmap(m->addr, m->len))
		fail(f, K_MUNMAP, "munmap: %s", strerror(errno));
	m->addr = NULL;
	f->t->kind_ok[K_MUNMAP]++;
}

static void do_mig_state(struct fuzz *f)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_mig_state mig;
	} *req = (void *)f->arg;
	__uint128_t extra = 0;
	void *p = arg_or_bad(f, &extra);
	long ret;

	fill(f, f->arg, sizeof(*req));
	req->hdr.argsz = chance(f, 80) ? sizeof(*req) : some_argsz(f, sizeof(*req));
	req->hdr.flags = VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE |
			 (chance(f, 75) ? VFIO_DEVICE_FEATURE_SET :
			  chance(f, 50) ? VFIO_DEVICE_FEATURE_GET :
			  VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET);
	req->mig.device_state = chance(f, 90) ? below(f, 9) : rnd(f);
	req->mig.data_fd = -1;
	if (req->hdr.argsz > ARG_SIZE)
		extra |= ERRNO_BIT(EFAULT);
	ret = ioctl(device_fd(f), VFIO_DEVICE_FEATURE, p);
	if (!check(f, K_MIG_STATE, ret, extra, "MIG_DEVICE_STATE") ||
	    p != f->arg)
		return;
	if ((req->hdr.flags & VFIO_DEVICE_FEATURE_SET) &&
	    !(req->hdr.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    req->mig.data_fd >= 0) {
		if (f->mig_fd >= 0)
			close(f->mig_fd);
		f->mig_fd = req->mig.data_fd;
	}
}

static void do_mig_data(struct fuzz *f)
{
	size_t len;
	long ret;

	if (f->mig_fd < 0)
		return;
	if (chance(f, 50)) {
		len = some_size(f, sizeof(f->stream));
		ret = read(f->mig_fd, f->stream, len);
		if (check(f, K_MIG_DATA, ret, 0, "read of the migration fd"))
			f->stream_len = ret;
		return;
	}
	/* what was saved, truncated or bit-flipped, or random bytes */
	len = f->stream_len ? below(f, f->stream_len + 1) :
	      some_size(f, sizeof(f->stream));
	if (!f->stream_len || chance(f, 30))
		fill(f, f->stream, len);
	else if (len && chance(f, 50))
		f->stream[below(f, len)] ^= 1 << below(f, 8);
	ret = write(f->mig_fd, f->stream, len);
	check(f, K_MIG_DATA, ret, 0, "write of the migration fd");
	if (chance(f, 10)) {
		close(f->mig_fd);
		f->mig_fd = -1;
	}
}

static void do_feature(struct fuzz *f)
{
	struct vfio_device_feature *req = (void *)f->arg;
	__uint128_t extra = 0;
	void *p = arg_or_bad(f, &extra);
	long ret;

	fill(f, f->arg, 256);
	req->argsz = some_argsz(f, sizeof(*req) + 16);
	req->flags = chance(f, 80) ?
		     (uint32_t)below(f, 12) | (1U << (16 + below(f, 3))) :
		     (uint32_t)rnd(f);
	/* the state change is do_mig_state's: here it could only be EINVAL */
	if ((req->flags & VFIO_DEVICE_FEATURE_MASK) ==
	    VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE &&
	    (req->flags & VFIO_DEVICE_FEATURE_SET))
		req->flags &= ~VFIO_DEVICE_FEATURE_SET;
	if (req->argsz > ARG_SIZE)
		extra |= ERRNO_BIT(EFAULT);
	ret = ioctl(device_fd(f), VFIO_DEVICE_FEATURE, p);
	check(f, K_FEATURE, ret, extra, "FEATURE");
}

static void do_other_ioctl(struct fuzz *f)
{
	/*
	 * VFIO numbers an mdev does not implement (hot reset, ioeventfd, the
	 * iommufd ones, unassigned), and some that are no VFIO ioctl at all
	 */
	static const uint8_t nr[] = {
		12, 13, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
	};
	unsigned long cmd = _IO(VFIO_TYPE, VFIO_BASE + nr[below(f, sizeof(nr))]);
	__uint128_t extra = ERRNO_BIT(EFAULT);
	long ret;

	if (chance(f, 30)) {
		cmd = (uint32_t)rnd(f);
		if (_IOC_TYPE(cmd) == VFIO_TYPE)
			return;
	}
	fill(f, f->arg, 256);
	ret = ioctl(device_fd(f), cmd, f->arg);
	/* none of them is meant to succeed on an mdev */
	if (check(f, K_OTHER_IOCTL, ret, extra, "ioctl") &&
	    _IOC_TYPE(cmd) == VFIO_TYPE)
		fail(f, K_OTHER_IOCTL, "ioctl %#lx succeeded", cmd);
}

/*
 * A valid bochs VBE mode (registers at 0x500 of BAR 2), so that plane
 * queries and exports get past "disabled": only on a device with such a
 * BAR (mbochs), a no-op elsewhere.
 */
static void do_mode(struct fuzz *f)
{
	static const uint16_t sizes[][2] = {
		{ 640, 480 }, { 800, 600 }, { 1024, 768 }, { 320, 200 },
	};
	struct vfio_region_info *mmio = &f->reg[VFIO_PCI_BAR2_REGION_INDEX];
	unsigned int s = below(f, ARRAY_SIZE(sizes));
	int err;

	if (f->nregions <= VFIO_PCI_BAR2_REGION_INDEX || mmio->size < 0x600)
		return;
	f->t->kind_ops[K_MODE]++;
	err = bochs_set_mode(device_fd(f), mmio, sizes[s][0], sizes[s][1],
			     below(f, 3));
	if (err)
		fail(f, K_MODE, "dispi registers: %s", strerror(-err));
	f->t->kind_ok[K_MODE]++;
}

static void do_reopen(struct fuzz *f)
{
	f->t->kind_ops[K_REOPEN]++;
	/*
	 * A new device fd from the group. Mappings and dma-bufs stay: they
	 * hold the old file (and through it the group's), not the fd.
	 */
	close(f->vd.device);
	f->vd.device = ioctl(f->vd.group, VFIO_GROUP_GET_DEVICE_FD, f->uuid);
	if (f->vd.device < 0)
		fail(f, K_REOPEN, "GET_DEVICE_FD: %s", strerror(errno));
	f->t->kind_ok[K_REOPEN]++;
}

/* A random version-4 UUID string from the seed (UUID_STR_LEN + 1 bytes). */
static void some_uuid(struct fuzz *f, char *buf)
{
	uint64_t hi = rnd(f), lo = rnd(f);

	hi = (hi & ~0xf000ULL) | 0x4000;
	lo = (lo & ~(3ULL << 62)) | (2ULL << 62);
	snprintf(buf, UUID_STR_LEN + 1, "%08llx-%04llx-%04llx-%04llx-%012llx",
		 (unsigned long long)(hi >> 32),
		 (unsigned long long)(hi >> 16) & 0xffff,
		 (unsigned long long)hi & 0xffff,
		 (unsigned long long)(lo >> 48),
		 (unsigned long long)lo & 0xffffffffffffULL);
}

/* A string for a sysfs file: random bytes, a number, a UUID, or garbage. */
static size_t some_text(struct fuzz *f, char *buf, size_t max)
{
	size_t len;

	switch (below(f, 5)) {
	case 0:
		some_uuid(f, buf);
		return UUID_STR_LEN;
	case 1:
		return snprintf(buf, max, "%lld", (long long)rnd(f) % 4);
	case 2:
		len = some_size(f, max);
		memset(buf, '1', len);
		return len;
	default:
		len = some_size(f, max);
		fill(f, buf, len);
		return len;
	}
}

/* One write to a sysfs file, answered as a syscall for check(). */
static long write_file(const char *path, const char *buf, size_t len)
{
	ssize_t n = sysfs_write_once(path, buf, len);

	errno = n < 0 ? -n : 0;
	return n < 0 ? -1 : 0;
}

static void do_sysfs_create(struct fuzz *f)
{
	unsigned int t = below(f, f->ntypes), slot = below(f, MAX_SCRATCH);
	char path[PATH_MAX + 16], text[64];
	size_t len;

	len = some_text(f, text, sizeof(text) - 1);
	if (!len)	/* a write of nothing never reaches the file */
		return;
	text[len] = '\0';
	snprintf(path, sizeof(path), "%s/create", sysfs.type_dir[t]);
	if (!check(f, K_SYSFS_CREATE, write_file(path, text, len), 0,
		   "write to create"))
		return;
	/* it took the text as a UUID: a scratch instance to remove later */
	if (f->scratch[slot][0])
		mdev_remove(f->scratch[slot]);
	snprintf(f->scratch[slot], sizeof(f->scratch[slot]), "%.36s", text);
	if (!mdev_exists(f->scratch[slot]))
		fail(f, K_SYSFS_CREATE, "create took \"%s\", no such instance",
		     text);
}

static void do_sysfs_remove(struct fuzz *f)
{
	unsigned int slot = below(f, MAX_SCRATCH);
	char path[PATH_MAX], text[64];
	size_t len;

	/* never the instance in use: its removal waits for the device fd */
	if (!f->scratch[slot][0])
		return;
	len = some_text(f, text, sizeof(text));
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/remove",
		 f->scratch[slot]);
	check(f, K_SYSFS_REMOVE, write_file(path, text, len), 0,
	      "write to remove");
	/* a removal is done when the write returns */
	if (!path_exists(path))
		f->scratch[slot][0] = '\0';
}

/*
 * Adds the regular files of @dir and of its subdirectories (one level, not
 * power/) to @list as @dir-relative names, leaving out "remove" and
 * "create" (the instance in use; do_sysfs_create's). 0 or -errno.
 */
static int list_files(const char *dir, const char *sub, char (*list)[128],
		      unsigned int *n)
{
	char path[PATH_MAX], name[128];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s%s", dir, *sub ? "/" : "", sub);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && *n < MAX_FILES) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(name, sizeof(name), "%s%s%s", sub, *sub ? "/" : "",
			     de->d_name) >= (int)sizeof(name))
			continue;
		if (de->d_type == DT_DIR && !*sub &&
		    strcmp(de->d_name, "power")) {
			list_files(dir, name, list, n);
			continue;
		}
		if (de->d_type != DT_REG || !strcmp(de->d_name, "remove") ||
		    !strcmp(de->d_name, "create"))
			continue;
		snprintf(list[(*n)++], sizeof(list[0]), "%s", name);
	}
	closedir(d);
	return 0;
}

/* Random bytes to a file of the instance's directory or of its type's. */
static void do_sysfs_attr(struct fuzz *f)
{
	char path[PATH_MAX + 128], text[64];
	size_t len;

	if (chance(f, 50) && sysfs.ninstance)
		snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/%s", f->uuid,
			 sysfs.instance[below(f, sysfs.ninstance)]);
	else if (sysfs.ntype)
		snprintf(path, sizeof(path), "%s/%s", sysfs.type_dir[0],
			 sysfs.type[below(f, sysfs.ntype)]);
	else
		return;
	len = some_text(f, text, sizeof(text));
	check(f, K_SYSFS_ATTR, write_file(path, text, len), 0, path);
}

/* -- the worker ---------------------------------------------------------- */

static enum kind pick_kind(struct fuzz *f)
{
	static unsigned int total;
	unsigned int r, k;

	if (!total)
		for (k = 0; k < K_COUNT; k++)
			total += kind_weight[k];
	r = below(f, total);
	for (k = 0; k < K_COUNT; k++) {
		if (r < kind_weight[k])
			return k;
		r -= kind_weight[k];
	}
	return K_DEVICE_INFO;
}

static void one_op(struct fuzz *f)
{
	enum kind k = pick_kind(f);
	double start = now_seconds();

	f->t->kind = k;

	switch (k) {
	case K_DEVICE_INFO:
		do_device_info(f);
		break;
	case K_REGION_INFO:
		do_region_info(f);
		break;
	case K_IRQ_INFO:
		do_irq_info(f);
		break;
	case K_SET_IRQS:
		do_set_irqs(f);
		break;
	case K_RESET:
		do_reset(f);
		break;
	case K_PLANE:
		do_plane(f);
		break;
	case K_DMABUF:
		do_dmabuf(f);
		break;
	case K_DMABUF_MAP:
		do_dmabuf_map(f);
		break;
	case K_PREAD:
		do_rw(f, false);
		break;
	case K_PWRITE:
		do_rw(f, true);
		break;
	case K_MMAP:
		do_mmap(f);
		break;
	case K_TOUCH:
		do_touch(f);
		break;
	case K_MUNMAP:
		do_munmap(f);
		break;
	case K_MIG_STATE:
		do_mig_state(f);
		break;
	case K_MIG_DATA:
		do_mig_data(f);
		break;
	case K_FEATURE:
		do_feature(f);
		break;
	case K_OTHER_IOCTL:
		do_other_ioctl(f);
		break;
	case K_MODE:
		do_mode(f);
		break;
	case K_REOPEN:
		do_reopen(f);
		break;
	case K_SYSFS_CREATE:
		do_sysfs_create(f);
		break;
	case K_SYSFS_REMOVE:
		do_sysfs_remove(f);
		break;
	case K_SYSFS_ATTR:
		do_sysfs_attr(f);
		break;
	default:
		break;
	}
	f->t->kind_ns[k] += (now_seconds() - start) * 1e9;
}

/* Fuzzes instance @uuid with @ops operations from @seed. Never returns. */
static void worker(const char *uuid, uint64_t seed, uint64_t ops,
		   const char *type, char **types, int ntypes, struct tally *t)
{
	struct sigaction sa = { .sa_handler = on_touch_signal };
	struct fuzz f = {
		.rng = seed, .seed = seed, .type = type, .types = types,
		.ntypes = ntypes, .mig_fd = -1, .t = t,
	};
	unsigned int i;
	int err, fds[2];

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	snprintf(f.uuid, sizeof(f.uuid), "%s", uuid);
	for (i = 0; i < K_COUNT; i++)
		f.allowed[i] = kind_allowed[i];
	for (i = 0; i < ARRAY_SIZE(sample_allowed); i++)
		if (!strncmp(type, sample_allowed[i].type_prefix,
			     strlen(sample_allowed[i].type_prefix)))
			f.allowed[sample_allowed[i].kind] |=
				sample_allowed[i].errnos;
	for (i = 0; i < MAX_BUFS; i++)
		f.bufs[i] = -1;
	f.arg = mmap(NULL, ARG_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f.efd = eventfd(0, EFD_CLOEXEC);
	if (f.arg == MAP_FAILED || f.efd < 0 || pipe(fds))
		fail(&f, K_DEVICE_INFO, "setup: %s", strerror(errno));
	f.pipe_r = fds[0];
	f.pipe_w = fds[1];
	/* a closed fd whose number no later open takes (the lowest free) */
	f.closed_fd = fcntl(fds[1], F_DUPFD_CLOEXEC, 1000);
	if (f.closed_fd < 0)
		fail(&f, K_DEVICE_INFO, "setup: %s", strerror(errno));
	close(f.closed_fd);
	err = open_instance(&f);
	if (err)
		fail(&f, K_REOPEN, "open %s: %s", uuid, strerror(-err));
	for (f.op = 0; f.op < ops; f.op++) {
		one_op(&f);
		t->ops++;
	}
	for (i = 0; i < MAX_SCRATCH; i++)
		if (f.scratch[i][0])
			mdev_remove(f.scratch[i]);
	exit(0);
}

/* -- the parent ---------------------------------------------------------- */

/* What a fresh instance answers to a known-good sequence. */
struct answers {
	uint32_t ids;			/* vendor and device id */
	uint32_t flags, num_regions, num_irqs;
	struct {
		uint64_t size;
		uint32_t flags;
		int err;
	} region[MAX_REGIONS];
	int reset;			/* 0 or the errno of VFIO_DEVICE_RESET */
};

/* Fills the struct answers at @arg from device fd @fd; 0 or -errno. */
static int ask(int fd, void *arg)
{
	struct answers *a = arg;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info r;
	unsigned int i;

	memset(a, 0, sizeof(*a));
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info))
		return -errno;
	a->flags = info.flags;
	a->num_regions = info.num_regions;
	a->num_irqs = info.num_irqs;
	for (i = 0; i < MAX_REGIONS && i < info.num_regions; i++) {
		a->region[i].err = region_info(fd, i, &r);
		if (a->region[i].err)
			continue;
		a->region[i].size = r.size;
		a->region[i].flags = r.flags;
		if (i == VFIO_PCI_CONFIG_REGION_INDEX &&
		    info_pread(fd, &r, 0, &a->ids, 4) != 4)
			return -EIO;
	}
	a->reset = ioctl(fd, VFIO_DEVICE_RESET) ? errno : 0;
	return 0;
}

static void print_tally(const char *type, struct tally *sum, double secs)
{
	char list[512] = "";
	unsigned int k, e, kinds = 0;

	for (e = 1; e < 128; e++)
		if (sum->errnos & ERRNO_BIT(e))
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s%s", list[0] ? "," : "",
				 strerrorname_np(e) ?: "?");
	for (k = 0; k < K_COUNT; k++)
		kinds += sum->kind_ops[k] > 0;
	printf("# %s: %llu operations in %.1f s (%.0f/s), %llu kills, %u/%u request kinds, errnos seen: %s\n",
	       type,
	       (unsigned long long)sum->ops, secs, sum->ops / secs,
	       (unsigned long long)sum->kills, kinds, K_COUNT, list);
	if (quiet)
		return;
	/* time per operation, over all workers (CPU time they shared) */
	printf("#   %-13s %9s %9s %9s\n", "request", "ops", "ok", "us/op");
	for (k = 0; k < K_COUNT; k++)
		printf("#   %-13s %9llu %9llu %9.0f\n", kind_name[k],
		       (unsigned long long)sum->kind_ops[k],
		       (unsigned long long)sum->kind_ok[k],
		       sum->kind_ops[k] ?
		       sum->kind_ns[k] / 1e3 / sum->kind_ops[k] : 0.0);
}

/*
 * Kills worker @pid and reaps it into *@status. A worker that does not die
 * within KILL_SECONDS is stuck in the kernel, uninterruptibly: -ETIMEDOUT
 * (said), instead of a wait that would last until the test's timeout.
 */
static int kill_reap(pid_t pid, int *status)
{
	double end = now_seconds() + KILL_SECONDS;

	kill(pid, SIGKILL);
	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		msleep(50);
	} while (now_seconds() < end);
	printf("# worker %d still alive %d s after SIGKILL\n", pid,
	       KILL_SECONDS);
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	uint64_t ops = 10000, seed = 0, per, next_seed, last_ops[8];
	int workers = 3, opt, i, ret = 0, status, live;
	double last_move[8];
	long avail_before[8], avail;
	char uuids[8][UUID_STR_LEN + 1], path[PATH_MAX];
	struct answers before, after;
	struct tally *t, sum = { 0 };
	double start;
	pid_t pid[8];
	unsigned int k;
	int err;

	while ((opt = getopt(argc, argv, "n:w:s:q")) != -1) {
		switch (opt) {
		case 'n':
			ops = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			workers = atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'q':
			quiet = true;
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc || workers < 1 || workers > 8 ||
	    argc - optind > MAX_TYPES) {
usage:
		fprintf(stderr,
			"usage: %s [-n OPS] [-w WORKERS] [-s SEED] [-q] TYPE [TYPE...]\n",
			argv[0]);
		return 2;
	}
	if (!seed)
		seed = (uint64_t)time(NULL) * 1000003 + getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# fuzzing %s: %llu operations, %d workers, seed %llu\n",
	       argv[optind], (unsigned long long)ops, workers,
	       (unsigned long long)seed);
	for (i = optind; i < argc; i++) {
		if (mdev_type_dir(argv[i], sysfs.type_dir[i - optind],
				  sizeof(sysfs.type_dir[0]))) {
			printf("# no type %s\n", argv[i]);
			return 1;
		}
		avail_before[i - optind] = mdev_available(argv[i]);
		if (avail_before[i - optind] < 0) {
			printf("# type %s: %s\n", argv[i],
			       strerror(-avail_before[i - optind]));
			return 1;
		}
	}
	err = with_fresh_instance(argv[optind], ask, &before);
	if (err) {
		printf("# a fresh %s does not work before fuzzing: %s\n",
		       argv[optind], strerror(-err));
		return 1;
	}
	t = mmap(NULL, sizeof(*t) * workers, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return 1;
	memset(t, 0, sizeof(*t) * workers);
	per = ops / workers;
	start = now_seconds();
	for (i = 0; i < workers; i++) {
		uuid_gen(uuids[i]);
		err = mdev_create_wait(argv[optind], uuids[i], 10000);
		if (err) {
			printf("# create %s: %s\n", argv[optind], strerror(-err));
			return 1;
		}
	}
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s", uuids[0]);
	err = list_files(path, "", sysfs.instance, &sysfs.ninstance);
	if (!err)
		err = list_files(sysfs.type_dir[0], "", sysfs.type,
				 &sysfs.ntype);
	if (err) {
		printf("# sysfs files of %s: %s\n", argv[optind], strerror(-err));
		return 1;
	}
	for (i = 0; i < workers; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			return 1;
		if (!pid[i])
			worker(uuids[i], seed + i, per + (i ? 0 : ops % workers),
			       argv[optind], argv + optind, argc - optind, &t[i]);
	}
	/*
	 * The last worker is killed at random points and started again; a
	 * worker whose count stands still for STALL_SECONDS is stuck in the
	 * kernel (a hang, which a kill might otherwise hide): a failure.
	 */
	next_seed = seed + workers;
	srandom(seed);
	for (i = 0; i < workers; i++) {
		last_ops[i] = 0;
		last_move[i] = now_seconds();
	}
	for (live = workers; live;) {
		msleep(50 + random() % 400);
		for (i = 0; i < workers; i++) {
			if (!pid[i])
				continue;
			if (waitpid(pid[i], &status, WNOHANG) == pid[i]) {
				pid[i] = 0;
				live--;
				if (!WIFEXITED(status) || WEXITSTATUS(status)) {
					printf("# worker %d: %s %d\n", i,
					       WIFEXITED(status) ? "exit" : "signal",
					       WIFEXITED(status) ? WEXITSTATUS(status) :
					       WTERMSIG(status));
					ret = 1;
				}
				continue;
			}
			if (t[i].ops != last_ops[i]) {
				last_ops[i] = t[i].ops;
				last_move[i] = now_seconds();
			} else if (now_seconds() - last_move[i] > STALL_SECONDS) {
				printf("# worker %d: no progress for %d s, in %s at operation %llu\n",
				       i, STALL_SECONDS, kind_name[t[i].kind],
				       (unsigned long long)t[i].ops);
				ret = 1;
				goto stop;
			}
		}
		i = workers - 1;
		if (workers == 1 || !pid[i])
			continue;
		if (kill_reap(pid[i], &status)) {
			ret = 1;
			goto stop;
		}
		pid[i] = 0;
		if (WIFEXITED(status)) {
			/* it finished or failed just before */
			live--;
			ret |= WEXITSTATUS(status) != 0;
			continue;
		}
		if (WTERMSIG(status) != SIGKILL) {
			printf("# the killed worker died of signal %d\n",
			       WTERMSIG(status));
			ret = 1;
			goto stop;
		}
		t[i].kills++;
		if (t[i].failed || t[i].ops >= per) {
			live--;
			continue;
		}
		pid[i] = fork();
		if (pid[i] < 0)
			return 1;
		if (!pid[i])
			worker(uuids[i], next_seed, per - t[i].ops, argv[optind],
			       argv + optind, argc - optind, &t[i]);
		next_seed++;
	}
stop:
	for (i = 0; i < workers; i++)
		if (pid[i] > 0 && kill_reap(pid[i], &status))
			ret = 1;
	for (i = 0; i < workers; i++) {
		sum.ops += t[i].ops;
		sum.errnos |= t[i].errnos;
		sum.kills += t[i].kills;
		for (k = 0; k < K_COUNT; k++) {
			sum.kind_ops[k] += t[i].kind_ops[k];
			sum.kind_ok[k] += t[i].kind_ok[k];
			sum.kind_ns[k] += t[i].kind_ns[k];
		}
		if (t[i].failed)
			ret = 1;
	}
	print_tally(argv[optind], &sum, now_seconds() - start);
	/* no request may have taken a worker's instance away */
	for (i = 0; i < workers; i++) {
		if (!mdev_exists(uuids[i])) {
			printf("# worker %d's instance %s is gone\n", i, uuids[i]);
			ret = 1;
		}
	}
	/* every instance goes, scratch ones of killed workers included */
	for (i = optind; i < argc; i++)
		mdev_remove_all(argv[i]);
	for (i = optind; i < argc; i++) {
		avail = mdev_wait_available(argv[i], avail_before[i - optind],
					    10000);
		if (avail != avail_before[i - optind]) {
			printf("# %s: %ld available after fuzzing, %ld before\n",
			       argv[i], avail, avail_before[i - optind]);
			ret = 1;
		}
	}
	memset(&after, 0, sizeof(after));
	err = with_fresh_instance(argv[optind], ask, &after);
	if (err || memcmp(&after, &before, sizeof(after))) {
		printf("# a fresh %s after fuzzing: %s, ids %08x (before %08x), %u regions (%u), reset %d (%d)\n",
		       argv[optind], strerror(-err), after.ids, before.ids,
		       after.num_regions, before.num_regions, after.reset,
		       before.reset);
		ret = 1;
	}
	return ret;
}
