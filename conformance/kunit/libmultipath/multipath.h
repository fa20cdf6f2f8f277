/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations-only include/linux/multipath.h for compile-checking
 * mpath-verify's libmultipath KUnit export against a tree that does not
 * carry the series (e.g. Linux 6.12). Written by mpath-verify from the
 * behavioural specification of libmultipath v2 (28 Apr 2026): the types,
 * constants and prototypes the exported suites use. It is NOT the series'
 * header; a tree with the series applied uses its own.
 */
#ifndef _LINUX_MULTIPATH_H
#define _LINUX_MULTIPATH_H

#include <linux/blkdev.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/srcu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/bio.h>

enum mpath_iopolicy_e {
	MPATH_IOPOLICY_NUMA,
	MPATH_IOPOLICY_RR,
	MPATH_IOPOLICY_QD,
};

struct mpath_iopolicy {
	enum mpath_iopolicy_e iopolicy;
};

enum mpath_access_state {
	MPATH_STATE_OPTIMIZED,
	MPATH_STATE_NONOPTIMIZED,
	MPATH_STATE_OTHER
};

#define MPATH_DEVICE_SYSFS_ATTR_LINK	0
#define MPATH_HEAD_DISK_LIVE		0
#define MPATH_HEAD_QUEUE_IF_NO_PATH	1

struct mpath_head;
struct io_uring_cmd;
struct io_comp_batch;

struct mpath_device {
	struct mpath_head	*mpath_head;
	struct list_head	siblings;
	struct gendisk		*disk;
	unsigned long		flags;
	int			numa_node;
	enum mpath_access_state access_state;
};

struct mpath_head_template {
	bool (*available_path)(struct mpath_device *);
	void (*remove_head)(struct mpath_head *);
	int (*add_cdev)(struct mpath_head *);
	void (*del_cdev)(struct mpath_head *);
	bool (*is_disabled)(struct mpath_device *);
	bool (*is_optimized)(struct mpath_device *);
	int (*get_nr_active)(struct mpath_device *);
	long (*cdev_ioctl)(struct mpath_device *, unsigned int cmd,
			   unsigned long arg, bool open_for_write);
	int (*chr_uring_cmd)(struct mpath_device *, struct io_uring_cmd *,
			     unsigned int issue_flags);
	int (*chr_uring_cmd_iopoll)(struct io_uring_cmd *,
				    struct io_comp_batch *,
				    unsigned int poll_flags);
	enum mpath_iopolicy_e (*get_iopolicy)(struct mpath_head *);
	struct bio *(*clone_bio)(struct bio *);
	const struct attribute_group **device_groups;
	void (*ioctl_begin)(struct mpath_device *, unsigned int cmd,
			    void **opaque);
	void (*ioctl_finish)(void *opaque);
};

struct mpath_head {
	struct srcu_struct	srcu;
	struct list_head	dev_list;
	struct mutex		lock;
	struct kref		ref;
	struct bio_list		requeue_list;
	spinlock_t		requeue_lock;
	struct work_struct	requeue_work;
	struct cdev		cdev;
	struct device		cdev_device;
	struct delayed_work	remove_work;
	unsigned int		delayed_removal_secs;
	struct module		*drv_module;
	void			*drvdata;
	unsigned long		flags;
	struct gendisk		*disk;
	struct work_struct	partition_scan_work;
	struct device		*parent;
	const struct attribute_group **disk_groups;
	const struct mpath_head_template *mpdt;
	struct mpath_device __rcu *current_path[];
};

struct mpath_head *mpath_alloc_head(void);
int mpath_get_head(struct mpath_head *mpath_head);
void mpath_put_head(struct mpath_head *mpath_head);
int mpath_alloc_head_disk(struct mpath_head *mpath_head,
			  struct queue_limits *lim, int numa_node);
void mpath_device_set_live(struct mpath_device *mpath_device);
void mpath_remove_disk(struct mpath_head *mpath_head);
void mpath_put_disk(struct mpath_head *mpath_head);
void mpath_synchronize(struct mpath_head *mpath_head);
int mpath_set_iopolicy(const char *val, int *iopolicy);
int mpath_get_iopolicy(char *buf, int iopolicy);
bool mpath_clear_current_path(struct mpath_device *mpath_device);
void mpath_add_device(struct mpath_head *mpath_head,
		      struct mpath_device *mpath_device);
bool mpath_delete_device(struct mpath_device *mpath_device);
bool mpath_head_devices_empty(struct mpath_head *mpath_head);
int mpath_call_for_device(struct mpath_head *mpath_head,
			  int (*cb)(struct mpath_device *mpath_device));
void mpath_clear_paths(struct mpath_head *mpath_head);
void mpath_revalidate_paths(struct mpath_head *mpath_head,
		void (*not_ready_cb)(struct mpath_device *mpath_device));
void mpath_add_sysfs_link(struct mpath_head *mpath_head);
void mpath_remove_sysfs_link(struct mpath_device *mpath_device);
bool mpath_can_remove_head(struct mpath_head *mpath_head);
ssize_t mpath_delayed_removal_secs_show(struct mpath_head *mpath_head,
					char *buf);
ssize_t mpath_delayed_removal_secs_store(struct mpath_head *mpath_head,
					 const char *buf, size_t count);
ssize_t mpath_iopolicy_show(struct mpath_iopolicy *p, char *buf);
bool mpath_iopolicy_store(struct mpath_iopolicy *p, const char *buf,
			  size_t count);
ssize_t mpath_numa_nodes_show(struct mpath_device *mpath_device,
			      struct mpath_iopolicy *p, char *buf);

static inline bool mpath_head_queue_if_no_path(struct mpath_head *head)
{
	return test_bit(MPATH_HEAD_QUEUE_IF_NO_PATH, &head->flags);
}

static inline enum mpath_iopolicy_e
mpath_read_iopolicy(struct mpath_iopolicy *p)
{
	return READ_ONCE(p->iopolicy);
}

static inline bool mpath_qd_iopolicy(struct mpath_iopolicy *p)
{
	return mpath_read_iopolicy(p) == MPATH_IOPOLICY_QD;
}

#endif /* _LINUX_MULTIPATH_H */
