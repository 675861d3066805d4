// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the vfio-mdev kselftests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../kselftest.h"
#include "mdev_util.h"

ssize_t sysfs_write_once(const char *path, const char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

int sysfs_write(const char *path, const char *buf, size_t len)
{
	ssize_t n = sysfs_write_once(path, buf, len);

	return n < 0 ? n : (size_t)n < len ? -EIO : 0;
}

int sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	return n;
}

long sysfs_read_long(const char *path)
{
	char buf[64], *end;
	int n = sysfs_read(path, buf, sizeof(buf));
	long v;

	if (n < 0)
		return n;
	errno = 0;
	v = strtol(buf, &end, 0);
	if (errno || end == buf || (*end && *end != '\n') || v < 0)
		return -EINVAL;
	return v;
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int mdev_type_dir(const char *type, char *dir, size_t len)
{
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	d = opendir(MDEV_CLASS);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dir, len, MDEV_CLASS "/%s/mdev_supported_types/%s",
			 de->d_name, type);
		if (path_exists(dir)) {
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int mdev_list_types(struct mdev_type_name *out, int max)
{
	char path[PATH_MAX];
	struct dirent *p, *t;
	DIR *parents, *types;
	int n = 0;

	parents = opendir(MDEV_CLASS);
	if (!parents)
		return -errno;
	while (n >= 0 && (p = readdir(parents))) {
		if (p->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), MDEV_CLASS "/%s/mdev_supported_types",
			 p->d_name);
		types = opendir(path);
		if (!types) {
			n = -errno;
			break;
		}
		while (n >= 0 && (t = readdir(types))) {
			if (t->d_name[0] == '.')
				continue;
			if (n == max) {
				n = -E2BIG;
				break;
			}
			snprintf(out[n].parent, sizeof(out[n].parent), "%s",
				 p->d_name);
			snprintf(out[n].type, sizeof(out[n].type), "%s", t->d_name);
			n++;
		}
		closedir(types);
	}
	closedir(parents);
	return n;
}

long mdev_available(const char *type)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];

	if (mdev_type_dir(type, dir, sizeof(dir)))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/available_instances", dir);
	return sysfs_read_long(path);
}

int mdev_type_attr(const char *type, const char *attr, char *buf, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];

	if (mdev_type_dir(type, dir, sizeof(dir)))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	return sysfs_read(path, buf, len);
}

void uuid_gen(char *out)
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY);

	if (fd < 0 || read(fd, b, sizeof(b)) != sizeof(b))
		abort();
	close(fd);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	sprintf(out,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		b[10], b[11], b[12], b[13], b[14], b[15]);
}

int mdev_create(const char *type, const char *uuid)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];

	if (mdev_type_dir(type, dir, sizeof(dir)))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/create", dir);
	return sysfs_write(path, uuid, strlen(uuid));
}

int mdev_remove(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/remove", uuid);
	return sysfs_write(path, "1", 1);
}

bool mdev_exists(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s", uuid);
	return path_exists(path);
}

int mdev_remove_all(const char *type)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (mdev_type_dir(type, dir, sizeof(dir)))
		return 0;
	snprintf(path, sizeof(path), "%s/devices", dir);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		mdev_remove(de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

int vfio_open_mdev(const char *uuid, struct vfio_dev *vd)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	int err;

	memset(vd, 0, sizeof(*vd));
	vd->container = vd->group = vd->device = -1;

	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	vd->group_id = atoi(strrchr(link, '/') + 1);

	vd->container = open("/dev/vfio/vfio", O_RDWR);
	if (vd->container < 0)
		goto fail;
	snprintf(path, sizeof(path), "/dev/vfio/%d", vd->group_id);
	vd->group = open(path, O_RDWR);
	if (vd->group < 0)
		goto fail;
	if (ioctl(vd->group, VFIO_GROUP_GET_STATUS, &status))
		goto fail;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EPERM;
		goto fail;
	}
	if (ioctl(vd->group, VFIO_GROUP_SET_CONTAINER, &vd->container))
		goto fail;
	if (ioctl(vd->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		goto fail;
	vd->device = ioctl(vd->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (vd->device < 0)
		goto fail;
	return 0;
fail:
	err = -errno;
	vfio_close_mdev(vd);
	return err;
}

void vfio_close_mdev(struct vfio_dev *vd)
{
	if (vd->device >= 0)
		close(vd->device);
	if (vd->group >= 0)
		close(vd->group);
	if (vd->container >= 0)
		close(vd->container);
	vd->device = vd->group = vd->container = -1;
}

int with_fresh_instance(const char *type, int (*fn)(int fd, void *arg),
			void *arg)
{
	char uuid[UUID_STR_LEN + 1];
	struct vfio_dev vd;
	int err;

	uuid_gen(uuid);
	err = mdev_create_wait(type, uuid, 10000);
	if (err)
		return err;
	err = vfio_open_mdev(uuid, &vd);
	if (!err) {
		err = fn(vd.device, arg);
		vfio_close_mdev(&vd);
	}
	if (mdev_remove(uuid) && !err)
		err = -EIO;
	return err;
}

ssize_t region_read(int fd, int index, uint64_t off, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, REGION_OFFSET(index) + off);

	return n < 0 ? -errno : n;
}

ssize_t region_write(int fd, int index, uint64_t off, const void *buf,
		     size_t len)
{
	ssize_t n = pwrite(fd, buf, len, REGION_OFFSET(index) + off);

	return n < 0 ? -errno : n;
}

/*
 * The register helpers below have no way to return an error: one that cannot
 * do its transfer fails the calling test on the spot (the harness reports the
 * signal), so a failed read can never pass for a register value.
 */
static void io_failed(const char *what, unsigned int off, ssize_t ret)
{
	fprintf(stderr, "# %s at 0x%x failed: %s\n", what, off,
		ret < 0 ? strerror(-ret) : "short transfer");
	abort();
}

static void region_io(int fd, int index, unsigned int off, void *buf,
		      size_t len, bool write, const char *what)
{
	ssize_t n = write ? region_write(fd, index, off, buf, len) :
			    region_read(fd, index, off, buf, len);

	if (n != (ssize_t)len)
		io_failed(what, off, n);
}

uint8_t bar_read8(int fd, int bar, unsigned int reg)
{
	uint8_t v;

	region_io(fd, VFIO_PCI_BAR0_REGION_INDEX + bar, reg, &v, 1, false,
		  "bar_read8");
	return v;
}

void bar_write8(int fd, int bar, unsigned int reg, uint8_t val)
{
	region_io(fd, VFIO_PCI_BAR0_REGION_INDEX + bar, reg, &val, 1, true,
		  "bar_write8");
}

int region_info(int fd, unsigned int index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info) ? -errno : 0;
}

int read_pci_ids(int fd, uint32_t *ids)
{
	struct vfio_region_info cfg;
	int err = region_info(fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	ssize_t n;

	if (err)
		return err;
	n = info_pread(fd, &cfg, 0, ids, sizeof(*ids));
	return n == sizeof(*ids) ? 0 : n < 0 ? n : -EIO;
}

static int pci_ids_of(int fd, void *ids)
{
	return read_pci_ids(fd, ids);
}

int fresh_pci_ids(const char *type, uint32_t *ids)
{
	return with_fresh_instance(type, pci_ids_of, ids);
}

int bochs_set_mode(int fd, const struct vfio_region_info *mmio,
		   unsigned int width, unsigned int height,
		   unsigned int y_offset)
{
	const uint16_t regs[][2] = {
		{ DISPI_ENABLE, 0 }, { DISPI_XRES, width },
		{ DISPI_YRES, height }, { DISPI_BPP, 32 },
		{ DISPI_VIRT_WIDTH, width }, { DISPI_X_OFFSET, 0 },
		{ DISPI_Y_OFFSET, y_offset }, { DISPI_ENABLE, 1 },
	};
	unsigned int i;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(regs); i++) {
		n = info_pwrite(fd, mmio, DISPI + 2 * regs[i][0], &regs[i][1],
				2);
		if (n != 2)
			return n < 0 ? n : -EIO;
	}
	return 0;
}

int bochs_set_mode_bar2(int fd, unsigned int width, unsigned int height)
{
	struct vfio_region_info mmio;
	int err = region_info(fd, VFIO_PCI_BAR2_REGION_INDEX, &mmio);

	return err ?: bochs_set_mode(fd, &mmio, width, height, 0);
}

int mig_set_state(int fd, uint32_t state, int *data_fd)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_mig_state s;
	} req = {
		.f = { .argsz = sizeof(req),
		       .flags = VFIO_DEVICE_FEATURE_SET |
				VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
		.s = { .device_state = state, .data_fd = -1 },
	};

	if (data_fd)
		*data_fd = -1;
	if (ioctl(fd, VFIO_DEVICE_FEATURE, &req))
		return -errno;
	if (data_fd) {
		*data_fd = req.s.data_fd;
		return 0;
	}
	if (req.s.data_fd >= 0) {
		/* the caller expected no stream: an arc that opens one is wrong */
		close(req.s.data_fd);
		return -EPROTO;
	}
	return 0;
}

int mig_resume(int fd, const uint8_t *data, size_t len)
{
	int dfd, err;
	ssize_t n;

	err = mig_set_state(fd, VFIO_DEVICE_STATE_STOP, NULL);
	if (!err)
		err = mig_set_state(fd, VFIO_DEVICE_STATE_RESUMING, &dfd);
	if (!err && dfd < 0)
		err = -EPROTO;
	if (err)
		return err;
	n = write(dfd, data, len);
	if (n != (ssize_t)len)
		err = n < 0 ? -errno : -EIO;
	close(dfd);
	if (!err)
		err = mig_set_state(fd, VFIO_DEVICE_STATE_STOP, NULL);
	if (!err)
		err = mig_set_state(fd, VFIO_DEVICE_STATE_RUNNING, NULL);
	return err;
}

int vfio_feature(int fd, uint32_t flags, void *data, size_t len)
{
	struct {
		struct vfio_device_feature f;
		uint8_t data[64];
	} buf = { .f = { .argsz = sizeof(buf.f) + len, .flags = flags } };

	if (len > sizeof(buf.data))
		return -E2BIG;
	memcpy(buf.data, data, len);
	if (ioctl(fd, VFIO_DEVICE_FEATURE, &buf))
		return -errno;
	memcpy(data, buf.data, len);
	return 0;
}

int mig_get_state(int fd)
{
	struct vfio_device_feature_mig_state s = {};
	int err = vfio_feature(fd, VFIO_DEVICE_FEATURE_GET |
			       VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			       &s, sizeof(s));

	return err ? err : (int)s.device_state;
}

ssize_t mig_read_stream(int dfd, uint8_t *buf, size_t size, int *end)
{
	size_t got = 0;
	uint8_t more;
	ssize_t n;

	while (got < size && (n = read(dfd, buf + got, size - got)) > 0)
		got += n;
	/* a full buffer: one byte more says whether the stream went on */
	if (got == size) {
		n = read(dfd, &more, 1);
		if (n > 0) {
			*end = EFBIG;
			return got;
		}
	}
	*end = n < 0 ? errno : 0;
	return got;
}

ssize_t mig_read_all(int dfd, uint8_t *buf, size_t size)
{
	int end;
	ssize_t got = mig_read_stream(dfd, buf, size, &end);

	return end ? -end : got;
}

int query_plane(int fd, uint32_t flags, uint32_t plane_type,
		struct vfio_device_gfx_plane_info *plane)
{
	memset(plane, 0xa5, sizeof(*plane));
	plane->argsz = sizeof(*plane);
	plane->flags = flags;
	plane->drm_plane_type = plane_type;
	return ioctl(fd, VFIO_DEVICE_QUERY_GFX_PLANE, plane) ? -errno : 0;
}

ssize_t info_pread(int fd, const struct vfio_region_info *info, uint64_t off,
		   void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, info->offset + off);

	return n < 0 ? -errno : n;
}

ssize_t info_pwrite(int fd, const struct vfio_region_info *info, uint64_t off,
		    const void *buf, size_t len)
{
	ssize_t n = pwrite(fd, buf, len, info->offset + off);

	return n < 0 ? -errno : n;
}

uint32_t info_read32(int fd, const struct vfio_region_info *info,
		     unsigned int off)
{
	uint32_t v;
	ssize_t n = info_pread(fd, info, off, &v, 4);

	if (n != 4)
		io_failed("info_read32", off, n);
	return v;
}

uint32_t cfg_read32(int fd, unsigned int off)
{
	uint32_t v;

	region_io(fd, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, 4, false,
		  "cfg_read32");
	return v;
}

uint16_t cfg_read16(int fd, unsigned int off)
{
	uint16_t v;

	region_io(fd, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, 2, false,
		  "cfg_read16");
	return v;
}

void cfg_write32(int fd, unsigned int off, uint32_t val)
{
	region_io(fd, VFIO_PCI_CONFIG_REGION_INDEX, off, &val, 4, true,
		  "cfg_write32");
}

/* Names the check that failed and its errno (0: the answer was wrong). */
static int check_failed(const char *what, int err)
{
	fprintf(stderr, "# %s: %s\n", what, err ? strerror(-err) : "wrong answer");
	return -1;
}

int irq_none(int fd)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_irq_info info;
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	unsigned int i;
	int ret;

	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &dinfo))
		return check_failed("GET_INFO", -errno);
	for (i = 0; i <= dinfo.num_irqs; i++) {
		info.argsz = sizeof(info);
		info.index = i;
		info.flags = 0xffffffff;
		info.count = 7;
		ret = ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &info) ? -errno : 0;
		if (i == dinfo.num_irqs && ret != -EINVAL)
			return check_failed("GET_IRQ_INFO past the last index",
					    ret);
		if (i < dinfo.num_irqs && ret)
			return check_failed("GET_IRQ_INFO", ret);
		if (i < dinfo.num_irqs && (info.flags || info.count))
			return check_failed("GET_IRQ_INFO flags or vectors", 0);
		set.index = i;
		set.count = i % 2;
		ret = ioctl(fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
		if (ret != -EINVAL)
			return check_failed("SET_IRQS", ret);
	}
	return 0;
}

int mdev_create_wait(const char *type, const char *uuid, int ms)
{
	int err;

	for (;;) {
		err = mdev_create(type, uuid);
		if ((err != -EEXIST && err != -ENOSPC && err != -EUSERS) ||
		    ms <= 0)
			return err;
		msleep(50);
		ms -= 50;
	}
}

long mdev_wait_available(const char *type, long n, int ms)
{
	long avail;

	for (;;) {
		avail = mdev_available(type);
		if (avail == n || ms <= 0)
			return avail;
		msleep(50);
		ms -= 50;
	}
}

const char *module_name(const char *env, const char *def)
{
	const char *v = getenv(env);

	return v && *v ? v : def;
}

/* Runs @cmd with @arg, and @arg2 unless it is NULL: its exit code. */
static int run_cmd(const char *cmd, const char *arg, const char *arg2)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		execlp(cmd, cmd, arg, arg2, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A path is loaded with insmod, a bare name with modprobe. */
int module_load(const char *name)
{
	return module_load_param(name, NULL);
}

int module_load_param(const char *name, const char *param)
{
	return run_cmd(strchr(name, '/') ? "insmod" : "modprobe", name, param);
}

void module_sysfs_name(const char *name, char *out, size_t len)
{
	const char *base = strrchr(name, '/');
	size_t n;

	base = base ? base + 1 : name;
	n = strcspn(base, ".");
	snprintf(out, len, "%.*s", (int)n, base);
}

int module_unload(const char *name)
{
	return run_cmd("rmmod", name, NULL);
}

void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

pid_t remove_in_child(const char *uuid, struct vfio_dev *vd)
{
	pid_t pid = fork();

	if (!pid) {
		vfio_close_mdev(vd);
		_exit(mdev_remove(uuid) ? 1 : 0);
	}
	return pid;
}

int wait_child(pid_t pid, int ms)
{
	int status;

	/* a failed fork's -1 (or 0) would wait for any child */
	if (pid <= 0)
		return -1;
	for (; ms > 0; ms -= 50) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		msleep(50);
	}
	return -1;
}
