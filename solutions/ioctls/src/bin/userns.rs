//! `userns PID`: who created the user namespace of PID (NS_GET_OWNER_UID).
//!
//! The uid is translated into the caller's user namespace. Its name comes
//! from /etc/passwd, read directly: a static binary cannot load the C
//! library's NSS modules that getpwuid(3) would use.

use ioctls::{open_ns, owner_uid};
use nslab::{Error, Ns, Result, parse_pid, program_name};
use std::os::fd::AsFd;

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let args = nslab::args();
    let [pid] = args.as_slice() else {
        return Err(Error::msg(format!("Usage: {} pid", program_name())));
    };
    let pid = parse_pid(pid, "Parameter")?;
    nslab::must_exist(&pid)?;
    let path = Ns::User.proc_path(&pid);
    let fd = open_ns(&path)?;
    let uid = owner_uid(fd.as_fd())
        .map_err(|errno| Error::sys(format!("ioctl({path}, NS_GET_OWNER_UID)"), errno))?;
    let name = user_name(uid)
        .ok_or_else(|| Error::msg(format!("getpwuid({uid}): no such user in /etc/passwd")))?;
    println!("{path} belongs to user: '{name}' ({uid})");
    Ok(0)
}

/// The name of `uid` in /etc/passwd (`name:x:uid:gid:...`).
fn user_name(uid: libc::uid_t) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.get(2)?.parse::<libc::uid_t>().ok()? == uid).then(|| fields[0].to_string())
    })
}
