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
use crate::{Result, io_err, root};
use std::path::{Path, PathBuf};

/// The exercise text for one solution source file.
pub fn derive(solution: &str, file: &str) -> Result<String> {
    #[derive(PartialEq)]
    enum State {
        Common,
        Solution,
        Exercise,
    }
    let mut state = State::Common;
    let mut out = String::new();
    for (n, line) in solution.lines().enumerate() {
        let at = || format!("{file}:{}", n + 1);
        match (line.trim(), &state) {
            ("// @solution", State::Common) => state = State::Solution,
            ("// @exercise", State::Solution) => state = State::Exercise,
            ("// @end", State::Exercise) => state = State::Common,
            ("// @solution" | "// @exercise" | "// @end", _) => {
                return Err(format!("{}: marker out of order", at()));
            }
            (_, State::Common) => {
                out.push_str(line);
                out.push('\n');
            }
            (_, State::Solution) => {}
            (code, State::Exercise) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                let Some(code) = code.strip_prefix("//") else {
                    return Err(format!("{}: exercise lines must be comments", at()));
                };
                let code = code.strip_prefix(' ').unwrap_or(code);
                if !code.is_empty() {
                    out.push_str(indent);
                    out.push_str(code);
                }
                out.push('\n');
            }
        }
    }
    if state != State::Common {
        return Err(format!("{file}: a region has no // @end"));
    }
    Ok(out)
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
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir.display(), e))? {
        let path = entry.map_err(|e| io_err(dir.display(), e))?.path();
        if path.is_dir() {
            collect_rs(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// One exercise file and what its solution says it should be.
pub struct Derived {
    pub path: PathBuf,
    pub expected: String,
    pub current: Option<String>,
}

impl Derived {
    pub fn drifted(&self) -> bool {
        self.current.as_deref() != Some(self.expected.as_str())
    }
}

/// The exercise files of a step, derived from its solution.
pub fn derive_step(step: &Step) -> Result<Vec<Derived>> {
    let mut derived = Vec::new();
    let mut regions = 0;
    for (source, target) in sources(step)? {
        let text = std::fs::read_to_string(&source).map_err(|e| io_err(source.display(), e))?;
        regions += text.lines().filter(|l| l.trim() == "// @solution").count();
        let name = source
            .strip_prefix(root())
            .unwrap_or(&source)
            .display()
            .to_string();
        derived.push(Derived {
            expected: derive(&text, &name)?,
            current: std::fs::read_to_string(&target).ok(),
            path: target,
        });
    }
    if regions == 0 {
        return Err(format!(
            "step {}: the solution has no // @solution region, so the exercise would be the solution",
            step.id
        ));
    }
    Ok(derived)
}

/// Write a step's exercise files from its solution.
pub fn write_step(step: &Step) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for file in derive_step(step)? {
        if file.drifted() {
            if let Some(dir) = file.path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io_err(dir.display(), e))?;
            }
            std::fs::write(&file.path, &file.expected)
                .map_err(|e| io_err(file.path.display(), e))?;
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
    fn bad_markers_are_reported_with_their_line() {
        assert_eq!(
            derive("// @exercise\n", "f.rs").unwrap_err(),
            "f.rs:1: marker out of order"
        );
        assert!(
            derive("// @solution\n", "f.rs")
                .unwrap_err()
                .contains("no // @end")
        );
        assert!(
            derive("// @solution\n// @exercise\nlet x = 1;\n// @end\n", "f.rs")
                .unwrap_err()
                .contains("f.rs:3")
        );
    }
}
