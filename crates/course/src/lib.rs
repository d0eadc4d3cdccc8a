//! The course's own files, read: what both xtask (the task runner) and the
//! book's preprocessor (`crates/mdbook-nslab`) need, and nothing that
//! runs a VM, parses a command line or writes a snapshot, so that the
//! preprocessor compiles in seconds on a fresh clone.
//!
//! How it is wired, bottom up:
//!
//! - [`po`]: the one reader and writer of gettext PO files;
//! - [`i18n`]: the messages in the reader's language at run time
//!   ([`i18n::Lang`], [`tr!`], [`i18n::fill`], the table [`i18n::msg`]),
//!   read from `po/course/LANG.po` through [`po`];
//! - [`manifest`]: `course.toml`, its types and its validation; its errors
//!   and translated texts go through [`i18n`];
//! - [`snapshot`]: the body of a reviewed transcript, read without insta.
//!
//! xtask re-exports [`manifest`] as `xtask::course` and [`i18n`] as
//! `xtask::i18n`.

pub mod i18n;
pub mod manifest;
pub mod po;
pub mod snapshot;

use std::path::{Path, PathBuf};

/// The root of the nslab workspace.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("this crate lives in crates/course")
        .to_path_buf()
}
