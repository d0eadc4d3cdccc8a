//! Step 8 — `netcontainer [--rootfs DIR] [--hostname NAME] [CMD ARGS…]`:
//! the container of step 7, with a network namespace of its own and a link
//! to its parent.
//!
//! A new network namespace has only a loopback interface, down. A veth pair
//! is a virtual cable: two interfaces, whatever enters one leaves the other,
//! and each end can live in a different network namespace. The parent:
//!
//! 1. clones the child with CLONE_NEWNET added to the container's flags;
//! 2. creates the pair with one end, veth1, in the child's namespace
//!    (`ip link add name veth0 type veth peer name veth1 netns PID`), as the
//!    lab does, and gives both ends an address and brings them up;
//! 3. tells the child it is done, through a pipe.
//!
//! The child waits on that pipe (a sleep, as in the lab's solution, would
//! race with the parent), brings `lo` up, and becomes the container. From
//! there `ping 10.0.0.13` reaches the parent's end.

use container::{Options, child_main, clone_container, namespaces, wait_container};
use nix::sched::CloneFlags;
use nix::unistd::Pid;
use nslab::{Error, Result, program_name};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Command;

/// The host's end of the cable, and the container's.
const HOST_END: &str = "veth0";
const CONTAINER_END: &str = "veth1";
/// The two ends' addresses, in a private range (as the lab's solution).
const HOST_ADDRESS: &str = "10.0.0.13/24";
const CONTAINER_ADDRESS: &str = "10.0.0.15/24";

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let options = Options::parse()?;
    options.check()?;
    let (ready_read, ready_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|errno| Error::sys("pipe()", errno))?;
    let (read_fd, write_fd) = (ready_read.as_raw_fd(), ready_write.as_raw_fd());

    let flags = namespaces() | CloneFlags::CLONE_NEWNET;
    let child = clone_container(
        flags,
        Box::new(|| {
            // The child has its own copy of both ends: closing its write
            // end lets it see end-of-file should the parent fail or die.
            let _ = nix::unistd::close(write_fd);
            match wait_for_parent(read_fd).and_then(|()| loopback_up()) {
                Ok(()) => child_main(&options),
                Err(err) => {
                    err.report();
                    1
                }
            }
        }),
    )?;
    drop(ready_read);

    let mut created = false;
    let connected = connect(child, &mut created);
    match &connected {
        // Done: one byte tells the child to go on.
        Ok(()) => tell_child(ready_write),
        // Failed: closing the pipe without a byte tells the child to stop.
        Err(_) => drop(ready_write),
    }
    let code = wait_container(child);
    if created {
        remove_host_end();
    }
    connected.map_err(|err| Error::msg(format!("{}: {}", program_name(), err.message())))?;
    code
}

// ANCHOR: connect
/// Create the veth pair with one end in the child's network namespace,
/// address both ends and bring them up. `created` tells whether the pair
/// is ours to remove.
fn connect(child: Pid, created: &mut bool) -> Result<()> {
    let child_pid = child.to_string();
    // TODO: with ip(8), as the lab does: create the pair, veth0 here and its
    // peer veth1 in the child's network namespace ("netns PID").
    // @solution
    ip(
        &[
            "link",
            "add",
            "name",
            HOST_END,
            "type",
            "veth",
            "peer",
            "name",
            CONTAINER_END,
            "netns",
            &child_pid,
        ],
        None,
    )?;
    // @exercise
    // let _ = (&child_pid, CONTAINER_END); // TODO: ip link add ...
    // @end
    *created = true;
    ip(&["addr", "add", HOST_ADDRESS, "dev", HOST_END], None)?;
    ip(&["link", "set", HOST_END, "up"], None)?;
    // The container's end is configured from inside its namespace.
    ip(
        &["addr", "add", CONTAINER_ADDRESS, "dev", CONTAINER_END],
        Some(child),
    )?;
    ip(&["link", "set", CONTAINER_END, "up"], Some(child))?;
    Ok(())
}
// ANCHOR_END: connect

// ANCHOR: sync
/// Parent: one byte down the pipe, and the child goes on.
fn tell_child(ready: OwnedFd) {
    // TODO: write one byte to the pipe (nix::unistd::write), then let
    // `ready` drop, which closes it.
    // @solution
    let _ = nix::unistd::write(&ready, b"1");
    // @exercise
    // let _ = ready; // TODO: tell the child
    // @end
}

/// Child: wait until the parent has written its byte; end-of-file without
/// it means the parent failed.
fn wait_for_parent(ready: std::os::fd::RawFd) -> Result<()> {
    let mut byte = [0u8; 1];
    // TODO: read(2) one byte from the pipe (nix::unistd::read); 1 byte
    // read: the network is ready. 0 (end of file): return an error.
    // @solution
    // SAFETY: the pipe's read end stays open in the child until it execs.
    let ready = unsafe { std::os::fd::BorrowedFd::borrow_raw(ready) };
    match nix::unistd::read(ready, &mut byte) {
        Ok(1) => Ok(()),
        Ok(_) => Err(Error::msg("the parent could not set up the network")),
        Err(errno) => Err(Error::sys("read(pipe)", errno)),
    }
    // @exercise
    // let _ = (ready, byte); // TODO: wait for the parent
    // Ok(())
    // @end
}
// ANCHOR_END: sync

/// Child: the loopback interface of a new network namespace is down.
fn loopback_up() -> Result<()> {
    ip(&["link", "set", "lo", "up"], None)
}

/// Run ip(8), in the network namespace of `inside` if given. A failure is
/// one line: ip's own message.
fn ip(args: &[&str], inside: Option<Pid>) -> Result<()> {
    let mut cmd = Command::new("ip");
    cmd.args(args);
    if let Some(pid) = inside {
        let netns = std::fs::File::open(format!("/proc/{pid}/ns/net"))
            .map_err(|err| Error::io(format!("open(/proc/{pid}/ns/net)"), &err))?;
        // SAFETY: setns is async-signal-safe; the closure runs in the forked
        // child just before exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(move || {
                nix::sched::setns(&netns, CloneFlags::CLONE_NEWNET)?;
                Ok(())
            });
        }
    }
    let out = cmd.output().map_err(|err| Error::io("ip", &err))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        return Err(Error::msg(format!(
            "ip {}: {}",
            args.join(" "),
            said.lines().next().unwrap_or("failed")
        )));
    }
    Ok(())
}

/// The kernel destroys veth0 with its peer when the child's namespace dies,
/// but in a work queue, a little later: delete it now, so that nothing is
/// left behind when we exit. It is usually gone already.
fn remove_host_end() {
    let _ = Command::new("ip")
        .args(["link", "del", HOST_END])
        .stderr(std::process::Stdio::null())
        .status();
}
