//! `cargo xtask mutants`: how well the scenarios and diagnoses catch the
//! mistakes nobody listed. cargo-mutants (mutants.rs) generates the mutants
//! of each step's solution (function bodies replaced, operators flipped,
//! `!` deleted…); those inside a `// @solution` region, code a student
//! writes, are each made as a crate of their own, built, and run through the
//! step's scenario in a fresh VM, as a known mistake is by `check`.
//!
//! Each mutant is then caught with a diagnosis (which), caught silently (the
//! diff alone), missed (the transcript is the reviewed one), unviable (it
//! does not compile: the compiler is the student's first teacher), or
//! equivalent (reviewed: it changes nothing a run can show). Every
//! (mutant, diagnosis) pair that fires must be reviewed once as true of the
//! mutant, and every equivalent mutant has its reason: both in the reviewed
//! list `tests/mutants.toml`. The command fails when a mutant is missed that
//! is not reviewed as equivalent, or when a pair is unreviewed.
//!
//! Wiring: cargo-mutants is installed once under `target/tools`; the
//! mutants become [`Mistake`]s of a copy of the course (`Step::mutants`), made
//! by [`crate::mistakes`] in `target/nslab-mutants`, run by
//! [`crate::commands::run_jobs`] and judged by [`crate::verdict`] like any run.

use crate::course::{Course, Mistake, Step, Variant};
use crate::exercise::solution_regions;
use crate::plan::{Expect, Job};
use crate::root;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The version of cargo-mutants the course uses.
const CARGO_MUTANTS: &str = "27.1.0";

/// The reviewed list, relative to the workspace.
pub const REVIEWED: &str = "tests/mutants.toml";

/// A mutant as `cargo mutants --list --json` describes it (the fields the
/// course reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Listed {
    /// `solutions/sem/src/main.rs:60:5: replace == with != in run`
    pub name: String,
    /// The file, relative to the workspace.
    pub file: String,
    pub replacement: String,
    pub span: Span,
    pub genre: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

/// A 1-based line and a 1-based column in characters (the end exclusive).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A mutant of a step's solution region, as the course names it.
#[derive(Debug, Clone)]
pub struct Mutant {
    /// Its name without the line and column, so that a review outlives an
    /// edit elsewhere in the file: `src/main.rs: replace == with != in run`
    /// (`#2`… when the same change occurs twice in a function).
    pub key: String,
    /// The edit, as a mistake: the region's text, and what it becomes.
    pub edit: Mistake,
}

/// cargo-mutants, installed under `target/tools` the first time (said
/// first: it compiles for a few minutes).
fn tool() -> Result<PathBuf> {
    let dir = root().join("target").join("tools");
    let bin = dir.join("bin").join("cargo-mutants");
    if bin.is_file() {
        return Ok(bin);
    }
    eprintln!(
        "nslab: installing cargo-mutants {CARGO_MUTANTS} into target/tools with cargo install, \
         once: it compiles for a few minutes"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "install",
            "--locked",
            "cargo-mutants",
            "--version",
            CARGO_MUTANTS,
        ])
        .arg("--root")
        .arg(&dir)
        .status()
        .context("running cargo install cargo-mutants")?;
    anyhow::ensure!(
        status.success(),
        "cargo install cargo-mutants failed ({status})"
    );
    Ok(bin)
}

/// Every mutant cargo-mutants lists for the solution package of `step`.
fn list(step: &Step) -> Result<Vec<Listed>> {
    let output = std::process::Command::new(tool()?)
        .current_dir(root())
        .args(["mutants", "--list", "--json", "--package", &step.id])
        .output()
        .context("running cargo mutants --list")?;
    anyhow::ensure!(
        output.status.success(),
        "cargo mutants --list --package {} failed: {}",
        step.id,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    serde_json::from_slice(&output.stdout).context("reading cargo mutants --list --json")
}

/// The byte offset of a (line, column) position in `text`.
fn offset(text: &str, at: Position) -> Option<usize> {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(at.line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let line = text[line_start..].split('\n').next()?;
    let column = match line.char_indices().nth(at.column.checked_sub(1)?) {
        Some((byte, _)) => byte,
        None if at.column - 1 == line.chars().count() => line.len(),
        None => return None,
    };
    Some(line_start + column)
}

/// The mutants of `listed` that lie inside a solution region of `text` (the
/// file `file` of the step's crate), each as an edit of its region.
pub fn in_regions(listed: &[Listed], file: &str, text: &str) -> Vec<Mutant> {
    let regions = solution_regions(text);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut mutants = Vec::new();
    for mutant in listed {
        let Some(region) = regions.iter().find(|r| {
            r.lines.contains(&mutant.span.start.line) && r.lines.contains(&mutant.span.end.line)
        }) else {
            continue;
        };
        let (Some(start), Some(end)) = (
            offset(text, mutant.span.start),
            offset(text, mutant.span.end),
        ) else {
            continue;
        };
        let region_start = offset(
            text,
            Position {
                line: *region.lines.start(),
                column: 1,
            },
        )
        .unwrap_or(0);
        let mut replaced = region.solution.clone();
        let (from, to) = (start - region_start, end - region_start);
        if to > replaced.len() || from > to {
            continue;
        }
        replaced.replace_range(from..to, &mutant.replacement);
        let what = mutant
            .name
            .splitn(4, ':')
            .nth(3)
            .unwrap_or(&mutant.name)
            .trim();
        let base = format!("{file}: {what}");
        let n = seen.entry(base.clone()).or_default();
        *n += 1;
        let key = match *n {
            1 => base,
            n => format!("{base} #{n}"),
        };
        mutants.push(Mutant {
            edit: Mistake {
                id: key.clone(),
                file: file.to_string(),
                find: region.solution.clone(),
                replace: replaced,
                diagnosis: String::new(),
            },
            key,
        });
    }
    mutants
}

/// The mutants of `step`'s solution regions.
pub fn of_step(step: &Step) -> Result<Vec<Mutant>> {
    let listed = list(step)?;
    let prefix = format!("solutions/{}/", step.id);
    let mut by_file: BTreeMap<&str, Vec<Listed>> = BTreeMap::new();
    for mutant in &listed {
        if let Some(file) = mutant.file.strip_prefix(&prefix) {
            by_file.entry(file).or_default().push(mutant.clone());
        }
    }
    let mut mutants = Vec::new();
    for (file, listed) in by_file {
        let path = root().join(&prefix).join(file);
        let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
        mutants.extend(in_regions(&listed, file, &text));
    }
    Ok(mutants)
}

/// One entry of the reviewed list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub step: String,
    /// The mutant's key ([`Mutant::key`]).
    pub mutant: String,
    /// The diagnoses it gets, each reviewed as true of it.
    #[serde(default)]
    pub diagnoses: Vec<String>,
    /// Why it is equivalent: nothing a run shows can tell it apart.
    pub equivalent: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reviewed {
    #[serde(default)]
    mutant: Vec<Review>,
}

/// The reviewed list.
pub fn reviewed() -> Result<Vec<Review>> {
    let path = root().join(REVIEWED);
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let list: Reviewed = toml::from_str(&text).with_context(|| REVIEWED.to_string())?;
    Ok(list.mutant)
}

/// How a mutant fared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "class")]
pub enum Fate {
    /// The run differed, and these diagnoses named why.
    Caught { diagnoses: Vec<String> },
    /// The run differed, with no diagnosis: the diff alone.
    Silent,
    /// The run showed the reviewed transcript.
    Missed,
    /// Reviewed as equivalent (it still ran: a caught one is reported).
    Equivalent { reason: String },
    /// It does not compile.
    Unviable,
    /// The VM or the harness failed: nothing to judge.
    Broken { why: String },
}

impl Fate {
    /// Its name on a line of the report.
    pub fn name(&self) -> &'static str {
        match self {
            Fate::Caught { .. } => "diagnosed",
            Fate::Silent => "silent",
            Fate::Missed => "MISSED",
            Fate::Equivalent { .. } => "equivalent",
            Fate::Unviable => "unviable",
            Fate::Broken { .. } => "BROKEN",
        }
    }
}

/// One mutant's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MutantResult {
    pub step: String,
    pub mutant: String,
    #[serde(flatten)]
    pub fate: Fate,
    /// Diagnoses that fired but are not reviewed as true of it.
    pub unreviewed: Vec<String>,
}

/// Run `cargo xtask mutants`.
pub fn run(ids: &[String], json: bool) -> Result<std::process::ExitCode> {
    crate::lab::check_environment()?;
    let mut course = Course::load()?;
    let selected: Vec<String> = course
        .select(ids)?
        .iter()
        .filter(|s| !s.demo)
        .map(|s| s.id.clone())
        .collect();
    let reviews = reviewed()?;
    let mut total = 0;
    for step in course.step.iter_mut().filter(|s| selected.contains(&s.id)) {
        let mutants = of_step(step)?;
        eprintln!(
            "{}: {} mutant(s) in its solution regions",
            step.id,
            mutants.len()
        );
        total += mutants.len();
        step.mutants = mutants.into_iter().map(|m| m.edit).collect();
    }
    for review in &reviews {
        let known = course
            .step
            .iter()
            .any(|s| s.id == review.step && s.mutants.iter().any(|m| m.id == review.mutant));
        if selected.contains(&review.step) && !known {
            bail!(
                "{REVIEWED}: step {}, mutant '{}' is not among the mutants cargo-mutants lists \
                 (the code changed: review it again under its new name)",
                review.step,
                review.mutant
            );
        }
    }
    // Those that do not compile are left out of the VM runs.
    crate::mistakes::write_all(&course, crate::mistakes::Kind::Mutants)?;
    let mut packages: Vec<String> = course
        .step
        .iter()
        .flat_map(|s| (0..s.mutants.len()).map(|n| s.package(Variant::Mutant(n))))
        .collect();
    let mut unviable = Vec::new();
    loop {
        if packages.is_empty() {
            break;
        }
        let build =
            crate::lab::guest::compile(&crate::mistakes::Kind::Mutants.manifest(), &packages)?;
        if build.success {
            break;
        }
        let failed: Vec<String> = build
            .messages
            .iter()
            .filter(|(_, d)| d.iter().any(|d| d.is_error()))
            .map(|(p, _)| p.clone())
            .collect();
        if failed.is_empty() {
            bail!("building the mutants failed, and no mutant's code is to blame");
        }
        packages.retain(|p| !failed.contains(p));
        unviable.extend(failed);
    }
    let mut jobs = Vec::new();
    for step in &course.step {
        for n in 0..step.mutants.len() {
            if !unviable.contains(&step.package(Variant::Mutant(n))) {
                jobs.push(Job {
                    step: step.clone(),
                    variant: Variant::Mutant(n),
                    expect: Expect::Differ,
                    students: false,
                    round: 1,
                });
            }
        }
    }
    let lab = crate::setup::lab(&course, &crate::plan::builds(&jobs))?;
    eprintln!(
        "running {} VM(s) under {}, {} at a time ({} of {total} mutant(s) do not compile)",
        jobs.len(),
        lab.accel.name(),
        crate::schedule::parallelism(),
        unviable.len()
    );
    let judge = |job: &Job| {
        let outcome = crate::commands::run_job(&course, &lab, job);
        let Variant::Mutant(n) = job.variant else {
            unreachable!("a mutants' run is of a mutant")
        };
        let mutant = &job.step.mutants[n];
        let result = judged(&job.step, mutant, Some(&outcome), &reviews);
        anstream::eprintln!(
            "{:<10} {:<12} {}",
            job.step.id,
            result.fate.name(),
            mutant.id
        );
        result
    };
    let mut results = crate::schedule::in_parallel(&jobs, crate::schedule::parallelism(), judge);
    for step in &course.step {
        for (n, mutant) in step.mutants.iter().enumerate() {
            if unviable.contains(&step.package(Variant::Mutant(n))) {
                results.push(judged(step, mutant, None, &reviews));
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    let good = summary(&results, &selected);
    Ok(match good {
        true => std::process::ExitCode::SUCCESS,
        false => std::process::ExitCode::FAILURE,
    })
}

/// A mutant's result from its run (`None`: it did not compile).
fn judged(
    step: &Step,
    mutant: &Mistake,
    outcome: Option<&crate::verdict::Outcome>,
    reviews: &[Review],
) -> MutantResult {
    let review = reviews
        .iter()
        .find(|r| r.step == step.id && r.mutant == mutant.id);
    let fate = match outcome {
        None => Fate::Unviable,
        Some(o) => match (&o.verdict, &o.transcript) {
            (crate::verdict::Verdict::Broken(why), _) => Fate::Broken { why: why.clone() },
            _ if o.matched => Fate::Missed,
            (_, Some(transcript)) => {
                let found: Vec<String> = crate::verdict::diagnose(step, transcript)
                    .iter()
                    .map(|d| d.id.clone())
                    .collect();
                match found.is_empty() {
                    true => Fate::Silent,
                    false => Fate::Caught { diagnoses: found },
                }
            }
            (_, None) => Fate::Silent,
        },
    };
    let unreviewed = match &fate {
        Fate::Caught { diagnoses } => diagnoses
            .iter()
            .filter(|d| !review.is_some_and(|r| r.diagnoses.contains(d)))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    let fate = match (&fate, review.and_then(|r| r.equivalent.clone())) {
        (Fate::Missed | Fate::Silent, Some(reason)) => Fate::Equivalent { reason },
        _ => fate,
    };
    MutantResult {
        step: step.id.clone(),
        mutant: mutant.id.clone(),
        fate,
        unreviewed,
    }
}

/// The report, per step and in all, on stderr; whether every mutant is
/// caught or reviewed as equivalent, with every pair reviewed.
fn summary(results: &[MutantResult], steps: &[String]) -> bool {
    let mut good = true;
    eprintln!(
        "\n{:<10} {:>7} {:>9} {:>7} {:>7} {:>10} {:>9} {:>7}",
        "step", "mutants", "diagnosed", "silent", "missed", "equivalent", "unviable", "score"
    );
    let mut all = [0usize; 6];
    for step in steps {
        let of: Vec<&MutantResult> = results.iter().filter(|r| &r.step == step).collect();
        let count = |f: fn(&Fate) -> bool| of.iter().filter(|r| f(&r.fate)).count();
        let row = [
            of.len(),
            count(|f| matches!(f, Fate::Caught { .. })),
            count(|f| matches!(f, Fate::Silent)),
            count(|f| matches!(f, Fate::Missed)),
            count(|f| matches!(f, Fate::Equivalent { .. })),
            count(|f| matches!(f, Fate::Unviable)),
        ];
        for (total, n) in all.iter_mut().zip(row) {
            *total += n;
        }
        eprintln!("{:<10} {}", step, columns(&row));
    }
    eprintln!("{:<10} {}", "all", columns(&all));
    for r in results {
        let line = match &r.fate {
            Fate::Missed => Some("missed".to_string()),
            Fate::Broken { why } => Some(format!("broken: {}", why.lines().next().unwrap_or(""))),
            _ if !r.unreviewed.is_empty() => Some(format!(
                "diagnosis not reviewed as true of it: {}",
                r.unreviewed.join(", ")
            )),
            _ => None,
        };
        if let Some(line) = line {
            good = false;
            eprintln!("  {} {}: {line}", r.step, r.mutant);
        }
    }
    good
}

/// A report row's numbers and its mutation score: caught among the viable,
/// non-equivalent mutants.
fn columns(row: &[usize; 6]) -> String {
    let [total, diagnosed, silent, missed, equivalent, unviable] = *row;
    let judged = total - equivalent - unviable;
    let score = match judged {
        0 => "-".to_string(),
        n => format!("{:.0} %", 100.0 * (diagnosed + silent) as f64 / n as f64),
    };
    format!(
        "{total:>7} {diagnosed:>9} {silent:>7} {missed:>7} {equivalent:>10} {unviable:>9} {score:>7}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(line: usize, from: usize, to: usize, replacement: &str, name: &str) -> Listed {
        Listed {
            name: format!("solutions/s/src/main.rs:{line}:{from}: {name}"),
            file: "solutions/s/src/main.rs".into(),
            replacement: replacement.into(),
            span: Span {
                start: Position { line, column: from },
                end: Position { line, column: to },
            },
            genre: "BinaryOperator".into(),
        }
    }

    #[test]
    fn a_mutant_in_a_region_becomes_an_edit_of_that_region_and_others_are_left_out() {
        let text = "fn a() -> bool {\n    1 == 1\n}\nfn b() -> bool {\n    // TODO: compare\n    // @solution\n    2 == 2\n    // @exercise\n    // todo!()\n    // @end\n}\n";
        let mutants = [
            listed(2, 7, 9, "!=", "replace == with != in a"),
            listed(7, 7, 9, "!=", "replace == with != in b"),
            listed(7, 7, 9, "!=", "replace == with != in b"),
        ];
        let found = in_regions(&mutants, "src/main.rs", text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].key, "src/main.rs: replace == with != in b");
        assert_eq!(found[1].key, "src/main.rs: replace == with != in b #2");
        assert_eq!(found[0].edit.find, "    2 == 2\n");
        assert_eq!(found[0].edit.replace, "    2 != 2\n");
        // the edit is a mistake the mistakes' machinery accepts
        let course = Course::load().unwrap();
        let made = crate::mistakes::apply(&course.step[0], &found[0].edit, text).unwrap();
        assert!(made.contains("    2 != 2\n") && made.contains("    1 == 1\n"));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "« é »\nab\n";
        let at = |line, column| offset(text, Position { line, column }).unwrap();
        assert_eq!(&text[at(1, 3)..at(1, 4)], "é");
        assert_eq!(&text[at(2, 1)..at(2, 3)], "ab");
    }

    #[test]
    fn the_reviewed_list_reads_and_names_known_steps_and_diagnoses() {
        let course = Course::load().unwrap();
        for review in reviewed().unwrap() {
            let step = course
                .step
                .iter()
                .find(|s| s.id == review.step)
                .unwrap_or_else(|| panic!("{REVIEWED}: no step {}", review.step));
            for d in &review.diagnoses {
                assert!(
                    step.diagnosis(d).is_some(),
                    "{REVIEWED}: step {} has no diagnosis {d}",
                    step.id
                );
            }
            assert!(
                review.equivalent.is_some() == review.diagnoses.is_empty(),
                "{REVIEWED}: {} {}: either diagnoses or equivalent, one of them",
                review.step,
                review.mutant
            );
        }
    }
}
