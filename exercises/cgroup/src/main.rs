//! Step 12 — `limitcontainer [--pids N] [--memory SIZE] [--rootfs DIR]
//! [--hostname NAME] [CMD ARGS…]`: the container of step 10 in a cgroup v2
//! of its own, with limits it cannot escape, and a cgroup namespace rooted
//! there.
//!
//! A cgroup is a directory of the cgroup2 filesystem (mounted on
//! /sys/fs/cgroup); its files are the kernel's interface, written and read
//! as text. The parent:
//!
//! 1. checks that /sys/fs/cgroup is a cgroup2 filesystem, and finds its own
//!    cgroup in /proc/self/cgroup (`0::/PATH`);
//! 2. enables the pids and memory controllers for the children of that
//!    cgroup (`+pids +memory` into its `cgroup.subtree_control`): only then
//!    does a child cgroup have `pids.max` and `memory.max`;
//! 3. creates the container's cgroup (a mkdir, named after the container's
//!    hostname), and writes its limits into `pids.max` and `memory.max`;
//! 4. clones the child with clone3(2) and `CLONE_INTO_CGROUP`: the child is
//!    born in the container's cgroup, so that nothing it runs ever runs
//!    outside the limits (no pipe to wait on, unlike steps 8 and 9);
//! 5. waits for it, says what the limits did (`memory.events`,
//!    `pids.events`) and removes the cgroup (`cgroup.kill` first, should
//!    anything still be in it).
//!
//! The same clone3 gives the child a new cgroup namespace
//! (`CLONE_NEWCGROUP`), which the kernel roots at the cgroup the child is
//! born in: inside, /proc/self/cgroup reads `0::/` and a cgroup2 mount
//! shows the container's own cgroup at its top. The child then becomes
//! step 10's container (pivot_root, /proc, exec).

use container::{Options, namespaces, wait_container};
use nix::sched::CloneFlags;
use nix::sys::statfs::{CGROUP2_SUPER_MAGIC, statfs};
use nix::unistd::Pid;
use nslab::{Error, Result, program_name, shown};
use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where a host mounts the cgroup2 filesystem (systemd does, at boot).
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// clone3(2)'s flag (include/uapi/linux/sched.h, Linux 5.7): `cgroup` is a
/// file descriptor of the cgroup the child is born in. Above 32 bits:
/// clone(2)'s flags argument is an int, only clone3's is 64 bits wide.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// The controllers a container's cgroup needs, as `cgroup.subtree_control`
/// takes them.
const CONTROLLERS: &str = "+pids +memory";

/// The container's limits; `None` leaves the kernel's default, `max`.
#[derive(Debug, Default, PartialEq)]
struct Limits {
    /// At most this many processes (and threads) in the cgroup: pids.max.
    pids: Option<u64>,
    /// At most this many bytes of memory charged to the cgroup: memory.max.
    memory: Option<u64>,
}

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let (options, limits) = parse(std::env::args_os().skip(1))?;
    options.check()?;
    let name = cgroup_name(&options.hostname)?;
    let parent = parent_cgroup()?;
    let cgroup = create_cgroup(&parent, name, &limits)?;
    // From here on the cgroup exists: whatever happens, remove it.
    let ran = run_in(&cgroup, &options);
    let removed = remove_cgroup(&cgroup);
    let code = ran?;
    removed?;
    Ok(code)
}

/// Clone the container into `cgroup`, wait for it, say what the limits did.
fn run_in(cgroup: &Path, options: &Options) -> Result<u8> {
    let directory = std::fs::File::open(cgroup)
        .map_err(|err| Error::io(format!("open({})", shown(cgroup.as_os_str())), &err))?;
    let child = clone_into(directory.into(), options)?;
    let code = wait_container(child)?;
    report_events(cgroup);
    Ok(code)
}

/// The command line: step 7's, with `--pids N` and `--memory SIZE` before
/// the command.
fn parse(args: impl IntoIterator<Item = OsString>) -> Result<(Options, Limits)> {
    use lexopt::prelude::*;
    let usage = || {
        Error::msg(format!(
            "Usage: {} [--pids N] [--memory SIZE] [--rootfs DIR] [--hostname NAME] [CMD ARGS...]",
            program_name()
        ))
    };
    let bad = |err: lexopt::Error| Error::msg(format!("{}: {err}", program_name()));
    let mut options = Options {
        rootfs: PathBuf::from("rootfs"),
        hostname: "container".into(),
        command: Vec::new(),
    };
    let mut limits = Limits::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(bad)? {
        match arg {
            Long("pids") => limits.pids = Some(parse_pids(&parser.value().map_err(bad)?)?),
            Long("memory") => limits.memory = Some(parse_size(&parser.value().map_err(bad)?)?),
            Long("rootfs") => options.rootfs = parser.value().map_err(bad)?.into(),
            Long("hostname") => options.hostname = parser.value().map_err(bad)?,
            Short('h') | Long("help") => return Err(usage()),
            Value(first) => {
                options.command.push(first);
                options.command.extend(parser.raw_args().map_err(bad)?);
            }
            other => return Err(bad(other.unexpected())),
        }
    }
    if options.command.is_empty() {
        options.command.push("/bin/sh".into());
    }
    Ok((options, limits))
}

/// `--pids N`: a whole number from 1 up. The kernel would take 0 (no fork
/// at all, not even the container's command) and refuses what is not a
/// number, negative, or above its own maximum (EINVAL): the first three we
/// refuse here, the last is the kernel's to say.
fn parse_pids(value: &std::ffi::OsStr) -> Result<u64> {
    match value.to_str().and_then(|s| s.parse::<u64>().ok()) {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(Error::msg(format!(
            "{}: --pids takes a number of processes from 1 up, not '{}'",
            program_name(),
            shown(value)
        ))),
    }
}

/// `--memory SIZE`: bytes, or a number with a K, M or G suffix (powers of
/// 1024, as the kernel's memparse() reads them). memory.max takes bytes.
fn parse_size(value: &std::ffi::OsStr) -> Result<u64> {
    let bytes = value.to_str().and_then(|s| {
        let (digits, shift) = match s.char_indices().last()? {
            (i, 'k' | 'K') => (&s[..i], 10),
            (i, 'm' | 'M') => (&s[..i], 20),
            (i, 'g' | 'G') => (&s[..i], 30),
            _ => (s, 0),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u64>().ok()?.checked_mul(1 << shift)
    });
    match bytes {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(Error::msg(format!(
            "{}: --memory takes a size in bytes, with an optional K, M or G suffix, not '{}'",
            program_name(),
            shown(value)
        ))),
    }
}

/// The container's cgroup is named after its hostname: one path component.
fn cgroup_name(hostname: &std::ffi::OsStr) -> Result<&std::ffi::OsStr> {
    let bytes = hostname.as_bytes();
    if bytes.contains(&b'/') || bytes == b"." || bytes == b".." {
        return Err(Error::msg(format!(
            "{}: the hostname '{}' cannot name a cgroup (a cgroup's name has no '/' and is not . or ..)",
            program_name(),
            shown(hostname)
        )));
    }
    Ok(hostname)
}

/// The directory of our own cgroup: CGROUP_ROOT, which must be a cgroup2
/// filesystem, and the path of /proc/self/cgroup's `0::` line (the v2
/// hierarchy's; a host that still mounts v1 hierarchies lists them too).
fn parent_cgroup() -> Result<PathBuf> {
    let mounted = statfs(CGROUP_ROOT).is_ok_and(|fs| fs.filesystem_type() == CGROUP2_SUPER_MAGIC);
    if !mounted {
        return Err(Error::msg(format!(
            "{}: no cgroup2 filesystem mounted on {CGROUP_ROOT} (mount -t cgroup2 none {CGROUP_ROOT})",
            program_name()
        )));
    }
    let text = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|err| Error::io("read(/proc/self/cgroup)", &err))?;
    let path = text
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .ok_or_else(|| {
            Error::msg(format!(
                "{}: no cgroup v2 line in /proc/self/cgroup",
                program_name()
            ))
        })?;
    Ok(Path::new(CGROUP_ROOT).join(path.trim_start_matches('/')))
}

/// Write `value` into the cgroup file `path`, as `echo value > path` does:
/// one write(2). The file is opened without O_CREAT (std::fs::write would
/// add it): a cgroup file that does not exist is ENOENT, which says that
/// its controller is not enabled, where a creation would say EACCES.
fn write_file(path: &Path, value: &str) -> Result<()> {
    let call = || format!("write({}, {value})", shown(path.as_os_str()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|err| Error::io(call(), &err))?;
    file.write_all(value.as_bytes())
        .map_err(|err| Error::io(call(), &err))
}

// ANCHOR: create
/// Create the container's cgroup, `name`, below `parent` (our own cgroup),
/// and write its limits. Should a limit be refused, the cgroup is removed
/// again: nothing is left.
fn create_cgroup(parent: &Path, name: &std::ffi::OsStr, limits: &Limits) -> Result<PathBuf> {
    let cgroup = parent.join(name);
    let shown_cgroup = shown(cgroup.as_os_str());
    // TODO: first make the pids and memory controllers available to the
    // children of `parent`: write CONTROLLERS ("+pids +memory") into the
    // parent's cgroup.subtree_control, with write_file(&parent.join(...),
    // ...). (The kernel refuses with ENOENT a controller that the parent
    // itself does not have, listed in its cgroup.controllers, and with
    // EBUSY the memory controller of a non-root cgroup that has processes
    // of its own.) Then create the directory (std::fs::create_dir; name the
    // call "mkdir(PATH)" in its error, Error::io), and, for each limit
    // given, write it with write_file: limits.pids into pids.max,
    // limits.memory into memory.max, both as decimal numbers (memory.max
    // counts bytes). Should a write fail, std::fs::remove_dir(&cgroup)
    // before you return its error.
    let _ = (shown_cgroup, limits);
    Err(Error::msg("TODO: create the container's cgroup"))
}
// ANCHOR_END: create

// ANCHOR: clone
/// Clone the container's init into the cgroup `directory` (an open file
/// descriptor of it), in step 7's new namespaces. Returns in the parent
/// only: the child becomes the container.
fn clone_into(directory: OwnedFd, options: &Options) -> Result<Pid> {
    // TODO: clone3(2) has no wrapper: fill a libc::clone_args (all zeros
    // but flags, exit_signal and cgroup) and call
    // libc::syscall(libc::SYS_clone3, &mut args, size_of::<libc::clone_args>()).
    // flags: namespaces() with CloneFlags::CLONE_NEWCGROUP (as u64, .bits()),
    // and CLONE_INTO_CGROUP; exit_signal: SIGCHLD; cgroup: the directory's
    // descriptor (directory.as_raw_fd() as u64). The kernel roots the new
    // cgroup namespace at the cgroup the child is born in. With no stack
    // given, clone3 returns twice, as fork(2) does: the child's PID in the
    // parent, 0 in the child, which becomes the container
    // (pivot::child_main(options)) and leaves with libc::_exit(code).
    let _ = (directory, options); // TODO: clone3 into the cgroup
    let pid: libc::c_long = -1;
    if pid == -1 {
        return Err(Error::last("clone3()"));
    }
    println!(
        "{}: PID of child created by clone() is {pid}",
        program_name()
    );
    Ok(Pid::from_raw(pid as i32))
}
// ANCHOR_END: clone

/// What the limits did, one line each, when they did something: the
/// `oom_kill` count of memory.events (processes the OOM killer killed at
/// memory.max) and the `max` count of pids.events (forks refused at
/// pids.max).
fn report_events(cgroup: &Path) {
    for (file, key, what) in [
        (
            "memory.events",
            "oom_kill",
            "processes killed at memory.max",
        ),
        ("pids.events", "max", "forks refused at pids.max"),
    ] {
        let text = std::fs::read_to_string(cgroup.join(file)).unwrap_or_default();
        let count = text.lines().find_map(|line| {
            let (name, value) = line.split_once(' ')?;
            (name == key).then(|| value.parse::<u64>().ok())?
        });
        if let Some(count) = count.filter(|&n| n > 0) {
            println!("{}: {file}: {key} {count} ({what})", program_name());
        }
    }
}

// ANCHOR: remove
/// Remove the container's cgroup. Its init has ended, and with it its PID
/// namespace; but a process may have joined the cgroup from outside (any
/// root process can write a PID into cgroup.procs), and rmdir(2) of a
/// populated cgroup is EBUSY.
fn remove_cgroup(cgroup: &Path) -> Result<()> {
    let shown_cgroup = shown(cgroup.as_os_str());
    // TODO: when populated(cgroup) says so, write "1" into the cgroup's
    // cgroup.kill (write_file): the kernel sends SIGKILL to every process
    // in it. Print "{program_name()}: killed what was left in {shown_cgroup}
    // (cgroup.kill)", then wait_until_empty(cgroup). Then remove the
    // directory with std::fs::remove_dir, "rmdir(PATH)" in its error.
    let _ = shown_cgroup; // TODO: cgroup.kill if populated, then rmdir
    Ok(())
}
// ANCHOR_END: remove

/// Whether the cgroup has processes: `populated 1` in cgroup.events.
fn populated(cgroup: &Path) -> Result<bool> {
    let path = cgroup.join("cgroup.events");
    let text = std::fs::read_to_string(&path)
        .map_err(|err| Error::io(format!("read({})", shown(path.as_os_str())), &err))?;
    Ok(text.lines().any(|line| line == "populated 1"))
}

/// Wait until the processes that cgroup.kill killed have left the cgroup.
/// The kernel signals a change of cgroup.events to poll(2) as POLLPRI; a
/// read through the same descriptor rearms it, and each wait is 100 ms at
/// most.
fn wait_until_empty(cgroup: &Path) -> Result<()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::io::{Read, Seek};
    let path = cgroup.join("cgroup.events");
    let shown_path = shown(path.as_os_str());
    let mut events =
        std::fs::File::open(&path).map_err(|err| Error::io(format!("open({shown_path})"), &err))?;
    for _ in 0..100 {
        // Read through the descriptor that polls: kernfs reports POLLPRI
        // for a change since this descriptor last read the file (and at
        // once after open, before any read).
        let mut text = String::new();
        events
            .rewind()
            .and_then(|()| events.read_to_string(&mut text))
            .map_err(|err| Error::io(format!("read({shown_path})"), &err))?;
        if !text.lines().any(|line| line == "populated 1") {
            return Ok(());
        }
        let mut fds = [PollFd::new(
            std::os::fd::AsFd::as_fd(&events),
            PollFlags::POLLPRI,
        )];
        let _ = poll(&mut fds, PollTimeout::from(100u8));
    }
    Err(Error::msg(format!(
        "{}: {} still has processes after cgroup.kill",
        program_name(),
        shown(cgroup.as_os_str())
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<(Options, Limits)> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn limits_come_before_the_command() {
        let (o, l) = parsed(&["--pids", "10", "--memory=32M", "sh", "--pids", "3"]).unwrap();
        assert_eq!(
            l,
            Limits {
                pids: Some(10),
                memory: Some(32 << 20)
            }
        );
        assert_eq!(o.command, ["sh", "--pids", "3"]);
        let (_, l) = parsed(&[]).unwrap();
        assert_eq!(l, Limits::default());
    }

    #[test]
    fn sizes_are_bytes_or_suffixed() {
        let size = |s: &str| parse_size(std::ffi::OsStr::new(s)).ok();
        assert_eq!(size("4096"), Some(4096));
        assert_eq!(size("1k"), Some(1024));
        assert_eq!(size("2G"), Some(2 << 30));
        for bad in ["1x", "", "M", "-1", "0", "1.5M", "99999999999G"] {
            assert_eq!(size(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_limits_are_one_line() {
        for (args, said) in [
            (
                &["--pids", "0"][..],
                "--pids takes a number of processes from 1 up, not '0'",
            ),
            (&["--pids", "-1"], "not '-1'"),
            (&["--pids", "abc"], "not 'abc'"),
            (&["--memory", "1x"], "K, M or G suffix, not '1x'"),
        ] {
            let err = parsed(args).unwrap_err();
            assert!(err.message().contains(said), "{}", err.message());
            assert!(!err.message().contains('\n'));
        }
    }

    #[test]
    fn a_hostname_with_a_slash_names_no_cgroup() {
        for bad in ["a/b", ".", ".."] {
            assert!(cgroup_name(std::ffi::OsStr::new(bad)).is_err(), "{bad}");
        }
        assert!(cgroup_name(std::ffi::OsStr::new("box")).is_ok());
    }
}
