//! Step 5 — `shns [NS…|all] [-- PROGRAM ARGS…]`: new namespaces for the
//! caller, then a shell in them.
//!
//! unshare(2) gives the calling process new namespaces of the types in its
//! flags, without creating a process. Most take effect at once; the pid and
//! time namespaces are set for the caller's *children* only (its own PID
//! cannot change), so we fork and exec the program (default `/bin/sh`) in
//! the child, and report its raw wait status as the article does.
//!
//! Beyond the article: after a new mount namespace we make every mount in it
//! private, as util-linux's unshare does, so that mounts made inside never
//! propagate back to the namespace we came from (on a host where / is a
//! shared mount, they would). That needs / to be a mount point; in a chroot
//! into a plain directory it is not, and we say so in one line and go on.

use nix::sched::{CloneFlags, unshare};
use nslab::{Error, Ns, NsOrder, Result, parse_ns_list, program_name};

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn usage() -> String {
    format!(
        "Usage: {} [ns_name1 ns_name2... | all] [-- program args...]",
        program_name()
    )
}

fn run() -> Result<u8> {
    let args = nslab::args();
    if args.first().is_some_and(|a| a == "-h" || a == "--help") {
        eprintln!("{}", usage());
        return Ok(0);
    }
    let (names, program) = match args.iter().position(|a| a == "--") {
        Some(at) => (&args[..at], &args[at + 1..]),
        None => (&args[..], &[][..]),
    };
    let wanted = parse_ns_list(names, NsOrder::Enter, "Bad namespace")?;
    for ns in &wanted {
        println!("New namespace '{ns}'");
    }
    new_namespaces(Ns::flags(&wanted))?;
    if wanted.contains(&Ns::Mnt) {
        // Where / is no mount point (in a chroot), nothing can be made
        // private; the article's program never tried: go on as it does.
        match nslab::root_is_a_mount_point()? {
            true => nslab::make_mounts_private()?,
            false => eprintln!(
                "{}: / is not a mount point (a chroot?): its mounts keep their propagation",
                program_name()
            ),
        }
    }

    nslab::run_and_report(program)
}

// ANCHOR: unshare
/// Give the caller new namespaces of the types in `flags`.
fn new_namespaces(flags: nix::libc::c_int) -> Result<()> {
    // TODO: call nix::sched::unshare with CloneFlags::from_bits_retain(flags).
    // Report a failure as the article does: `unshare(0xFLAGS): 'strerror'
    // (errno)`, with the flags in lowercase hexadecimal.
    Err(Error::msg("TODO: unshare(2)"))
}
// ANCHOR_END: unshare
