//! `sysprobe CALL…` (provided): makes each call named, in a way that can do
//! no harm, and prints how the kernel answered. busybox has nothing that
//! makes these calls alone, and its `reboot` would not call reboot(2).
//!
//! - `reboot`: reboot(2) with a wrong magic number. The kernel checks
//!   CAP_SYS_BOOT first (EPERM without it), then the magic (EINVAL): with
//!   the capability the answer is EINVAL, and nothing reboots.
//! - `init_module`: init_module(2) of an empty image. CAP_SYS_MODULE is
//!   checked first (EPERM), then the image (ENOEXEC: too short for an ELF
//!   header).
//! - `finit_module`: finit_module(2) of file descriptor -1: EPERM without
//!   CAP_SYS_MODULE, else EBADF.
//! - `clone3`: a child in a new user namespace by clone3(2), whose flags
//!   are in a struct in memory; the child exits at once.
//! - `clone`: the same child by clone(2), whose flags are its first
//!   argument, in a register, where a filter can read them.
//! - `spawn`: runs /bin/true as Rust's std::process::Command does, through
//!   glibc's posix_spawn, which tries clone3 first and falls back to clone
//!   when clone3 answers ENOSYS.
//! - `i386_unshare`: unshare(CLONE_NEWUSER) made as an i386 program makes
//!   it, through `int 0x80`: number 310 in the i386 table
//!   (arch/x86/entry/syscalls/syscall_32.tbl), where x86-64's unshare is
//!   272. A filter that checks the architecture first sees
//!   AUDIT_ARCH_I386 and stops there.

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use nslab::Error;

fn main() -> std::process::ExitCode {
    nslab::main(|| {
        let args = nslab::args();
        if args.is_empty() {
            return Err(usage());
        }
        for arg in &args {
            let line = match arg.to_str() {
                Some("reboot") => answer("reboot(0, 0, 0, NULL)", raw(libc::SYS_reboot, [0; 4])),
                Some("init_module") => answer(
                    "init_module(NULL, 0, \"\")",
                    raw(libc::SYS_init_module, [0, 0, c"".as_ptr() as i64, 0]),
                ),
                Some("finit_module") => answer(
                    "finit_module(-1, \"\", 0)",
                    raw(libc::SYS_finit_module, [-1, c"".as_ptr() as i64, 0, 0]),
                ),
                Some("clone3") => clone3(),
                Some("clone") => clone(),
                Some("spawn") => spawn(),
                Some("i386_unshare") => i386_unshare(),
                _ => return Err(usage()),
            };
            println!("{line}");
        }
        Ok(0)
    })
}

fn usage() -> Error {
    Error::msg(format!(
        "Usage: {} reboot|init_module|finit_module|clone|clone3|spawn|i386_unshare...",
        nslab::program_name()
    ))
}

/// A system call by number, as -1 and errno or its result.
fn raw(nr: libc::c_long, args: [i64; 4]) -> std::result::Result<i64, Errno> {
    // SAFETY: each call is given null or valid pointers, and none of them
    // can succeed with these arguments except where noted.
    let ret = unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3]) };
    Errno::result(ret)
}

fn answer(call: &str, result: std::result::Result<i64, Errno>) -> String {
    match result {
        Ok(ret) => format!("{call} = {ret}"),
        Err(errno) => Error::sys(call, errno).message().to_string(),
    }
}

/// clone(2) with CLONE_NEWUSER and SIGCHLD, without a stack: a copy of
/// this process, as fork makes, in a new user namespace, which exits 0 at
/// once.
fn clone() -> String {
    let call = "clone(CLONE_NEWUSER|SIGCHLD)";
    let flags = (libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: with no stack (0) the child runs on a copy of ours, as after
    // fork; it only calls _exit.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    reaped(call, ret)
}

/// The answer of a fork-like call: its error, or how its child ended (the
/// child itself exits at once).
fn reaped(call: &str, ret: libc::c_long) -> String {
    match ret {
        -1 => Error::last(call).message().to_string(),
        0 => unsafe { libc::_exit(0) },
        pid => match waitpid(Pid::from_raw(pid as i32), None) {
            Ok(WaitStatus::Exited(_, code)) => format!("{call}: a child, which exited {code}"),
            other => format!("{call}: a child, then waitpid: {other:?}"),
        },
    }
}

/// clone3(2) with CLONE_NEWUSER and SIGCHLD: a copy of this process, as
/// fork makes, in a new user namespace, which exits 0 at once.
fn clone3() -> String {
    let call = "clone3({flags = CLONE_NEWUSER, exit_signal = SIGCHLD})";
    // struct clone_args, version 0 (64 bytes): flags, pidfd, child_tid,
    // parent_tid, exit_signal, stack, stack_size, tls.
    let mut args = [0u64; 8];
    args[0] = libc::CLONE_NEWUSER as u64;
    args[4] = libc::SIGCHLD as u64;
    // SAFETY: without CLONE_VM the child has a copy of our memory and its
    // own copy of the stack; it only calls _exit.
    let ret = unsafe { libc::syscall(libc::SYS_clone3, args.as_mut_ptr(), size_of_val(&args)) };
    reaped(call, ret)
}

/// Run /bin/true as std::process::Command does.
fn spawn() -> String {
    match std::process::Command::new("/bin/true").status() {
        Ok(status) => format!("spawn /bin/true: {status}"),
        Err(err) => Error::io("spawn /bin/true", &err).message().to_string(),
    }
}

/// unshare(CLONE_NEWUSER) through the i386 entry, `int 0x80`, whose
/// system call numbers are i386's: 310 is unshare there (on x86-64, 310 is
/// process_vm_readv).
fn i386_unshare() -> String {
    let call = "unshare(CLONE_NEWUSER) by int 0x80, i386 call 310";
    let ret: i32;
    // SAFETY: the i386 ABI takes the number in eax and the first argument
    // in ebx, which Rust does not let us name: we swap it in and out. The
    // kernel returns in eax and may clobber r8-r11.
    unsafe {
        std::arch::asm!(
            "xchg {flags:r}, rbx",
            "int 0x80",
            "xchg {flags:r}, rbx",
            flags = inout(reg) libc::CLONE_NEWUSER as u64 => _,
            inlateout("eax") 310i32 => ret,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
    }
    match ret {
        0.. => format!("{call} = {ret}"),
        _ => Error::sys(call, Errno::from_raw(-ret))
            .message()
            .to_string(),
    }
}
