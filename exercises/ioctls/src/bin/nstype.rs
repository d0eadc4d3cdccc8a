//! `nstype PID [TYPE…|all]`: what NS_GET_NSTYPE says each namespace of PID
//! is, as its `CLONE_NEW*` flag. (The article describes the ioctl and has no
//! program for it; the output format is ours.)

use ioctls::{nstype, open_ns};
use nslab::{Error, Ns, Result};
use std::os::fd::AsFd;

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let (pid, list) = nslab::parse_pid_and_types(&nslab::args(), "First parameter")?;
    for ns in list {
        let path = ns.proc_path(&pid);
        let fd = open_ns(&path)?;
        let value = nstype(fd.as_fd())
            .map_err(|errno| Error::sys(format!("ioctl({path}, NS_GET_NSTYPE)"), errno))?;
        let name = Ns::from_flag(value).map_or("an unknown type", Ns::flag_name);
        println!("{path} is of type {name} (0x{value:x})");
    }
    Ok(0)
}
