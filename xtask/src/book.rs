//! The course book (mdbook, in `book/`) and its translations: built, and
//! kept honest.
//!
//! What the book shows of the course comes from the course's own files at
//! build time, through the `nslab` mdbook preprocessor (`crates/mdbook-nslab`,
//! declared in `book/book.toml`, which expands `{{#nslab transcript STEP}}`,
//! `{{#nslab hints STEP}}` and `{{#nslab schedule}}`), so that `mdbook
//! build book` and `mdbook serve book` work on a fresh clone and nothing
//! generated is committed.
//!
//! The book is written in English; each translation is a gettext catalogue,
//! `po/LANG.po` ([`crate::translations::book`]). The English book goes to
//! `book/build`, each translation to `book/build/LANG`, and
//! `book/theme/header.hbs` puts a link to the same page in the other
//! language on every page. Code blocks and the directives are marked
//! `<!-- i18n:skip -->` in the chapters: program output stays as the
//! programs print it, and what the directives expand never reaches the
//! catalogue (the nslab preprocessor runs after mdbook-gettext, and not at
//! all for the extraction).
//!
//! [`build`] also checks what mdbook does not: every step has a chapter that
//! shows its transcript and its hints, every code block is marked to be
//! skipped, no relative link points at a missing file or anchor, in any
//! language, and every catalogue translates every message of the current
//! English text, with nothing fuzzy or left over; any warning mdbook prints
//! fails the build. It builds into a directory of its own and swaps it into
//! `book/build` whole, so that two builds at once cannot garble each other.
//!
//! Wiring: runs mdbook through [`crate::mdbook`], checks the catalogues
//! through [`crate::translations::book`] and reads the chapters' Markdown
//! through [`crate::markdown`]; called by `cargo xtask book` and `check`.

use crate::course::Course;
use crate::{markdown, mdbook, root, translations};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The HTML comment that keeps the next block out of the catalogue.
pub const SKIP: &str = "<!-- i18n:skip -->";

/// Check and build the book into `book/build`, each translation into
/// `book/build/LANG`.
pub fn build(course: &Course) -> Result<()> {
    let builds = root().join("target").join("nslab-book");
    std::fs::create_dir_all(&builds).with_context(|| builds.display().to_string())?;
    let staging = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(&builds)
        .with_context(|| builds.display().to_string())?;
    build_into(course, staging.path())?;
    crate::replace_dir(&staging.keep(), &mdbook::book_dir().join("build"))
}

/// Check the book and its catalogues, and build every language into
/// `dest` (English) and `dest/LANG`.
pub fn build_into(course: &Course, dest: &Path) -> Result<()> {
    let mut problems = check_sources(course)?;
    mdbook::ensure_mdbook()?;
    let languages = translations::book::languages()?;
    if !languages.is_empty() {
        mdbook::ensure_i18n_helpers()?;
        let scratch = tempfile::tempdir().context("a temporary directory")?;
        let pot = mdbook::extract_messages(scratch.path())?;
        problems.extend(translations::book::template_problems(&pot)?);
        for lang in &languages {
            problems.extend(translations::book::catalogue_problems(lang, &pot)?);
        }
    }
    // English first: mdbook empties its destination, the translations' too.
    problems.extend(mdbook::build(dest, None)?);
    for lang in &languages {
        problems.extend(mdbook::build(&dest.join(lang), Some(lang))?);
    }
    problems.extend(check_rendered(dest, &languages)?);
    if !problems.is_empty() {
        bail!("the book has problems:\n  {}", problems.join("\n  "));
    }
    Ok(())
}

/// What mdbook would not catch, one line per problem.
fn check_sources(course: &Course) -> Result<Vec<String>> {
    let src = mdbook::book_dir().join("src");
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
        let from = file
            .strip_prefix(root())
            .unwrap_or(file)
            .display()
            .to_string();
        for line in unmarked_blocks(text) {
            problems.push(format!(
                "{from}:{line}: a code block or directive with no {SKIP} line just before it \
                 (code, program output and what a directive expands stay out of the translations)"
            ));
        }
        for target in relative_links(text) {
            let resolved = file.parent().unwrap_or(&src).join(&target);
            if !resolved.exists() {
                problems.push(format!("{from}: broken link to {target}"));
            }
        }
    }
    Ok(problems)
}

/// The lines (from 1) of a chapter's code blocks and block directives
/// (`{{#nslab hints …}}`, `{{#nslab schedule}}`) whose previous line with
/// text is not [`SKIP`]: fenced blocks (backticks or `~~~`, in a list item
/// or not), and indented ones.
fn unmarked_blocks(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let marked = |line: usize| {
        lines[..line - 1]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim() == SKIP)
    };
    let outline = markdown::outline(text);
    let mut unmarked: Vec<usize> = (outline.code_blocks.iter())
        .chain(&outline.block_directives)
        .copied()
        .filter(|&line| !marked(line))
        .collect();
    unmarked.sort();
    unmarked
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

/// The targets of the links and images that are files of the book (not
/// web addresses, not anchors in the same page), without their `#anchor`.
fn relative_links(text: &str) -> Vec<String> {
    markdown::outline(text)
        .links
        .into_iter()
        .map(|link| {
            link.address
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .filter(|target| {
            !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:")
        })
        .collect()
}

/// The book as rendered, in every language: each translation has every
/// page of the English book, in its language, with the switch to the
/// other languages; every relative link and image of every page leads to
/// a file that exists, and its `#anchor` to an element of that page.
fn check_rendered(dest: &Path, languages: &[String]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let pages_of = |dir: &Path| -> Vec<PathBuf> {
        walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() != 1
                    || !e.file_type().is_dir()
                    || !languages.iter().any(|l| e.file_name() == l.as_str())
            })
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "html")
            })
            .filter_map(|e| e.path().strip_prefix(dir).ok().map(Path::to_path_buf))
            // mdbook's own pages: the sidebar, everything at once, not found.
            .filter(|p| {
                !["toc.html", "print.html", "404.html"].contains(&p.to_string_lossy().as_ref())
            })
            .collect()
    };
    let english = pages_of(dest);
    if english.is_empty() {
        problems.push("the English book has no page".to_string());
    }
    let mut books = vec![("en".to_string(), dest.to_path_buf())];
    for lang in languages {
        let dir = dest.join(lang);
        let pages = pages_of(&dir);
        for page in &english {
            if !pages.contains(page) {
                problems.push(format!("book/build/{lang}/{} is missing", page.display()));
            }
        }
        books.push((lang.clone(), dir));
    }
    for (lang, dir) in &books {
        for page in pages_of(dir) {
            let path = dir.join(&page);
            let html = read(&path)?;
            let shown = if lang == "en" {
                format!("book/build/{}", page.display())
            } else {
                format!("book/build/{lang}/{}", page.display())
            };
            if !html.contains(&format!("<html lang=\"{lang}\"")) {
                problems.push(format!("{shown}: not marked as written in {lang}"));
            }
            for (other, _) in books.iter().filter(|(l, _)| l != lang) {
                if !html.contains(&format!("hreflang=\"{other}\"")) {
                    problems.push(format!(
                        "{shown}: no link to the {other} book (book/theme/header.hbs)"
                    ));
                }
            }
            for target in page_links(&html) {
                let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
                let linked = if file.is_empty() {
                    path.clone()
                } else {
                    path.parent().unwrap_or(dir).join(file)
                };
                if !linked.is_file() {
                    problems.push(format!("{shown}: a link to {target}, which is missing"));
                } else if !anchor.is_empty() {
                    let text = if file.is_empty() {
                        html.clone()
                    } else {
                        read(&linked)?
                    };
                    if !text.contains(&format!("id=\"{anchor}\"")) {
                        problems.push(format!(
                            "{shown}: a link to {target}, whose anchor is missing"
                        ));
                    }
                }
            }
        }
    }
    Ok(problems)
}

/// The relative targets of a rendered page's `href` and `src` attributes.
fn page_links(html: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attribute) {
            rest = &rest[at + attribute.len()..];
            let Some(end) = rest.find('"') else { break };
            let target = &rest[..end];
            rest = &rest[end..];
            if target.is_empty()
                || target.contains(':')
                || target.starts_with("//")
                || target.contains("{{")
            {
                continue;
            }
            let target = target.split('?').next().unwrap_or(target).to_string();
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
    }
    targets
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
        // Line by line, the reference link was missed and the code's `](`
        // taken for a link.
        let text = "[a][r] and `f(x)[0](y.md)`\n\n```\n[b](z.md)\n```\n\n[r]: three.md#x\n";
        assert_eq!(relative_links(text), ["three.md"]);
    }

    #[test]
    fn code_blocks_and_directives_must_be_marked_to_be_skipped() {
        let text = "Text:\n\n```text\n{{#nslab transcript sem}}\n```\n\n\
                    <!-- i18n:skip -->\n```rust,ignore\nfn f() {}\n```\n\n\
                    {{#nslab hints sem}}\n\n\
                    Run:\n\n    cargo xtask verify\n\n\
                    <!-- i18n:skip -->\n\n    cargo xtask check\n\n\
                    - a list item\n\n    that goes on\n";
        assert_eq!(unmarked_blocks(text), [3, 12, 16]);
        // Line by line, a `~~~` fence and a fence in a list item were not
        // seen, and a directive inside a `~~~` block was taken for one.
        let text = "~~~text\n{{#nslab hints sem}}\n~~~\n\n\
                    - an item:\n\n  ```sh\n  cargo xtask verify\n  ```\n\n\
                    - marked:\n\n  <!-- i18n:skip -->\n  ~~~sh\n  cargo xtask check\n  ~~~\n";
        assert_eq!(unmarked_blocks(text), [1, 7]);
    }

    /// The preprocessor reads a transcript without insta: catches a reader
    /// that keeps the header, drops a line or keeps the trailing blank
    /// lines insta trims.
    #[test]
    fn the_preprocessors_transcripts_are_instas() {
        let course = Course::load().unwrap();
        for step in course.all() {
            assert_eq!(
                nslab_course::snapshot::read(&step.id).unwrap(),
                crate::snapshots::read(&step.id).unwrap(),
                "{}",
                step.id
            );
        }
    }
}
