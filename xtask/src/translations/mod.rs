//! The translations layer: the gettext catalogues of the book and of the
//! course, their templates, their checks, and the commands that keep them
//! (`cargo xtask messages`, `cargo xtask book --update-po`).
//!
//! There are two catalogues, one format:
//!
//! - [`book`]: `po/messages.pot` and `po/LANG.po`, the book's chapters, as
//!   mdbook-xgettext extracts them and mdbook-gettext reads them;
//! - [`course`]: `po/course/messages.pot` and `po/course/LANG.po`, the texts
//!   of `course.toml`, the messages of the student commands and the words
//!   the book's directives add (the table `msg`), read at run time by
//!   [`crate::i18n`] and by the book's preprocessor.
//!
//! A language is a file: the languages of the book are the `po/LANG.po`,
//! those of the course the `po/course/LANG.po`; no Rust names them.
//!
//! Wiring: every PO file is read and written through [`nslab_course::po`],
//! the one PO reader of the workspace; both catalogues are merged with
//! their template by [`merge`] (GNU gettext's msgmerge and msgattrib), and
//! a committed template is compared with a fresh one by [`up_to_date`].
//! The Markdown of the book and of the messages is read by
//! [`crate::markdown`]. Used by [`crate::book`] (the checks before a build)
//! and [`crate::commands`].

pub mod book;
pub mod course;

use crate::root;
use anyhow::{Context, Result, bail};
use nslab_course::po::{self, Entry};
use std::path::Path;
use std::process::Command;

/// How msgmerge writes a catalogue's long strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// At 79 columns, as msgmerge does by default (the book's catalogues).
    Yes,
    /// One line per string (the course's catalogues).
    No,
}

/// Merge the template `pot` into the catalogue `po`: the translations are
/// kept, new entries come in empty, changed ones fuzzy with their previous
/// English beside them (`#|`), and what the template lost goes (it is in
/// git's history, not kept as `#~`).
pub fn merge(po: &Path, pot: &Path, wrap: Wrap) -> Result<()> {
    let no_wrap: &[&str] = match wrap {
        Wrap::Yes => &[],
        Wrap::No => &["--no-wrap"],
    };
    run(Command::new("msgmerge")
        .args(["--quiet", "--update", "--backup=none", "--previous"])
        .args(no_wrap)
        .arg(po)
        .arg(pot))?;
    run(Command::new("msgattrib")
        .arg("--no-obsolete")
        .args(no_wrap)
        .arg("--output-file")
        .arg(po)
        .arg(po))
}

/// Run one of gettext's programs, with its error output when it fails.
fn run(command: &mut Command) -> Result<()> {
    let program = command.get_program().to_string_lossy().into_owned();
    let out = command.output().with_context(|| {
        format!("cannot run {program}: it comes with GNU gettext (Debian's package gettext)")
    })?;
    if !out.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Whether the committed template at `committed` has the entries of the
/// `fresh` one, in the same order, with the same notes for translators
/// (its header, with its dates, aside). A template that cannot be read is
/// not up to date.
pub fn up_to_date(committed: &Path, fresh: &[Entry]) -> bool {
    let key = |e: &Entry| (e.context.clone(), e.id.clone(), e.notes.clone());
    let keys = |entries: &[Entry]| -> Vec<_> {
        entries
            .iter()
            .filter(|e| !e.id.is_empty())
            .map(key)
            .collect()
    };
    po::read(committed).is_ok_and(|entries| keys(&entries) == keys(fresh))
}

/// `msgfmt --check --statistics` of a catalogue: its statistics line, or
/// what msgfmt says is wrong. `None` when msgfmt is not installed.
pub fn msgfmt_check(path: &Path) -> Option<Result<String, String>> {
    let out = Command::new("msgfmt")
        .args(["--check", "--statistics", "--output-file=/dev/null"])
        .arg(path)
        .env("LC_ALL", "C")
        .output()
        .ok()?;
    let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
    Some(match out.status.success() {
        true => Ok(said),
        false => Err(said),
    })
}

/// A path of the checkout, relative to its root.
fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A message, short enough for one line of a report.
fn short(msgid: &str) -> String {
    let short: String = msgid.chars().take(70).collect();
    if short.len() < msgid.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catches a comparison that looks at the header (its dates change at
    /// every extraction), or that ignores the order or the notes.
    #[test]
    fn a_template_is_up_to_date_by_its_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("messages.pot");
        let text = "msgid \"\"\nmsgstr \"POT-Creation-Date: 1\\n\"\n\n\
                    #. a note\nmsgid \"a\"\nmsgstr \"\"\n\nmsgid \"b\"\nmsgstr \"\"\n";
        std::fs::write(&path, text).unwrap();
        let fresh = |text: &str| po::parse(text).unwrap();
        assert!(up_to_date(
            &path,
            &fresh(&text.replace("POT-Creation-Date: 1", "2"))
        ));
        assert!(!up_to_date(
            &path,
            &fresh(&text.replace("a note", "another"))
        ));
        let swapped = "#. a note\nmsgid \"b\"\nmsgstr \"\"\n\nmsgid \"a\"\nmsgstr \"\"\n";
        assert!(!up_to_date(&path, &fresh(swapped)));
        assert!(!up_to_date(&dir.path().join("none.pot"), &fresh(text)));
    }
}
