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
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// What a build gave: the binaries by cargo name, and the compiler's
/// errors (rendered as the compiler prints them).
pub struct Build {
    pub bins: HashMap<String, PathBuf>,
    pub errors: Vec<String>,
    pub success: bool,
}

/// Build `packages` of the workspace of `manifest`, printing the compiler's
/// messages on stderr as cargo would. An `Err` means cargo could not run;
/// a build that failed is a [`Build`] whose `success` is false.
pub fn compile(manifest: &Path, packages: &[String]) -> Result<Build> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root())
        .args(["build", "--release", "--target", TARGET])
        .args(["--message-format", "json", "--quiet"])
        .arg("--manifest-path")
        .arg(manifest)
        .env("CARGO_TARGET_DIR", root().join("target").join("guest"))
        .env(
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            // Static, and without symbols: every run's payload carries a
            // dozen of them, a third of their size.
            "-C target-feature=+crt-static -C strip=symbols",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for package in packages {
        cmd.args(["-p", package]);
    }
    let out = cmd.output().context("cannot run cargo")?;
    let mut build = Build {
        bins: HashMap::new(),
        errors: Vec::new(),
        success: out.status.success(),
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        match msg["reason"].as_str() {
            Some("compiler-artifact") => {
                if let (Some(name), Some(exe)) =
                    (msg["target"]["name"].as_str(), msg["executable"].as_str())
                {
                    build.bins.insert(name.to_string(), PathBuf::from(exe));
                }
            }
            Some("compiler-message") => {
                let rendered = msg["message"]["rendered"].as_str().unwrap_or_default();
                eprint!("{rendered}");
                if msg["message"]["level"] == "error" {
                    build.errors.push(rendered.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(build)
}

/// Build `packages` (and the guest init), which must compile: the course's
/// own programs.
pub fn build(packages: &[String]) -> Result<HashMap<String, PathBuf>> {
    let mut all = vec!["nslab-init".to_string()];
    all.extend(packages.iter().cloned());
    build_in(&root().join("Cargo.toml"), &all)
}

/// Build `packages` of the workspace of `manifest`, which must compile.
pub fn build_in(manifest: &Path, packages: &[String]) -> Result<HashMap<String, PathBuf>> {
    let build = compile(manifest, packages)?;
    if !build.success {
        bail!(
            "building the VM's programs failed ({}): {}",
            packages.join(", "),
            build
                .errors
                .first()
                .map_or("see the messages above", |e| e.lines().next().unwrap_or(e))
        );
    }
    Ok(build.bins)
}
