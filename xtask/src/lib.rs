//! nslab's task runner, as a library: the tests under `tests/` use the same
//! code as `cargo xtask check`.
//!
//! - [`course`]: the steps, read from `course.toml`;
//! - [`provision`]: the host packages the VM needs;
//! - [`kernel`]: the guest kernel, unpacked once for a fast boot;
//! - [`guest`]: the steps' programs, built static for the VM;
//! - [`initramfs`]: the VM's root filesystem, as a cpio archive;
//! - [`vm`]: one QEMU run, and how it ended;
//! - [`normalize`]: what is volatile in an output, made stable;
//! - [`check`]: a step run in the VM and compared with its snapshot;
//! - [`exercise`]: exercises derived from the solutions.

pub mod bench;
pub mod book;
pub mod check;
pub mod course;
pub mod exercise;
pub mod guest;
pub mod initramfs;
pub mod kernel;
pub mod normalize;
pub mod progress;
pub mod provision;
pub mod report;
pub mod vm;

use std::path::{Path, PathBuf};

/// Errors of the task runner: a message for the user.
pub type Result<T> = std::result::Result<T, String>;

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

/// Format an I/O error with the path it concerns.
pub(crate) fn io_err(what: impl std::fmt::Display, err: std::io::Error) -> String {
    format!("{what}: {err}")
}
