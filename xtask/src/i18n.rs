//! The course's own messages in the student's language: the hints,
//! diagnoses, titles and `teaches` of `course.toml`, and what the student
//! commands print.
//!
//! English is the one source: it stays in `course.toml` and in the table
//! [`msg`] below, and each English text is its own gettext msgid. The
//! translations live in a gettext catalogue, `po/course/fr.po`, read at run
//! time (no build step, no gettext library): a text with no translation
//! there, or a fuzzy one, is shown in English. `cargo xtask messages
//! --update` writes the template `po/course/messages.pot` from `course.toml`
//! and [`msg`], and merges it into `fr.po` with `msgmerge`; the tests fail
//! while an entry of the template has no French, a fuzzy French, or French
//! that drops a placeholder or a piece of code.
//!
//! The language is chosen once, by `main`: `--lang en|fr`, else the locale
//! as gettext reads it ([`from_vars`]). The library's default is English,
//! so the tests that call it directly see English.
//!
//! Plain msgids, with no msgctxt: a text is looked up by its English
//! wherever it is shown, so the same English sentence gets the same French
//! everywhere, and the code needs no key beside its English; the `#.`
//! comments of the catalogue name every place a text comes from. When an
//! English text changes, msgmerge marks its entry fuzzy with the previous
//! English beside it (`#|`), which is what a translator needs.

use crate::course::Course;
use crate::root;
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::fmt::Display;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::OnceLock;

/// A language of the course's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// The language of a locale or language name (`fr`, `fr_FR.UTF-8`,
    /// `en_GB`): `None` for one the course does not speak.
    pub fn of(name: &str) -> Option<Lang> {
        let language = name.split(['_', '.', '@', '-']).next().unwrap_or("");
        match language.to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The catalogue of this language's translations, `None` for English
    /// (the source).
    pub fn catalogue(self) -> Option<PathBuf> {
        match self {
            Lang::En => None,
            Lang::Fr => Some(dir().join("fr.po")),
        }
    }
}

static LANG: OnceLock<Lang> = OnceLock::new();

/// Choose the language of the messages, once, before the first is shown.
pub fn set(lang: Lang) {
    let _ = LANG.set(lang);
}

/// The language of the messages (English unless [`set`] chose another).
pub fn lang() -> Lang {
    LANG.get().copied().unwrap_or(Lang::En)
}

/// The language the environment asks for, in gettext's order: the first
/// non-empty of `LC_ALL`, `LC_MESSAGES` and `LANG` is the locale; unless it
/// is `C` or `POSIX`, the first language of the list `LANGUAGE` that the
/// course speaks comes before it. English when nothing asks for French.
pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Lang {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    let locale = set("LC_ALL")
        .or_else(|| set("LC_MESSAGES"))
        .or_else(|| set("LANG"));
    let Some(locale) = locale else {
        return Lang::En;
    };
    if !matches!(locale.as_str(), "C" | "POSIX") && !locale.starts_with("C.") {
        let listed = set("LANGUAGE").unwrap_or_default();
        if let Some(lang) = listed.split(':').find_map(Lang::of) {
            return lang;
        }
    }
    Lang::of(&locale).unwrap_or(Lang::En)
}

/// [`from_vars`] of this process's environment.
pub fn from_env() -> Lang {
    from_vars(|name| std::env::var(name).ok())
}

/// The translations of the chosen language: msgid → msgstr, for the
/// entries that are translated and not fuzzy. A catalogue that cannot be
/// read leaves every message in English, and says so once.
fn translations() -> &'static HashMap<String, String> {
    static TRANSLATIONS: OnceLock<HashMap<String, String>> = OnceLock::new();
    TRANSLATIONS.get_or_init(|| {
        let Some(path) = lang().catalogue() else {
            return HashMap::new();
        };
        let read = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| parse(&text));
        match read {
            Ok(entries) => entries
                .into_iter()
                .filter(|e| e.usable())
                .map(|e| (e.id, e.translation))
                .collect(),
            Err(err) => {
                eprintln!(
                    "xtask: {}: {err}; the messages stay in English",
                    path.display()
                );
                HashMap::new()
            }
        }
    })
}

/// `english` in the chosen language (itself when it has no translation).
pub fn tr(english: &str) -> String {
    match lang() {
        Lang::En => english.to_string(),
        _ => translations()
            .get(english)
            .cloned()
            .unwrap_or_else(|| english.to_string()),
    }
}

/// `english` in the chosen language, each of its placeholders `{name}`
/// replaced by the value of `name` in `args`. Braces that name no argument
/// stay as they are (code in a message keeps its `{path}`); the values are
/// not searched for placeholders in turn.
pub fn fill(english: &str, args: &[(&str, &dyn Display)]) -> String {
    let text = tr(english);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v.to_string(), close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(&value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A message of [`msg`] in the chosen language, with its placeholders
/// filled: `tr!(msg::HINT, n = 1, total = 3, step = "sem")`.
#[macro_export]
macro_rules! tr {
    ($english:expr) => {
        $crate::i18n::tr($english)
    };
    ($english:expr, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::fill(
            $english,
            &[$((stringify!($name), &$value as &dyn ::std::fmt::Display)),+],
        )
    };
}

// ---------------------------------------------------------------------------
// The catalogue files: po/course/messages.pot and its translations.

/// Where the course's catalogue lives: `po/course`.
pub fn dir() -> PathBuf {
    root().join("po").join("course")
}

/// The template, `po/course/messages.pot`.
pub fn template_path() -> PathBuf {
    dir().join("messages.pot")
}

/// One entry of a PO file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    pub context: Option<String>,
    pub id: String,
    /// `msgstr` (the first form, for a plural entry).
    pub translation: String,
    pub plural: bool,
    pub fuzzy: bool,
    /// Kept by msgmerge as `#~` when the template lost it.
    pub obsolete: bool,
    /// The extracted comments (`#.`): where the English comes from.
    pub notes: Vec<String>,
}

impl Entry {
    /// Whether its translation is shown: translated, not fuzzy, not obsolete.
    pub fn usable(&self) -> bool {
        !self.translation.is_empty() && !self.fuzzy && !self.obsolete && !self.id.is_empty()
    }
}

/// The entries of a PO file, its header (msgid "") included, or the first
/// line that is not PO.
pub fn parse(text: &str) -> std::result::Result<Vec<Entry>, String> {
    #[derive(PartialEq)]
    enum Field {
        None,
        Context,
        Id,
        Plural,
        Str,
        Other,
    }
    let mut entries = Vec::new();
    let mut entry = Entry::default();
    let mut field = Field::None;
    let mut flush = |entry: &mut Entry, field: &mut Field| {
        if *field != Field::None {
            entries.push(std::mem::take(entry));
        } else {
            // Comments with no msgid after them (a file's first lines).
            *entry = Entry::default();
        }
        *field = Field::None;
    };
    for (n, raw) in text.lines().enumerate() {
        let bad = |why: &str| format!("line {}: {why}", n + 1);
        let mut line = raw.trim();
        let obsolete = line.starts_with("#~");
        if obsolete {
            line = line[2..].trim_start();
            if line.starts_with('|') {
                continue;
            }
        }
        if line.is_empty() {
            if !obsolete {
                flush(&mut entry, &mut field);
            }
            continue;
        }
        if line.starts_with('#') {
            // A comment after a msgstr starts the next entry.
            if matches!(field, Field::Str | Field::Other) {
                flush(&mut entry, &mut field);
            }
            if let Some(flags) = line.strip_prefix("#,") {
                entry.fuzzy |= flags.split(',').any(|f| f.trim() == "fuzzy");
            } else if let Some(note) = line.strip_prefix("#.") {
                entry.notes.push(note.trim().to_string());
            }
            continue;
        }
        let (keyword, quoted) = match line.starts_with('"') {
            true => (None, line),
            false => match line.split_once(char::is_whitespace) {
                Some((keyword, quoted)) => (Some(keyword), quoted.trim()),
                None => return Err(bad("a keyword without its string")),
            },
        };
        let value = unquote(quoted).map_err(|why| bad(&why))?;
        if obsolete {
            entry.obsolete = true;
        }
        match keyword {
            None => match field {
                Field::Context => entry.context.get_or_insert_default().push_str(&value),
                Field::Id => entry.id.push_str(&value),
                Field::Str => entry.translation.push_str(&value),
                Field::Plural | Field::Other => {}
                Field::None => return Err(bad("a string with no keyword before it")),
            },
            Some(keyword) => {
                let next = match keyword {
                    "msgctxt" => Field::Context,
                    "msgid" => Field::Id,
                    "msgid_plural" => Field::Plural,
                    "msgstr" | "msgstr[0]" => Field::Str,
                    k if k.starts_with("msgstr[") && k.ends_with(']') => Field::Other,
                    k => return Err(bad(&format!("unknown keyword {k}"))),
                };
                // A msgctxt or msgid after a msgstr starts the next entry.
                if matches!(next, Field::Context | Field::Id)
                    && matches!(field, Field::Str | Field::Other)
                {
                    flush(&mut entry, &mut field);
                    entry.obsolete = obsolete;
                }
                match next {
                    Field::Context => entry.context = Some(value),
                    Field::Id => entry.id = value,
                    Field::Plural => entry.plural = true,
                    Field::Str => entry.translation = value,
                    _ => {}
                }
                field = next;
            }
        }
    }
    flush(&mut entry, &mut field);
    Ok(entries)
}

/// The text of a PO string: `"..."` with C escapes.
fn unquote(quoted: &str) -> std::result::Result<String, String> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|_| quoted.len() >= 2)
        .ok_or_else(|| format!("not a quoted string: {quoted}"))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(match chars.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('"') => '"',
                Some('\\') => '\\',
                Some('a') => '\x07',
                Some('b') => '\x08',
                Some('f') => '\x0c',
                Some('v') => '\x0b',
                other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
            }),
            '"' => return Err(format!("an unescaped quote in {quoted}")),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `text` as a PO string.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
        let mut place = format!("xtask/src/i18n.rs: msg::{}", message.name);
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
# course.toml, and the messages of the student commands (xtask/src/i18n.rs).
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
        out.push_str(&format!("msgid {}\nmsgstr \"\"\n", quote(&english)));
    }
    out
}

/// What a translation must keep of its English, in any order: the
/// placeholders and other braces (`{step}`, `{path}` in code), and the
/// pieces of code in backticks.
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
    let mut spans = text.split('`');
    spans.next();
    while let (Some(code), Some(_)) = (spans.next(), spans.next()) {
        kept.push(format!("`{code}`"));
    }
    if text.matches('`').count() % 2 == 1 {
        kept.push("an odd number of backticks".into());
    }
    kept.sort();
    kept
}

/// What is wrong with the catalogue of `lang` for `course`, one line each
/// (none: it is up to date and complete).
pub fn problems(course: &Course, lang: Lang) -> Vec<String> {
    let mut problems = Vec::new();
    let template = template(course);
    let pot = template_path();
    match std::fs::read_to_string(&pot) {
        Ok(text) if text == template => {}
        Ok(_) => problems.push(format!(
            "{}: out of date with course.toml and xtask/src/i18n.rs",
            shown(&pot)
        )),
        Err(err) => problems.push(format!("{}: {err}", shown(&pot))),
    }
    let Some(path) = lang.catalogue() else {
        return problems;
    };
    let entries = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|text| parse(&text))
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
                "{file}: the French must keep these, no more, no fewer ({place}): {}",
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

/// A path of the checkout, relative to its root.
fn shown(path: &std::path::Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// How to bring the catalogue up to date, for the tests' failures and the
/// command's.
pub const HOW_TO_UPDATE: &str = "\
to bring it up to date: `cargo xtask messages --update` (writes po/course/messages.pot and \
merges it into po/course/fr.po); then, in po/course/fr.po, translate each entry listed \
(an empty msgstr, or one marked `#, fuzzy`: check it against the new English, then remove \
that line), and `cargo xtask messages` checks it";

/// `msgfmt --check --statistics` of a catalogue: its statistics line, or
/// what msgfmt says is wrong. `None` when msgfmt is not installed.
pub fn msgfmt_check(path: &std::path::Path) -> Option<Result<String, String>> {
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

/// `cargo xtask messages [--update]`: check the course's catalogue, or
/// write its template and merge it into each translation first.
pub fn messages(update: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    let lang = Lang::Fr;
    let po = lang.catalogue().context("French has a catalogue")?;
    if update {
        let pot = template_path();
        std::fs::create_dir_all(dir()).with_context(|| shown(&dir()))?;
        std::fs::write(&pot, template(&course)).with_context(|| shown(&pot))?;
        println!("wrote {}", shown(&pot));
        if !po.exists() {
            bail!(
                "{} does not exist: make it with `msginit --no-translator --locale=fr_FR.UTF-8 \
                 --input={} --output-file={}`",
                shown(&po),
                shown(&pot),
                shown(&po)
            );
        }
        let run = |program: &str, args: &[&std::ffi::OsStr]| -> Result<()> {
            let status = Command::new(program).args(args).status().with_context(|| {
                format!("cannot run {program}: it comes with gettext (apt-get install gettext)")
            })?;
            if !status.success() {
                bail!("{program} failed ({status})");
            }
            Ok(())
        };
        // The entries of the template, the translations kept, new ones
        // empty, changed ones fuzzy with their previous English (#|).
        run(
            "msgmerge",
            &[
                "--quiet".as_ref(),
                "--update".as_ref(),
                "--backup=none".as_ref(),
                "--no-wrap".as_ref(),
                "--previous".as_ref(),
                po.as_os_str(),
                pot.as_os_str(),
            ],
        )?;
        // What the template lost goes: it is in git's history.
        run(
            "msgattrib",
            &[
                "--no-obsolete".as_ref(),
                "--no-wrap".as_ref(),
                "--output-file".as_ref(),
                po.as_os_str(),
                po.as_os_str(),
            ],
        )?;
        println!("merged it into {}", shown(&po));
    }
    if let Some(result) = msgfmt_check(&po) {
        match result {
            Ok(statistics) => println!("{}: {statistics}", shown(&po)),
            Err(said) => println!("{}: msgfmt --check failed:\n{said}", shown(&po)),
        }
    }
    let problems = problems(&course, lang);
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

// ---------------------------------------------------------------------------
// The messages of xtask's code.

/// A message of xtask's code: its English, and what translators should
/// know (its doc comment).
pub struct Message {
    pub name: &'static str,
    pub english: &'static str,
    pub note: &'static str,
}

macro_rules! messages {
    ($($(#[doc = $doc:literal])+ $name:ident = $english:literal;)*) => {
        $($(#[doc = $doc])+ pub const $name: &str = $english;)*
        /// Every message of the table, in order, for the catalogue.
        pub const ALL: &[super::Message] = &[$(super::Message {
            name: stringify!($name),
            english: $english,
            note: concat!($($doc),+),
        }),*];
    };
}

/// The student commands' messages, in English (the msgids): shown through
/// [`tr!`](crate::tr), which translates them and fills their placeholders.
/// Each one's doc comment is its note to translators in the catalogue.
pub mod msg {
    messages! {
        /// verify and watch, when every step has passed.
        ALL_PASSED = "You have passed every step. Well done!";
        /// verify's first line. {step}: the step's id; {title}: its title.
        VERIFYING = "verifying your exercise for step {step}: {title}";
        /// verify, after the differences of a failed run. {step}: the step's id.
        NOT_YET = "Not yet. Read the differences above; stuck? `cargo xtask hint {step}`.";
        /// verify, when the VM or the build could not run. {step}: the step's id.
        COULD_NOT_RUN = "The check could not run, so it says nothing of your program: see above. Run `cargo xtask verify {step}` again; if it fails the same way, show the lines above to your instructor.";
        /// verify, on a pass. {step}: the step passed; {next}: the next step's id; {title}: its title.
        PASSED_NEXT = "Step {step} passed. Next: {next} ({title}), `cargo xtask verify {next}`.";
        /// verify, on a pass of the last step. {step}: its id.
        PASSED_ALL = "Step {step} passed, and with it the whole course.";
        /// watch, waiting. {step}: the step's id; {how}: WATCH_EVENTS or WATCH_POLLING.
        WATCHING = "watching exercises/{step}/ ({how}); save to verify again, Ctrl-C to leave";
        /// watch: how it learns of a change, with inotify.
        WATCH_EVENTS = "file events";
        /// watch: how it learns of a change, without inotify.
        WATCH_POLLING = "looking every second";
        /// run, when the VM sent no report at all.
        NO_REPORT = "no report from the VM";
        /// run's last line. {step}: the step's id; {accel}: kvm or tcg; {seconds}: like 2.31; {ends}: how the scenario ended (English).
        RUN_SUMMARY = "[{step} under {accel} in {seconds} s: {ends}]";
        /// shell's first line. {accel}: kvm or tcg; {step}: the step's id.
        SHELL_SOLUTIONS = "nslab VM shell ({accel}, solutions of step {step}); `poweroff -f` or Ctrl-D leaves";
        /// shell's first line. {accel}: kvm or tcg; {step}: the step's id.
        SHELL_EXERCISES = "nslab VM shell ({accel}, exercises of step {step}); `poweroff -f` or Ctrl-D leaves";
        /// hint, before each hint. {n}: its number; {total}: the step's hints; {step}: the step's id.
        HINT = "Hint {n} of {total} for {step}:";
        /// hint, after the last one.
        LAST_HINT = "That was the last hint; the book's chapter has the whole story.";
        /// progress, beside a step whose exercise changed after it passed.
        CHANGED_SINCE = "passed, but changed since: verify it again";
        /// progress, beside a step. {n}: how many hints were shown (1 or more).
        HINTS_USED = "{n} hint(s) used";
        /// progress's summary. {done}: the steps passed; {total}: all the steps.
        STEPS_PASSED = "{done} of {total} steps passed.";
        /// progress, the next step. {step}: its id; {teaches}: its `teaches` sentence.
        NEXT_STEP = "Next, step {step}: {teaches}";
        /// progress, what to do for the next step. {step}: its id.
        NEXT_READ = "Read book/src/steps/{step}.md, fill in the TODOs of exercises/{step}/src, then run `cargo xtask verify`.";
        /// reset, when there is nothing to restore. {step}: the step's id.
        ALREADY_PRISTINE = "exercises/{step} is already as it was at the start.";
        /// reset, one line per file to restore. {path}: the file.
        CHANGED_FILE = "changed: {path}";
        /// reset's question (the answer is read on the same line). Either language's yes is accepted: y, yes, o, oui.
        DISCARD_ASK = "Discard your work in these files? [y/N] ";
        /// reset, when the answer was not yes.
        NOTHING_CHANGED = "Nothing changed.";
        /// reset, done. {step}: the step's id.
        RESTORED = "exercises/{step} restored.";
        /// A step id that is not in the course. {step}: what was typed; {steps}: the ids, comma-separated.
        NO_STEP = "no step '{step}' (the steps are: {steps})";
        /// hint, reset or verify of a demonstration. {step}: its id.
        IS_DEMO = "{step} is a demonstration, with no exercise: `cargo xtask run {step}` shows it";
        /// The line of a run of the student's exercise (status, step, this, accelerator, time).
        YOUR_EXERCISE = "your exercise";
        /// Before each diagnosis of a failed run. {diagnosis}: a diagnosis of course.toml.
        LIKELY_MISTAKE = "likely mistake: {diagnosis}";
        /// A run that could not judge the program (its causes follow, in English).
        NOT_THE_PROGRAM = "not a mistake of the program: the check itself could not run";
        /// A VM booted again. {end}: how the first ended (English).
        BOOTED_TWICE = "(booted twice: the first VM ended with: {end})";
        /// A run's line, in place of the accelerator and time, when the exercise did not compile.
        DOES_NOT_COMPILE = "does not compile (no VM ran); the compiler's errors:";
        /// verify, after the compiler's errors. {step}: the step's id.
        NOT_YET_UNBUILT = "Not yet: your exercise does not compile. Fix the first error above, then verify again; stuck? `cargo xtask hint {step}`.";
        /// verify, before the compiler's warnings about the student's code (they follow, in English).
        YOUR_WARNINGS = "the compiler's warnings about your code (it still runs):";
        /// verify, before the lines changed outside the TODO regions. {path}: the file.
        OUTSIDE_EDITS = "you changed {path} outside its TODO regions, where the scenario expects the exercise as it was given:";
        /// One line changed outside the regions. {line}: its number; {was}: the exercise's code; {now}: the student's.
        OUTSIDE_CHANGED = "line {line}: was `{was}`, now `{now}`";
        /// One line added outside the regions. {line}: its number; {now}: the code.
        OUTSIDE_ADDED = "line {line}: added `{now}`";
        /// One line removed outside the regions. {line}: where; {was}: the exercise's code.
        OUTSIDE_REMOVED = "line {line}: removed `{was}`";
        /// The first line of a failure's details when code outside the regions changed. {step}: the step's id.
        OUTSIDE_FIRST = "first: you changed lines outside the TODO regions (listed above), and the scenario depends on them (it reads what the program prints); `git diff exercises/{step}` shows them: put them back, then read the differences below.";
        /// A scenario killed at its timeout, when code outside the regions changed. {seconds}: the timeout.
        TIMED_OUT_OUTSIDE = "the scenario did not end within {seconds} s and was killed: it waits for lines the program prints, and you changed lines outside the TODO regions";
        /// The header of a diff: the reviewed transcript's lines are marked -, the program's +.
        DIFF_HEADER = "expected (-) and what your program gave (+):";
        /// A run's times. {seconds}: the VM's start, like 0.25.
        RESTORED_IN = "restored in {seconds} s";
        /// A run's times. {seconds}: the VM's boot, like 2.31.
        BOOTED_IN = "booted in {seconds} s";
        /// A run's times. {seconds}: the scenario's own time, like 1.02.
        SCENARIO_TOOK = "scenario {seconds} s";
        /// A step id that is not in the course, with the closest one. {step}: what was typed; {near}: the closest id.
        NO_STEP_NEAR = "no step '{step}'; did you mean {near}? (the steps are: {steps})";
        /// progress, the next step when it had passed before its exercise changed. {step}: its id.
        NEXT_AGAIN = "Next, step {step}: it passed, then its code changed; `cargo xtask verify {step}` checks it again.";
        /// watch, when the step it watches has passed. {step}: its id.
        WATCH_PASSED = "watching exercises/{step}/ (passed; {how}); save to verify again, Ctrl-C to leave";
        /// A scenario killed at its timeout. {seconds}: the step's timeout.
        TIMED_OUT = "the scenario did not end within {seconds} s and was killed: does a program wait for something that never comes?";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locale_is_read_in_gettexts_order() {
        let env = |pairs: &'static [(&str, &str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(from_vars(env(&[])), Lang::En);
        assert_eq!(from_vars(env(&[("LANG", "fr_FR.UTF-8")])), Lang::Fr);
        assert_eq!(from_vars(env(&[("LANG", "fr_CA")])), Lang::Fr);
        assert_eq!(from_vars(env(&[("LANG", "de_DE.UTF-8")])), Lang::En);
        assert_eq!(
            from_vars(env(&[("LC_MESSAGES", "en_US.UTF-8"), ("LANG", "fr_FR")])),
            Lang::En
        );
        assert_eq!(
            from_vars(env(&[("LC_ALL", "fr_FR"), ("LC_MESSAGES", "en_US")])),
            Lang::Fr
        );
        // Empty is unset.
        assert_eq!(
            from_vars(env(&[("LC_ALL", ""), ("LANG", "fr_FR.UTF-8")])),
            Lang::Fr
        );
        // LANGUAGE comes first, unless the locale is C; its languages the
        // course does not speak are skipped.
        assert_eq!(
            from_vars(env(&[("LANGUAGE", "de:fr:en"), ("LANG", "en_US.UTF-8")])),
            Lang::Fr
        );
        assert_eq!(
            from_vars(env(&[("LANGUAGE", "fr"), ("LANG", "C.UTF-8")])),
            Lang::En
        );
        assert_eq!(from_vars(env(&[("LANGUAGE", "fr")])), Lang::En);
    }

    #[test]
    fn placeholders_are_filled_and_other_braces_kept() {
        let step = "sem";
        assert_eq!(
            fill(msg::HINT, &[("n", &1), ("total", &3), ("step", &step)]),
            "Hint 1 of 3 for sem:"
        );
        assert_eq!(
            fill("stat({path}) in {step} {", &[("step", &"{path}")]),
            "stat({path}) in {path} {"
        );
        assert_eq!(crate::tr!(msg::CHANGED_FILE, path = "a"), "changed: a");
    }

    #[test]
    fn po_files_are_read_as_gettext_writes_them() {
        let po = r#"# translator's comment
msgid ""
msgstr ""
"Language: fr\n"

#. course.toml: step sem, hint 1 of 3
msgid "one \"two\"\tthree\\"
msgstr "un « deux »\tTrois\\"

#, fuzzy
#| msgid "old"
msgid ""
"long "
"text"
msgstr "texte long"

msgctxt "here"
msgid "x"
msgstr ""

#~ msgid "gone"
#~ msgstr "parti"
"#;
        let entries = parse(po).unwrap();
        assert_eq!(entries.len(), 5);
        assert_eq!(entries[0].id, "");
        assert_eq!(entries[0].translation, "Language: fr\n");
        assert_eq!(entries[1].id, "one \"two\"\tthree\\");
        assert_eq!(entries[1].translation, "un « deux »\tTrois\\");
        assert_eq!(entries[1].notes, ["course.toml: step sem, hint 1 of 3"]);
        assert!(entries[1].usable());
        assert_eq!(entries[2].id, "long text");
        assert!(entries[2].fuzzy && !entries[2].usable());
        assert_eq!(entries[3].context.as_deref(), Some("here"));
        assert!(!entries[3].usable());
        assert!(entries[4].obsolete && !entries[4].usable());
        assert_eq!(entries[4].id, "gone");
        for bad in [
            "\"orphan\"\n",
            "msgid\n",
            "msgid \"open\n",
            "msgid \"a\\q\"\n",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(quote("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(unquote(&quote("a\"b\\c\nd\te")).unwrap(), "a\"b\\c\nd\te");
    }

    #[test]
    fn what_a_translation_keeps() {
        assert_eq!(
            kept("call `semget(2)` with {step}, `x`"),
            ["`semget(2)`", "`x`", "{step}"]
        );
        assert_eq!(kept("one ` tick"), ["an odd number of backticks"]);
    }
}
