//! `showcaps [PID]` (provided): the capability sets of a process (itself by
//! default) decoded into names, with its no_new_privs and seccomp lines:
//! what `capsh --print` would say, where busybox has no capsh.

// (Its name() is confinedcontainer's.)
#[allow(dead_code)]
mod status;

use nslab::Error;

fn main() -> std::process::ExitCode {
    nslab::main(|| {
        let args = nslab::args();
        let pid = match args.as_slice() {
            [] => "self".to_string(),
            [pid] => nslab::parse_pid(pid, "PID")?,
            _ => return Err(usage()),
        };
        status::print(&format!("/proc/{pid}/status"))?;
        Ok(0)
    })
}

fn usage() -> Error {
    Error::msg(format!("Usage: {} [PID]", nslab::program_name()))
}
