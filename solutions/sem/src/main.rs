//! Step 1 — `sem`: one System V semaphore key, two IPC namespaces.
//!
//! The program creates a semaphore set under the fixed key 0x12345 and waits.
//! A second copy started in the same IPC namespace cannot create it again;
//! a copy started in another IPC namespace can, because System V keys are
//! looked up in the caller's IPC namespace only.
//!
//! Usage: `sem`, no argument (the article's program ignored any; we say
//! `Usage: sem` and fail). Stop it with Ctrl-C or SIGTERM: it then removes
//! its semaphore set, which would otherwise outlive it.

use nix::sys::signal::{SigSet, Signal};
use nslab::{Error, Result};

/// The key both copies ask for. Any fixed value shows the clash.
const KEY: libc::key_t = 0x12345;

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    nslab::no_arguments()?;
    // Block SIGINT and SIGTERM before the semaphore exists: a signal that
    // arrives from now on waits for us in sigwait() below, so there is no
    // moment at which it could kill us with the semaphore still in place.
    let stop_signals = stop_signals();
    stop_signals
        .thread_block()
        .map_err(|errno| Error::sys("sigprocmask()", errno))?;

    let id = create_semaphore()?;
    println!("Semaphore id is: {id}");

    let signal = stop_signals
        .wait()
        .map_err(|errno| Error::sys("sigwait()", errno))?;
    remove_semaphore(id)?;
    die_of(signal)
}

fn stop_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set
}

// ANCHOR: create
/// Create a set of one semaphore under KEY, and fail if it exists already.
fn create_semaphore() -> Result<libc::c_int> {
    // TODO: call semget(2) through `libc` (nix has no System V IPC) to
    // create a set of 1 semaphore under KEY. IPC_CREAT creates the set;
    // with IPC_EXCL too, semget fails with EEXIST when a set with that key
    // exists already in our IPC namespace: that failure is the point of the
    // step. Report it as `semget(): 'File exists' (17)` (see Error::last).
    // @solution
    // SAFETY: semget takes plain integers and touches no memory of ours.
    let id = unsafe { libc::semget(KEY, 1, libc::IPC_CREAT | libc::IPC_EXCL) };
    if id == -1 {
        return Err(Error::last("semget()"));
    }
    Ok(id)
    // @exercise
    // Err(Error::msg("TODO: create the semaphore set with semget(2)"))
    // @end
}
// ANCHOR_END: create

/// Remove the set: System V objects live until removed or until their IPC
/// namespace dies, not until their creator exits.
fn remove_semaphore(id: libc::c_int) -> Result<()> {
    // SAFETY: IPC_RMID takes no fourth argument.
    if unsafe { libc::semctl(id, 0, libc::IPC_RMID) } == -1 {
        return Err(Error::last("semctl(IPC_RMID)"));
    }
    Ok(())
}

/// End the way the signal would have ended us, so that the shell sees a
/// death by SIGINT or SIGTERM (exit status 130 or 143), not a normal exit.
fn die_of(signal: Signal) -> Result<u8> {
    let restore = || -> nix::Result<()> {
        // SAFETY: restoring the default disposition installs no handler.
        unsafe { nix::sys::signal::signal(signal, nix::sys::signal::SigHandler::SigDfl) }?;
        nix::sys::signal::raise(signal)?;
        let mut only = SigSet::empty();
        only.add(signal);
        only.thread_unblock()
    };
    restore().map_err(|errno| Error::sys("raise()", errno))?;
    Ok(128 + signal as u8)
}
