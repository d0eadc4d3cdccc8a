//! The course's own messages in the reader's language, at run time: the
//! hints, diagnoses, titles and `teaches` of `course.toml`, what the
//! student commands print (the table [`msg`]), and the words the book's
//! directives add around them.
//!
//! English is the one source: it stays in `course.toml` and in [`msg`], and
//! each English text is its own gettext msgid. The translations live in
//! gettext catalogues, `po/course/LANG.po`, read at run time through
//! [`crate::po`] (no build step, no gettext library): a text with no
//! translation there, or a fuzzy one, is shown in English. A language is
//! spoken as soon as its catalogue exists: adding one is a PO file, no Rust.
//!
//! Wiring: [`crate::manifest`] translates through [`tr!`](crate::tr!); xtask re-exports
//! this module as `xtask::i18n` and chooses the language once, in `main`
//! (`--lang`, else the locale as gettext reads it, [`from_vars`]); its
//! `translations` module writes the template `po/course/messages.pot` from
//! the course and [`msg::ALL`], and checks the catalogues. The book's
//! preprocessor reads a book language's [`Catalogue`] directly. The
//! library's default is English, so the tests that call it directly see
//! English.
//!
//! Plain msgids, with no msgctxt: a text is looked up by its English
//! wherever it is shown, so the same English sentence gets the same
//! translation everywhere, and the code needs no key beside its English;
//! the `#.` comments of the catalogue name every place a text comes from.

use crate::{po, root};
use std::collections::HashMap;
use std::fmt::Display;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A language of the course's messages: English (the source) or one with a
/// catalogue `po/course/LANG.po`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lang(&'static str);

impl Lang {
    /// English, the source.
    pub const EN: Lang = Lang("en");

    /// The language of a locale or language name (`fr`, `fr_FR.UTF-8`,
    /// `en_GB`): `None` for one the course does not speak.
    pub fn of(name: &str) -> Option<Lang> {
        let language = name.split(['_', '.', '@', '-']).next().unwrap_or("");
        let language = language.to_ascii_lowercase();
        if language == Lang::EN.0 {
            return Some(Lang::EN);
        }
        spoken()
            .iter()
            .find(|code| **code == language)
            .map(|code| Lang(code.as_str()))
    }

    /// The language named exactly (`--lang`): `en`, or a code with a
    /// catalogue; the error lists those the course speaks.
    pub fn parse(code: &str) -> Result<Lang, String> {
        Lang::all()
            .into_iter()
            .find(|lang| lang.0 == code)
            .ok_or_else(|| {
                let codes: Vec<&str> = Lang::all().iter().map(|l| l.0).collect();
                format!("the course speaks {}", codes.join(", "))
            })
    }

    /// Every language the course speaks: English, then those of
    /// `po/course/*.po` in alphabetical order.
    pub fn all() -> Vec<Lang> {
        let translated = spoken().iter().map(|code| Lang(code.as_str()));
        std::iter::once(Lang::EN).chain(translated).collect()
    }

    /// Its code, as in the catalogue's name (`fr`).
    pub fn code(self) -> &'static str {
        self.0
    }

    /// The catalogue of this language's translations, `None` for English
    /// (the source).
    pub fn catalogue(self) -> Option<PathBuf> {
        (self != Lang::EN).then(|| dir().join(format!("{}.po", self.0)))
    }
}

impl Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// The codes of the catalogues `po/course/LANG.po`, sorted.
fn spoken() -> &'static [String] {
    static SPOKEN: OnceLock<Vec<String>> = OnceLock::new();
    SPOKEN.get_or_init(|| {
        let mut codes: Vec<String> = std::fs::read_dir(dir())
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|x| x == "po"))
            .filter_map(|path| Some(path.file_stem()?.to_str()?.to_string()))
            .collect();
        codes.sort();
        codes
    })
}

static LANG: OnceLock<Lang> = OnceLock::new();

/// Choose the language of the messages, once, before the first is shown.
pub fn set(lang: Lang) {
    let _ = LANG.set(lang);
}

/// The language of the messages (English unless [`set`] chose another).
pub fn lang() -> Lang {
    LANG.get().copied().unwrap_or(Lang::EN)
}

/// The language the environment asks for, in gettext's order: the first
/// non-empty of `LC_ALL`, `LC_MESSAGES` and `LANG` is the locale; unless it
/// is `C` or `POSIX`, the first language of the list `LANGUAGE` that the
/// course speaks comes before it. English when nothing asks for another.
pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Lang {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    let locale = set("LC_ALL")
        .or_else(|| set("LC_MESSAGES"))
        .or_else(|| set("LANG"));
    let Some(locale) = locale else {
        return Lang::EN;
    };
    if !matches!(locale.as_str(), "C" | "POSIX") && !locale.starts_with("C.") {
        let listed = set("LANGUAGE").unwrap_or_default();
        if let Some(lang) = listed.split(':').find_map(Lang::of) {
            return lang;
        }
    }
    Lang::of(&locale).unwrap_or(Lang::EN)
}

/// [`from_vars`] of this process's environment.
pub fn from_env() -> Lang {
    from_vars(|name| std::env::var(name).ok())
}

/// Where the course's catalogues live: `po/course`.
pub fn dir() -> PathBuf {
    root().join("po").join("course")
}

/// The shown translations of one language: English → translation, for the
/// entries that are translated and not fuzzy (none for English).
#[derive(Debug, Default)]
pub struct Catalogue(HashMap<String, String>);

impl Catalogue {
    /// The catalogue of `lang`; an empty one for English or a language
    /// with no catalogue, an error for one that cannot be read.
    pub fn of(lang: &str) -> anyhow::Result<Catalogue> {
        let path = dir().join(format!("{lang}.po"));
        if lang == Lang::EN.0 || !path.exists() {
            return Ok(Catalogue::default());
        }
        let entries = po::read(&path)?;
        Ok(Catalogue(
            entries
                .into_iter()
                .filter(po::Entry::usable)
                .map(|e| (e.id, e.translation))
                .collect(),
        ))
    }

    /// `english` translated, or itself.
    pub fn get<'a>(&'a self, english: &'a str) -> &'a str {
        self.0.get(english).map_or(english, String::as_str)
    }

    /// `english` translated, its placeholders filled (see [`fill`]).
    pub fn fill(&self, english: &str, args: &[(&str, &dyn Display)]) -> String {
        fill_in(self.get(english), args)
    }
}

/// The translations of the chosen language. A catalogue that cannot be
/// read leaves every message in English, and says so once.
fn translations() -> &'static Catalogue {
    static TRANSLATIONS: OnceLock<Catalogue> = OnceLock::new();
    TRANSLATIONS.get_or_init(|| {
        Catalogue::of(lang().0).unwrap_or_else(|err| {
            eprintln!("xtask: {err}; the messages stay in English");
            Catalogue::default()
        })
    })
}

/// `english` in the chosen language (itself when it has no translation).
pub fn tr(english: &str) -> String {
    match lang() {
        Lang::EN => english.to_string(),
        _ => translations().get(english).to_string(),
    }
}

/// `english` in the chosen language, each of its placeholders `{name}`
/// replaced by the value of `name` in `args`. Braces that name no argument
/// stay as they are (code in a message keeps its `{path}`); the values are
/// not searched for placeholders in turn.
pub fn fill(english: &str, args: &[(&str, &dyn Display)]) -> String {
    fill_in(&tr(english), args)
}

/// `text`'s placeholders filled, as [`fill`] does after translating.
pub fn fill_in(text: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
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
// The messages of the code.

/// A message of the code: its English, and what translators should
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

/// The student commands' messages and the book's words, in English (the msgids): shown through
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
        /// A graded step's output on a grading platform (Gradescope, GitHub Classroom), on a pass.
        GRADE_PASSED = "Passed: the program printed the step's reviewed transcript.";
        /// A graded step's output on a grading platform, before the diff of a failed run.
        GRADE_FAILED = "Not yet: the program's output is not what the step expects.";
        /// A graded step's output on a grading platform: how the student sees the run on their machine. {step}: the step's id.
        GRADE_AGAIN = "On your machine: `cargo xtask verify {step}`.";
        /// class: the page's title. {students}: how many students.
        CLASS_TITLE = "The class: {students} students";
        /// class: the legend of a passed step.
        CLASS_PASS = "passed";
        /// class: the legend of a failed step.
        CLASS_FAIL = "not yet";
        /// class: the legend of a step whose check could not run.
        CLASS_ERROR = "could not run (not the student's)";
        /// class: the legend of a step with no result.
        CLASS_MISSING = "not graded";
        /// class: the heading of the table by step.
        CLASS_BY_STEP = "By step";
        /// class: the column of the students who passed a step.
        CLASS_PASSED = "passed";
        /// class: the column of the students whose first step not passed is this one.
        CLASS_STUCK = "stuck here";
        /// class: the column of a step's most frequent diagnoses, with how many students got each.
        CLASS_DIAGNOSES = "most frequent likely mistakes";
        /// class: the heading of the students × steps table.
        CLASS_GRID = "Students × steps";
        /// class: the column of the students' names.
        CLASS_STUDENT = "student";
        /// class: the column of the students' points.
        CLASS_POINTS = "points";
        /// class, done. {students}, {steps}: how many; {csv}, {html}: the files written; {seconds}: how long it took.
        CLASS_WROTE = "{students} students, {steps} steps: wrote {csv} and {html} ({seconds} s)";
        /// book, check: before a first install of a book tool. {krate}, {version}: the tool; {minutes}: about how long.
        INSTALLING_TOOL = "nslab: installing {krate} {version} with cargo install, once, for the book: about {minutes} minutes of compiling on two cores; cargo shows its progress";
        /// check: before a first install of a book tool, made while the VMs run. {krate}, {version}: the tool; {minutes}: about how long.
        INSTALLING_TOOL_QUIETLY = "nslab: installing {krate} {version} with cargo install, once, for the book's check: about {minutes} minutes of compiling on two cores; the VMs do not wait for it, and the book's line comes when it is done";
        /// book, check: after the install of a book tool. {krate}, {version}: the tool; {seconds}: how long it took.
        INSTALLED_TOOL = "nslab: {krate} {version} installed in {seconds} s";
        /// A VM booted again. {end}: how the first ended (English).
        BOOTED_TWICE = "(booted twice: the first VM ended with: {end})";
        /// A run's line, in place of the accelerator and time, when the exercise did not compile.
        DOES_NOT_COMPILE = "does not compile (no VM ran); the compiler's errors:";
        /// verify, after the compiler's errors. {step}: the step's id.
        NOT_YET_UNBUILT = "Not yet: your exercise does not compile. Fix the first error above, then verify again; stuck? `cargo xtask hint {step}`.";
        /// verify, before the compiler's warnings about the student's code (they follow, in English).
        YOUR_WARNINGS = "the compiler's warnings about your code (it still runs):";
        /// verify, before the lines changed outside the TODO regions. {path}: the file.
        OUTSIDE_EDITS = "note: you changed {path} outside its TODO regions; the scenario relies on the code given there, so if the run fails, put these lines back first:";
        /// run, before the VM starts. {seconds}: the step's timeout.
        RUN_LIMIT = "[the command runs in the VM until it ends, or {seconds} s at most]";
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
        /// The book's title: book.toml's `title`, the same English.
        BOOK_TITLE = "nslab: Linux namespaces, built step by step";
        /// The book: the summary of each hint's foldable block. {n}: the hint's number.
        BOOK_HINT = "Hint {n}";
        /// The book: the head of the session plan's table, in Markdown (keep the bars).
        BOOK_SCHEDULE_HEAD = "| step | what it teaches | minutes |";
        /// The book: the line under the session plan. {hours}: like 5; {minutes}: two digits, like 05.
        BOOK_TOTAL = "In all {hours} h {minutes} min, in two or three sessions.";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locale_is_read_in_gettexts_order() {
        let fr = Lang::of("fr").expect("po/course/fr.po exists");
        assert_eq!(fr.code(), "fr");
        let env = |pairs: &'static [(&str, &str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(from_vars(env(&[])), Lang::EN);
        assert_eq!(from_vars(env(&[("LANG", "fr_FR.UTF-8")])), fr);
        assert_eq!(from_vars(env(&[("LANG", "fr_CA")])), fr);
        assert_eq!(from_vars(env(&[("LANG", "de_DE.UTF-8")])), Lang::EN);
        assert_eq!(
            from_vars(env(&[("LC_MESSAGES", "en_US.UTF-8"), ("LANG", "fr_FR")])),
            Lang::EN
        );
        assert_eq!(
            from_vars(env(&[("LC_ALL", "fr_FR"), ("LC_MESSAGES", "en_US")])),
            fr
        );
        // Empty is unset.
        assert_eq!(
            from_vars(env(&[("LC_ALL", ""), ("LANG", "fr_FR.UTF-8")])),
            fr
        );
        // LANGUAGE comes first, unless the locale is C; its languages the
        // course does not speak are skipped.
        assert_eq!(
            from_vars(env(&[("LANGUAGE", "de:fr:en"), ("LANG", "en_US.UTF-8")])),
            fr
        );
        assert_eq!(
            from_vars(env(&[("LANGUAGE", "fr"), ("LANG", "C.UTF-8")])),
            Lang::EN
        );
        assert_eq!(from_vars(env(&[("LANGUAGE", "fr")])), Lang::EN);
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
}
