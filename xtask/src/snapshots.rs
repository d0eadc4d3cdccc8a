//! The reviewed transcripts, `tests/snapshots/<step>.snap`, read and written
//! through insta's own API only: insta owns the file's format (its header
//! may change with `cargo insta review`), and everything here asks insta for
//! the body.
//!
//! Every transcript is compared read-only ([`diff`]). A solution's changed
//! transcript is then proposed through [`insta::assert_snapshot!`]
//! ([`propose`]): a `.snap.new` to accept or reject with `cargo insta
//! review` (never under CI). A student's run never proposes one.

use crate::course::Step;
use crate::root;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Mutex;

pub fn dir() -> PathBuf {
    root().join("tests").join("snapshots")
}

/// `tests/snapshots/<step>.snap`.
pub fn path(step_id: &str) -> PathBuf {
    dir().join(format!("{step_id}.snap"))
}

/// The reviewed transcript of a step (the snapshot's body), `None` when the
/// step has no snapshot yet. A snapshot that exists but cannot be read is
/// an error: it is not the student's doing.
pub fn read(step_id: &str) -> Result<Option<String>> {
    let path = path(step_id);
    if !path.exists() {
        return Ok(None);
    }
    let snapshot = insta::Snapshot::from_file(&path)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot read the snapshot {}", path.display()))?;
    let text = snapshot
        .contents()
        .as_text()
        .with_context(|| format!("{}: not a text snapshot", path.display()))?;
    Ok(Some(text.to_string()))
}

fn settings(step: &Step) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir());
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!("{} — {}", step.id, step.title));
    settings
}

/// One proposal at a time: insta writes the pending file.
static PROPOSE: Mutex<()> = Mutex::new(());

/// Propose a solution's changed transcript for review, through insta: a
/// `.snap.new` beside the snapshot for `cargo insta review` (none under CI;
/// `INSTA_UPDATE=always` writes the snapshot itself). The workspace's
/// `.config/insta.yaml` makes insta's assertion pass and print nothing:
/// whether the transcript matches is [`diff`]'s to say, and the report
/// shows nslab's own diff.
pub fn propose(step: &Step, transcript: &str) {
    let _one_at_a_time = PROPOSE.lock().unwrap_or_else(|e| e.into_inner());
    settings(step).bind(|| {
        // A malformed configuration still must not take the check down.
        let _ = std::panic::catch_unwind(|| {
            insta::assert_snapshot!(step.id.as_str(), transcript);
        });
    });
}

/// A read-only comparison: `None` when equal, else the diff, expected
/// lines with `-` and the program's with `+`.
pub fn diff(expected: &str, transcript: &str) -> Option<String> {
    if expected.trim_end() == transcript.trim_end() {
        return None;
    }
    // Both end with a newline: a last line is then the same line whether
    // or not more follow it (`[scenario ended: exit=0]`, then a leak).
    let expected = format!("{}\n", expected.trim_end());
    let transcript = format!("{}\n", transcript.trim_end());
    let diff = similar::TextDiff::from_lines(&expected, &transcript);
    let mut out = format!("{}\n", crate::tr!(crate::i18n::msg::DIFF_HEADER));
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        out.push_str(&format!("{sign} {}", change.value()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_snapshot_reads_through_insta_whatever_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let long = dir.path().join("long.snap");
        let short = dir.path().join("short.snap");
        std::fs::write(
            &long,
            "---\nsource: a.rs\nassertion_line: 3\ndescription: d\n---\nline one\nline two\n",
        )
        .unwrap();
        std::fs::write(&short, "---\nsource: a.rs\n---\nline one\nline two\n").unwrap();
        for path in [long, short] {
            let snap = insta::Snapshot::from_file(&path).unwrap();
            assert_eq!(
                snap.contents().as_text().unwrap().to_string(),
                "line one\nline two"
            );
        }
    }

    #[test]
    fn equal_texts_have_no_diff_and_others_show_both_sides() {
        assert_eq!(diff("a\nb\n", "a\nb"), None);
        let d = diff("a\nb", "a\nc").unwrap();
        assert!(d.contains("- b\n") && d.contains("+ c\n"), "{d}");
        // Lines added after the last one leave it unchanged.
        let d = diff("a\n[end]", "a\n[end]\n[leaked: x]").unwrap();
        assert!(d.contains("  [end]\n") && !d.contains("- [end]"), "{d}");
        assert!(d.ends_with("+ [leaked: x]\n"), "{d}");
    }
}
