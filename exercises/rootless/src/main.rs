//! Step 9 — `rootless [--uid ID] [--gid ID] [--rootfs DIR] [--hostname NAME] [CMD ARGS…]`:
//! the container of step 7, started by a user with no privilege at all.
//!
//! The container step needs root: clone(2) creates a pid, mount, uts or ipc
//! namespace only for a caller with CAP_SYS_ADMIN in its user namespace.
//! Here the child gets a new *user* namespace too, in the same clone(2):
//! the kernel creates it first (copy_creds() before copy_namespaces() in
//! kernel/fork.c), the others are owned by it, and the child has every
//! capability in it (user_namespaces(7)). Those capabilities count only
//! for what the new namespaces govern: the child's hostname, its mounts,
//! its processes; nothing of the host.
//!
//! A new user namespace maps no id: the child's uid is unmapped, and every
//! call that returns it says 65534 (the overflow uid). The parent, which
//! stays in the host's user namespace, writes the maps:
//!
//! 1. clone the child with CLONE_NEWUSER added to the container's flags;
//! 2. write "deny" to /proc/PID/setgroups, then "0 UID 1" to
//!    /proc/PID/uid_map and "0 GID 1" to /proc/PID/gid_map: uid and gid 0
//!    inside are the caller's own uid and gid outside;
//! 3. tell the child, through a pipe.
//!
//! The child waits on that pipe before it does anything: until its uid 0
//! is mapped, an execve(2) would drop every capability, and the command
//! would run as 65534. Then it becomes the container of step 7.

use container::{child_main, clone_container, namespaces, wait_container};
use nix::sched::CloneFlags;
use nix::unistd::Pid;
use nslab::{Error, Result, program_name};
use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let options = Options::parse()?;
    options.container.check()?;
    let (ready_read, ready_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|errno| Error::sys("pipe()", errno))?;
    let (read_fd, write_fd) = (ready_read.as_raw_fd(), ready_write.as_raw_fd());

    let child = clone_container(
        flags(),
        Box::new(|| {
            // The child has its own copy of both ends: closing its write
            // end lets it see end-of-file should the parent fail or die.
            let _ = nix::unistd::close(write_fd);
            match wait_for_parent(read_fd) {
                Ok(()) => child_main(&options.container),
                Err(err) => {
                    err.report();
                    1
                }
            }
        }),
    )?;
    drop(ready_read);

    let mapped = map_ids(child, options.uid, options.gid);
    match &mapped {
        // Done: one byte tells the child to go on.
        Ok(()) => tell_child(ready_write),
        // Refused: closing the pipe without a byte tells the child to stop.
        Err(_) => drop(ready_write),
    }
    let code = wait_container(child);
    mapped.map_err(|err| Error::msg(format!("{}: {}", program_name(), err.message())))?;
    code
}

// ANCHOR: flags
/// The container's namespaces, and a new user namespace that owns them.
fn flags() -> CloneFlags {
    // TODO: the container's flags, namespaces(), and CLONE_NEWUSER. In one
    // clone(2), the user namespace is created first and owns the others:
    // the child has CAP_SYS_ADMIN over them, its parent needs none.
    namespaces()
}
// ANCHOR_END: flags

// ANCHOR: maps
/// Map uid 0 and gid 0 of the child's user namespace to `uid` and `gid`
/// of ours, the caller's own by default.
///
/// Without privilege, the kernel accepts one line only, mapping the
/// writer's own effective id, and for gid_map only once setgroups(2) is
/// denied in the namespace: otherwise root inside could drop the caller's
/// groups, and read a file that denies them access
/// (kernel/user_namespace.c: new_idmap_permitted()).
fn map_ids(child: Pid, uid: u32, gid: u32) -> Result<()> {
    // TODO: with write_proc(), "deny" to setgroups first; then the line
    // "0 UID 1" to uid_map (first id inside, first id outside, how many:
    // uid 0 inside is `uid` outside, one id), and "0 GID 1" to gid_map.
    let _ = (child, uid, gid); // TODO: setgroups, uid_map, gid_map
    Ok(())
}

/// Write `text` to /proc/PID/`file` in one write(2), as the kernel wants
/// it: from offset 0, less than a page, once (a map is written once only).
fn write_proc(child: Pid, file: &str, text: &str) -> Result<()> {
    let path = format!("/proc/{child}/{file}");
    let mut proc_file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|err| Error::io(format!("open({path})"), &err))?;
    proc_file
        .write_all(text.as_bytes())
        .map_err(|err| Error::io(format!("write({path}, \"{text}\")"), &err))
}
// ANCHOR_END: maps

// ANCHOR: sync
/// Parent: one byte down the pipe, and the child goes on.
fn tell_child(ready: OwnedFd) {
    // TODO: write one byte to the pipe (nix::unistd::write), then let
    // `ready` drop, which closes it.
    let _ = ready; // TODO: tell the child
}

/// Child: wait until the parent has written its byte, which it does once
/// the maps are written; end-of-file without it means the parent failed.
fn wait_for_parent(ready: std::os::fd::RawFd) -> Result<()> {
    let mut byte = [0u8; 1];
    // TODO: read(2) one byte from the pipe (nix::unistd::read); 1 byte
    // read: the maps are written. 0 (end of file): return an error.
    let _ = (ready, byte); // TODO: wait for the parent
    Ok(())
}
// ANCHOR_END: sync

/// The command line: the container's options and command, and the ids
/// outside that root inside maps to.
#[derive(Debug)]
struct Options {
    uid: u32,
    gid: u32,
    container: container::Options,
}

impl Options {
    fn parse() -> Result<Options> {
        Self::parse_from(std::env::args_os().skip(1))
    }

    fn parse_from(args: impl IntoIterator<Item = OsString>) -> Result<Options> {
        use lexopt::prelude::*;
        let usage = || {
            Error::msg(format!(
                "Usage: {} [--uid ID] [--gid ID] [--rootfs DIR] [--hostname NAME] [CMD ARGS...]",
                program_name()
            ))
        };
        let bad = |err: lexopt::Error| Error::msg(format!("{}: {err}", program_name()));
        let id = |option: &str, value: OsString| {
            value
                .to_str()
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or_else(|| {
                    Error::msg(format!(
                        "{}: {option} takes a number, not '{}'",
                        program_name(),
                        nslab::shown(&value)
                    ))
                })
        };
        // The caller's effective ids: the kernel compares the map with the
        // writer's effective ids, and records the creator's as the owner.
        let mut options = Options {
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
            // The container step's defaults: ./rootfs, container, /bin/sh.
            container: container::Options::parse_from(std::iter::empty())?,
        };
        let mut command = Vec::new();
        let mut parser = lexopt::Parser::from_args(args);
        while let Some(arg) = parser.next().map_err(bad)? {
            match arg {
                Long("uid") => options.uid = id("--uid", parser.value().map_err(bad)?)?,
                Long("gid") => options.gid = id("--gid", parser.value().map_err(bad)?)?,
                Long("rootfs") => options.container.rootfs = parser.value().map_err(bad)?.into(),
                Long("hostname") => options.container.hostname = parser.value().map_err(bad)?,
                Short('h') | Long("help") => return Err(usage()),
                Value(first) => {
                    command.push(first);
                    command.extend(parser.raw_args().map_err(bad)?);
                }
                other => return Err(bad(other.unexpected())),
            }
        }
        if !command.is_empty() {
            options.container.command = command;
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        Options::parse_from(args.iter().map(OsString::from))
    }

    #[test]
    fn ids_default_to_the_callers() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.uid, nix::unistd::geteuid().as_raw());
        assert_eq!(o.gid, nix::unistd::getegid().as_raw());
        assert_eq!(o.container.command, ["/bin/sh"]);
    }

    #[test]
    fn options_stop_at_the_command() {
        let o = parse(&[
            "--uid", "0", "--gid=7", "--rootfs", "/r", "id", "--uid", "x",
        ])
        .unwrap();
        assert_eq!((o.uid, o.gid), (0, 7));
        assert_eq!(o.container.rootfs, std::path::PathBuf::from("/r"));
        assert_eq!(o.container.command, ["id", "--uid", "x"]);
    }

    #[test]
    fn bad_ids_are_one_line() {
        let err = parse(&["--uid", "root"]).unwrap_err();
        assert!(
            err.message().ends_with("--uid takes a number, not 'root'"),
            "{}",
            err.message()
        );
        assert!(parse(&["--gid", "-1"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
