//! nslab's task runner, as a library: `cargo xtask` (src/main.rs) and the
//! tests under `tests/` use the same code.
//!
//! How it is wired — a command goes one way, down this list:
//!
//! - [`commands`]: what each `cargo xtask` command does, for instructors
//!   ([`commands::instructor`]) and students ([`commands::student`]);
//! - [`plan`]: which runs a check makes and what each must show;
//! - [`lab`]: running a VM (host tools, kernel, static builds, initramfs,
//!   QEMU), knowing nothing of what a step must show;
//! - [`verdict`]: a run judged: pass, the student's failure with its
//!   diagnoses, or the machine's;
//! - [`report`]: verdicts for people, JSON and JUnit;
//!
//! and, used along the way: [`course`] (the manifest, `course.toml`),
//! [`snapshots`] (the reviewed transcripts, through insta),
//! [`normalize`] (the transcript of a run, made stable), [`exercise`]
//! (exercises derived from the solutions), [`progress`] (a student's),
//! [`book`] (the mdbook and its preprocessor), [`bench`]. The guest side of
//! the VM protocol is the `nslab-protocol` crate, shared with the VM's init.

pub mod bench;
pub mod book;
pub mod commands;
pub mod course;
pub mod exercise;
pub mod lab;
pub mod normalize;
pub mod plan;
pub mod progress;
pub mod report;
pub mod snapshots;
pub mod verdict;

use std::path::{Path, PathBuf};

/// The root of the nslab workspace.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Where VM artefacts go: `target/nslab-vm`.
pub fn vm_dir() -> PathBuf {
    root().join("target").join("nslab-vm")
}
