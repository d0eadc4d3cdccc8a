//! Step 10 — `pivotcontainer [--rootfs DIR] [--hostname NAME] [CMD ARGS…]`:
//! the container of step 7, rooted with pivot_root(2) instead of chroot(2).
//!
//! chroot(2) only changes where the child's path lookups start; root inside
//! can walk out of it again (the `escape` program of this step does). The
//! child here changes its mount namespace's root mount instead:
//!
//! 1. makes every mount private, and bind-mounts the root filesystem on
//!    itself, so that it is a mount of its own (pivot_root needs one);
//! 2. `pivot_root(rootfs, rootfs/.oldroot)`: the bind mount becomes the
//!    root of the mount tree, and the old root is moved below it, at
//!    /.oldroot; then `chdir("/")`;
//! 3. unmounts the old root (`umount2("/.oldroot", MNT_DETACH)`, with every
//!    mount below it) and removes the empty directory;
//! 4. mounts its own /proc and execs the command, as in step 7.
//!
//! From then on, nothing of the host is in the container's mount namespace:
//! there is no directory left to climb out to.
//!
//! The child's side is a library, as step 7's, so that the later steps'
//! containers build on it.

use container::{Options, exec};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::unistd::{chdir, pivot_root, sethostname};
use nslab::{Error, Result, shown};
use std::path::Path;

/// Where the old root goes, inside the new one, until it is unmounted.
const OLD_ROOT: &str = ".oldroot";

/// The child's body: set up, exec; on failure print the line and exit 127.
/// Should the parent die first, the kernel kills the container's init.
pub fn child_main(options: &Options) -> isize {
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    let err = match setup(options) {
        Ok(()) => exec(&options.command),
        Err(err) => err,
    };
    err.report();
    127
}

/// The container's root and hostname, before its command runs: the root
/// filesystem, bind-mounted on itself, becomes the root mount (pivot_root),
/// the old root is unmounted, and a /proc of the container's PID namespace
/// is mounted. Public for the steps that build on this one (confine).
pub fn setup(options: &Options) -> Result<()> {
    sethostname(&options.hostname).map_err(|errno| Error::sys("sethostname()", errno))?;
    let rootfs = shown(options.rootfs.as_os_str());
    // ANCHOR: bind
    // TODO: make every mount private (nslab::make_mounts_private(), as in
    // step 7): pivot_root refuses to move shared mounts. Then bind-mount the
    // root filesystem on itself, with what is mounted below it:
    // mount(Some(&options.rootfs), &options.rootfs, None::<&str>,
    // MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>). pivot_root needs
    // the new root to be a mount, not a mere directory.
    // @solution
    nslab::make_mounts_private()?;
    mount(
        Some(&options.rootfs),
        &options.rootfs,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|errno| Error::sys(format!("mount({rootfs}, {rootfs}, MS_BIND|MS_REC)"), errno))?;
    // @exercise
    // let _ = &rootfs; // TODO: private mounts, then the bind mount
    // @end
    // ANCHOR_END: bind

    // ANCHOR: pivot
    // TODO: create the directory OLD_ROOT in the root filesystem
    // (std::fs::create_dir_all), then pivot_root(&options.rootfs, &put_old)
    // (nix::unistd::pivot_root): the old root moves there, the bind mount
    // becomes "/". Should it fail, remove the directory, and return
    // Error::sys(format!("pivot_root({rootfs}, {shown_old})"), errno), with
    // shown_old = shown(put_old.as_os_str()): the scenario shows that line.
    // Then chdir("/"): pivot_root moves only the working directories that
    // were at the old root's top.
    // @solution
    let put_old = options.rootfs.join(OLD_ROOT);
    let shown_old = shown(put_old.as_os_str());
    std::fs::create_dir_all(&put_old)
        .map_err(|err| Error::io(format!("mkdir({shown_old})"), &err))?;
    pivot_root(&options.rootfs, &put_old).map_err(|errno| {
        let _ = std::fs::remove_dir(&put_old);
        Error::sys(format!("pivot_root({rootfs}, {shown_old})"), errno)
    })?;
    chdir("/").map_err(|errno| Error::sys("chdir(/)", errno))?;
    // @exercise
    // return Err(Error::msg("TODO: pivot_root into the root filesystem"));
    // @end
    // ANCHOR_END: pivot

    // ANCHOR: detach
    // TODO: the old root is now at /.oldroot, every host mount below it.
    // Unmount it: umount2(&old_root, MntFlags::MNT_DETACH) (a plain umount
    // refuses a mount that has mounts below it); then remove the empty
    // directory (std::fs::remove_dir). Name the calls in their errors as
    // above: "umount2(/.oldroot)", "rmdir(/.oldroot)".
    let old_root = Path::new("/").join(OLD_ROOT);
    // @solution
    let shown_old = shown(old_root.as_os_str());
    umount2(&old_root, MntFlags::MNT_DETACH)
        .map_err(|errno| Error::sys(format!("umount2({shown_old})"), errno))?;
    std::fs::remove_dir(&old_root).map_err(|err| Error::io(format!("rmdir({shown_old})"), &err))?;
    // @exercise
    // let _ = &old_root; // TODO: umount2 and rmdir
    // @end
    // ANCHOR_END: detach

    // A proc of our PID namespace, as in step 7.
    nslab::mount_proc()
}
