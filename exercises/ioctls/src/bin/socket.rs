//! `socket`: the network namespace of a socket we create (SIOCGSKNS).
//! It takes no argument (`Usage: socket` when given any).
//!
//! A socket belongs to the network namespace its creator was in when it was
//! created, and stays there. The kernel lets us ask only with CAP_NET_ADMIN
//! in the user namespace that owns that network namespace.

use ioctls::{identity, socket_netns};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};
use nslab::{Error, Result};
use std::os::fd::AsFd;

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    nslab::no_arguments()?;
    let sock = socket(
        AddressFamily::Unix,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|errno| Error::sys("socket()", errno))?;
    let netns =
        socket_netns(sock.as_fd()).map_err(|errno| Error::sys("ioctl(SIOCGSKNS)", errno))?;
    println!("Network namespace is {}", identity(&netns)?);
    Ok(0)
}
