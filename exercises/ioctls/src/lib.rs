//! Step 6 — the nsfs ioctls: what the kernel tells about a namespace.
//!
//! A file descriptor opened on `/proc/PID/ns/TYPE` refers to a namespace.
//! Four ioctl(2) requests on it (Linux 4.9 and 4.11) ask the kernel:
//!
//! - `NS_GET_USERNS`: the user namespace that owns it (a new descriptor);
//! - `NS_GET_PARENT`: the parent of a pid or user namespace (a new
//!   descriptor); other types have no hierarchy: EINVAL;
//! - `NS_GET_NSTYPE`: its type, as the `CLONE_NEW*` flag value;
//! - `NS_GET_OWNER_UID`: for a user namespace, the uid of its creator.
//!
//! The kernel answers only within the caller's view: asking for an owner or
//! parent outside the caller's own user or pid namespace gives EPERM, which
//! is why the initial namespaces have no visible owner or parent.
//!
//! A socket knows its network namespace too: `SIOCGSKNS` on a socket gives a
//! descriptor on the namespace the socket was created in.

use nix::sys::stat::fstat;
use nslab::{Error, Result};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

// The requests, as `nix` wraps them: each macro defines an unsafe function
// that calls ioctl(2) and turns -1 into an errno.
nix::ioctl_none_bad!(ns_get_userns, libc::NS_GET_USERNS);
nix::ioctl_none_bad!(ns_get_parent, libc::NS_GET_PARENT);
nix::ioctl_none_bad!(ns_get_nstype, libc::NS_GET_NSTYPE);
nix::ioctl_read_bad!(ns_get_owner_uid, libc::NS_GET_OWNER_UID, libc::uid_t);
/// `SIOCGSKNS` from <linux/sockios.h> (Linux 4.10); not in the libc crate.
const SIOCGSKNS: libc::Ioctl = 0x894C;
nix::ioctl_none_bad!(sock_get_netns, SIOCGSKNS);

/// An ioctl's result: a new file descriptor, which we now own.
fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: the kernel just returned this descriptor to us, and nothing
    // else refers to it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

// ANCHOR: ioctls
/// The user namespace that owns the namespace `ns` refers to.
pub fn owner(ns: BorrowedFd) -> nix::Result<OwnedFd> {
    // TODO: call ns_get_userns (unsafe: it is a raw ioctl) on ns's raw fd,
    // and wrap the descriptor it returns with owned().
    Err(nix::errno::Errno::ENOSYS) // TODO: NS_GET_USERNS
}

/// The parent of the pid or user namespace `ns` refers to.
pub fn parent(ns: BorrowedFd) -> nix::Result<OwnedFd> {
    // TODO: the same with ns_get_parent.
    Err(nix::errno::Errno::ENOSYS) // TODO: NS_GET_PARENT
}

/// The type of the namespace `ns` refers to, as its `CLONE_NEW*` value.
pub fn nstype(ns: BorrowedFd) -> nix::Result<libc::c_int> {
    // TODO: ns_get_nstype returns the value itself, not a descriptor.
    Err(nix::errno::Errno::ENOSYS) // TODO: NS_GET_NSTYPE
}

/// The uid (in our user namespace) of the creator of the user namespace
/// `ns` refers to.
pub fn owner_uid(ns: BorrowedFd) -> nix::Result<libc::uid_t> {
    // TODO: ns_get_owner_uid writes the uid through a pointer: pass
    // &mut uid and return it.
    Err(nix::errno::Errno::ENOSYS) // TODO: NS_GET_OWNER_UID
}

/// The network namespace a socket was created in.
pub fn socket_netns(socket: BorrowedFd) -> nix::Result<OwnedFd> {
    // TODO: sock_get_netns (SIOCGSKNS) on the socket's raw fd.
    Err(nix::errno::Errno::ENOSYS) // TODO: SIOCGSKNS
}
// ANCHOR_END: ioctls

/// `[Device,Inode]: [D,I]`: the identity of the namespace `fd` refers to.
pub fn identity(fd: &OwnedFd) -> Result<String> {
    let meta = fstat(fd).map_err(|errno| Error::sys("fstat()", errno))?;
    Ok(format!("[Device,Inode]: [{},{}]", meta.st_dev, meta.st_ino))
}

/// Open `/proc/PID/ns/TYPE` (the article's `open(PATH): 'strerror' (errno)`).
pub fn open_ns(path: &str) -> Result<OwnedFd> {
    use nix::fcntl::{OFlag, open};
    open(
        path,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|errno| Error::sys(format!("open({path})"), errno))
}

/// Run `query` on each namespace of PID named on the command line, printing
/// `/proc/PID/ns/TYPE <what> [Device,Inode]: [D,I]`, or the article's
/// `ioctl(PATH, REQUEST): 'strerror' (errno)` and going on with the next.
/// Exit status 1 when any query failed.
pub fn for_each_namespace(
    request: &str,
    what: &str,
    query: fn(BorrowedFd) -> nix::Result<OwnedFd>,
) -> Result<u8> {
    use std::os::fd::AsFd;
    let (pid, list) = nslab::parse_pid_and_types(&nslab::args(), "First parameter")?;
    let mut status = 0;
    for ns in list {
        let path = ns.proc_path(&pid);
        let fd = open_ns(&path)?;
        match query(fd.as_fd()) {
            Ok(answer) => println!("{path} {what} {}", identity(&answer)?),
            Err(errno) => {
                eprintln!(
                    "{}",
                    Error::sys(format!("ioctl({path}, {request})"), errno).message()
                );
                status = 1;
            }
        }
    }
    Ok(status)
}
