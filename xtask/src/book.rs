//! The course book (mdbook, in `book/`): built, and kept honest.
//!
//! Before building we generate what comes from the manifest (each step's
//! hints, as foldable blocks) into `book/src/generated/`, and check what
//! mdbook does not: every step has a chapter that includes its snapshot and
//! its hints, the snapshots' bodies start where the chapters include them
//! from, and no relative link points at a missing file. mdbook itself fails
//! on a missing include; any warning it prints fails the build too.

use crate::course::Course;
use crate::{Result, io_err, root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Chapters include a snapshot from this line on: insta's header (`---`,
/// `source:`, `assertion_line:`, `description:`, `---`) is five lines.
pub const SNAPSHOT_BODY_LINE: usize = 6;

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
        .map_err(|e| format!("cargo install mdbook: {e}"))?;
    if !status.success() {
        return Err(format!("cargo install mdbook failed ({status})"));
    }
    Ok(())
}

/// Generate, check and build the book into `book/build`.
pub fn build(course: &Course) -> Result<()> {
    generate(course)?;
    let mut problems = check_sources(course)?;
    ensure_mdbook()?;
    let out = Command::new("mdbook")
        .arg("build")
        .arg(book_dir())
        .output()
        .map_err(|e| format!("mdbook: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    for line in log.lines() {
        if line.contains("WARN") || line.contains("ERROR") {
            problems.push(format!("mdbook: {}", line.trim()));
        }
    }
    if !out.status.success() && problems.is_empty() {
        problems.push(format!("mdbook build failed:\n{log}"));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "the book has problems:\n  {}",
            problems.join("\n  ")
        )),
    }
}

/// `book/src/generated/<step>-hints.md` and `schedule.md`, from the manifest.
fn generate(course: &Course) -> Result<()> {
    let dir = book_dir().join("src").join("generated");
    std::fs::create_dir_all(&dir).map_err(|e| io_err(dir.display(), e))?;
    let mut schedule = String::from(
        "| step | what it teaches | minutes |\n|------|-----------------|---------|\n",
    );
    for step in &course.step {
        schedule.push_str(&format!(
            "| [{}](steps/{}.md) | {} | {} |\n",
            step.id, step.id, step.teaches, step.minutes
        ));
    }
    let total: u32 = course.step.iter().map(|s| s.minutes).sum();
    schedule.push_str(&format!(
        "\nIn all {} h {:02} min, in two or three sessions.\n",
        total / 60,
        total % 60
    ));
    let path = dir.join("schedule.md");
    std::fs::write(&path, schedule).map_err(|e| io_err(path.display(), e))?;
    for step in &course.step {
        let mut text = String::new();
        for (n, hint) in step.hints.iter().enumerate() {
            text.push_str(&format!(
                "<details>\n<summary>Hint {}</summary>\n\n{hint}\n\n</details>\n\n",
                n + 1
            ));
        }
        let path = dir.join(format!("{}-hints.md", step.id));
        std::fs::write(&path, text).map_err(|e| io_err(path.display(), e))?;
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
        let snapshot = format!("tests/snapshots/{}.snap:{SNAPSHOT_BODY_LINE}:", step.id);
        if !text.contains(&snapshot) {
            problems.push(format!("{chapter} does not include {snapshot}"));
        }
        if !text.contains(&format!("generated/{}-hints.md", step.id)) {
            problems.push(format!("{chapter} does not include its hints"));
        }
        if let Ok(snap_text) = std::fs::read_to_string(crate::check::snapshot_path(&step.id)) {
            let body_line = crate::check::split_snapshot(&snap_text).map(|(line, _)| line);
            if body_line != Some(SNAPSHOT_BODY_LINE) {
                problems.push(format!(
                    "tests/snapshots/{}.snap: its body does not start at line {SNAPSHOT_BODY_LINE}",
                    step.id
                ));
            }
        }
    }
    // Generated fragments are checked where they are included: their links
    // resolve from the including chapter.
    let generated = src.join("generated");
    for file in markdown_files(&src)? {
        if file.starts_with(&generated) {
            continue;
        }
        let text = read(&file)?;
        for target in relative_links(&text) {
            let resolved = file.parent().unwrap_or(&src).join(&target);
            if !resolved.exists() {
                let from = file
                    .strip_prefix(root())
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                problems.push(format!("{from}: broken link to {target}"));
            }
        }
    }
    Ok(problems)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| io_err(path.display(), e))
}

fn markdown_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir.display(), e))? {
        let path = entry.map_err(|e| io_err(dir.display(), e))?.path();
        if path.is_dir() {
            files.extend(markdown_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    Ok(files)
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
}
