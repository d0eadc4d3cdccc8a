//! Exercises are derived from the solutions: one source of truth.
//!
//! In a solution, the code a student writes sits between marker comments:
//!
//! ```text
//!     // TODO: explain what to do (kept in both)
//!     // @solution
//!     let id = unsafe { libc::semget(KEY, 1, flags) };   (solution only)
//!     // @exercise
//!     // Err(Error::msg("TODO: ..."))                   (exercise only, uncommented)
//!     // @end
//! ```
//!
//! The exercise is the solution with each region's solution lines dropped and
//! its exercise lines uncommented. `cargo xtask check` fails when a committed
//! exercise differs from what its solution gives (drift), and `cargo xtask
//! reset STEP` writes it again.

use crate::course::Step;
use crate::root;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The exercise text for one solution source file.
pub fn derive(solution: &str, file: &str) -> Result<String> {
    Ok(segments(solution, file)?
        .into_iter()
        .map(|s| s.text)
        .collect())
}

/// A piece of an exercise: text common to solution and exercise, or a
/// region the student fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub todo: bool,
    pub text: String,
}

/// The exercise text for one solution source file, cut into its common
/// pieces and its regions.
pub fn segments(solution: &str, file: &str) -> Result<Vec<Segment>> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut push = |todo: bool, text: &str| match segments.last_mut() {
        Some(last) if last.todo == todo => last.text.push_str(text),
        _ => segments.push(Segment {
            todo,
            text: text.to_string(),
        }),
    };
    #[derive(PartialEq)]
    enum State {
        Common,
        Solution,
        Exercise,
    }
    let mut state = State::Common;
    for (n, line) in solution.lines().enumerate() {
        let at = || format!("{file}:{}", n + 1);
        match (line.trim(), &state) {
            ("// @solution", State::Common) => state = State::Solution,
            ("// @exercise", State::Solution) => {
                state = State::Exercise;
                // An empty region is still a region: it starts here.
                push(true, "");
            }
            ("// @end", State::Exercise) => state = State::Common,
            ("// @solution" | "// @exercise" | "// @end", _) => {
                bail!("{}: marker out of order", at());
            }
            (_, State::Common) => {
                push(false, line);
                push(false, "\n");
            }
            (_, State::Solution) => {}
            (code, State::Exercise) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                let Some(code) = code.strip_prefix("//") else {
                    bail!("{}: exercise lines must be comments", at());
                };
                let code = code.strip_prefix(' ').unwrap_or(code);
                if !code.is_empty() {
                    push(true, indent);
                    push(true, code);
                }
                push(true, "\n");
            }
        }
    }
    if state != State::Common {
        bail!("{file}: a region has no // @end");
    }
    Ok(segments)
}

/// Whether `text` is the exercise with only its regions changed: every
/// common piece still there, in order, each region replaced by anything.
pub fn changed_only_in_regions(segments: &[Segment], text: &str) -> bool {
    let mut rest = text;
    let mut after_region = false;
    for segment in segments {
        if segment.todo {
            after_region = true;
            continue;
        }
        let found = if after_region {
            rest.find(segment.text.as_str())
        } else {
            rest.starts_with(segment.text.as_str()).then_some(0)
        };
        let Some(at) = found else { return false };
        rest = &rest[at + segment.text.len()..];
        after_region = false;
    }
    after_region || rest.is_empty()
}

/// A change of an exercise file outside its TODO regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outside {
    /// The line of the current file where it is (1-based).
    pub line: usize,
    /// The exercise's line that was there, if one was changed or removed.
    pub was: Option<String>,
    /// The line that is there now, if one was changed or added.
    pub now: Option<String>,
}

/// How a student's file differs from the exercise it started as.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Edits {
    /// The changes outside the TODO regions that are more than comments or
    /// whitespace.
    pub outside: Vec<Outside>,
    /// The regions changed (by their order in the file, from 0).
    pub worked: std::collections::BTreeSet<usize>,
    /// The lines of the current file that are in a TODO region (1-based).
    pub region_lines: std::collections::BTreeSet<usize>,
}

/// The code of a line without its `//` comment and its whitespace (both
/// kept inside string literals): what the compiler sees of it.
fn code_only(text: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_string = !in_string;
                out.push(c);
            }
            '\\' if in_string => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '/' if !in_string && chars.peek() == Some(&'/') => {
                // The comment runs to the end of its line.
                for rest in chars.by_ref() {
                    if rest == '\n' {
                        break;
                    }
                }
            }
            c if c.is_whitespace() && !in_string => {}
            c => out.push(c),
        }
    }
    out
}

/// Where `text` differs from the exercise of `segments`, line by line:
/// which regions it changed, which of its lines are in regions, and its
/// changes outside the regions (comments and whitespace apart).
pub fn edits(segments: &[Segment], text: &str) -> Edits {
    let mut expected: Vec<&str> = Vec::new();
    // The region of each line of the exercise (None: common code).
    let mut region_of: Vec<Option<usize>> = Vec::new();
    // Regions with no line: where they stand.
    let mut empty: Vec<(usize, usize)> = Vec::new();
    let mut regions = 0;
    for segment in segments {
        let region = segment.todo.then(|| {
            regions += 1;
            regions - 1
        });
        if let Some(r) = region
            && segment.text.is_empty()
        {
            empty.push((r, expected.len()));
        }
        for line in segment.text.split_inclusive('\n') {
            expected.push(line);
            region_of.push(region);
        }
    }
    let current: Vec<&str> = text.split_inclusive('\n').collect();
    let mut edits = Edits::default();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &expected, &current) {
        let (old, new) = (op.old_range(), op.new_range());
        if let similar::DiffOp::Equal { .. } = op {
            for (o, n) in old.zip(new) {
                if region_of[o].is_some() {
                    edits.region_lines.insert(n + 1);
                }
            }
            continue;
        }
        let mut touched: Vec<usize> = old.clone().filter_map(|o| region_of[o]).collect();
        let common: Vec<usize> = old.clone().filter(|&o| region_of[o].is_none()).collect();
        if old.is_empty() {
            // Lines added: in a region when they touch one.
            let before = old.start.checked_sub(1).and_then(|o| region_of[o]);
            let after = region_of.get(old.start).copied().flatten();
            touched.extend(before.into_iter().chain(after));
            touched.extend(
                empty
                    .iter()
                    .filter(|(_, at)| *at == old.start)
                    .map(|(r, _)| *r),
            );
        }
        edits.worked.extend(touched.iter().copied());
        if common.is_empty() && !touched.is_empty() {
            edits.region_lines.extend(new.map(|n| n + 1));
            continue;
        }
        let was: String = common.iter().map(|&o| expected[o]).collect();
        let now: String = current[new.clone()].concat();
        if touched.is_empty() && code_only(&was) == code_only(&now) {
            continue;
        }
        let first = |lines: &mut dyn Iterator<Item = &str>| {
            lines
                .map(str::trim)
                .find(|l| !code_only(l).is_empty())
                .map(String::from)
        };
        edits.outside.push(Outside {
            line: (new.start + 1).min(current.len().max(1)),
            was: first(&mut common.iter().map(|&o| expected[o])),
            now: first(&mut current[new].iter().copied()),
        });
    }
    edits
}

/// The digest of a Rust source's code: its tokens, without comments, doc
/// comments or whitespace; `None` when it does not lex.
pub fn code_digest(text: &str) -> Option<String> {
    use sha2::Digest;
    use std::str::FromStr;
    let stream = proc_macro2::TokenStream::from_str(text).ok()?;
    fn strip(stream: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
        use proc_macro2::{Delimiter, Group, TokenTree};
        let mut out = Vec::new();
        let mut trees = stream.into_iter().peekable();
        while let Some(tree) = trees.next() {
            match tree {
                // A doc comment is an attribute `#[doc = "..."]` (or `#![doc…]`).
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    let bang =
                        matches!(trees.peek(), Some(TokenTree::Punct(b)) if b.as_char() == '!');
                    let mut ahead = trees.clone();
                    if bang {
                        ahead.next();
                    }
                    let doc = matches!(ahead.peek(), Some(TokenTree::Group(g))
                        if g.delimiter() == Delimiter::Bracket
                            && g.stream().into_iter().next().is_some_and(|t| t.to_string() == "doc"));
                    if doc {
                        if bang {
                            trees.next();
                        }
                        trees.next();
                        continue;
                    }
                    out.push(TokenTree::Punct(p));
                }
                TokenTree::Group(g) => {
                    out.push(TokenTree::Group(Group::new(
                        g.delimiter(),
                        strip(g.stream()),
                    )));
                }
                other => out.push(other),
            }
        }
        out.into_iter().collect()
    }
    let code = strip(stream).to_string();
    Some(format!("{:x}", sha2::Sha256::digest(code.as_bytes())))
}

/// Every source file of a step's solution, with the exercise path it gives.
fn sources(step: &Step) -> Result<Vec<(PathBuf, PathBuf)>> {
    let solution = root().join("solutions").join(&step.id);
    let exercise = root().join("exercises").join(&step.id);
    let mut files = Vec::new();
    collect_rs(&solution.join("src"), &mut files)?;
    files.sort();
    Ok(files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&solution).expect("under solution");
            let target = exercise.join(relative);
            (file, target)
        })
        .collect())
}

fn collect_rs(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.with_context(|| dir.display().to_string())?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rs") {
            files.push(entry.into_path());
        }
    }
    Ok(())
}

/// One exercise file and what its solution says it should be.
pub struct Derived {
    pub path: PathBuf,
    /// The solution file it comes from, relative to the workspace, and
    /// its text.
    pub source: String,
    pub solution: String,
    pub expected: String,
    segments: Vec<Segment>,
    /// The solution's regions, in order.
    regions: Vec<SolutionRegion>,
    pub current: Option<String>,
}

/// How an exercise file compares with what its solution gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// As derived: untouched.
    Untouched,
    /// Changed inside its TODO regions only: a student's work.
    Worked,
    /// Changed outside them, or missing: not what the solution gives.
    Drifted,
}

impl Derived {
    /// The file differs from what its solution gives, in any way.
    pub fn drifted(&self) -> bool {
        self.state() != State::Untouched
    }

    /// How the file differs from the exercise it started as; `None` when
    /// it is missing.
    pub fn edits(&self) -> Option<Edits> {
        self.current
            .as_deref()
            .map(|text| edits(&self.segments, text))
    }

    /// The solution's regions, in order.
    pub fn regions(&self) -> &[SolutionRegion] {
        &self.regions
    }

    pub fn state(&self) -> State {
        match &self.current {
            Some(text) if *text == self.expected => State::Untouched,
            Some(text) if changed_only_in_regions(&self.segments, text) => State::Worked,
            _ => State::Drifted,
        }
    }
}

/// A region of a solution file, as the solution has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolutionRegion {
    /// Its solution lines (1-based, inclusive).
    pub lines: std::ops::RangeInclusive<usize>,
    /// The comment lines just above `// @solution`: its TODO.
    pub todo: String,
    /// Its solution lines' text.
    pub solution: String,
}

/// The regions of a solution file, in order (markers already checked by
/// [`segments`]).
pub fn solution_regions(text: &str) -> Vec<SolutionRegion> {
    let lines: Vec<&str> = text.lines().collect();
    let mut regions = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != "// @solution" {
            continue;
        }
        let todo: Vec<&str> = lines[..i]
            .iter()
            .rev()
            .take_while(|l| l.trim_start().starts_with("//"))
            .copied()
            .collect();
        let end = lines[i..]
            .iter()
            .position(|l| l.trim() == "// @exercise")
            .map_or(lines.len(), |n| i + n);
        regions.push(SolutionRegion {
            lines: i + 2..=end,
            todo: todo.into_iter().rev().collect::<Vec<_>>().join("\n"),
            solution: lines[i + 1..end].iter().map(|l| format!("{l}\n")).collect(),
        });
    }
    regions
}

/// The exercise files of a step, derived from its solution.
pub fn derive_step(step: &Step) -> Result<Vec<Derived>> {
    let mut derived = Vec::new();
    let mut regions = 0;
    for (source, target) in sources(step)? {
        let text =
            std::fs::read_to_string(&source).with_context(|| source.display().to_string())?;
        regions += text.lines().filter(|l| l.trim() == "// @solution").count();
        let name = source
            .strip_prefix(root())
            .unwrap_or(&source)
            .display()
            .to_string();
        let segments = segments(&text, &name)?;
        derived.push(Derived {
            expected: segments.iter().map(|s| s.text.as_str()).collect(),
            regions: solution_regions(&text),
            segments,
            current: std::fs::read_to_string(&target).ok(),
            path: target,
            source: name,
            solution: text,
        });
    }
    if regions == 0 {
        bail!(
            "step {}: the solution has no // @solution region, so the exercise would be the solution",
            step.id
        );
    }
    Ok(derived)
}

/// Write a step's exercise files from its solution. A file whose TODO
/// regions hold a student's work is overwritten only with `force`.
pub fn write_step(step: &Step, force: bool) -> Result<Vec<PathBuf>> {
    let files = derive_step(step)?;
    if !force && let Some(worked) = files.iter().find(|f| f.state() == State::Worked) {
        bail!(
            "{} holds work in its TODO regions: it is not overwritten without --force",
            worked
                .path
                .strip_prefix(root())
                .unwrap_or(&worked.path)
                .display()
        );
    }
    let mut written = Vec::new();
    for file in files {
        if file.drifted() {
            if let Some(dir) = file.path.parent() {
                std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
            }
            std::fs::write(&file.path, &file.expected)
                .with_context(|| file.path.display().to_string())?;
            written.push(file.path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_swap_solution_for_exercise() {
        let solution = "fn f() -> i32 {\n    // TODO: return 42\n    // @solution\n    42\n    // @exercise\n    // todo!()\n    //\n    // @end\n}\n";
        assert_eq!(
            derive(solution, "f.rs").unwrap(),
            "fn f() -> i32 {\n    // TODO: return 42\n    todo!()\n\n}\n"
        );
    }

    #[test]
    fn work_inside_the_regions_is_told_from_drift() {
        let solution = "fn f() -> i32 {\n    // @solution\n    42\n    // @exercise\n    // todo!()\n    // @end\n}\nfn g() {}\n";
        let segments = segments(solution, "f.rs").unwrap();
        let exercise = derive(solution, "f.rs").unwrap();
        assert!(changed_only_in_regions(&segments, &exercise));
        assert!(changed_only_in_regions(
            &segments,
            "fn f() -> i32 {\n    let x = 40;\n    x + 2\n}\nfn g() {}\n"
        ));
        assert!(!changed_only_in_regions(
            &segments,
            "fn f() -> i32 {\n    42\n}\nfn g() { changed() }\n"
        ));
        assert!(!changed_only_in_regions(&segments, "fn other() {}\n"));
    }

    #[test]
    fn edits_outside_the_regions_are_named_and_comments_are_not_edits() {
        let solution = "fn f() -> i32 {\n    println!(\"start\");\n    // TODO: return 42\n    // @solution\n    42\n    // @exercise\n    // todo!()\n    // @end\n}\nfn g() {}\n";
        let segments = segments(solution, "f.rs").unwrap();
        let exercise = derive(solution, "f.rs").unwrap();
        assert_eq!(
            edits(&segments, &exercise),
            Edits {
                region_lines: [4].into(),
                ..Edits::default()
            }
        );
        // Work in the region: lines 4 and 5 are the region's.
        let worked = exercise.replace("    todo!()\n", "    let x = 40;\n    x + 2\n");
        let e = edits(&segments, &worked);
        assert!(e.outside.is_empty(), "{e:?}");
        assert_eq!(e.worked, [0].into());
        assert_eq!(e.region_lines, [4, 5].into());
        // A comment, a blank line and spaces outside: no edit.
        let commented = worked
            .replace("fn g() {}", "// g does nothing\n\nfn g( ) { }  // really")
            .replace(
                "println!(\"start\");",
                "println!(\"start\"); // the first line",
            );
        assert!(edits(&segments, &commented).outside.is_empty());
        // A string changed outside: named, with its line.
        let changed = worked.replace("\"start\"", "\"begin\"");
        assert_eq!(
            edits(&segments, &changed).outside,
            [Outside {
                line: 2,
                was: Some("println!(\"start\");".into()),
                now: Some("println!(\"begin\");".into())
            }]
        );
        // Spaces inside a string are code.
        let spaced = worked.replace("\"start\"", "\"st art\"");
        assert_eq!(edits(&segments, &spaced).outside.len(), 1);
        // A line added between two common lines is outside.
        let added = worked.replace("fn g() {}", "fn h() {}\nfn g() {}");
        let e = edits(&segments, &added);
        assert_eq!(e.outside.len(), 1, "{e:?}");
        assert_eq!(e.outside[0].now.as_deref(), Some("fn h() {}"));
    }

    #[test]
    fn the_code_digest_ignores_comments_and_whitespace_only() {
        let a = code_digest("/// doc\nfn f() { g(1, \"a b\") } // c\n").unwrap();
        assert_eq!(
            code_digest("fn f() {\n    g(1, \"a b\")\n}\n"),
            Some(a.clone())
        );
        assert_ne!(code_digest("fn f() { g(1, \"ab\") }"), Some(a.clone()));
        assert_ne!(code_digest("fn f() { g(2, \"a b\") }"), Some(a));
        assert_eq!(code_digest("fn f() {"), None);
    }

    #[test]
    fn bad_markers_are_reported_with_their_line() {
        assert_eq!(
            derive("// @exercise\n", "f.rs").unwrap_err().to_string(),
            "f.rs:1: marker out of order"
        );
        assert!(
            derive("// @solution\n", "f.rs")
                .unwrap_err()
                .to_string()
                .contains("no // @end")
        );
        assert!(
            derive("// @solution\n// @exercise\nlet x = 1;\n// @end\n", "f.rs")
                .unwrap_err()
                .to_string()
                .contains("f.rs:3")
        );
    }
}
