//! Solvable from its text: every name a solution region needs is one the
//! student can find without reading `solutions/`.
//!
//! For each `// @solution` region of a step, the names it uses — the
//! functions and methods it calls, the macros, the types, the constants and
//! the last segment of every path — must each be either
//!
//! - in the exercise's own code already (the student sees it used there),
//! - named in the TODO comment just above the region, in one of the step's
//!   hints or in its chapter (`book/src/steps/<id>.md`), as a whole word,
//! - Rust itself ([`RUST`]: the prelude and the everyday methods of
//!   `Result`, `Option`, strings and iterators, which the course assumes),
//! - or listed in the step's `unsaid` table of `course.toml`, with the
//!   reason why the exercise must not say it (reviewed like the rest).
//!
//! Local names are not checked: a lower-case name that is neither called
//! nor at the end of a path is a variable or a field, which the region
//! itself or the exercise introduces. The solution is read as Rust tokens
//! (proc-macro2's lexer, with line numbers), so comments and strings never
//! count as uses.
//!
//! `cargo xtask check` and the tests run [`problems`] for every step.
//!
//! The same goes for what a chapter suggests trying: every command in a
//! chapter's code spans must be there in the step's VM ([`vm_commands`]).

use crate::course::Step;
use crate::exercise;
use crate::root;
use anyhow::{Context, Result};
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;

/// Names every Rust programmer of the course is assumed to know.
pub const RUST: &[&str] = &[
    // The prelude and the standard macros.
    "Ok",
    "Err",
    "Some",
    "None",
    "Result",
    "Option",
    "String",
    "Vec",
    "Box",
    "Default",
    "From",
    "Into",
    "format",
    "vec",
    "println",
    "eprintln",
    "print",
    "eprint",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "matches",
    "unreachable",
    "todo",
    // Everyday methods of Result, Option, strings, slices and iterators.
    "map",
    "map_err",
    "and_then",
    "or_else",
    "ok",
    "ok_or",
    "ok_or_else",
    "unwrap_or",
    "unwrap_or_else",
    "unwrap_or_default",
    "is_ok",
    "is_err",
    "is_some",
    "is_none",
    "as_ref",
    "as_deref",
    "as_str",
    "as_bytes",
    "to_string",
    "to_owned",
    "clone",
    "into",
    "from",
    "len",
    "is_empty",
    "iter",
    "into_iter",
    "collect",
    "join",
    "push",
    "filter",
    "find",
    "any",
    "all",
    "contains",
    "starts_with",
    "ends_with",
    "trim",
    "split",
    "parse",
    "get",
    "first",
    "last",
    "display",
    "expect",
    "unwrap",
    "drop",
    "new",
    "take",
];

/// A token, flat: delimiters become their opening and closing characters.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Punct(char, Spacing),
    Open(Delimiter),
    Close,
    Literal,
}

/// The tokens of a Rust source, each with its line; `None` when it does not
/// lex (unbalanced delimiters, a stray quote).
fn tokens(text: &str) -> Option<Vec<(Tok, usize)>> {
    fn walk(stream: TokenStream, out: &mut Vec<(Tok, usize)>) {
        let mut trees = stream.into_iter().peekable();
        while let Some(tree) = trees.next() {
            let line = tree.span().start().line;
            match tree {
                TokenTree::Ident(ident) => out.push((Tok::Ident(ident.to_string()), line)),
                TokenTree::Punct(punct) => {
                    // An attribute (a doc comment is one) is not code.
                    if punct.as_char() == '#'
                        && let Some(TokenTree::Group(g)) = trees.peek()
                        && g.delimiter() == Delimiter::Bracket
                    {
                        trees.next();
                        continue;
                    }
                    out.push((Tok::Punct(punct.as_char(), punct.spacing()), line));
                }
                TokenTree::Literal(_) => out.push((Tok::Literal, line)),
                TokenTree::Group(group) => {
                    out.push((Tok::Open(group.delimiter()), line));
                    walk(group.stream(), out);
                    out.push((Tok::Close, group.span_close().start().line));
                }
            }
        }
    }
    let stream = TokenStream::from_str(text).ok()?;
    let mut out = Vec::new();
    walk(stream, &mut out);
    Some(out)
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while",
];

/// Every identifier of the code (comments and strings left out).
fn code_names(text: &str) -> BTreeSet<String> {
    tokens(text)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(tok, _)| match tok {
            Tok::Ident(name) => Some(name),
            _ => None,
        })
        .collect()
}

/// The names a region uses that the student must be told of: calls,
/// macros, types, constants, the items at the end of paths; with the line
/// of their first use.
fn used_names(
    toks: &[(Tok, usize)],
    lines: &std::ops::RangeInclusive<usize>,
) -> Vec<(String, usize)> {
    let is = |i: usize, c: char| matches!(toks.get(i), Some((Tok::Punct(p, _), _)) if *p == c);
    let path_sep_at = |i: usize| {
        matches!(toks.get(i), Some((Tok::Punct(':', Spacing::Joint), _))) && is(i + 1, ':')
    };
    let mut bound: BTreeSet<String> = BTreeSet::new();
    let mut used: Vec<(String, usize)> = Vec::new();
    for (i, (tok, line)) in toks.iter().enumerate() {
        let Tok::Ident(name) = tok else { continue };
        if !lines.contains(line) || KEYWORDS.contains(&name.as_str()) {
            continue;
        }
        let after_let =
            i >= 1 && matches!(&toks[i - 1].0, Tok::Ident(k) if k == "let" || k == "mut");
        if after_let {
            bound.insert(name.clone());
            continue;
        }
        let capital = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        if path_sep_at(i + 1) && !is(i + 3, '<') && !capital {
            // A module before `::`: the item after it is what counts (a
            // type before `::` counts itself: `MsFlags::empty()`).
            continue;
        }
        let after_path = i >= 2 && path_sep_at(i - 2);
        let called = matches!(
            toks.get(i + 1),
            Some((Tok::Open(Delimiter::Parenthesis), _))
        );
        let macro_call = is(i + 1, '!');
        if !(after_path || called || macro_call || capital) || bound.contains(name) {
            continue;
        }
        if !used.iter().any(|(n, _)| n == name) {
            used.push((name.clone(), *line));
        }
    }
    used
}

/// Whether `text` has `name` as a whole word.
pub fn names(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        !text[..at].chars().next_back().is_some_and(word)
            && !text[at + name.len()..].chars().next().is_some_and(word)
    })
}

/// What the student is given for a step: the exercise's code, the hints
/// and the chapter (the TODOs are per region).
pub struct Given {
    pub code: BTreeSet<String>,
    pub text: String,
}

/// The names of a solution file's regions that nothing given names, each
/// as a line for a person.
fn unnamed(solution: &str, file: &str, given: &Given, unsaid: &[&str]) -> Vec<String> {
    let Some(toks) = tokens(solution) else {
        return vec![format!("{file}: does not lex as Rust")];
    };
    let mut problems = Vec::new();
    for region in exercise::solution_regions(solution) {
        for (name, line) in used_names(&toks, &region.lines) {
            let known = given.code.contains(&name)
                || RUST.contains(&name.as_str())
                || unsaid.contains(&name.as_str())
                || names(&region.todo, &name)
                || names(&given.text, &name);
            if !known {
                problems.push(format!(
                    "{}:{line}: the solution uses `{name}`, which neither the exercise's code, \
                     the TODO above the region, the step's hints nor its chapter names",
                    file
                ));
            }
        }
    }
    problems
}

/// Why a step cannot be solved from its text (its exercise files as
/// [`exercise::derive_step`] gives them): one line per name nothing names,
/// and per `unsaid` name no region uses. Empty when it can.
pub fn problems(step: &Step, derived: &[exercise::Derived]) -> Result<Vec<String>> {
    let chapter = root()
        .join("book/src/steps")
        .join(format!("{}.md", step.id));
    let chapter =
        std::fs::read_to_string(&chapter).with_context(|| chapter.display().to_string())?;
    let mut given = Given {
        code: BTreeSet::new(),
        text: format!("{}\n{chapter}", step.hints.join("\n")),
    };
    for file in derived {
        given.code.extend(code_names(&file.expected));
    }
    let unsaid: Vec<&str> = step.unsaid.keys().map(String::as_str).collect();
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for file in derived {
        problems.extend(unnamed(&file.solution, &file.source, &given, &unsaid));
        if let Some(toks) = tokens(&file.solution) {
            for region in file.regions() {
                used.extend(used_names(&toks, &region.lines).into_iter().map(|(n, _)| n));
            }
        }
    }
    for name in unsaid {
        if !used.contains(name) {
            problems.push(format!(
                "course.toml: step {}: `{name}` is listed as unsaid, but no region uses it",
                step.id
            ));
        }
    }
    Ok(problems)
}

/// Programs a chapter names that run on the student's machine, not in the VM.
const HOST_COMMANDS: &[&str] = &["cargo", "git", "mdbook", "rustup", "sudo"];

/// The commands a step's chapter suggests (the first word of each code
/// span outside code blocks, when it names a program: a busybox applet or
/// one this machine has) that the step's VM has not: neither busybox's
/// applets (`applets`), the programs of this step and the earlier ones, the
/// step's host tools, nor, for a container step, its root filesystem's
/// `lsns`. One line each.
pub fn vm_commands(
    course: &crate::course::Course,
    step: &Step,
    applets: &[String],
) -> Result<Vec<String>> {
    let file = format!("book/src/steps/{}.md", step.id);
    let text = std::fs::read_to_string(root().join(&file)).with_context(|| file.clone())?;
    let mut there: BTreeSet<String> = applets.iter().cloned().collect();
    for earlier in course.before(&step.id).iter().chain([step]) {
        there.extend(earlier.bins.iter().cloned());
    }
    let mut tools: Vec<&str> = step.host_tools.iter().map(String::as_str).collect();
    if step.rootfs {
        // Inside the container: its root filesystem has lsns.
        tools.push(crate::lab::initramfs::LSNS);
    }
    there.extend(tools.into_iter().map(|tool| {
        let name = Path::new(tool).file_name().unwrap_or_default();
        name.to_string_lossy().into_owned()
    }));
    // A later step's program is named ahead, not suggested: not counted.
    let is_program = |word: &str| {
        applets.iter().any(|a| a == word) || there.contains(word) || crate::lab::host::on_path(word)
    };
    Ok(missing_commands(&text, is_program, &there)
        .into_iter()
        .map(|(span, word)| {
            format!(
                "{file}: `{span}` suggests {word}, which the VM of step {} does not have \
                 (add it to the step's host_tools, or say where it runs)",
                step.id
            )
        })
        .collect())
}

/// The code spans of a chapter ([`crate::markdown`]'s) whose first word is a
/// program, not one of the student's machine, and not `there`: each with
/// that word.
fn missing_commands(
    text: &str,
    is_program: impl Fn(&str) -> bool,
    there: &BTreeSet<String>,
) -> Vec<(String, String)> {
    let mut missing = Vec::new();
    for span in crate::markdown::outline(text).code_spans {
        let Some(word) = span.split_whitespace().next() else {
            continue;
        };
        let plain = word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c));
        if !plain || !word.starts_with(|c: char| c.is_ascii_lowercase()) {
            continue;
        }
        if is_program(word) && !HOST_COMMANDS.contains(&word) && !there.contains(word) {
            let word = word.to_string();
            missing.push((span, word));
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = r#"
use nix::mount::{mount, MsFlags};
fn setup(root: &str) -> Result<(), Error> {
    // TODO: chroot into root, then mount proc on /proc with `mount`.
    // @solution
    nix::unistd::chroot(root)?;
    let _ = std::fs::create_dir("/proc"); // "create_dir" in a comment
    let flags = MsFlags::empty();
    mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>).map_err(Error::from)?;
    // @exercise
    // let _ = root; // TODO
    // @end
    Ok(())
}
"#;

    fn given(text: &str) -> Given {
        let exercise = exercise::derive(SOLUTION, "lib.rs").unwrap();
        Given {
            code: code_names(&exercise),
            text: text.to_string(),
        }
    }

    #[test]
    fn a_call_nothing_names_is_found() {
        let found = unnamed(
            SOLUTION,
            "lib.rs",
            &given("`chroot(2)` then `empty()`"),
            &[],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("lib.rs:7:") && found[0].contains("`create_dir`"));
    }

    #[test]
    fn a_name_is_known_from_the_todo_the_text_the_code_or_unsaid() {
        // `mount` is named by the TODO; `MsFlags`, `Error`, `mount` are in
        // the exercise's code; `chroot` and `empty` by the chapter.
        let text = "Call `chroot(2)`, `MsFlags::empty()`, and `std::fs::create_dir`.";
        assert_eq!(
            unnamed(SOLUTION, "lib.rs", &given(text), &[]),
            Vec::<String>::new()
        );
        let text = "Call `chroot(2)`, `MsFlags::empty()`.";
        assert_eq!(
            unnamed(SOLUTION, "lib.rs", &given(text), &["create_dir"]),
            Vec::<String>::new()
        );
        // A word inside another is not a name of it.
        let text = "`chroot(2)`, `empty()`, `create_directory`";
        assert_eq!(unnamed(SOLUTION, "lib.rs", &given(text), &[]).len(), 1);
    }

    #[test]
    fn a_command_the_vm_lacks_is_found() {
        let text = "Try `ipcs -s`, then `sem &` and `cargo xtask run sem`; \
                    `semget(2)` and `IPC_CREAT` are no commands.\n\
                    ```text\n`ipcs` in a block is output\n```\n";
        let programs = ["ipcs", "sem", "cargo", "semget"];
        let is_program = |w: &str| programs.contains(&w);
        let there: BTreeSet<String> = ["sem".to_string()].into();
        assert_eq!(
            missing_commands(text, is_program, &there),
            [("ipcs -s".to_string(), "ipcs".to_string())]
        );
        let there: BTreeSet<String> = ["sem".to_string(), "ipcs".to_string()].into();
        assert!(missing_commands(text, is_program, &there).is_empty());
    }

    #[test]
    fn locals_paths_and_macros_are_told_apart() {
        let toks = tokens(SOLUTION).unwrap();
        let region = &exercise::solution_regions(SOLUTION)[0];
        let used: Vec<String> = used_names(&toks, &region.lines)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            used,
            [
                "chroot",
                "create_dir",
                "MsFlags",
                "empty",
                "mount",
                "Some",
                "None",
                "map_err",
                "Error",
                "from"
            ]
        );
    }
}
