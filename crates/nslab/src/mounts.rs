//! Mount propagation, for the steps that make a new mount namespace, and
//! the /proc of a container's PID namespace.

use crate::{Error, Result};
use nix::mount::{MsFlags, mount};

/// Make every mount of our (new) mount namespace private.
///
/// A new mount namespace starts as a copy of its parent's, propagation
/// included: where `/` is a *shared* mount, as systemd makes it, a mount made
/// in the new namespace would appear in the old one too, and the other way
/// round. Remounting `/` and everything below it MS_PRIVATE cuts that link,
/// as util-linux's unshare(1) does by default.
///
/// This fails (EINVAL) where `/` is not a mount point, as in a chroot into
/// a plain directory: a change of propagation names the root of a mount.
/// See [`root_is_a_mount_point`] for the programs that can do without it.
pub fn make_mounts_private() -> Result<()> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|errno| Error::sys("mount(/, MS_REC|MS_PRIVATE)", errno))
}

/// Mount a proc filesystem on /proc, made first if the root filesystem has
/// no such directory (its error ignored: it may exist). A proc shows the PID
/// namespace of the process that mounts it: the containers of steps 10 and
/// 11 do this after their pivot, as step 7's container does (its students
/// write it) after its chroot.
pub fn mount_proc() -> Result<()> {
    let _ = std::fs::create_dir("/proc");
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|errno| Error::sys("mount(proc, /proc)", errno))
}

/// Whether our `/` is the root of a mount, which a change of propagation
/// needs (mount(2): EINVAL when the target is not a mount point). It is not
/// in a chroot into a directory that is no mount point of its own.
///
/// statx(2) says so (STATX_ATTR_MOUNT_ROOT, set in fs/stat.c). A kernel that does
/// not tell gets the benefit of the doubt: the mount call will say.
pub fn root_is_a_mount_point() -> Result<bool> {
    // SAFETY: statx writes one struct statx where we point; all zeroes is a
    // valid value of it.
    let mut info: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a pointer to our struct.
    let rc = unsafe { libc::statx(libc::AT_FDCWD, c"/".as_ptr(), 0, 0, &mut info) };
    if rc == -1 {
        return Err(Error::last("statx(/)"));
    }
    let bit = libc::STATX_ATTR_MOUNT_ROOT as u64;
    Ok(info.stx_attributes_mask & bit == 0 || info.stx_attributes & bit != 0)
}
