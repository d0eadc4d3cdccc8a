//! The body of a reviewed transcript, `tests/snapshots/STEP.snap`, read
//! without insta, for the book's preprocessor.
//!
//! Wiring: a leaf. xtask reads, writes and compares snapshots through
//! insta's own API (`xtask::snapshots`); this reader is the one place that
//! knows insta's file format, and xtask's tests compare the two on every
//! snapshot: a header between two `---` lines, then the body, whose lines
//! insta joins with `\n` and trims at the end.

use crate::root;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

/// `tests/snapshots/STEP.snap`.
pub fn path(step_id: &str) -> PathBuf {
    root()
        .join("tests")
        .join("snapshots")
        .join(format!("{step_id}.snap"))
}

/// The reviewed transcript of a step, `None` when it has no snapshot yet.
pub fn read(step_id: &str) -> Result<Option<String>> {
    let path = path(step_id);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| path.display().to_string()),
    };
    body(&text)
        .map(Some)
        .with_context(|| format!("cannot read the snapshot {}", path.display()))
}

/// The body of a snapshot file's text, as insta reads it.
pub fn body(text: &str) -> Result<String> {
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        bail!("no header: the first line is not ---");
    }
    if !lines.by_ref().any(|line| line.trim_end() == "---") {
        bail!("the header does not end (no second --- line)");
    }
    let body = lines.collect::<Vec<&str>>().join("\n");
    Ok(body.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_what_follows_the_header() {
        let text = "---\nsource: x\ndescription: a — b\n---\none\r\n  two\n\n---\nthree\n\n";
        assert_eq!(body(text).unwrap(), "one\n  two\n\n---\nthree");
        assert!(body("one\ntwo\n").is_err());
        assert!(body("---\nsource: x\n").is_err());
    }
}
