//! Step 4 — `execns PID[:NS[:NS…]] [PROGRAM ARGS…]`: run a program in
//! another process's namespaces.
//!
//! setns(2) moves the caller into the namespace an nsfs file descriptor
//! refers to, here one opened from `/proc/PID/ns/TYPE`. We enter each
//! namespace of PID that differs from ours (all types, or those listed after
//! the PID), then fork and exec PROGRAM (default `/bin/sh`) and report its
//! raw wait status, as the article does.
//!
//! Why fork: setns(CLONE_NEWPID), like unshare(CLONE_NEWPID), does not move
//! the caller, whose PID cannot change; it sets the PID namespace of the
//! caller's *future children*. Only the forked child runs inside.
//!
//! Order matters: every namespace file is opened before any is entered (once
//! in another mount namespace, /proc/PID may lead elsewhere), and the mount
//! namespace is entered last. The user namespace comes early: entering it
//! gives the capabilities needed to enter the namespaces it owns.

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use nslab::{Error, Ns, NsOrder, Result, must_exist, parse_ns_list, parse_pid, program_name};
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let args = nslab::args();
    let Some((target, program)) = args.split_first() else {
        return Err(Error::msg(format!(
            "Usage: {} pid:ns_name1:ns_name2... [program parameters]",
            program_name()
        )));
    };
    // PID:NAME:NAME...: split the bytes, which need not be UTF-8.
    let mut parts = target.as_bytes().split(|byte| *byte == b':');
    let pid = OsStr::from_bytes(parts.next().unwrap_or_default());
    let names: Vec<&OsStr> = parts
        .filter(|n| !n.is_empty())
        .map(OsStr::from_bytes)
        .collect();
    let wanted = parse_ns_list(&names, NsOrder::Enter, "Bad namespace name")?;
    let pid = parse_pid(pid, "Parameter")?;
    must_exist(&pid)?;

    // Open first, enter afterwards: see the module's comment.
    let mut to_enter = Vec::new();
    for ns in wanted {
        if ns.identity(&pid)? != ns.identity("self")? {
            let path = ns.proc_path(&pid);
            let fd = open(
                path.as_str(),
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|errno| Error::sys(format!("open({path})"), errno))?;
            to_enter.push((ns, fd));
        }
    }
    for (ns, fd) in to_enter {
        enter(ns, fd)?;
        println!("Moved into namespace {ns}");
    }

    nslab::run_and_report(program)
}

// ANCHOR: enter
/// Move into the namespace `fd` refers to.
fn enter(ns: Ns, fd: OwnedFd) -> Result<()> {
    // TODO: call nix::sched::setns(fd, CloneFlags) with the namespace's
    // flag: with a flag, the kernel checks that fd is a namespace of that
    // type (0 would accept any type). On failure return the article's line,
    // `Unable to enter into namespace 'TYPE' (strerror-errno)`.
    Err(Error::msg(format!("TODO: setns() into namespace '{ns}'")))
}
// ANCHOR_END: enter
