//! nslab's task runner, as a library: `cargo xtask` (src/main.rs) and the
//! tests under `tests/` use the same code.
//!
//! How it is wired — a command goes one way, down this list:
//!
//! - [`commands`]: what each `cargo xtask` command does, for instructors
//!   ([`commands::instructor`]) and students ([`commands::student`]);
//! - [`plan`]: which runs a check makes and what each must show, and the
//!   one name of every result ([`plan::Subject`]: a VM run, or a check of
//!   the course's files), from which its line, test and JUnit names come;
//! - [`setup`]: the course made into the lab's plain data (the packages to
//!   build, each run's files), and [`schedule`]: the runs, a few at a time;
//! - [`lab`]: running a VM (host tools, kernel, static builds, initramfs,
//!   QEMU), knowing nothing of the course nor of what a step must show;
//! - [`verdict`]: a run judged, without side effects: pass, the
//!   student's failure with its diagnoses, or the machine's;
//! - [`report`]: verdicts for people, JSON and JUnit, and [`platforms`]:
//!   the grading platforms' formats (Gradescope, GitHub Classroom);
//!
//! and, used along the way: [`course`] (the manifest, `course.toml`),
//! [`snapshots`] (the reviewed transcripts, through insta),
//! [`solvable`] (every step solvable from its text),
//! [`normalize`] (the transcript of a run, made stable), [`exercise`]
//! (exercises derived from the solutions), [`progress`] (a student's),
//! [`book`] (the book's checked build, on [`mdbook`] the programs),
//! [`translations`] (the book's and the course's gettext catalogues, on
//! [`markdown`] for what a message must keep), [`mod@bench`], [`i18n`]
//! (the course's messages in the student's language), [`class`] (a
//! class's graded files at a glance).
//!
//! [`course`] and [`i18n`] are re-exports of the `nslab-course` crate,
//! which the book's preprocessor (`crates/mdbook-nslab`) shares without
//! depending on xtask. The guest side of the VM protocol is the
//! `nslab-protocol` crate, shared with the VM's init.

pub mod bench;
pub mod book;
pub mod class;
pub mod commands;
pub mod course;
pub mod exercise;
pub mod i18n;
pub mod lab;
pub mod markdown;
pub mod mdbook;
pub mod mistakes;
pub mod mutants;
pub mod normalize;
pub mod plan;
pub mod platforms;
pub mod progress;
pub mod report;
pub mod schedule;
pub mod setup;
pub mod snapshots;
pub mod solvable;
pub mod translations;
pub mod verdict;

pub use nslab_course::tr;

use anyhow::Context;
use std::path::{Path, PathBuf};

/// Put the directory `fresh` in place of `dest`, whole: the old `dest` (if
/// any) is moved aside and removed. Another process doing the same at once
/// cannot leave a mix of the two; the last one to finish wins.
pub fn replace_dir(fresh: &Path, dest: &Path) -> anyhow::Result<()> {
    let aside = |n: usize| {
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        dest.with_file_name(format!(".{name}.old-{}-{n}", std::process::id()))
    };
    for n in 0..10 {
        if dest.exists() {
            // Another process may move it first: then there is nothing to move.
            let _ = std::fs::rename(dest, aside(n));
        }
        match std::fs::rename(fresh, dest) {
            Ok(()) => {
                for m in 0..=n {
                    let _ = std::fs::remove_dir_all(aside(m));
                }
                return Ok(());
            }
            // Someone put theirs in between: move it aside too, and again.
            Err(_) if dest.exists() && n < 9 => continue,
            Err(e) => return Err(e).with_context(|| dest.display().to_string()),
        }
    }
    anyhow::bail!("{}: could not be replaced", dest.display())
}

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
