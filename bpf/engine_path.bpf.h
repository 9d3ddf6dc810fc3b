/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * Absolute paths of what the kernel really touched.
 *
 * bpf_d_path is not allowed in tracepoint programs, so the engine walks the
 * dentry chain itself: component by component (one bpf_loop step each),
 * crossing mounts through struct mount, building the string backwards so it
 * ends at AP_PATH_MAX in a per-CPU buffer. Full PATH_MAX; a chain that does
 * not end at the root or a path that does not fit is an error the callers
 * report as "unresolved", never a silent allow.
 *
 * Names given to unlink/rename/truncate are joined to their directory (the
 * dirfd's file or the cwd, both walked as above) and normalised lexically
 * ("." "..", "//"). Symbolic links in such a user-given name's directory
 * part are not followed (the last component is never followed by these
 * system calls anyway).
 */
#ifndef AP_ENGINE_PATH_BPF_H
#define AP_ENGINE_PATH_BPF_H

#include "engine_dfa.bpf.h"

#ifndef AT_FDCWD
#define AT_FDCWD -100
#endif

/* a string in the scratch: offset from the start of struct ap_scratch */
struct ap_str {
	__u32 off;
	__u32 len;
	int err;
};

#define AP_BUF_OFF(which) ((which) ? AP_BUF_SIZE : 0)
#define AP_NORM_OFF(which) (2 * AP_BUF_SIZE + ((which) ? AP_PATH_MAX : 0))

static __always_inline struct mount *ap_real_mount(struct vfsmount *mnt)
{
	return (struct mount *)((void *)mnt -
				bpf_core_field_offset(struct mount, mnt));
}

static long ap_walk_step(__u32 i, void *unused)
{
	struct ap_scratch *s = ap_scr();
	struct ap_loopvars *w;
	struct dentry *d, *parent;
	const unsigned char *name;
	__u32 len, idx;

	if (!s)
		return 1;
	w = &s->lv;
	d = (struct dentry *)w->d;
	if (w->d == w->mnt_root) {
		struct mount *m = (struct mount *)w->m;
		struct mount *pm = BPF_CORE_READ(m, mnt_parent);

		if (!pm || pm == m) {
			w->done = 1;
			return 1;
		}
		w->d = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		w->m = (__u64)pm;
		w->mnt_root = (__u64)BPF_CORE_READ(pm, mnt.mnt_root);
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d) {
		/* the top of a file system that is not mounted here
		 * (a pseudo file system, a lazily unmounted tree) */
		w->err = -ENOENT;
		return 1;
	}
	len = BPF_CORE_READ(d, d_name.len);
	name = BPF_CORE_READ(d, d_name.name);
	if (!len || len > 255 || w->pos < len + 1 || w->pos > AP_PATH_MAX) {
		w->err = -ENAMETOOLONG;
		return 1;
	}
	w->pos -= len;
	idx = (w->base & AP_BUF_SIZE) + (w->pos & AP_OFF_MASK);
	AP_BOUND(idx, AP_BUF_SIZE | AP_OFF_MASK);
	if (bpf_probe_read_kernel((char *)s + idx, len & 0xff, name)) {
		w->err = -EFAULT;
		return 1;
	}
	w->pos -= 1;
	idx = (w->base & AP_BUF_SIZE) + (w->pos & AP_OFF_MASK);
	AP_BOUND(idx, AP_BUF_SIZE | AP_OFF_MASK);
	((char *)s)[idx] = '/';
	w->d = (__u64)parent;
	return 0;
}

/* Build the absolute path of (dentry, vfsmount) into buf[which]. */
static __always_inline struct ap_str ap_path_build(struct dentry *d,
						   struct vfsmount *mnt,
						   int which)
{
	struct ap_scratch *s = ap_scr();
	struct ap_loopvars *w;
	struct ap_str r = {};
	__u32 pos, base;

	if (!d || !mnt || !s) {
		r.err = -ENOENT;
		return r;
	}
	w = &s->lv;
	w->d = (__u64)d;
	w->m = (__u64)ap_real_mount(mnt);
	w->mnt_root = (__u64)BPF_CORE_READ(mnt, mnt_root);
	w->pos = AP_PATH_MAX - 1; /* keep room for the NUL of PATH_MAX */
	w->base = AP_BUF_OFF(which);
	w->err = 0;
	w->done = 0;
	bpf_loop(AP_PATH_MAX, ap_walk_step, NULL, 0);
	s = ap_scr();
	if (!s) {
		r.err = -ENOMEM;
		return r;
	}
	w = &s->lv;
	if (!w->done) {
		r.err = w->err ? w->err : -ELOOP;
		ap_count(AP_CNT_UNRESOLVED);
		return r;
	}
	pos = w->pos;
	base = AP_BUF_OFF(which);
	if (pos >= AP_PATH_MAX - 1) { /* the root itself */
		pos = AP_PATH_MAX - 2;
		((char *)s)[base + pos] = '/';
	}
	r.off = base + pos;
	r.len = AP_PATH_MAX - 1 - pos;
	return r;
}

static __always_inline struct ap_str ap_path_of_file(struct file *f, int which)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vfsmount *m = BPF_CORE_READ(f, f_path.mnt);

	return ap_path_build(d, m, which);
}

static __always_inline struct file *ap_fd_file(struct task_struct *t, int fd)
{
	struct files_struct *files = BPF_CORE_READ(t, files);
	struct fdtable *fdt;
	struct file **fds;
	struct file *f = NULL;

	if (!files || fd < 0)
		return NULL;
	fdt = BPF_CORE_READ(files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/* ---- lexical normalisation of a joined name ---- */
static long ap_norm_step(__u32 i, void *unused)
{
	struct ap_scratch *s = ap_scr();
	struct ap_loopvars *n;
	__u32 ii, clen, c0;
	char c = '/', *out;

	if (!s)
		return 1;
	n = &s->lv;
	out = s->norm[n->which & 1];
	if (i < n->len) {
		ii = n->in + i;
		if (ii >= AP_SCR_STR_BYTES)
			return 1;
		c = ((char *)s)[ii];
	}
	if (c != '/') {
		if (n->out_len >= AP_PATH_MAX - 1) {
			n->err = -ENAMETOOLONG;
			return 1;
		}
		out[n->out_len & AP_OFF_MASK] = c;
		n->out_len++;
		return 0;
	}
	clen = n->out_len - n->comp;
	c0 = n->comp & AP_OFF_MASK;
	if (clen == 0)
		return 0;
	if (clen == 1 && out[c0] == '.') {
		n->out_len = n->comp;
		return 0;
	}
	if (clen == 2 && out[c0] == '.' && out[(c0 + 1) & AP_OFF_MASK] == '.') {
		if (n->depth > 0) {
			n->depth--;
			n->out_len = s->starts[n->depth & 255];
		} else {
			n->out_len = n->comp;
		}
		n->comp = n->out_len;
		return 0;
	}
	if (n->depth >= 255 || n->out_len >= AP_PATH_MAX - 1) {
		n->err = -ENAMETOOLONG;
		return 1;
	}
	s->starts[n->depth & 255] = n->comp;
	n->depth++;
	out[n->out_len & AP_OFF_MASK] = '/';
	n->out_len++;
	n->comp = n->out_len;
	return 0;
}

static __always_inline struct ap_str ap_normalize(__u32 in, __u32 len, int which)
{
	struct ap_scratch *s = ap_scr();
	struct ap_loopvars *n;
	struct ap_str r = {};
	__u32 out_len;

	if (!s || len >= 2 * AP_PATH_MAX) {
		r.err = -ENAMETOOLONG;
		return r;
	}
	n = &s->lv;
	n->in = in;
	n->len = len;
	n->which = which;
	n->out_len = 1;
	n->comp = 1;
	n->depth = 0;
	n->err = 0;
	s->norm[which & 1][0] = '/';
	bpf_loop(len + 1, ap_norm_step, NULL, 0);
	s = ap_scr();
	if (!s) {
		r.err = -ENOMEM;
		return r;
	}
	n = &s->lv;
	if (n->err) {
		r.err = n->err;
		ap_count(AP_CNT_UNRESOLVED);
		return r;
	}
	out_len = n->out_len;
	if (out_len > 1 && s->norm[which & 1][(out_len - 1) & AP_OFF_MASK] == '/')
		out_len--;
	r.off = AP_NORM_OFF(which);
	r.len = out_len;
	return r;
}

/*
 * The absolute, normalised form of a name given to a system call relative to
 * dirfd (AT_FDCWD: the cwd). `user`: the name is in user memory, else kernel.
 */
static __always_inline struct ap_str ap_path_name(struct task_struct *t,
						  int dirfd, const char *name,
						  bool user, int which)
{
	struct ap_scratch *s = ap_scr();
	struct ap_str r = {}, base;
	__u32 noff = AP_BUF_OFF(which) + AP_PATH_MAX - 1; /* '/' then the name */
	long n;

	if (!s || !name) {
		r.err = -EFAULT;
		return r;
	}
		if (user)
		n = bpf_probe_read_user_str((char *)s + noff + 1, AP_PATH_MAX - 1, name);
	else
		n = bpf_probe_read_kernel_str((char *)s + noff + 1, AP_PATH_MAX - 1, name);
	if (n <= 1) {
		ap_count(AP_CNT_READ_FAILS);
		r.err = n < 0 ? (int)n : -ENOENT;
		return r;
	}
	if (n >= AP_PATH_MAX - 1) {
		r.err = -ENAMETOOLONG;
		ap_count(AP_CNT_UNRESOLVED);
		return r;
	}
	n--; /* without the NUL */
	if (((char *)s)[noff + 1] == '/')
		return ap_normalize(noff + 1, n, which);
	{
		struct dentry *bd;
		struct vfsmount *bm;

		if (dirfd == AT_FDCWD) {
			struct fs_struct *fs = BPF_CORE_READ(t, fs);

			bd = BPF_CORE_READ(fs, pwd.dentry);
			bm = BPF_CORE_READ(fs, pwd.mnt);
		} else {
			struct file *f = ap_fd_file(t, dirfd);

			if (!f) {
				r.err = -EBADF;
				return r;
			}
			bd = BPF_CORE_READ(f, f_path.dentry);
			bm = BPF_CORE_READ(f, f_path.mnt);
		}
		base = ap_path_build(bd, bm, which);
	}
	if (base.err)
		return base;
	((char *)s)[noff] = '/';
	return ap_normalize(base.off, base.len + 1 + n, which);
}

/* Global (separately verified) entry points. They return the string as
 * (scratch offset << 16 | length), or -errno. */
#define AP_GLOBAL __attribute__((noinline))

static __always_inline long ap_str_pack(struct ap_str r)
{
	if (r.err)
		return r.err;
	return ((long)r.off << 16) | (r.len & 0xffff);
}

static __always_inline struct ap_str ap_str_unpack(long v)
{
	struct ap_str r = {};

	if (v < 0) {
		r.err = (int)v;
		return r;
	}
	r.off = (v >> 16) & 0xffff;
	r.len = v & 0xffff;
	return r;
}

AP_GLOBAL long ap_path_file_g(__u64 file, int which)
{
	if (!file)
		return -ENOENT;
	return ap_str_pack(ap_path_of_file((struct file *)file, which & 1));
}

/* name relative to dirfd of the current task */
AP_GLOBAL long ap_path_name_g(int dirfd, __u64 name, int user, int which)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	return ap_str_pack(ap_path_name(t, dirfd, (const char *)name, user, which & 1));
}

#endif
