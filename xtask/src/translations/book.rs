//! The book's catalogues: `po/messages.pot`, the English book's messages as
//! mdbook-xgettext extracts them, and one `po/LANG.po` per translation,
//! which mdbook-gettext reads when the book is built in `LANG`.
//!
//! Wiring: under [`crate::translations`]; extracts through
//! [`crate::mdbook`], reads every catalogue through [`nslab_course::po`],
//! merges through [`super::merge`]. [`crate::book`] calls its checks
//! before building.

use super::{Wrap, merge, short, up_to_date};
use crate::markdown::{self, Outline};
use crate::mdbook::{ensure_i18n_helpers, ensure_mdbook, extract_messages};
use crate::root;
use anyhow::{Context, Result};
use nslab_course::po::{self, Entry};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What `--update-po` is called, for the messages that tell to run it.
const UPDATE: &str = "cargo xtask book --update-po";

/// The book's catalogues: `po/messages.pot` and one `po/LANG.po` per
/// translation.
pub fn po_dir() -> PathBuf {
    root().join("po")
}

/// The book's translations: the `LANG` of every `po/LANG.po`, sorted.
pub fn languages() -> Result<Vec<String>> {
    let dir = po_dir();
    let mut languages = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(languages),
        Err(e) => return Err(e).with_context(|| dir.display().to_string()),
    };
    for entry in entries {
        let path = entry.with_context(|| dir.display().to_string())?.path();
        if path.is_file()
            && path.extension().is_some_and(|x| x == "po")
            && let Some(lang) = path.file_stem().and_then(|s| s.to_str())
        {
            languages.push(lang.to_string());
        }
    }
    languages.sort();
    Ok(languages)
}

/// `cargo xtask book --update-po`: `po/messages.pot` extracted again from
/// the English book, and merged into every `po/LANG.po` (msgmerge: a new
/// message comes in untranslated, a changed one keeps its old translation
/// marked fuzzy, a removed one goes). Then each catalogue's translator
/// fills in the empty entries and reviews the fuzzy ones. Returns what is
/// left to do, one line per language.
pub fn update_catalogues() -> Result<Vec<String>> {
    ensure_mdbook()?;
    ensure_i18n_helpers()?;
    let scratch = tempfile::tempdir().context("a temporary directory")?;
    let fresh = extract_messages(scratch.path())?;
    let dir = po_dir();
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let pot = dir.join("messages.pot");
    std::fs::copy(&fresh, &pot).with_context(|| pot.display().to_string())?;
    let mut summary = vec![format!(
        "wrote po/messages.pot ({} messages)",
        po::read(&pot)?.iter().filter(|m| !m.id.is_empty()).count()
    )];
    for lang in languages()? {
        let po = dir.join(format!("{lang}.po"));
        merge(&po, &pot, Wrap::Yes)?;
        let problems = catalogue_problems(&lang, &pot)?;
        summary.push(if problems.is_empty() {
            format!("po/{lang}.po: complete")
        } else {
            format!(
                "po/{lang}.po: {} to do:\n  {}",
                problems.len(),
                problems.join("\n  ")
            )
        });
    }
    Ok(summary)
}

/// Whether `po/messages.pot` holds the English book's messages of now
/// (`fresh`, just extracted), in the same order.
pub fn template_problems(fresh: &Path) -> Result<Vec<String>> {
    let committed = po_dir().join("messages.pot");
    if !up_to_date(&committed, &po::read(fresh)?) {
        return Ok(vec![format!(
            "po/messages.pot is not the English book's messages of now: run `{UPDATE}`"
        )]);
    }
    Ok(Vec::new())
}

/// What keeps `po/LANG.po` from translating the whole English book of
/// now (the messages of `pot`), one line per problem: a message missing,
/// untranslated or fuzzy; a translation whose English is gone; a
/// translation that drops a piece of code or changes a link's address;
/// a paragraph left in English.
pub fn catalogue_problems(lang: &str, pot: &Path) -> Result<Vec<String>> {
    let po_path = po_dir().join(format!("{lang}.po"));
    let wanted = po::read(pot)?;
    let catalogue = po::read(&po_path)?;
    let file = format!("po/{lang}.po");
    let mut problems = Vec::new();
    let by_id: BTreeMap<&str, &Entry> = catalogue
        .iter()
        .filter(|m| !m.obsolete && !m.id.is_empty())
        .map(|m| (m.id.as_str(), m))
        .collect();
    let ids: BTreeSet<&str> = wanted.iter().map(|m| m.id.as_str()).collect();
    for message in wanted.iter().filter(|m| !m.id.is_empty()) {
        let id = short(&message.id);
        let from = message.references.join(" ");
        match by_id.get(message.id.as_str()) {
            None => problems.push(format!("{file}: missing {id} ({from}): run `{UPDATE}`")),
            Some(t) if t.translation.is_empty() => {
                problems.push(format!("{file}: untranslated {id} ({from})"))
            }
            Some(t) if t.context.is_some() || t.plural => problems.push(format!(
                "{file}: {id} ({from}): a msgctxt or plural form the template does not have"
            )),
            Some(t) if t.fuzzy => problems.push(format!(
                "{file}: fuzzy {id} ({from}): check the translation against the English, then remove the fuzzy flag"
            )),
            Some(t) => {
                for problem in translation_problems(&message.id, &t.translation) {
                    problems.push(format!("{file}: {id} ({from}): {problem}"));
                }
            }
        }
    }
    for message in &catalogue {
        if message.obsolete {
            problems.push(format!(
                "{file}: an obsolete entry (#~) {}: run `{UPDATE}`",
                short(&message.id)
            ));
        } else if !message.id.is_empty() && !ids.contains(message.id.as_str()) {
            problems.push(format!(
                "{file}: {} is no longer in the English book: run `{UPDATE}`",
                short(&message.id)
            ));
        }
    }
    Ok(problems)
}

/// The addresses of a message's links and images: without `#anchor`, for
/// a translated heading has an anchor of its own, except an autolink's
/// (`<https://…>`), whose address is its text.
fn link_addresses(outline: &Outline) -> Vec<String> {
    (outline.links.iter())
        .map(|link| match link.autolink {
            true => link.address.clone(),
            false => link
                .address
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
        })
        .collect()
}

/// What a translation of `msgid` must keep: its code as it is, its links'
/// addresses (a figure may be the language's own, `figures/LANG/NAME`),
/// and it must not be the English left as it was.
fn translation_problems(msgid: &str, msgstr: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let (english, translation) = (markdown::outline(msgid), markdown::outline(msgstr));
    for code in &english.code {
        if !translation.code.contains(code) {
            problems.push(format!("the translation lacks the code `{code}`"));
        }
    }
    let translated = link_addresses(&translation);
    for address in link_addresses(&english) {
        let kept = translated.iter().any(|t| {
            *t == address
                || address.rsplit_once("figures/").is_some_and(|(dir, name)| {
                    t.strip_prefix(&format!("{dir}figures/"))
                        .and_then(|t| t.split_once('/'))
                        .is_some_and(|(_, n)| n == name)
                })
        });
        if !kept {
            problems.push(format!(
                "the translation changes or lacks the link to {address}"
            ));
        }
    }
    if msgstr == msgid && prose_words(&english) > 5 {
        problems.push("left in English".to_string());
    }
    problems
}

/// How many words of prose a message has: not its code, its links'
/// addresses, or words that are paths or identifiers (`ipc/util.c`).
fn prose_words(outline: &Outline) -> usize {
    (outline.prose.split_whitespace())
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| {
            w.chars().filter(|c| c.is_alphabetic()).count() > 1
                && !w.contains(|c: char| "/._#()[]:=".contains(c) || c.is_ascii_digit())
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_translation_keeps_code_and_addresses_and_is_not_the_english() {
        let msgid = "`semget()` takes a key: see [the page](https://man7.org/x.html) and \
                     [the kernel](kernel.md#inode-numbers), ![a figure](figures/veth.svg)";
        let good = "`semget()` prend une clé : voir [la page](https://man7.org/x.html) et \
                    [le noyau](kernel.md#numéros-dinode), ![une figure](figures/fr/veth.svg)";
        assert_eq!(translation_problems(msgid, good), Vec::<String>::new());
        let bad = "semget() prend une clé : voir [la page](https://man7.org/fr/x.html)";
        let problems = translation_problems(msgid, bad);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert_eq!(translation_problems(msgid, msgid), ["left in English"]);
        // A name, a command: the same in every language.
        assert!(translation_problems("Rachid Koucha", "Rachid Koucha").is_empty());
        assert!(
            translation_problems("`cargo xtask verify [STEP]`", "`cargo xtask verify [STEP]`")
                .is_empty()
        );
        // Line by line, an escaped backtick opened a code span, and the
        // `](` of code was taken for a link, a reference link missed.
        let msgid = r"a \`quoted\` word, `f()[0](x)` and [the page][man]";
        assert_eq!(
            translation_problems(msgid, r"un mot \`cité\`, `f()[0](x)` et [la page][man]"),
            Vec::<String>::new()
        );
        assert_eq!(
            translation_problems(msgid, "un mot, `f()[0](x)` et la page"),
            ["the translation changes or lacks the link to [man]"]
        );
    }
}
