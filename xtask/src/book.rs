//! The course book (mdbook, in `book/`) and its translations: built, and
//! kept honest.
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
//! The book is written in English; each translation is a gettext catalogue,
//! `po/LANG.po`, made from `po/messages.pot`, the English text's messages
//! as mdbook-xgettext extracts them (mdbook-i18n-helpers). mdbook-gettext
//! replaces each message by its translation when the book is built with
//! `book.language = LANG`. The English book goes to `book/build`, each
//! translation to `book/build/LANG`, and `book/theme/header.hbs` puts a
//! link to the same page in the other language on every page. Code blocks
//! and the directives are marked `<!-- i18n:skip -->` in the chapters:
//! program output stays as the programs print it, and what the directives
//! expand never reaches the catalogue (the nslab preprocessor runs after
//! mdbook-gettext, and not at all for the extraction).
//!
//! [`build`] also checks what mdbook does not: every step has a chapter that
//! shows its transcript and its hints, every code block is marked to be
//! skipped, no relative link points at a missing file or anchor, in any
//! language, and every catalogue translates every message of the current
//! English text, with nothing fuzzy or left over; any warning mdbook prints
//! fails the build. It builds into a directory of its own and swaps it into
//! `book/build` whole, so that two builds at once cannot garble each other.
//! After a change to the English text, [`update_catalogues`] (`cargo xtask
//! book --update-po`) extracts the messages again and merges them into each
//! catalogue, for its translator.

use crate::course::Course;
use crate::{root, snapshots};
use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The mdbook we build with, installed with cargo when it is missing.
const MDBOOK_VERSION: &str = "0.5.4";

/// The mdbook-i18n-helpers (mdbook-xgettext, mdbook-gettext) we translate
/// with, installed with cargo when they are missing: 0.4.0 is the first
/// release built on mdbook 0.5 (0.3.x speak mdbook 0.4's JSON).
const I18N_HELPERS_VERSION: &str = "0.4.0";

/// The HTML comment that keeps the next block out of the catalogue.
pub const SKIP: &str = "<!-- i18n:skip -->";

/// The book's title in each translation (book.toml has the English one;
/// a language missing here keeps it).
const TITLES: &[(&str, &str)] = &[(
    "fr",
    "nslab\u{a0}: les espaces de noms de Linux, construits pas à pas",
)];

/// What `--update-po` is called, for the messages that tell to run it.
const UPDATE: &str = "cargo xtask book --update-po";

fn book_dir() -> PathBuf {
    root().join("book")
}

/// The book's catalogues: `po/messages.pot` and one `po/LANG.po` per
/// translation.
pub fn po_dir() -> PathBuf {
    root().join("po")
}

/// Whether `program` can be started at all.
fn found(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// `cargo install` one crate at a pinned version, saying so first.
fn cargo_install(krate: &str, version: &str) -> Result<()> {
    eprintln!(
        "nslab: installing {krate} {version} with cargo install, once: it compiles for a few \
         minutes, and cargo shows its progress"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["install", "--locked", krate, "--version", version])
        .status()
        .with_context(|| format!("running cargo install {krate}"))?;
    anyhow::ensure!(status.success(), "cargo install {krate} failed ({status})");
    Ok(())
}

/// Make sure `mdbook` runs; install it with cargo otherwise.
pub fn ensure_mdbook() -> Result<()> {
    if found("mdbook") {
        return Ok(());
    }
    cargo_install("mdbook", MDBOOK_VERSION)
}

/// Make sure `mdbook-gettext` and `mdbook-xgettext` run; install
/// mdbook-i18n-helpers with cargo otherwise.
pub fn ensure_i18n_helpers() -> Result<()> {
    if found("mdbook-gettext") && found("mdbook-xgettext") {
        return Ok(());
    }
    cargo_install("mdbook-i18n-helpers", I18N_HELPERS_VERSION)
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
    crate::replace_dir(&staging.keep(), &book_dir().join("build"))
}

/// Check the book and its catalogues, and build every language into
/// `dest` (English) and `dest/LANG`.
pub fn build_into(course: &Course, dest: &Path) -> Result<()> {
    let mut problems = check_sources(course)?;
    ensure_mdbook()?;
    let languages = languages()?;
    if !languages.is_empty() {
        ensure_i18n_helpers()?;
        let scratch = tempfile::tempdir().context("a temporary directory")?;
        let pot = extract_messages(scratch.path())?;
        problems.extend(template_problems(&pot)?);
        for lang in &languages {
            problems.extend(catalogue_problems(lang, &pot)?);
        }
    }
    // English first: mdbook empties its destination, the translations' too.
    problems.extend(mdbook_build(dest, None)?);
    for lang in &languages {
        problems.extend(mdbook_build(&dest.join(lang), Some(lang))?);
    }
    problems.extend(check_rendered(dest, &languages)?);
    if !problems.is_empty() {
        bail!("the book has problems:\n  {}", problems.join("\n  "));
    }
    Ok(())
}

/// `mdbook build` into `dest`, in `language` (English when `None`): the
/// lines of its log that warn or fail.
fn mdbook_build(dest: &Path, language: Option<&str>) -> Result<Vec<String>> {
    let mut mdbook = Command::new("mdbook");
    mdbook
        .arg("build")
        .arg(book_dir())
        .arg("--dest-dir")
        .arg(dest);
    if let Some(lang) = language {
        mdbook.env("MDBOOK_BOOK__LANGUAGE", lang);
        if let Some((_, title)) = TITLES.iter().find(|(l, _)| *l == lang) {
            mdbook.env("MDBOOK_BOOK__TITLE", title);
        }
    }
    let out = mdbook.output().context("running mdbook")?;
    let which = language.map_or(String::new(), |l| format!(" ({l})"));
    let log = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    for line in log.lines() {
        if line.contains("WARN") || line.contains("ERROR") {
            problems.push(format!("mdbook{which}: {}", line.trim()));
        }
    }
    if !out.status.success() {
        // The whole log: the line that says why is not always marked.
        problems.push(format!(
            "mdbook build{which} failed ({}):\n{log}",
            out.status
        ));
    }
    Ok(problems)
}

/// Extract the English book's messages into `dir/messages.pot`
/// (mdbook-xgettext), and return its path.
pub fn extract_messages(dir: &Path) -> Result<PathBuf> {
    // The xgettext renderer instead of the HTML one; without line numbers,
    // so that an edit does not touch every later message's reference.
    let out = Command::new("mdbook")
        .arg("build")
        .arg(book_dir())
        .arg("--dest-dir")
        .arg(dir)
        .env("MDBOOK_OUTPUT", r#"{"xgettext": {"granularity": 0}}"#)
        .output()
        .context("running mdbook with mdbook-xgettext")?;
    let log = String::from_utf8_lossy(&out.stderr);
    let pot = dir.join("messages.pot");
    if !out.status.success() || log.contains("WARN") || log.contains("ERROR") || !pot.is_file() {
        bail!(
            "extracting the book's messages failed ({}):\n{log}",
            out.status
        );
    }
    Ok(pot)
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
    for tool in ["msgmerge", "msgattrib"] {
        if !found(tool) {
            bail!("{tool} not found: it is part of GNU gettext (Debian's package gettext)");
        }
    }
    let scratch = tempfile::tempdir().context("a temporary directory")?;
    let fresh = extract_messages(scratch.path())?;
    let dir = po_dir();
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let pot = dir.join("messages.pot");
    std::fs::copy(&fresh, &pot).with_context(|| pot.display().to_string())?;
    let mut summary = vec![format!(
        "wrote po/messages.pot ({} messages)",
        parse_po(&read(&pot)?)?
            .iter()
            .filter(|m| !m.msgid.is_empty())
            .count()
    )];
    for lang in languages()? {
        let po = dir.join(format!("{lang}.po"));
        run(Command::new("msgmerge")
            .args(["--quiet", "--update", "--backup=none"])
            .arg(&po)
            .arg(&pot))?;
        // The messages the English text no longer has: gone, not kept as #~.
        run(Command::new("msgattrib")
            .args(["--no-obsolete", "--output-file"])
            .arg(&po)
            .arg(&po))?;
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

fn run(command: &mut Command) -> Result<()> {
    let what = format!("{command:?}");
    let out = command.output().with_context(|| what.clone())?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// One entry of a PO file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Message {
    /// The English text (empty for the header).
    pub msgid: String,
    /// Its translation (empty when untranslated).
    pub msgstr: String,
    /// Marked `#, fuzzy`: msgmerge's guess, not yet reviewed.
    pub fuzzy: bool,
    /// Kept as `#~`: no longer in the template.
    pub obsolete: bool,
    /// The `#:` references: where the English text is.
    pub sources: String,
}

/// The entries of a PO or POT file (the subset of the format gettext's
/// tools and mdbook-i18n-helpers write: no plural forms, no context).
pub fn parse_po(text: &str) -> Result<Vec<Message>> {
    #[derive(PartialEq)]
    enum Field {
        None,
        Id,
        Str,
        Other,
    }
    let mut messages = Vec::new();
    let mut current = Message::default();
    let mut started = false;
    let mut field = Field::None;
    let mut finish = |current: &mut Message, started: &mut bool| {
        if *started {
            messages.push(std::mem::take(current));
        }
        *current = Message::default();
        *started = false;
    };
    for (n, raw) in text.lines().enumerate() {
        let mut line = raw.trim_end();
        if line.is_empty() {
            finish(&mut current, &mut started);
            field = Field::None;
            continue;
        }
        if let Some(rest) = line.strip_prefix("#~") {
            current.obsolete = true;
            line = rest.trim_start();
            if line.is_empty() {
                continue;
            }
        } else if let Some(flags) = line.strip_prefix("#,") {
            if started && field != Field::None {
                finish(&mut current, &mut started);
            }
            current.fuzzy |= flags.split(',').any(|f| f.trim() == "fuzzy");
            continue;
        } else if let Some(refs) = line.strip_prefix("#:") {
            if started && field != Field::None {
                finish(&mut current, &mut started);
            }
            current.sources.push_str(refs.trim());
            current.sources.push(' ');
            continue;
        } else if line.starts_with('#') {
            continue;
        }
        let at = || format!("line {}: {raw:?}", n + 1);
        let (next, quoted) = if let Some(rest) = line.strip_prefix("msgid ") {
            if started && field != Field::None {
                // A new entry with no blank line before it.
                let obsolete = current.obsolete;
                finish(&mut current, &mut started);
                current.obsolete = obsolete;
            }
            started = true;
            (Field::Id, rest)
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            (Field::Str, rest)
        } else if line.starts_with("msgctxt ")
            || line.starts_with("msgid_plural ")
            || line.starts_with("msgstr[")
        {
            bail!("{}: plural forms and contexts are not used here", at());
        } else if line.starts_with('"') {
            if field == Field::None {
                bail!("{}: a string outside any field", at());
            }
            (std::mem::replace(&mut field, Field::Other), line)
        } else {
            bail!("{}: not PO syntax", at());
        };
        let value = unquote(quoted).with_context(at)?;
        match next {
            Field::Id => current.msgid.push_str(&value),
            Field::Str => current.msgstr.push_str(&value),
            Field::None | Field::Other => {}
        }
        field = next;
    }
    finish(&mut current, &mut started);
    Ok(messages)
}

/// A PO string's text: `"a \"b\"\n"` is `a "b"` and a newline.
fn unquote(quoted: &str) -> Result<String> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .context("a string not in double quotes")?;
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => text.push('\n'),
            Some('t') => text.push('\t'),
            Some('r') => text.push('\r'),
            Some(c @ ('"' | '\\')) => text.push(c),
            other => bail!(
                "an unknown escape \\{}",
                other.map(String::from).unwrap_or_default()
            ),
        }
    }
    Ok(text)
}

/// A message, short enough for one line of a report.
fn quote(msgid: &str) -> String {
    let short: String = msgid.chars().take(70).collect();
    if short.len() < msgid.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

/// Whether `po/messages.pot` holds the English book's messages of now
/// (`fresh`, just extracted), in the same order.
pub fn template_problems(fresh: &Path) -> Result<Vec<String>> {
    let committed = po_dir().join("messages.pot");
    let ids = |path: &Path| -> Result<Vec<String>> {
        Ok(parse_po(&read(path)?)?
            .into_iter()
            .filter(|m| !m.msgid.is_empty())
            .map(|m| m.msgid)
            .collect())
    };
    if !committed.is_file() || ids(&committed)? != ids(fresh)? {
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
    let wanted = parse_po(&read(pot)?).with_context(|| pot.display().to_string())?;
    let catalogue = parse_po(&read(&po_path)?).with_context(|| po_path.display().to_string())?;
    let file = format!("po/{lang}.po");
    let mut problems = Vec::new();
    let by_id: BTreeMap<&str, &Message> = catalogue
        .iter()
        .filter(|m| !m.obsolete && !m.msgid.is_empty())
        .map(|m| (m.msgid.as_str(), m))
        .collect();
    let ids: BTreeSet<&str> = wanted.iter().map(|m| m.msgid.as_str()).collect();
    for message in wanted.iter().filter(|m| !m.msgid.is_empty()) {
        let id = quote(&message.msgid);
        let from = message.sources.trim();
        match by_id.get(message.msgid.as_str()) {
            None => problems.push(format!("{file}: missing {id} ({from}): run `{UPDATE}`")),
            Some(t) if t.msgstr.is_empty() => {
                problems.push(format!("{file}: untranslated {id} ({from})"))
            }
            Some(t) if t.fuzzy => problems.push(format!(
                "{file}: fuzzy {id} ({from}): check the translation against the English, then remove the fuzzy flag"
            )),
            Some(t) => {
                for problem in translation_problems(&message.msgid, &t.msgstr) {
                    problems.push(format!("{file}: {id} ({from}): {problem}"));
                }
            }
        }
    }
    for message in &catalogue {
        if message.obsolete {
            problems.push(format!(
                "{file}: an obsolete entry (#~) {}: run `{UPDATE}`",
                quote(&message.msgid)
            ));
        } else if !message.msgid.is_empty() && !ids.contains(message.msgid.as_str()) {
            problems.push(format!(
                "{file}: {} is no longer in the English book: run `{UPDATE}`",
                quote(&message.msgid)
            ));
        }
    }
    Ok(problems)
}

/// The code spans (`` `x` ``) of a Markdown message.
fn code_spans(text: &str) -> Vec<&str> {
    let mut spans = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('`') {
        let ticks = rest[at..].len() - rest[at..].trim_start_matches('`').len();
        let fence = &rest[at..at + ticks];
        let after = &rest[at + ticks..];
        let Some(end) = after.find(fence) else { break };
        spans.push(&rest[at..at + ticks + end + ticks]);
        rest = &after[end + ticks..];
    }
    spans
}

/// The addresses of a message's links and images, without `#anchor`: a
/// translated heading has an anchor of its own.
fn link_addresses(text: &str) -> Vec<String> {
    let mut addresses = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        addresses.push(
            rest[..end]
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
        );
    }
    rest = text;
    while let Some(at) = rest.find("<http") {
        rest = &rest[at + 1..];
        let Some(end) = rest.find('>') else { break };
        addresses.push(rest[..end].to_string());
    }
    addresses
}

/// What a translation of `msgid` must keep: its code as it is, its links'
/// addresses (a figure may be the language's own, `figures/LANG/NAME`),
/// and it must not be the English left as it was.
fn translation_problems(msgid: &str, msgstr: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for span in code_spans(msgid) {
        if !msgstr.contains(span) {
            problems.push(format!("the translation lacks the code {span}"));
        }
    }
    let translated = link_addresses(msgstr);
    for address in link_addresses(msgid) {
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
    if msgstr == msgid && prose_words(msgid) > 5 {
        problems.push("left in English".to_string());
    }
    problems
}

/// How many words of prose a message has: not its code, its links'
/// addresses, or words that are paths or identifiers (`ipc/util.c`).
fn prose_words(text: &str) -> usize {
    let mut prose = text.to_string();
    for span in code_spans(text) {
        prose = prose.replace(span, " ");
    }
    prose
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| {
            w.chars().filter(|c| c.is_alphabetic()).count() > 1
                && !w.contains(|c: char| "/._#()[]:=".contains(c) || c.is_ascii_digit())
        })
        .count()
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

/// The words the directives add around the course's text, in the book's
/// language (English unless there is a translation of them here), and the
/// course's own catalogue for that language.
struct Words {
    hint: &'static str,
    schedule_head: &'static str,
    total: fn(u32, u32) -> String,
    /// English → translation, from `po/course/LANG.po` (the catalogue of
    /// the hints, `teaches` and the student commands, kept with `cargo
    /// xtask messages`): empty in English, or where there is none yet.
    course: BTreeMap<String, String>,
}

impl Words {
    /// A text of course.toml in the book's language, or as it is.
    fn of<'a>(&'a self, english: &'a str) -> &'a str {
        self.course.get(english).map_or(english, String::as_str)
    }
}

fn words(language: &str) -> Result<Words> {
    let mut words = match language {
        "fr" => Words {
            hint: "Indice",
            schedule_head: "| étape | ce qu’elle enseigne | minutes |",
            total: |h, m| format!("En tout {h}\u{a0}h\u{a0}{m:02}, en deux ou trois séances."),
            course: BTreeMap::new(),
        },
        _ => Words {
            hint: "Hint",
            schedule_head: "| step | what it teaches | minutes |",
            total: |h, m| format!("In all {h} h {m:02} min, in two or three sessions."),
            course: BTreeMap::new(),
        },
    };
    if language != "en" {
        let catalogue = po_dir().join("course").join(format!("{language}.po"));
        words.course = course_catalogue(&catalogue)?;
    }
    Ok(words)
}

/// The reviewed translations of a catalogue (neither empty nor fuzzy),
/// by English text; none when the file does not exist.
fn course_catalogue(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e).with_context(|| path.display().to_string()),
    };
    Ok(parse_po(&text)
        .with_context(|| path.display().to_string())?
        .into_iter()
        .filter(|m| !m.msgid.is_empty() && !m.msgstr.is_empty() && !m.fuzzy && !m.obsolete)
        .map(|m| (m.msgid, m.msgstr))
        .collect())
}

/// The instructors' session plan.
fn schedule(course: &Course, words: &Words) -> String {
    let mut text = format!(
        "{}\n|------|-----------------|---------|\n",
        words.schedule_head
    );
    for step in &course.step {
        text.push_str(&format!(
            "| [{}](steps/{}.md) | {} | {} |\n",
            step.id,
            step.id,
            words.of(&step.teaches),
            step.minutes
        ));
    }
    let total: u32 = course.step.iter().map(|s| s.minutes).sum();
    text.push('\n');
    text.push_str(&(words.total)(total / 60, total % 60));
    text.push('\n');
    text
}

/// A step's hints, each a foldable block.
fn hints(step: &crate::course::Step, words: &Words) -> String {
    let mut text = String::new();
    for (n, hint) in step.hints.iter().enumerate() {
        text.push_str(&format!(
            "<details>\n<summary>{} {}</summary>\n\n{}\n\n</details>\n\n",
            words.hint,
            n + 1,
            words.of(hint)
        ));
    }
    text
}

/// Expand the `{{#nslab …}}` directives of one chapter, for a book in
/// `language`.
pub fn expand(course: &Course, chapter: &str, language: &str) -> Result<String> {
    let words = words(language)?;
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
                snapshots::read(id)?.with_context(|| format!("step {id} has no snapshot yet"))?
            }
            ["hints", id] => hints(course.find(id)?, &words),
            ["schedule"] => schedule(course, &words),
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

/// The preprocessor's work on mdbook's JSON book, in `language` (the
/// book's `book.language`): every chapter's content expanded, wherever it
/// sits in the tree.
pub fn preprocess(course: &Course, book: &mut serde_json::Value, language: &str) -> Result<()> {
    match book {
        serde_json::Value::Object(map) => {
            let name = map
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("?")
                .to_string();
            if let Some(serde_json::Value::String(content)) = map.get_mut("content") {
                *content = expand(course, content, language)
                    .with_context(|| format!("chapter {name:?}"))?;
            }
            for value in map.values_mut() {
                preprocess(course, value, language)?;
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                preprocess(course, item, language)?;
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
/// (`{{#nslab hints …}}`, `{{#nslab schedule}}`) that the line before does
/// not mark with [`SKIP`]: fenced blocks, and indented ones after a blank
/// line that are not a list item's continuation.
fn unmarked_blocks(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let marked = |at: usize, gap: usize| at > gap && lines[at - 1 - gap].trim() == SKIP;
    let mut unmarked = Vec::new();
    let mut fence: Option<&str> = None;
    let mut in_list = false;
    for (at, line) in lines.iter().enumerate() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        if let Some(open) = fence {
            if ticks >= open.len() && line.trim_start_matches('`').trim().is_empty() {
                fence = None;
            }
            continue;
        }
        if ticks >= 3 {
            fence = Some(&line[..ticks]);
            if !marked(at, 0) {
                unmarked.push(at + 1);
            }
        } else if line.starts_with("{{#nslab hints") || line.starts_with("{{#nslab schedule") {
            if !marked(at, 0) {
                unmarked.push(at + 1);
            }
        } else if line.starts_with("    ")
            && at > 0
            && lines[at - 1].trim().is_empty()
            && !in_list
            && !marked(at, 1)
            && !(at > 1 && lines[at - 2].starts_with("    "))
        {
            unmarked.push(at + 1);
        }
        if !line.trim().is_empty() && !line.starts_with(' ') {
            in_list = line.starts_with("- ") || line.starts_with("* ") || {
                let digits =
                    line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                digits > 0 && line[digits..].starts_with(". ")
            };
        }
    }
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

    #[test]
    fn code_blocks_and_directives_must_be_marked_to_be_skipped() {
        let text = "Text:\n\n```text\n{{#nslab transcript sem}}\n```\n\n\
                    <!-- i18n:skip -->\n```rust,ignore\nfn f() {}\n```\n\n\
                    {{#nslab hints sem}}\n\n\
                    Run:\n\n    cargo xtask verify\n\n\
                    <!-- i18n:skip -->\n\n    cargo xtask check\n\n\
                    - a list item\n\n    that goes on\n";
        assert_eq!(unmarked_blocks(text), [3, 12, 16]);
    }

    #[test]
    fn po_files_parse_with_their_flags_and_continuations() {
        let text = "msgid \"\"\nmsgstr \"\"\n\"Language: fr\\n\"\n\n\
                    #: src/a.md\nmsgid \"The goal\"\nmsgstr \"Le but\"\n\n\
                    #: src/a.md src/b.md\n#, fuzzy\nmsgid \"\"\n\"Two \\\"lines\\\"\"\n\" here\"\nmsgstr \"Deux\"\n\n\
                    #~ msgid \"Gone\"\n#~ msgstr \"Parti\"\n";
        let messages = parse_po(text).unwrap();
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert_eq!(messages[0].msgstr, "Language: fr\n");
        assert_eq!(
            (
                messages[1].msgid.as_str(),
                messages[1].msgstr.as_str(),
                messages[1].fuzzy
            ),
            ("The goal", "Le but", false)
        );
        assert_eq!(messages[2].msgid, "Two \"lines\" here");
        assert!(messages[2].fuzzy && !messages[2].obsolete);
        assert_eq!(messages[2].sources.trim(), "src/a.md src/b.md");
        assert!(messages[3].obsolete && messages[3].msgid == "Gone");
        assert!(parse_po("msgid \"a\nmsgstr \"b\"").is_err());
    }

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
    }
}
