//! Step 3 — `clonens NS…`: a child process in new namespaces.
//!
//! clone(2) creates a process like fork(2), but its flags choose what the
//! child shares with its parent. Each `CLONE_NEW*` flag gives the child a
//! new namespace of that type instead of its parent's. The child here only
//! waits (for a signal); the parent prints its PID, so that another shell can
//! look at it (`cmpns $$ PID`), and waits for it to end.
//!
//! The time namespace is the exception, and our one difference from the
//! article's program: its flag, CLONE_NEWTIME (0x80), lies in the low byte
//! of clone(2)'s flags, which holds the signal the child sends its parent
//! when it dies, so clone(2) cannot take it. clone3(2) (Linux 5.3) takes the
//! signal in a field of its own and accepts CLONE_NEWTIME among the flags:
//! when `time` is asked for, we create the child with clone3(2) instead,
//! with the same flags, so that every namespace, the time namespace
//! included, is created with the child, in one call, and owned by the
//! child's new user namespace if there is one. (Unsharing the time
//! namespace in the parent first would make it belong to the parent's user
//! namespace, and need privilege there.)

use nix::sched::{CloneFlags, clone};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use nslab::{Error, Ns, Result, parse_ns_name, program_name};

/// The child's stack. clone(2) runs the child on memory we provide.
const STACK_SIZE: usize = 1024 * 1024;

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let args = nslab::args();
    if args.is_empty() {
        return Err(Error::msg(format!(
            "Usage: {} ns_name1 ns_name2...",
            program_name()
        )));
    }
    let mut wanted = Vec::new();
    for name in &args {
        wanted.push(parse_ns_name(name, "Bad namespace name")?);
    }

    let flags = Ns::flags(&wanted);
    let child = match wanted.contains(&Ns::Time) {
        true => clone3_child(flags)?,
        false => clone_child(flags)?,
    };
    println!("Created process {child} in requested namespaces");

    waitpid(child, None).map_err(|errno| Error::sys(format!("waitpid({child})"), errno))?;
    Ok(0)
}

/// What the child runs: wait until a signal ends it. Should we die first,
/// the kernel sends it SIGKILL (no orphan left behind).
fn child() -> isize {
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    nix::unistd::pause();
    0
}

// ANCHOR: clone
/// Start a child in new namespaces of the types in `flags`; it waits for a
/// signal. Returns its PID, as seen from our PID namespace.
fn clone_child(flags: libc::c_int) -> Result<Pid> {
    let mut stack = vec![0u8; STACK_SIZE];
    let child_main = Box::new(child);
    // TODO: call nix::sched::clone with child_main, the stack, the
    // namespace flags (CloneFlags::from_bits_retain(flags)) and SIGCHLD as
    // the signal the child sends us when it dies, so that waitpid() works.
    // Report a failure as `clone(0xFLAGS): 'strerror' (errno)`.
    Err(Error::msg("TODO: clone(2) the child"))
}
// ANCHOR_END: clone

/// The same with clone3(2), which also takes CLONE_NEWTIME. Without a stack
/// of ours, clone3 returns twice, as fork(2) does: the child's PID in the
/// parent, 0 in the child, which runs on a copy of our memory.
fn clone3_child(flags: libc::c_int) -> Result<Pid> {
    let args = libc::clone_args {
        flags: flags as u64,
        exit_signal: libc::SIGCHLD as u64,
        // SAFETY: all zeroes is "no pidfd, no stack, no TLS..." for the rest.
        ..unsafe { std::mem::zeroed() }
    };
    // SAFETY: the kernel reads `args` (its size tells which fields there
    // are); the program is single-threaded, so the child may run any code.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const libc::clone_args,
            std::mem::size_of::<libc::clone_args>(),
        )
    };
    match pid {
        -1 => Err(Error::last(format!("clone3(0x{flags:x})"))),
        0 => {
            child();
            // SAFETY: the child ends here, without running our exit code.
            unsafe { libc::_exit(0) }
        }
        pid => Ok(Pid::from_raw(pid as libc::pid_t)),
    }
}
