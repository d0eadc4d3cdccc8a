//! Step 7 — a container without Docker: new PID, mount, UTS and IPC
//! namespaces, a root filesystem of its own, and its own /proc.
//!
//! The parent clones a child into new namespaces; the child makes its mounts
//! private, names its UTS namespace, chroots into the root filesystem,
//! mounts a fresh /proc there and execs the command. Inside, `ps` sees the
//! command as PID 1 and nothing of the host.
//!
//! The pieces are a library so that the next step (veth networking) builds
//! on them.

use nix::mount::{MsFlags, mount};
use nix::sched::CloneFlags;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, chdir, chroot, execve, sethostname};
use nslab::{Error, Result, program_name, shown};
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The command line: `container [--rootfs DIR] [--hostname NAME] [CMD ARGS…]`.
/// Each is kept as the bytes it came as, as the kernel takes it (a path, a
/// hostname and an argv need not be UTF-8).
#[derive(Debug)]
pub struct Options {
    pub rootfs: PathBuf,
    pub hostname: OsString,
    pub command: Vec<OsString>,
}

impl Options {
    pub fn parse() -> Result<Options> {
        Self::parse_from(std::env::args_os().skip(1))
    }

    pub fn parse_from(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Options> {
        use lexopt::prelude::*;
        let usage = || {
            Error::msg(format!(
                "Usage: {} [--rootfs DIR] [--hostname NAME] [CMD ARGS...]",
                program_name()
            ))
        };
        let bad = |err: lexopt::Error| Error::msg(format!("{}: {err}", program_name()));
        let mut options = Options {
            rootfs: PathBuf::from("rootfs"),
            hostname: "container".into(),
            command: Vec::new(),
        };
        let mut parser = lexopt::Parser::from_args(args);
        while let Some(arg) = parser.next().map_err(bad)? {
            match arg {
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
        Ok(options)
    }

    /// Check, before any clone, that the root filesystem exists and holds the
    /// command: a mistake here is one clear line, not a half-made container.
    pub fn check(&self) -> Result<()> {
        if !self.rootfs.join(".").is_dir() {
            return Err(Error::msg(format!(
                "{}: the root filesystem {} is not a directory",
                program_name(),
                shown(self.rootfs.as_os_str())
            )));
        }
        let command = &self.command[0];
        if resolve_in(&self.rootfs, command).is_none() {
            return Err(Error::msg(format!(
                "{}: no command {} in the root filesystem {}",
                program_name(),
                shown(command),
                shown(self.rootfs.as_os_str())
            )));
        }
        if self.hostname.is_empty() || self.hostname.len() > 64 {
            return Err(Error::msg(format!(
                "{}: a hostname has 1 to 64 characters",
                program_name()
            )));
        }
        Ok(())
    }
}

/// Where `command` is inside `rootfs`: as given when it has a '/', else
/// searched in the PATH the container gets.
fn resolve_in(rootfs: &Path, command: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |inside: &Path| {
        let on_host = rootfs.join(inside.strip_prefix("/").unwrap_or(inside));
        std::fs::metadata(&on_host)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .then(|| inside.to_path_buf())
    };
    if command.as_bytes().contains(&b'/') {
        return executable(Path::new(command));
    }
    CONTAINER_PATH
        .split(':')
        .find_map(|dir| executable(&Path::new(dir).join(command)))
}

/// The PATH of the container's command.
pub const CONTAINER_PATH: &str = "/bin:/sbin:/usr/bin:/usr/sbin";

// ANCHOR: flags
/// The namespaces a container gets: its own PID numbering, mount table,
/// hostname and System V IPC.
pub fn namespaces() -> CloneFlags {
    // TODO: the union of CLONE_NEWPID, CLONE_NEWNS, CLONE_NEWUTS and
    // CLONE_NEWIPC (CloneFlags constants can be combined with |).
    CloneFlags::empty()
}
// ANCHOR_END: flags

/// Clone `child` into new namespaces (`flags`) on a stack of its own; the
/// child sends SIGCHLD when it ends. Prints the lab's line with its PID.
pub fn clone_container(flags: CloneFlags, child: Box<dyn FnMut() -> isize + '_>) -> Result<Pid> {
    let mut stack = vec![0u8; 1024 * 1024];
    let signal = Some(libc::SIGCHLD);
    // SAFETY: the child runs `child` on its own stack, in a copy of our
    // memory, and only execs or exits.
    let pid = unsafe { nix::sched::clone(child, &mut stack, flags, signal) }
        .map_err(|errno| Error::sys(format!("clone(0x{:x})", flags.bits()), errno))?;
    println!(
        "{}: PID of child created by clone() is {pid}",
        program_name()
    );
    Ok(pid)
}

/// In the child, after clone: set up the container and exec its command.
/// Returns only on failure, with the line to print.
pub fn enter_container(options: &Options) -> Error {
    match setup(options) {
        Ok(()) => exec(&options.command),
        Err(err) => err,
    }
}

// ANCHOR: setup
fn setup(options: &Options) -> Result<()> {
    // Our new mount namespace is a copy of the parent's, with the same
    // propagation: make every mount private first, so that nothing we mount
    // (the /proc below) appears in the parent's namespace.
    nslab::make_mounts_private()?;
    sethostname(&options.hostname).map_err(|errno| Error::sys("sethostname()", errno))?;
    let rootfs = shown(options.rootfs.as_os_str());
    // TODO: chroot(2) into options.rootfs, then chdir(2) to "/" (chroot
    // does not change the working directory, which would stay outside).
    // Then mount a new proc filesystem on /proc: mount(Some("proc"),
    // "/proc", Some("proc"), MsFlags::empty(), None::<&str>). It shows the
    // processes of our PID namespace, the mounting process's. A root
    // filesystem may have no /proc directory to mount on: create it first
    // with std::fs::create_dir("/proc"), and ignore its error (the
    // directory that exists already is fine; a real problem shows in the
    // mount's error).
    let _ = rootfs; // TODO: chroot, chdir and mount /proc
    Ok(())
}
// ANCHOR_END: setup

/// Exec the command, found in the container's PATH (we are inside the root
/// filesystem now), with a small fixed environment. The pivot step's
/// container execs its command the same way.
pub fn exec(command: &[OsString]) -> Error {
    let Some(path) = resolve_in(Path::new("/"), &command[0]) else {
        return Error::msg(format!(
            "no command {} in the container",
            shown(&command[0])
        ));
    };
    let cstring =
        |s: &[u8]| CString::new(s).map_err(|_| Error::msg("an argument contains a NUL byte"));
    let build = || -> Result<(CString, Vec<CString>, Vec<CString>)> {
        let argv = command
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Result<_>>()?;
        let env = [
            &format!("PATH={CONTAINER_PATH}"),
            "HOME=/root",
            "TERM=linux",
        ]
        .into_iter()
        .map(|var| cstring(var.as_bytes()))
        .collect::<Result<_>>()?;
        Ok((cstring(path.as_os_str().as_bytes())?, argv, env))
    };
    match build() {
        Ok((path, argv, env)) => {
            let errno = execve(&path, &argv, &env).unwrap_err();
            Error::sys(format!("execve({})", shown(&command[0])), errno)
        }
        Err(err) => err,
    }
}

/// The child's body: set up, exec; on failure print the line and exit 127.
/// Should the parent die first, the kernel kills the container's init (and
/// with it the whole PID namespace): nothing is left behind.
pub fn child_main(options: &Options) -> isize {
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    let err = enter_container(options);
    err.report();
    127
}

/// Wait for the container's init; say `terminating` as the lab's program
/// does. A command that failed makes us fail: its exit code, or 128 + the
/// signal that killed it, with a line saying so.
pub fn wait_container(child: Pid) -> Result<u8> {
    let status =
        waitpid(child, None).map_err(|errno| Error::sys(format!("waitpid({child})"), errno))?;
    println!("{}: terminating", program_name());
    let code = match status {
        WaitStatus::Exited(_, code) => code as u8,
        WaitStatus::Signaled(_, signal, _) => 128 + signal as u8,
        _ => 1,
    };
    if code != 0 {
        eprintln!(
            "{}: the container ended with {}",
            program_name(),
            nslab::status_line(status).replace("program's status: ", "status ")
        );
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        Options::parse_from(args.iter().map(std::ffi::OsString::from))
    }

    #[test]
    fn options_default_to_a_shell_in_rootfs() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.rootfs, PathBuf::from("rootfs"));
        assert_eq!(o.hostname, "container");
        assert_eq!(o.command, ["/bin/sh"]);
    }

    #[test]
    fn options_stop_at_the_command() {
        let o = parse(&["--rootfs", "/r", "--hostname=box", "ps", "--rootfs", "x"]).unwrap();
        assert_eq!(o.rootfs, PathBuf::from("/r"));
        assert_eq!(o.hostname, "box");
        assert_eq!(o.command, ["ps", "--rootfs", "x"]);
    }

    #[test]
    fn bad_options_are_one_line() {
        let err = parse(&["--bogus"]).unwrap_err();
        assert!(
            err.message().contains("invalid option '--bogus'"),
            "{}",
            err.message()
        );
        assert!(parse(&["--rootfs"]).is_err());
    }
}
