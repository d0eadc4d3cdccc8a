//! The steps' programs on the host, for what needs no VM: usage lines, bad
//! arguments, exit codes. Every case here fails before any system call that
//! could change the host, or only reads /proc; what does change something
//! (sem) runs in an IPC namespace of its own, made in a user namespace of
//! its own, so that an ordinary user can run these tests.

use assert_cmd::Command;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::OnceLock;
use xtask::course::{Course, Variant};

/// The solutions' programs, built once (static, as for the VM).
fn bins() -> &'static HashMap<String, PathBuf> {
    static BINS: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    BINS.get_or_init(|| {
        let course = Course::load().expect("course.toml");
        let packages: Vec<String> = course
            .step
            .iter()
            .map(|s| s.package(Variant::Solution))
            .collect();
        xtask::lab::guest::build(&packages).expect("building the solutions")
    })
}

fn program(name: &str) -> Command {
    Command::new(&bins()[name])
}

/// `sh -c SCRIPT` in a new IPC namespace, with the solutions on PATH. The
/// IPC namespace belongs to a new user namespace, where we are root: no
/// privilege needed.
fn in_own_ipc_namespace(script: &str) -> Command {
    let dir = bins()["sem"].parent().unwrap().to_path_buf();
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user", "--ipc", "sh", "-c", script])
        .env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
        .timeout(std::time::Duration::from_secs(20));
    cmd
}

/// Program, arguments, exit code, and the one line on stderr.
const BAD_INPUT: &[(&str, &[&str], i32, &str)] = &[
    ("cmpns", &[], 2, "Usage: cmpns pid1 pid2"),
    ("cmpns", &["1", "2", "3"], 2, "Usage: cmpns pid1 pid2"),
    ("cmpns", &["x", "1"], 2, "First parameter 'x' must be a pid"),
    (
        "cmpns",
        &["1", "-3"],
        2,
        "Second parameter '-3' must be a pid",
    ),
    (
        "cmpns",
        &["1", "0"],
        2,
        "Second parameter '0' must be a pid",
    ),
    (
        "cmpns",
        &["999999999", "1"],
        2,
        "No process has PID 999999999",
    ),
    ("idns", &[], 1, "Usage: idns pid [ns_names...]"),
    ("idns", &["self"], 1, "Parameter 'self' must be a pid"),
    (
        "idns",
        &["1", "uts", "nope"],
        1,
        "Unknown namespace name 'nope'",
    ),
    ("clonens", &[], 1, "Usage: clonens ns_name1 ns_name2..."),
    ("clonens", &["uts", "all"], 1, "Bad namespace name 'all'"),
    (
        "execns",
        &[],
        1,
        "Usage: execns pid:ns_name1:ns_name2... [program parameters]",
    ),
    ("execns", &["1:uts:nope"], 1, "Bad namespace name 'nope'"),
    ("execns", &["x:uts"], 1, "Parameter 'x' must be a pid"),
    ("execns", &["999999999"], 1, "No process has PID 999999999"),
    ("shns", &["nope"], 1, "Bad namespace 'nope'"),
    ("ownerns", &[], 1, "Usage: ownerns pid [ns_names...]"),
    ("parentns", &["x"], 1, "First parameter 'x' must be a pid"),
    ("nstype", &["1", "nope"], 1, "Unknown namespace name 'nope'"),
    ("userns", &[], 1, "Usage: userns pid"),
    ("userns", &["1", "2"], 1, "Usage: userns pid"),
    ("socket", &["x"], 1, "Usage: socket"),
    (
        "container",
        &["--rootfs", "/nonexistent"],
        1,
        "container: the root filesystem /nonexistent is not a directory",
    ),
    (
        "container",
        &["--rootfs", "/", "/no/such/command"],
        1,
        "container: no command /no/such/command in the root filesystem /",
    ),
    (
        "container",
        &["--bogus"],
        1,
        "container: invalid option '--bogus'",
    ),
    (
        "container",
        &["--rootfs"],
        1,
        "container: missing argument for option '--rootfs'",
    ),
    (
        "netcontainer",
        &["--rootfs", "/nonexistent"],
        1,
        "netcontainer: the root filesystem /nonexistent is not a directory",
    ),
];

#[test]
fn bad_input_is_one_line_and_a_failure() {
    for (name, args, code, line) in BAD_INPUT {
        program(name)
            .args(*args)
            .assert()
            .code(*code)
            .stdout("")
            .stderr(format!("{line}\n"));
    }
}

/// Arguments that are not UTF-8 (the kernel passes bytes): the program's
/// usual line for a bad argument, the odd bytes shown as `\xHH`; no panic.
const NOT_UTF8: &[(&str, &[&[u8]], i32, &str)] = &[
    (
        "cmpns",
        &[b"\xff", b"1"],
        2,
        "First parameter '\\xff' must be a pid",
    ),
    (
        "cmpns",
        &[b"1", b"2\xfe"],
        2,
        "Second parameter '2\\xfe' must be a pid",
    ),
    ("idns", &[b"\xff"], 1, "Parameter '\\xff' must be a pid"),
    (
        "idns",
        &[b"1", b"ut\xffs"],
        1,
        "Unknown namespace name 'ut\\xffs'",
    ),
    ("clonens", &[b"\xff"], 1, "Bad namespace name '\\xff'"),
    ("execns", &[b"\xff"], 1, "Parameter '\\xff' must be a pid"),
    ("execns", &[b"1:uts:\xff"], 1, "Bad namespace name '\\xff'"),
    ("shns", &[b"ipc", b"\xff"], 1, "Bad namespace '\\xff'"),
    (
        "ownerns",
        &[b"\xff"],
        1,
        "First parameter '\\xff' must be a pid",
    ),
    (
        "parentns",
        &[b"\xff"],
        1,
        "First parameter '\\xff' must be a pid",
    ),
    (
        "nstype",
        &[b"\xff"],
        1,
        "First parameter '\\xff' must be a pid",
    ),
    (
        "nstype",
        &[b"1", b"\xff"],
        1,
        "Unknown namespace name '\\xff'",
    ),
    ("userns", &[b"\xff"], 1, "Parameter '\\xff' must be a pid"),
    ("socket", &[b"\xff"], 1, "Usage: socket"),
    (
        "container",
        &[b"--rootfs", b"/nonexistent\xff"],
        1,
        "container: the root filesystem /nonexistent\\xff is not a directory",
    ),
    (
        "container",
        &[b"--rootfs", b"/", b"/no/such/\xff"],
        1,
        "container: no command /no/such/\\xff in the root filesystem /",
    ),
    (
        "netcontainer",
        &[b"--rootfs", b"/", b"/no/such/\xff"],
        1,
        "netcontainer: no command /no/such/\\xff in the root filesystem /",
    ),
];

#[test]
fn arguments_that_are_not_utf8_are_bad_arguments() {
    for (name, args, code, line) in NOT_UTF8 {
        program(name)
            .args(args.iter().map(|arg| OsStr::from_bytes(arg)))
            .assert()
            .code(*code)
            .stdout("")
            .stderr(format!("{line}\n"));
    }
}

/// sem with an argument stops before semget(2), and sem with a non-UTF-8
/// one too (in an IPC namespace of its own should it not).
#[test]
fn sem_takes_no_argument() {
    in_own_ipc_namespace(
        r#"
        sem x; echo "status $?"
        sem "$(printf '\377')"; echo "status $?"
        grep -c 74565 /proc/sysvipc/sem || true
        "#,
    )
    .assert()
    .success()
    .stdout("status 1\nstatus 1\n0\n")
    .stderr("Usage: sem\nUsage: sem\n");
}

/// A PID is the number its digits spell, as execns.c's atoi() reads it:
/// `0PID` is PID, and its files are /proc/PID/ns/... (procfs has no
/// /proc/0PID).
#[test]
fn a_pid_with_leading_zeros_is_that_pid() {
    let pid = std::process::id();
    let zeros = format!("00{pid}");
    program("cmpns")
        .args([&zeros, &pid.to_string()])
        .assert()
        .success()
        .stdout(
            "cgroup is equal\nipc is equal\nmnt is equal\nnet is equal\n\
             pid is equal\ntime is equal\nuser is equal\nuts is equal\n",
        )
        .stderr("");
    program("idns")
        .args([&zeros, "uts"])
        .assert()
        .success()
        .stdout(
            predicates::str::is_match(format!(
                r"^/proc/{pid}/ns/uts \[Device,Inode\]: \[\d+,\d+\]\n$"
            ))
            .unwrap(),
        )
        .stderr("");
    program("nstype")
        .args([&zeros, "uts"])
        .assert()
        .success()
        .stdout(format!(
            "/proc/{pid}/ns/uts is of type CLONE_NEWUTS (0x4000000)\n"
        ))
        .stderr("");
    // Every namespace of ours is already ours: nothing to enter.
    program("execns")
        .args([&format!("{zeros}:uts:ipc"), "/bin/true"])
        .assert()
        .success()
        .stdout("program's status: 0 (0x0)\n")
        .stderr("");
}

#[test]
fn shns_help_is_a_usage_line_and_success() {
    program("shns")
        .arg("-h")
        .assert()
        .success()
        .stdout("")
        .stderr("Usage: shns [ns_name1 ns_name2... | all] [-- program args...]\n");
}

/// In an IPC namespace of its own, sem creates set 0, and on SIGTERM
/// removes it and dies of SIGTERM.
#[test]
fn sem_removes_its_semaphore_on_sigterm() {
    in_own_ipc_namespace(
        r#"
        sem & pid=$!
        while ! grep -q 74565 /proc/sysvipc/sem; do sleep 0.01; done
        kill -TERM $pid; wait $pid; echo "status $?"
        grep -c 74565 /proc/sysvipc/sem || true
        "#,
    )
    .assert()
    .success()
    .stdout("Semaphore id is: 0\nstatus 143\n0\n");
}

/// A second sem in the same IPC namespace fails with the article's line.
#[test]
fn a_second_sem_fails_with_eexist() {
    in_own_ipc_namespace(
        r#"
        sem > /dev/null & pid=$!
        while ! grep -q 74565 /proc/sysvipc/sem; do sleep 0.01; done
        sem; echo "status $?"
        kill -INT $pid; wait $pid; echo "first $?"
        "#,
    )
    .assert()
    .success()
    .stdout("status 1\nfirst 130\n")
    .stderr("semget(): 'File exists' (17)\n");
}
