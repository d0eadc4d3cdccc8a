//! The course book (mdbook, in `book/`): built, and kept honest.
//!
//! What the book shows of the course comes from the course's own files at
//! build time, through the `nslab` mdbook preprocessor (`crates/mdbook-nslab`,
//! declared in `book/book.toml`), so that `mdbook build book` and `mdbook
//! serve book` work on a fresh clone and nothing generated is committed:
//!
//! - `{{#nslab transcript STEP}}`: the step's reviewed transcript, the body
//!   of `tests/snapshots/STEP.snap` as insta reads it;
//! - `{{#nslab hints STEP}}`: the step's hints from course.toml, as foldable
//!   blocks;
//! - `{{#nslab schedule}}`: the instructors' session plan.
//!
//! [`build`] also checks what mdbook does not: every step has a chapter that
//! shows its transcript and its hints, and no relative link points at a
//! missing file; any warning mdbook prints fails the build. It builds into a
//! directory of its own and swaps it into `book/build` whole, so that two
//! builds at once cannot garble each other.

use crate::course::Course;
use crate::{root, snapshots};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The mdbook we build with, installed with cargo when it is missing.
const MDBOOK_VERSION: &str = "0.5.4";

fn book_dir() -> PathBuf {
    root().join("book")
}

/// Make sure `mdbook` runs; install it with cargo otherwise.
pub fn ensure_mdbook() -> Result<()> {
    if Command::new("mdbook").arg("--version").output().is_ok() {
        return Ok(());
    }
    eprintln!("nslab: installing mdbook {MDBOOK_VERSION} (cargo install)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "install",
            "--locked",
            "--quiet",
            "mdbook",
            "--version",
            MDBOOK_VERSION,
        ])
        .status()
        .context("running cargo install mdbook")?;
    anyhow::ensure!(status.success(), "cargo install mdbook failed ({status})");
    Ok(())
}

/// Check and build the book into `book/build`.
pub fn build(course: &Course) -> Result<()> {
    let mut problems = check_sources(course)?;
    ensure_mdbook()?;
    let builds = root().join("target").join("nslab-book");
    std::fs::create_dir_all(&builds).with_context(|| builds.display().to_string())?;
    let staging = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(&builds)
        .with_context(|| builds.display().to_string())?;
    let out = Command::new("mdbook")
        .arg("build")
        .arg(book_dir())
        .arg("--dest-dir")
        .arg(staging.path())
        .output()
        .context("running mdbook")?;
    let log = String::from_utf8_lossy(&out.stderr);
    for line in log.lines() {
        if line.contains("WARN") || line.contains("ERROR") {
            problems.push(format!("mdbook: {}", line.trim()));
        }
    }
    if !out.status.success() {
        // The whole log: the line that says why is not always marked.
        problems.push(format!("mdbook build failed ({}):\n{log}", out.status));
    }
    if !problems.is_empty() {
        bail!("the book has problems:\n  {}", problems.join("\n  "));
    }
    crate::replace_dir(&staging.keep(), &book_dir().join("build"))
}

/// The instructors' session plan.
fn schedule(course: &Course) -> String {
    let mut text = String::from(
        "| step | what it teaches | minutes |\n|------|-----------------|---------|\n",
    );
    for step in &course.step {
        text.push_str(&format!(
            "| [{}](steps/{}.md) | {} | {} |\n",
            step.id, step.id, step.teaches, step.minutes
        ));
    }
    let total: u32 = course.step.iter().map(|s| s.minutes).sum();
    text.push_str(&format!(
        "\nIn all {} h {:02} min, in two or three sessions.\n",
        total / 60,
        total % 60
    ));
    text
}

/// A step's hints, each a foldable block.
fn hints(step: &crate::course::Step) -> String {
    let mut text = String::new();
    for (n, hint) in step.hints.iter().enumerate() {
        text.push_str(&format!(
            "<details>\n<summary>Hint {}</summary>\n\n{hint}\n\n</details>\n\n",
            n + 1
        ));
    }
    text
}

/// Expand the `{{#nslab …}}` directives of one chapter.
pub fn expand(course: &Course, chapter: &str) -> Result<String> {
    let mut out = String::with_capacity(chapter.len());
    let mut rest = chapter;
    while let Some(at) = rest.find("{{#nslab ") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find("}}").with_context(|| {
            format!(
                "an unclosed {{{{#nslab at {:?}",
                &rest[at..][..20.min(rest.len() - at)]
            )
        })?;
        let words: Vec<&str> = rest[at + "{{#nslab ".len()..at + end]
            .split_whitespace()
            .collect();
        let text = match words.as_slice() {
            ["transcript", id] => {
                course.find(id)?;
                snapshots::read(id)?.with_context(|| format!("step {id} has no snapshot yet"))?
            }
            ["hints", id] => hints(course.find(id)?),
            ["schedule"] => schedule(course),
            other => bail!(
                "unknown directive {{{{#nslab {}}}}}: use transcript STEP, hints STEP or schedule",
                other.join(" ")
            ),
        };
        out.push_str(text.trim_end_matches('\n'));
        rest = &rest[at + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The preprocessor's work on mdbook's JSON book: every chapter's content
/// expanded, wherever it sits in the tree.
pub fn preprocess(course: &Course, book: &mut serde_json::Value) -> Result<()> {
    match book {
        serde_json::Value::Object(map) => {
            let name = map
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("?")
                .to_string();
            if let Some(serde_json::Value::String(content)) = map.get_mut("content") {
                *content = expand(course, content).with_context(|| format!("chapter {name:?}"))?;
            }
            for value in map.values_mut() {
                preprocess(course, value)?;
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                preprocess(course, item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// What mdbook would not catch, one line per problem.
fn check_sources(course: &Course) -> Result<Vec<String>> {
    let src = book_dir().join("src");
    let mut problems = Vec::new();
    let summary = read(&src.join("SUMMARY.md"))?;
    for step in &course.step {
        let chapter = format!("steps/{}.md", step.id);
        let path = src.join(&chapter);
        let Ok(text) = std::fs::read_to_string(&path) else {
            problems.push(format!(
                "step {} has no chapter book/src/{chapter}",
                step.id
            ));
            continue;
        };
        if !summary.contains(&format!("({chapter})")) {
            problems.push(format!("book/src/SUMMARY.md does not list {chapter}"));
        }
        for what in ["transcript", "hints"] {
            let directive = format!("{{{{#nslab {what} {}}}}}", step.id);
            if !text.contains(&directive) {
                problems.push(format!("{chapter} does not show its {what} ({directive})"));
            }
        }
    }
    let mut pages = Vec::new();
    for file in markdown_files(&src) {
        let text = read(&file)?;
        pages.push((file, text));
    }
    for demo in &course.demos {
        let directive = format!("{{{{#nslab transcript {}}}}}", demo.id);
        if !pages.iter().any(|(_, text)| text.contains(&directive)) {
            problems.push(format!(
                "no chapter shows the demonstration {} ({directive})",
                demo.id
            ));
        }
    }
    for (file, text) in &pages {
        for target in relative_links(text) {
            let resolved = file.parent().unwrap_or(&src).join(&target);
            if !resolved.exists() {
                let from = file
                    .strip_prefix(root())
                    .unwrap_or(file)
                    .display()
                    .to_string();
                problems.push(format!("{from}: broken link to {target}"));
            }
        }
    }
    Ok(problems)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| path.display().to_string())
}

fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| e.into_path())
        .collect()
}

/// The targets of `[text](target)` links that are files of the book (not
/// web addresses, not anchors in the same page), without their `#anchor`.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or("").trim();
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            links.push(target.to_string());
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_skip_web_addresses_and_anchors() {
        let text = "[a](one.md) [b](https://x.org) [c](#top) [d](steps/two.md#goal) [e](img/f.svg)";
        assert_eq!(
            relative_links(text),
            ["one.md", "steps/two.md", "img/f.svg"]
        );
    }

    #[test]
    fn directives_expand_and_bad_ones_are_refused() {
        let course = Course::load().unwrap();
        let text = expand(&course, "a\n{{#nslab hints sem}}\nb").unwrap();
        assert!(
            text.starts_with("a\n<details>") && text.ends_with("</details>\nb"),
            "{text}"
        );
        assert!(
            expand(&course, "{{#nslab transcript sem}}")
                .unwrap()
                .contains("Semaphore id is")
        );
        for bad in [
            "{{#nslab hints nope}}",
            "{{#nslab frobnicate}}",
            "{{#nslab hints sem",
        ] {
            assert!(expand(&course, bad).is_err(), "{bad}");
        }
        assert_eq!(expand(&course, "no directive").unwrap(), "no directive");
    }
}
