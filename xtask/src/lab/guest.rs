//! The programs that run in the VM, built as static executables.
//!
//! The guest has no shared libraries, so everything is linked statically
//! against glibc (`+crt-static`). The flag is given for the target triple
//! only, so that build scripts and proc-macros still build for the host, and
//! in a target directory of its own, so that it does not invalidate the
//! ordinary host build.

use crate::root;
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// Build `packages` (and the guest init) and return each binary's path by
/// its cargo name.
pub fn build(packages: &[String]) -> Result<HashMap<String, PathBuf>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root())
        .args(["build", "--release", "--target", TARGET])
        .args(["--message-format", "json-render-diagnostics", "--quiet"])
        .args(["-p", "nslab-init"])
        .env("CARGO_TARGET_DIR", root().join("target").join("guest"))
        .env(
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            "-C target-feature=+crt-static",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for package in packages {
        cmd.args(["-p", package]);
    }
    let out = cmd.output().context("cannot run cargo")?;
    if !out.status.success() {
        bail!(
            "building the VM's programs failed ({}): see the compiler's messages above",
            packages.join(", ")
        );
    }
    let mut bins = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        if let (Some(name), Some(exe)) =
            (msg["target"]["name"].as_str(), msg["executable"].as_str())
        {
            bins.insert(name.to_string(), PathBuf::from(exe));
        }
    }
    Ok(bins)
}
