// SPDX-License-Identifier: GPL-2.0

/*
 * Helpers for the inline functions used by the mdev stack: the Rust mdev
 * core, vfio_mdev and the kernel crate's mdev/vfio bindings.
 */

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/poll.h>
#include <linux/wait.h>

const char *rust_helper_dev_name(const struct device *dev)
{
	return dev_name(dev);
}

int rust_helper_atomic_read(const atomic_t *v)
{
	return atomic_read(v);
}

void rust_helper_atomic_set(atomic_t *v, int i)
{
	atomic_set(v, i);
}

void rust_helper_atomic_inc(atomic_t *v)
{
	atomic_inc(v);
}

void rust_helper_atomic_dec(atomic_t *v)
{
	atomic_dec(v);
}

void *rust_helper_dev_get_drvdata(const struct device *dev)
{
	return dev_get_drvdata(dev);
}

void rust_helper_dev_set_drvdata(struct device *dev, void *data)
{
	dev_set_drvdata(dev, data);
}

void rust_helper_poll_wait(struct file *filp, wait_queue_head_t *wait_address,
			   poll_table *p)
{
	poll_wait(filp, wait_address, p);
}

void rust_helper_wake_up(wait_queue_head_t *wq_head)
{
	wake_up(wq_head);
}
