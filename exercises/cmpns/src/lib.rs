//! Step 2 — `cmpns` and `idns`: how a namespace is identified.
//!
//! `/proc/PID/ns/TYPE` is a symbolic link to a file of the kernel's nsfs
//! filesystem, one file per namespace. stat(2) follows the link: two
//! processes share a namespace exactly when the device and inode numbers
//! stat returns for their entries are the same. (lstat(2) would describe the
//! link in /proc instead, which is different for every process.)

use nix::sys::stat::stat;
use nslab::{Error, Ns, Result};

/// The identity of a process's namespace of type `ns`: (device, inode).
// ANCHOR: identity
pub fn identity(pid: &str, ns: Ns) -> Result<(u64, u64)> {
    let path = ns.proc_path(pid);
    // TODO: stat(2) the path with nix::sys::stat::stat, which follows the
    // symbolic link to the namespace's nsfs file, and return its st_dev and
    // st_ino. On failure, return Error::sys(format!("stat({path})"), errno).
    Err(Error::msg(format!("TODO: stat({path})")))
}
// ANCHOR_END: identity
