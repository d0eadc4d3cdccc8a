//! The course's own catalogue, `po/course/`: the template `messages.pot`,
//! written from `course.toml` and the table [`msg`], and one `LANG.po` per
//! translation, which [`crate::i18n`] reads at run time.
//!
//! When an English text changes, msgmerge marks its entry fuzzy with the
//! previous English beside it (`#|`), which is what a translator needs;
//! the checks fail while an entry of the template has no translation, a
//! fuzzy one, or one that drops a placeholder or a piece of code.
//!
//! Wiring: under [`crate::translations`]; reads the manifest
//! ([`crate::course`]) and every catalogue through [`nslab_course::po`],
//! merges through [`super::merge`]; `cargo xtask messages` is [`messages`].

use super::{Wrap, merge, msgfmt_check, shown, up_to_date};
use crate::course::Course;
use crate::i18n::{Lang, dir, msg};
use crate::markdown;
use anyhow::{Context, Result};
use nslab_course::po::{self, Entry};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// The template, `po/course/messages.pot`.
pub fn template_path() -> PathBuf {
    dir().join("messages.pot")
}

/// Every English text to translate, in course order then the table's, each
/// once, with the places it comes from.
pub fn sources(course: &Course) -> Vec<(String, Vec<String>)> {
    let mut texts: Vec<(String, Vec<String>)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut add = |text: &str, place: String| match at.get(text) {
        Some(&i) => texts[i].1.push(place),
        None => {
            at.insert(text.to_string(), texts.len());
            texts.push((text.to_string(), vec![place]));
        }
    };
    for step in &course.step {
        let here = |what: &str| format!("course.toml: step {}, {what}", step.id);
        add(&step.title, here("title"));
        add(&step.teaches, here("teaches"));
        for (n, hint) in step.hints.iter().enumerate() {
            add(
                hint,
                here(&format!("hint {} of {}", n + 1, step.hints.len())),
            );
        }
        for diagnosis in &step.diagnosis {
            add(
                &diagnosis.message,
                here(&format!("diagnosis {}", diagnosis.id)),
            );
        }
    }
    for demo in &course.demos {
        add(&demo.title, format!("course.toml: demo {}, title", demo.id));
    }
    for message in msg::ALL {
        let mut place = format!("crates/course/src/i18n.rs: msg::{}", message.name);
        if !message.note.trim().is_empty() {
            place = format!("{place}: {}", message.note.trim());
        }
        add(message.english, place);
    }
    texts
}

/// The template's header entry.
const HEADER: &str = "\
# The course's own messages: the titles, `teaches`, hints and diagnoses of
# course.toml, the messages of the student commands and the book's words (the table msg in crates/course/src/i18n.rs).
# Written by `cargo xtask messages --update`: edit the English at its source.
msgid \"\"
msgstr \"\"
\"Project-Id-Version: nslab\\n\"
\"MIME-Version: 1.0\\n\"
\"Content-Type: text/plain; charset=UTF-8\\n\"
\"Content-Transfer-Encoding: 8bit\\n\"
";

/// The text of `po/course/messages.pot` for `course` and the table [`msg`].
pub fn template(course: &Course) -> String {
    let mut out = HEADER.to_string();
    for (english, places) in sources(course) {
        out.push('\n');
        for place in places {
            out.push_str(&format!("#. {place}\n"));
        }
        out.push_str(&format!("msgid {}\nmsgstr \"\"\n", po::quote(&english)));
    }
    out
}

/// What a translation must keep of its English, in any order: the
/// placeholders and other braces (`{step}`, `{path}` in code), and the
/// pieces of code in backticks, as Markdown reads them.
pub fn kept(text: &str) -> Vec<String> {
    let mut kept = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        match rest[open..].find('}') {
            Some(close) => {
                kept.push(rest[open..open + close + 1].to_string());
                rest = &rest[open + close + 1..];
            }
            None => break,
        }
    }
    let outline = markdown::outline(text);
    kept.extend(outline.code.iter().map(|code| format!("`{code}`")));
    if outline.stray_backtick {
        kept.push("a backtick that opens no code span".into());
    }
    kept.sort();
    kept
}

/// What is wrong with the template and the catalogue of `lang` for
/// `course`, one line each (none: they are up to date and complete); for
/// English, with the template alone.
pub fn problems(course: &Course, lang: Lang) -> Vec<String> {
    let mut problems = template_problems(course);
    problems.extend(catalogue_problems(course, lang));
    problems
}

/// Whether `po/course/messages.pot` is the template of `course` and the
/// table [`msg`] of now.
pub fn template_problems(course: &Course) -> Vec<String> {
    let mut problems = Vec::new();
    let pot = template_path();
    let fresh = po::parse(&template(course)).expect("the template is PO");
    if !up_to_date(&pot, &fresh) {
        problems.push(format!(
            "{}: out of date with course.toml and the table msg (crates/course/src/i18n.rs)",
            shown(&pot)
        ));
    }
    problems
}

/// What keeps the catalogue of `lang` from translating every text of
/// `course` and [`msg`], one line each (none for English).
pub fn catalogue_problems(course: &Course, lang: Lang) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(path) = lang.catalogue() else {
        return problems;
    };
    let entries = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|text| po::parse(&text))
    {
        Ok(entries) => entries,
        Err(err) => {
            problems.push(format!("{}: {err}", shown(&path)));
            return problems;
        }
    };
    let file = shown(&path);
    let by_id: HashMap<&str, &Entry> = entries
        .iter()
        .filter(|e| !e.obsolete && !e.id.is_empty())
        .map(|e| (e.id.as_str(), e))
        .collect();
    let wanted = sources(course);
    for (english, places) in &wanted {
        let place = &places[0];
        match by_id.get(english.as_str()) {
            None => problems.push(format!("{file}: missing ({place}): {english}")),
            Some(e) if e.translation.is_empty() => {
                problems.push(format!("{file}: untranslated ({place}): {english}"))
            }
            Some(e) if e.fuzzy => problems.push(format!(
                "{file}: fuzzy, its English changed ({place}): {english}"
            )),
            Some(e) if kept(english) != kept(&e.translation) => problems.push(format!(
                "{file}: the translation must keep these, no more, no fewer ({place}): {}",
                kept(english).join(" ")
            )),
            Some(e) if e.context.is_some() || e.plural => problems.push(format!(
                "{file}: a msgctxt or plural the template does not have ({place})",
            )),
            Some(_) => {}
        }
    }
    let ids: std::collections::HashSet<&str> = wanted.iter().map(|(e, _)| e.as_str()).collect();
    for e in &entries {
        if e.obsolete {
            problems.push(format!("{file}: obsolete (#~): {}", e.id));
        } else if !e.id.is_empty() && !ids.contains(e.id.as_str()) {
            problems.push(format!("{file}: not in the template: {}", e.id));
        }
    }
    problems
}

/// How to bring the catalogues up to date, for the tests' failures and the
/// command's.
pub const HOW_TO_UPDATE: &str = "\
to bring them up to date: `cargo xtask messages --update` (writes po/course/messages.pot and \
merges it into each po/course/LANG.po); then, in each, translate every entry listed \
(an empty msgstr, or one marked `#, fuzzy`: check it against the new English, then remove \
that line), and `cargo xtask messages` checks them";

/// `cargo xtask messages [--update]`: check the course's catalogues, or
/// write their template and merge it into each translation first.
pub fn messages(update: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    let translated: Vec<Lang> = Lang::all().into_iter().filter(|l| *l != Lang::EN).collect();
    if update {
        let pot = template_path();
        std::fs::create_dir_all(dir()).with_context(|| shown(&dir()))?;
        std::fs::write(&pot, template(&course)).with_context(|| shown(&pot))?;
        println!("wrote {}", shown(&pot));
        for lang in &translated {
            let po = lang.catalogue().context("a translation has a catalogue")?;
            merge(&po, &pot, Wrap::No)?;
            println!("merged it into {}", shown(&po));
        }
    }
    let mut problems = template_problems(&course);
    for lang in &translated {
        let po = lang.catalogue().context("a translation has a catalogue")?;
        if let Some(result) = msgfmt_check(&po) {
            match result {
                Ok(statistics) => println!("{}: {statistics}", shown(&po)),
                Err(said) => println!("{}: msgfmt --check failed:\n{said}", shown(&po)),
            }
        }
        problems.extend(catalogue_problems(&course, *lang));
    }
    if problems.is_empty() {
        println!("the course's catalogue is up to date and complete");
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        println!("{problem}");
    }
    println!("{} problem(s); {HOW_TO_UPDATE}.", problems.len());
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_translation_keeps() {
        assert_eq!(
            kept("call `semget(2)` with {step}, `x`"),
            ["`semget(2)`", "`x`", "{step}"]
        );
        assert_eq!(kept("one ` tick"), ["a backtick that opens no code span"]);
        // Split at each backtick, a span of two backticks made three odd
        // pieces and an odd count.
        assert_eq!(
            kept("run ``echo `id` ``, {step}"),
            ["`echo `id` `", "{step}"]
        );
    }

    /// Catches a title changed in book.toml and not in the table (the
    /// translations would keep the old one's), or the other way round.
    #[test]
    fn the_books_title_is_the_tables() {
        let book = std::fs::read_to_string(crate::root().join("book/book.toml")).unwrap();
        let book: toml::Table = toml::from_str(&book).unwrap();
        assert_eq!(book["book"]["title"].as_str(), Some(msg::BOOK_TITLE));
    }
}
