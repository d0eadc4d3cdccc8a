//! The course book's mdbook preprocessor, `nslab`: what the book shows of
//! the course comes from the course's own files at build time, so that
//! `mdbook build book` and `mdbook serve book` work on a fresh clone and
//! nothing generated is committed.
//!
//! - `{{#nslab transcript STEP}}`: the step's reviewed transcript, the body
//!   of `tests/snapshots/STEP.snap`;
//! - `{{#nslab hints STEP}}`: the step's hints from course.toml, as foldable
//!   blocks;
//! - `{{#nslab schedule}}`: the instructors' session plan.
//!
//! In a translated book (`book.language`), the hints, `teaches` and the
//! words around them (the table `msg`'s `BOOK_*`) come from the course's
//! catalogue `po/course/LANG.po`: a language is a catalogue, no Rust.
//!
//! Wiring: on the `nslab-course` crate alone (the manifest, the catalogue,
//! the snapshot's body) and mdbook's own `mdbook-preprocessor`, never on
//! xtask, so that `cargo run` compiles it in seconds; `src/main.rs` is the
//! program mdbook runs. xtask's `book` module checks the chapters and
//! builds the book.

use anyhow::{Context, Result, bail};
use mdbook_preprocessor::book::{Book, BookItem};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use nslab_course::i18n::{Catalogue, msg};
use nslab_course::manifest::{Course, Step};
use nslab_course::snapshot;

/// The `nslab` preprocessor.
pub struct Nslab;

impl Preprocessor for Nslab {
    fn name(&self) -> &str {
        "nslab"
    }

    fn run(&self, context: &PreprocessorContext, mut book: Book) -> Result<Book> {
        // The book's language (`book.language`, "fr" for the French book).
        let language = context.config.book.language.as_deref().unwrap_or("en");
        let course = Course::load()?;
        let catalogue = Catalogue::of(language)?;
        let mut failed = Ok(());
        book.for_each_mut(|item| {
            if let BookItem::Chapter(chapter) = item
                && failed.is_ok()
            {
                match expand_in(&course, &chapter.content, &catalogue) {
                    Ok(content) => chapter.content = content,
                    Err(err) => failed = Err(err.context(format!("chapter {:?}", chapter.name))),
                }
            }
        });
        failed.map(|()| book)
    }
}

/// The instructors' session plan.
fn schedule(course: &Course, words: &Catalogue) -> String {
    let mut text = format!(
        "{}\n|------|-----------------|---------|\n",
        words.get(msg::BOOK_SCHEDULE_HEAD)
    );
    for step in &course.step {
        text.push_str(&format!(
            "| [{}](steps/{}.md) | {} | {} |\n",
            step.id,
            step.id,
            words.get(&step.teaches),
            step.minutes
        ));
    }
    let total: u32 = course.step.iter().map(|s| s.minutes).sum();
    text.push('\n');
    let (hours, minutes) = (total / 60, format!("{:02}", total % 60));
    text.push_str(&words.fill(msg::BOOK_TOTAL, &[("hours", &hours), ("minutes", &minutes)]));
    text.push('\n');
    text
}

/// A step's hints, each a foldable block.
fn hints(step: &Step, words: &Catalogue) -> String {
    let mut text = String::new();
    for (n, hint) in step.hints.iter().enumerate() {
        text.push_str(&format!(
            "<details>\n<summary>{}</summary>\n\n{}\n\n</details>\n\n",
            words.fill(msg::BOOK_HINT, &[("n", &(n + 1))]),
            words.get(hint)
        ));
    }
    text
}

/// Expand the `{{#nslab …}}` directives of one chapter, for a book in
/// `language`.
pub fn expand(course: &Course, chapter: &str, language: &str) -> Result<String> {
    expand_in(course, chapter, &Catalogue::of(language)?)
}

fn expand_in(course: &Course, chapter: &str, words: &Catalogue) -> Result<String> {
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
        let words_of = rest[at + "{{#nslab ".len()..at + end]
            .split_whitespace()
            .collect::<Vec<&str>>();
        let text = match words_of.as_slice() {
            ["transcript", id] => {
                course.find(id)?;
                snapshot::read(id)?.with_context(|| format!("step {id} has no snapshot yet"))?
            }
            ["hints", id] => hints(course.find(id)?, words),
            ["schedule"] => schedule(course, words),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_expand_and_bad_ones_are_refused() {
        let course = Course::load().unwrap();
        let text = expand(&course, "a\n{{#nslab hints sem}}\nb", "en").unwrap();
        assert!(
            text.starts_with("a\n<details>\n<summary>Hint 1</summary>")
                && text.ends_with("</details>\nb"),
            "{text}"
        );
        let text = expand(&course, "{{#nslab hints sem}}", "fr").unwrap();
        assert!(text.contains("<summary>Indice 1</summary>"), "{text}");
        assert!(
            expand(&course, "{{#nslab schedule}}", "fr")
                .unwrap()
                .contains("| étape |")
        );
        assert!(
            expand(&course, "{{#nslab transcript sem}}", "fr")
                .unwrap()
                .contains("Semaphore id is")
        );
        for bad in [
            "{{#nslab hints nope}}",
            "{{#nslab frobnicate}}",
            "{{#nslab hints sem",
        ] {
            assert!(expand(&course, bad, "en").is_err(), "{bad}");
        }
        assert_eq!(
            expand(&course, "no directive", "en").unwrap(),
            "no directive"
        );
    }
}
