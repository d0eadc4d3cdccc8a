//! Fork, exec a program in the child, and report its wait status: how
//! `execns` and `shns` end, once they have changed namespaces.

use crate::{Error, Result};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, execvp, fork};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

/// Fork; the child execs `program` (searched in PATH; `/bin/sh` when empty),
/// the parent waits for it and prints `program's status: S (0xS)` with its
/// raw wait status. Returns 0 whatever the program's status, as the
/// article's programs do. The arguments go to the program as they came,
/// UTF-8 or not.
///
/// Why a child: after setns(CLONE_NEWPID) or unshare(CLONE_NEWPID) (and the
/// same for the time namespace), the caller itself stays where it was; only
/// the children it creates from then on are in the new namespace.
pub fn run_and_report(program: &[OsString]) -> Result<u8> {
    let program = match program {
        [] => vec![OsString::from("/bin/sh")],
        given => given.to_vec(),
    };
    let argv: Vec<CString> = program
        .iter()
        .map(|arg| CString::new(arg.as_bytes()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::msg("an argument contains a NUL byte"))?;
    // SAFETY: the step programs are single-threaded, so the child may run
    // any code before exec.
    match unsafe { fork() }.map_err(|errno| Error::sys("fork()", errno))? {
        ForkResult::Child => {
            let errno = execvp(&argv[0], &argv).unwrap_err();
            eprintln!(
                "Unable to run '{}': {} ({})",
                crate::shown(&program[0]),
                errno.desc(),
                errno as i32
            );
            // SAFETY: _exit ends the child at once, without running the
            // parent's exit-time code (flushing its buffers) a second time.
            unsafe { libc::_exit(1) }
        }
        ForkResult::Parent { child } => {
            let status = waitpid(child, None)
                .map_err(|errno| Error::sys(format!("waitpid({child})"), errno))?;
            println!("{}", crate::status_line(status));
            Ok(0)
        }
    }
}
