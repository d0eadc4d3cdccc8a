//! The steps' programs on the host, for what needs no VM: usage lines, bad
//! arguments, exit codes. Anything that changes the host's IPC, mounts,
//! network or hostname runs in a namespace of its own or in the VM.

use assert_cmd::Command;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use xtask::course::{Course, Variant};

/// The solutions' programs, built once (static, as for the VM).
fn program(name: &str) -> Command {
    static BINS: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    let bins = BINS.get_or_init(|| {
        let course = Course::load().expect("course.toml");
        let packages: Vec<String> = course
            .step
            .iter()
            .map(|s| s.package(Variant::Solution))
            .collect();
        xtask::guest::build(&packages).expect("building the solutions")
    });
    Command::new(&bins[name])
}

mod sem {
    use super::*;
    use predicates::prelude::*;

    /// In an IPC namespace of its own, sem creates set 0, and on SIGTERM
    /// removes it and dies of SIGTERM.
    #[test]
    fn sigterm_removes_the_semaphore() {
        let script = r#"
            sem & pid=$!
            while ! grep -q 74565 /proc/sysvipc/sem; do sleep 0.01; done
            kill -TERM $pid; wait $pid; echo "status $?"
            grep -c 74565 /proc/sysvipc/sem || true
        "#;
        let sem = program("sem");
        let dir = PathBuf::from(sem.get_program())
            .parent()
            .unwrap()
            .to_path_buf();
        Command::new("unshare")
            .args(["--ipc", "sh", "-c", script])
            .env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .success()
            .stdout(predicate::eq("Semaphore id is: 0\nstatus 143\n0\n"));
    }

    /// A second sem in the same IPC namespace fails with the article's line.
    #[test]
    fn a_second_instance_fails_with_eexist() {
        let script = r#"
            sem > /dev/null & pid=$!
            while ! grep -q 74565 /proc/sysvipc/sem; do sleep 0.01; done
            sem; echo "status $?"
            kill -INT $pid; wait $pid; echo "first $?"
        "#;
        let sem = program("sem");
        let dir = PathBuf::from(sem.get_program())
            .parent()
            .unwrap()
            .to_path_buf();
        Command::new("unshare")
            .args(["--ipc", "sh", "-c", script])
            .env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .success()
            .stdout("status 1\nfirst 130\n")
            .stderr("semget(): 'File exists' (17)\n");
    }
}
