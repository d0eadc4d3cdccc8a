//! The eight namespace types of Linux 6.1, in one table.
//!
//! Each type has a name (the file in `/proc/PID/ns/`), the `CLONE_NEW*` flag
//! that clone(2), unshare(2) and setns(2) use for it, and the order in which
//! the article's programs list it. The article's programs know seven types:
//! the time namespace (Linux 5.6) came later, and we add it to every list.

use std::os::unix::fs::MetadataExt;

/// One namespace type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ns {
    Cgroup,
    Ipc,
    Mnt,
    Net,
    Pid,
    Time,
    User,
    Uts,
}

/// The orders in which the article's programs walk the namespace types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NsOrder {
    /// `cmpns`: alphabetical (cgroup, ipc, mnt, net, pid, time, user, uts).
    Alphabetical,
    /// `idns`, `ownerns`, `parentns`: as the alphabet, but `uts` before `user`.
    Listing,
    /// `execns` and `shns`: ipc, pid, net, user, uts, cgroup, time, mnt.
    /// The mount namespace comes last: once we are in another mount
    /// namespace, `/proc/PID/ns/*` may no longer lead where it did.
    Enter,
}

impl Ns {
    /// Every type, alphabetically.
    pub const ALL: [Ns; 8] = [
        Ns::Cgroup,
        Ns::Ipc,
        Ns::Mnt,
        Ns::Net,
        Ns::Pid,
        Ns::Time,
        Ns::User,
        Ns::Uts,
    ];

    /// Every type, in the given order.
    pub fn all(order: NsOrder) -> [Ns; 8] {
        use Ns::*;
        match order {
            NsOrder::Alphabetical => Self::ALL,
            NsOrder::Listing => [Cgroup, Ipc, Mnt, Net, Pid, Time, Uts, User],
            NsOrder::Enter => [Ipc, Pid, Net, User, Uts, Cgroup, Time, Mnt],
        }
    }

    /// The name used on command lines and in `/proc/PID/ns/NAME`.
    pub fn name(self) -> &'static str {
        match self {
            Ns::Cgroup => "cgroup",
            Ns::Ipc => "ipc",
            Ns::Mnt => "mnt",
            Ns::Net => "net",
            Ns::Pid => "pid",
            Ns::Time => "time",
            Ns::User => "user",
            Ns::Uts => "uts",
        }
    }

    /// The `CLONE_NEW*` flag of this type, as the kernel defines it.
    pub fn flag(self) -> libc::c_int {
        match self {
            Ns::Cgroup => libc::CLONE_NEWCGROUP,
            Ns::Ipc => libc::CLONE_NEWIPC,
            Ns::Mnt => libc::CLONE_NEWNS,
            Ns::Net => libc::CLONE_NEWNET,
            Ns::Pid => libc::CLONE_NEWPID,
            Ns::Time => libc::CLONE_NEWTIME,
            Ns::User => libc::CLONE_NEWUSER,
            Ns::Uts => libc::CLONE_NEWUTS,
        }
    }

    /// The name of the flag, as in `<sched.h>`.
    pub fn flag_name(self) -> &'static str {
        match self {
            Ns::Cgroup => "CLONE_NEWCGROUP",
            Ns::Ipc => "CLONE_NEWIPC",
            Ns::Mnt => "CLONE_NEWNS",
            Ns::Net => "CLONE_NEWNET",
            Ns::Pid => "CLONE_NEWPID",
            Ns::Time => "CLONE_NEWTIME",
            Ns::User => "CLONE_NEWUSER",
            Ns::Uts => "CLONE_NEWUTS",
        }
    }

    /// The namespace type whose `CLONE_NEW*` value is `flag` (what the
    /// NS_GET_NSTYPE ioctl returns).
    pub fn from_flag(flag: libc::c_int) -> Option<Ns> {
        Self::ALL.into_iter().find(|ns| ns.flag() == flag)
    }

    /// The type called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Ns> {
        Self::ALL.into_iter().find(|ns| ns.name() == name)
    }

    /// `/proc/PID/ns/NAME`: the handle on a process's namespace of this type.
    /// `pid` is kept as the user wrote it (a number, or `self`).
    pub fn proc_path(self, pid: &str) -> String {
        format!("/proc/{pid}/ns/{}", self.name())
    }

    /// The identity of a namespace: the device and inode of its nsfs file.
    /// stat(2) follows the `/proc/PID/ns/NAME` symbolic link to the nsfs
    /// inode; lstat(2) would describe the link itself.
    pub fn identity(self, pid: &str) -> crate::Result<(u64, u64)> {
        let path = self.proc_path(pid);
        match std::fs::metadata(&path) {
            Ok(meta) => Ok((meta.dev(), meta.ino())),
            Err(err) => Err(crate::Error::io(format!("stat({path})"), &err)),
        }
    }

    /// Combine the flags of several types, as clone(2) and unshare(2) take them.
    pub fn flags(list: &[Ns]) -> libc::c_int {
        list.iter().fold(0, |flags, ns| flags | ns.flag())
    }
}

impl std::fmt::Display for Ns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order_lists_every_type_once() {
        for order in [NsOrder::Alphabetical, NsOrder::Listing, NsOrder::Enter] {
            let mut list = Ns::all(order).to_vec();
            list.sort_by_key(|ns| ns.name());
            assert_eq!(list, Ns::ALL.to_vec(), "{order:?}");
        }
    }

    #[test]
    fn enter_order_puts_mnt_last() {
        assert_eq!(Ns::all(NsOrder::Enter)[7], Ns::Mnt);
    }

    #[test]
    fn flags_are_distinct_and_round_trip() {
        for ns in Ns::ALL {
            assert_eq!(Ns::from_flag(ns.flag()), Some(ns));
            assert_eq!(Ns::from_name(ns.name()), Some(ns));
        }
        assert_eq!(Ns::flags(&Ns::ALL).count_ones(), 8);
        assert_eq!(Ns::Time.flag(), 0x80);
        assert_eq!(Ns::Mnt.flag(), 0x20000);
    }
}
