//! Step 3 — `clonens NS…`: a child process in new namespaces.
//!
//! clone(2) creates a process like fork(2), but its flags choose what the
//! child shares with its parent. Each `CLONE_NEW*` flag gives the child a
//! new namespace of that type instead of its parent's. The child here only
//! waits (for a signal); the parent prints its PID, so that another shell can
//! look at it (`cmpns $$ PID`), and waits for it to end.
//!
//! The time namespace is the exception: its flag, CLONE_NEWTIME (0x80), lies
//! in the low byte of clone(2)'s flags, which holds the signal the child
//! sends its parent when it dies, so clone(2) cannot take it. As with PID
//! namespaces, unshare(CLONE_NEWTIME) moves the caller's *children* into a
//! new time namespace: we do that first, and the child is born in it.

use nix::sched::{CloneFlags, clone, unshare};
use nix::sys::wait::waitpid;
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

    if wanted.contains(&Ns::Time) {
        unshare(CloneFlags::from_bits_retain(Ns::Time.flag()))
            .map_err(|errno| Error::sys(format!("unshare(0x{:x})", Ns::Time.flag()), errno))?;
    }
    let others: Vec<Ns> = wanted.into_iter().filter(|ns| *ns != Ns::Time).collect();
    let child = clone_child(Ns::flags(&others))?;
    println!("Created process {child} in requested namespaces");

    waitpid(child, None).map_err(|errno| Error::sys(format!("waitpid({child})"), errno))?;
    Ok(0)
}

// ANCHOR: clone
/// Start a child in new namespaces of the types in `flags`; it waits for a
/// signal. Returns its PID, as seen from our PID namespace.
fn clone_child(flags: libc::c_int) -> Result<nix::unistd::Pid> {
    let mut stack = vec![0u8; STACK_SIZE];
    // What the child runs: wait until a signal ends it. Should we die
    // first, the kernel sends it SIGKILL (no orphan left behind).
    let child_main = Box::new(|| -> isize {
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
        nix::unistd::pause();
        0
    });
    // TODO: call nix::sched::clone with child_main, the stack, the
    // namespace flags (CloneFlags::from_bits_retain(flags)) and SIGCHLD as
    // the signal the child sends us when it dies, so that waitpid() works.
    // Report a failure as `clone(0xFLAGS): 'strerror' (errno)`.
    // @solution
    let signal = Some(nix::sys::signal::Signal::SIGCHLD as libc::c_int);
    // SAFETY: the child runs child_main on its own stack and touches
    // nothing of ours but what the closure owns.
    unsafe {
        clone(
            child_main,
            &mut stack,
            CloneFlags::from_bits_retain(flags),
            signal,
        )
    }
    .map_err(|errno| Error::sys(format!("clone(0x{flags:x})"), errno))
    // @exercise
    // Err(Error::msg("TODO: clone(2) the child"))
    // @end
}
// ANCHOR_END: clone
