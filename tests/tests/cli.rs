//! The steps' programs on the host, for what needs no VM: usage lines, bad
//! arguments, exit codes. Every case here fails before any system call that
//! could change the host; what does change something (sem) runs in an IPC
//! namespace of its own.

use assert_cmd::Command;
use std::collections::HashMap;
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

/// `sh -c SCRIPT` in a new IPC namespace, with the solutions on PATH.
fn in_own_ipc_namespace(script: &str) -> Command {
    let dir = bins()["sem"].parent().unwrap().to_path_buf();
    let mut cmd = Command::new("unshare");
    cmd.args(["--ipc", "sh", "-c", script])
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
