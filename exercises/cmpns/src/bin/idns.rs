//! `idns PID [TYPE…|all]`: the identity of a process's namespaces.
//!
//! Prints `/proc/PID/ns/TYPE [Device,Inode]: [D,I]` for each type asked for
//! (in the order asked), or for all eight. Every name is checked before
//! anything is printed.

use cmpns::identity;
use nslab::{Error, Ns, NsOrder, Result, must_exist, parse_ns_name, parse_pid, program_name};

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((pid, names)) = args.split_first() else {
        return Err(Error::msg(format!(
            "Usage: {} pid [ns_names...]",
            program_name()
        )));
    };
    let pid = parse_pid(pid, "Parameter")?;
    let mut list = Vec::new();
    for name in names {
        if name == "all" {
            list = Ns::all(NsOrder::Listing).to_vec();
            break;
        }
        list.push(parse_ns_name(name, "Unknown namespace name")?);
    }
    if list.is_empty() {
        list = Ns::all(NsOrder::Listing).to_vec();
    }
    must_exist(&pid)?;
    for ns in list {
        let (dev, ino) = identity(&pid, ns)?;
        println!("{} [Device,Inode]: [{dev},{ino}]", ns.proc_path(&pid));
    }
    Ok(0)
}
