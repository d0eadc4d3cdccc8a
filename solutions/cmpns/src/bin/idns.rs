//! `idns PID [TYPE…|all]`: the identity of a process's namespaces.
//!
//! Prints `/proc/PID/ns/TYPE [Device,Inode]: [D,I]` for each type asked for
//! (in the order asked), or for all eight. Every name is checked before
//! anything is printed.

use cmpns::identity;
use nslab::{Result, parse_pid_and_types};

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let (pid, list) = parse_pid_and_types(&nslab::args(), "Parameter")?;
    for ns in list {
        let (dev, ino) = identity(&pid, ns)?;
        println!("{} [Device,Inode]: [{dev},{ino}]", ns.proc_path(&pid));
    }
    Ok(0)
}
