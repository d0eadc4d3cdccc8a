//! nslab's tests live in `tests/`: `cli.rs` runs the steps' programs on the
//! host for what needs no VM (usage, bad arguments, exit codes); `vm.rs`
//! runs every step's scenario in a fresh VM and compares it with its
//! snapshot in `snapshots/`.
//! `cargo xtask`'s own tests share the helpers below: its binary, built
//! once, run with a progress file of the test's own and a chosen locale.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `xtask` binary, built once.
pub fn xtask_bin() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .current_dir(xtask::root())
            .args(["build", "--quiet", "-p", "xtask", "--bin", "xtask"])
            .arg("--message-format=json")
            .output()
            .expect("cargo");
        assert!(out.status.success(), "building xtask failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "xtask")
            .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the xtask binary")
    })
}

/// `xtask ARGS` with the locale variables `env` alone, and `progress` for
/// its progress file.
pub fn xtask(args: &[&str], env: &[(&str, &str)], progress: &tempfile::TempPath) -> Output {
    let mut cmd = Command::new(xtask_bin());
    cmd.args(args).env("NSLAB_PROGRESS", progress);
    for var in ["LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("xtask runs")
}

/// A progress file of a test's own, removed when dropped.
pub fn temp_progress() -> tempfile::TempPath {
    tempfile::NamedTempFile::new()
        .expect("a temporary file")
        .into_temp_path()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
