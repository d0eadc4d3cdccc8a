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
    pub expected: String,
    segments: Vec<Segment>,
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

    pub fn state(&self) -> State {
        match &self.current {
            Some(text) if *text == self.expected => State::Untouched,
            Some(text) if changed_only_in_regions(&self.segments, text) => State::Worked,
            _ => State::Drifted,
        }
    }
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
            segments,
            current: std::fs::read_to_string(&target).ok(),
            path: target,
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
