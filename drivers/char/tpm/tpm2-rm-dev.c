// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: the /dev/tpmrmN character device.
 *
 * Every TPM 2.0 chip gets a tpmrm class device beside its raw /dev/tpmN.
 * Each open file is one space: write one command, read one response (partial
 * reads allowed), poll and O_NONBLOCK through a workqueue. The command and
 * response buffer exists only while a command is in flight or its response
 * is unread, so an idle open file costs a few hundred bytes. Each open file
 * holds a reference on the chip device, so chip removal cannot free what an
 * open file still uses; commands after removal fail with -EPIPE. The
 * ioctls of <uapi/linux/tpmrm.h> choose the TPM locality of a file's
 * commands.
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <uapi/linux/tpmrm.h>
#include "tpm.h"
#include "tpm2-rm.h"

static struct workqueue_struct *tpm2_rm_wq;

/**
 * struct tpm2_rm_file - state of one /dev/tpmrm open file
 * @chip:	the chip; a reference on chip->dev is held
 * @space:	handle table; protected by chip->tpm_mutex
 * @lock:	protects every field below; taken before chip->tpm_mutex
 * @buf:	command in flight or unread response, NULL when idle
 * @rsp_len:	bytes of the response not read yet
 * @rsp_pos:	offset of the next byte to read in @buf
 * @rsp_err:	negative errno of an asynchronous command, read once
 * @in_flight:	a command was queued on the workqueue and is not done
 * @read_started: part of the response was read; a new write may discard
 *		the rest
 * @work:	runs an O_NONBLOCK command
 * @waitq:	woken when @work is done
 */
struct tpm2_rm_file {
	struct tpm_chip *chip;
	struct tpm2_rm_space space;
	struct mutex lock; /* see @lock above */
	u8 *buf;
	size_t rsp_len;
	size_t rsp_pos;
	int rsp_err;
	bool in_flight;
	bool read_started;
	struct work_struct work;
	wait_queue_head_t waitq;
};

/* Run the command in priv->buf; priv->lock held. Returns response length. */
static ssize_t tpm2_rm_file_run(struct tpm2_rm_file *priv, size_t len)
{
	struct tpm_chip *chip = priv->chip;
	ssize_t ret;

	if (tpm_try_get_ops(chip))
		return -EPIPE;
	ret = tpm2_rm_transmit(chip, &priv->space, priv->buf, TPM_BUFSIZE,
			       len);
	tpm_put_ops(chip);
	return ret;
}

/* Keep a response (or drop the buffer on error); priv->lock held. */
static void tpm2_rm_file_store(struct tpm2_rm_file *priv, ssize_t ret)
{
	u8 *small;

	priv->rsp_pos = 0;
	priv->read_started = false;
	if (ret <= 0) {
		kfree(priv->buf);
		priv->buf = NULL;
		priv->rsp_len = 0;
		priv->rsp_err = ret;
		return;
	}
	priv->rsp_len = ret;
	small = krealloc(priv->buf, ret, GFP_KERNEL);
	if (small)
		priv->buf = small;
}

static void tpm2_rm_file_work(struct work_struct *work)
{
	struct tpm2_rm_file *priv = container_of(work, struct tpm2_rm_file,
						 work);
	size_t len;

	mutex_lock(&priv->lock);
	len = be32_to_cpup((__be32 *)&priv->buf[2]);
	tpm2_rm_file_store(priv, tpm2_rm_file_run(priv, len));
	priv->in_flight = false;
	mutex_unlock(&priv->lock);
	wake_up_interruptible(&priv->waitq);
}

static int tpm2_rm_open(struct inode *inode, struct file *file)
{
	struct tpm_chip *chip = container_of(inode->i_cdev, struct tpm_chip,
					     cdevs);
	struct tpm2_rm_file *priv;

	priv = kzalloc(sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return -ENOMEM;
	tpm2_rm_space_init(&priv->space);
	if (tpm2_rm_user_get(chip, &priv->space, file->f_cred->euid)) {
		kfree(priv);
		return -ENOMEM;
	}
	get_device(&chip->dev);
	priv->chip = chip;
	mutex_init(&priv->lock);
	INIT_WORK(&priv->work, tpm2_rm_file_work);
	init_waitqueue_head(&priv->waitq);
	file->private_data = priv;
	return nonseekable_open(inode, file);
}

/* Drop an unread response; priv->lock held. */
static void tpm2_rm_file_drop(struct tpm2_rm_file *priv)
{
	kfree(priv->buf);
	priv->buf = NULL;
	priv->rsp_len = 0;
	priv->rsp_err = 0;
}

/* Copy a command from user space into a fresh buffer; priv->lock held. */
static ssize_t tpm2_rm_file_fill(struct tpm2_rm_file *priv,
				 const char __user *ubuf, size_t size)
{
	if (size < TPM_HEADER_SIZE)
		return -EINVAL;
	if (size > TPM_BUFSIZE)
		return -E2BIG;
	priv->buf = kmalloc(TPM_BUFSIZE, GFP_KERNEL);
	if (!priv->buf)
		return -ENOMEM;
	if (copy_from_user(priv->buf, ubuf, size)) {
		tpm2_rm_file_drop(priv);
		return -EFAULT;
	}
	if (be32_to_cpup((__be32 *)&priv->buf[2]) != size) {
		tpm2_rm_file_drop(priv);
		return -EINVAL;
	}
	return 0;
}

static ssize_t tpm2_rm_write(struct file *file, const char __user *ubuf,
			     size_t size, loff_t *off)
{
	struct tpm2_rm_file *priv = file->private_data;
	ssize_t ret;

	mutex_lock(&priv->lock);
	ret = -EBUSY;
	if (priv->in_flight || (priv->rsp_len && !priv->read_started) ||
	    priv->rsp_err)
		goto out_unlock;
	tpm2_rm_file_drop(priv);
	ret = tpm2_rm_file_fill(priv, ubuf, size);
	if (ret)
		goto out_unlock;
	if (file->f_flags & O_NONBLOCK) {
		priv->in_flight = true;
		queue_work(tpm2_rm_wq, &priv->work);
		ret = size;
		goto out_unlock;
	}
	ret = tpm2_rm_file_run(priv, size);
	tpm2_rm_file_store(priv, ret);
	priv->rsp_err = 0;
	if (ret > 0)
		ret = size;
out_unlock:
	mutex_unlock(&priv->lock);
	return ret;
}

static ssize_t tpm2_rm_read(struct file *file, char __user *ubuf,
			    size_t size, loff_t *off)
{
	struct tpm2_rm_file *priv = file->private_data;
	ssize_t ret;

	if (!(file->f_flags & O_NONBLOCK))
		flush_work(&priv->work);
	mutex_lock(&priv->lock);
	ret = -EAGAIN;
	if (priv->in_flight)
		goto out_unlock;
	ret = priv->rsp_err;
	priv->rsp_err = 0;
	if (ret || !priv->rsp_len)
		goto out_unlock;
	ret = min(size, priv->rsp_len);
	if (copy_to_user(ubuf, &priv->buf[priv->rsp_pos], ret)) {
		tpm2_rm_file_drop(priv);
		ret = -EFAULT;
		goto out_unlock;
	}
	priv->read_started = true;
	priv->rsp_pos += ret;
	priv->rsp_len -= ret;
	if (!priv->rsp_len)
		tpm2_rm_file_drop(priv);
out_unlock:
	mutex_unlock(&priv->lock);
	return ret;
}

static __poll_t tpm2_rm_poll(struct file *file, poll_table *wait)
{
	struct tpm2_rm_file *priv = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &priv->waitq, wait);
	mutex_lock(&priv->lock);
	if (!priv->in_flight && (priv->rsp_len || priv->rsp_err))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (!priv->in_flight && (!priv->rsp_len || priv->read_started) &&
	    !priv->rsp_err)
		mask |= EPOLLOUT | EPOLLWRNORM;
	mutex_unlock(&priv->lock);
	return mask;
}

/* TPMRM_IOC_SET_LOCALITY: later commands of this file run at *uarg. */
static long tpm2_rm_file_set_locality(struct tpm2_rm_file *priv,
				      u32 __user *uarg)
{
	u32 locality;
	long rc;

	if (get_user(locality, uarg))
		return -EFAULT;
	mutex_lock(&priv->lock);
	rc = -EBUSY;
	if (priv->in_flight)
		goto out_unlock;
	rc = -EPIPE;
	if (tpm_try_get_ops(priv->chip))
		goto out_unlock;
	rc = tpm2_rm_set_locality(priv->chip, &priv->space, locality,
				  capable(CAP_SYS_ADMIN));
	tpm_put_ops(priv->chip);
out_unlock:
	mutex_unlock(&priv->lock);
	return rc;
}

static long tpm2_rm_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct tpm2_rm_file *priv = file->private_data;
	u32 __user *uarg = (u32 __user *)arg;
	u32 locality;

	switch (cmd) {
	case TPMRM_IOC_SET_LOCALITY:
		return tpm2_rm_file_set_locality(priv, uarg);
	case TPMRM_IOC_GET_LOCALITY:
		mutex_lock(&priv->lock);
		locality = priv->space.locality;
		mutex_unlock(&priv->lock);
		return put_user(locality, uarg);
	default:
		return -ENOTTY;
	}
}

static int tpm2_rm_release(struct inode *inode, struct file *file)
{
	struct tpm2_rm_file *priv = file->private_data;
	struct tpm_chip *chip = priv->chip;

	flush_work(&priv->work);
	if (!tpm_try_get_ops(chip)) {
		tpm2_rm_space_del(chip, &priv->space, true);
		tpm_put_ops(chip);
	} else {
		/*
		 * Only a removed chip (no ops) has no TPM to flush; if the
		 * TPM could not be started, the chip flushes the contexts
		 * before its next command.
		 */
		down_read(&chip->ops_sem);
		mutex_lock(&chip->tpm_mutex);
		if (chip->ops)
			tpm2_rm_space_park(chip, &priv->space);
		else
			tpm2_rm_space_del(chip, &priv->space, false);
		mutex_unlock(&chip->tpm_mutex);
		up_read(&chip->ops_sem);
	}
	tpm2_rm_user_put(chip, &priv->space);
	kfree(priv->buf);
	mutex_destroy(&priv->lock);
	kfree(priv);
	put_device(&chip->dev);
	return 0;
}

static const struct file_operations tpm2_rm_fops = {
	.owner = THIS_MODULE,
	.open = tpm2_rm_open,
	.read = tpm2_rm_read,
	.write = tpm2_rm_write,
	.poll = tpm2_rm_poll,
	.unlocked_ioctl = tpm2_rm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = tpm2_rm_release,
};

static void tpm2_rm_devs_release(struct device *dev)
{
	struct tpm_chip *chip = container_of(dev, struct tpm_chip, devs);

	put_device(&chip->dev);
}

/**
 * tpm_devs_add() - add the /dev/tpmrmN device of a TPM 2.0 chip
 * @chip:	the chip
 *
 * The tpmrm device holds a reference on the chip device until it is
 * released. tpm_chip_register() gave the chip its residency state.
 *
 * Return: 0 or a negative errno.
 */
int tpm_devs_add(struct tpm_chip *chip)
{
	int rc;

	device_initialize(&chip->devs);
	chip->devs.parent = chip->dev.parent;
	chip->devs.class = &tpmrm_class;
	chip->devs.release = tpm2_rm_devs_release;
	chip->devs.devt = MKDEV(MAJOR(tpm_devt),
				chip->dev_num + TPM_NUM_DEVICES);
	get_device(&chip->dev);
	rc = dev_set_name(&chip->devs, "tpmrm%d", chip->dev_num);
	if (rc)
		goto out_put_devs;
	cdev_init(&chip->cdevs, &tpm2_rm_fops);
	chip->cdevs.owner = THIS_MODULE;
	rc = cdev_device_add(&chip->cdevs, &chip->devs);
	if (rc) {
		dev_err(&chip->devs, "unable to add tpmrm device: %d\n", rc);
		goto out_put_devs;
	}
	return 0;

out_put_devs:
	put_device(&chip->devs);
	return rc;
}

/**
 * tpm_devs_remove() - remove the /dev/tpmrmN device
 * @chip:	the chip
 *
 * Open files keep working on memory until they are closed; their commands
 * fail with -EPIPE once the chip's ops are gone.
 */
void tpm_devs_remove(struct tpm_chip *chip)
{
	cdev_device_del(&chip->cdevs, &chip->devs);
	put_device(&chip->devs);
}

/**
 * tpm2_rm_dev_init() - create the workqueue for O_NONBLOCK commands
 *
 * The workqueue is freezable: it is frozen with the tasks before devices
 * suspend, so no queued command reaches the TPM after tpm_pm_suspend()
 * evicted the RM's contexts and sent TPM2_Shutdown(STATE). It is per-CPU,
 * as /dev/tpmN's tpm_dev_wq: a command runs on the CPU of the write() that
 * queued it, where its writer then sleeps in poll(); on an unbound one it
 * could run on another CPU, and each command paid for the wake-ups across.
 *
 * Return: 0 or -ENOMEM.
 */
int tpm2_rm_dev_init(void)
{
	tpm2_rm_wq = alloc_workqueue("tpmrm", WQ_MEM_RECLAIM | WQ_FREEZABLE, 0);
	return tpm2_rm_wq ? 0 : -ENOMEM;
}

/**
 * tpm2_rm_dev_exit() - destroy the workqueue
 */
void tpm2_rm_dev_exit(void)
{
	destroy_workqueue(tpm2_rm_wq);
}
