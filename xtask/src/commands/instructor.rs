//! The instructors' and course authors' commands: check, exercises, book,
//! bench.

use super::{Say, run_jobs, status};
use crate::course::{Course, Step};
use crate::exercise::{self, State};
use crate::lab::{self, Lab};
use crate::plan::{self, Audience};
use crate::verdict::Outcome;
use crate::{report, root};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

/// Output formats of `check`.
pub struct Formats<'a> {
    pub json: bool,
    pub junit: Option<&'a Path>,
}

/// `cargo xtask check [--exercises] [STEP…]`.
pub fn check(ids: &[String], exercises: bool, repeat: usize, formats: Formats) -> Result<ExitCode> {
    let say = Say { json: formats.json };
    // Everything that can be refused is refused before any VM boots.
    lab::check_environment()?;
    let junit = match formats.junit {
        Some(path) => Some(
            std::fs::File::create(path)
                .with_context(|| format!("--junit {}: cannot write it", path.display()))?,
        ),
        None => None,
    };
    let course = Course::load()?;
    let steps = course.select(ids)?;
    let audience = if exercises {
        Audience::Exercises
    } else {
        Audience::Course
    };
    let once = plan::plan(&steps, audience)?;
    let jobs: Vec<_> = std::iter::repeat_n(once, repeat).flatten().collect();
    let mut before_vms = 0;
    if !exercises {
        before_vms += drifted_exercises(&steps, say)?;
        before_vms += unsolvable_steps(&steps, say)?;
        match crate::book::build(&course) {
            Ok(()) => say.line("ok    book       (built into book/build)"),
            Err(err) => {
                say.line(&format!("FAIL  book       {err:#}"));
                before_vms += 1;
            }
        }
    }
    let lab = Lab::prepare(course, &plan::builds(&jobs))?;
    if !exercises {
        for problem in super::missing_vm_commands(&lab, &steps)? {
            before_vms += 1;
            say.line(&format!("FAIL  book       {problem}"));
        }
    }
    eprintln!(
        "running {} VM(s) under {}, {} at a time",
        jobs.len(),
        lab.accel.name(),
        lab::parallelism()
    );
    let started = std::time::Instant::now();
    let outcomes = run_jobs(&lab, &jobs, say);
    if formats.json {
        println!("{}", report::json(&outcomes));
    }
    if let Some(mut file) = junit {
        use std::io::Write;
        file.write_all(report::junit(&outcomes).as_bytes())
            .context("writing the JUnit report")?;
    }
    summary(&outcomes, before_vms, started.elapsed().as_secs_f64(), say);
    if repeat > 1 {
        reliability(&outcomes, say);
    }
    Ok(match (before_vms, status(&outcomes)) {
        (0, code) => code,
        _ => ExitCode::FAILURE,
    })
}

fn summary(outcomes: &[Outcome], before_vms: usize, wall: f64, say: Say) {
    let passed = outcomes.iter().filter(|o| o.ok()).count();
    let broken = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, crate::verdict::Verdict::Broken(_)))
        .count();
    let retried = outcomes.iter().filter(|o| o.retried.is_some()).count();
    let mistakes: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| matches!(o.job.variant, crate::course::Variant::Mistake(_)))
        .collect();
    let vm_seconds: f64 = outcomes.iter().map(|o| o.seconds).sum();
    let mut extra = Vec::new();
    if !mistakes.is_empty() {
        extra.push(format!(
            "{} of {} known mistakes caught, each with its own diagnosis",
            mistakes.iter().filter(|o| o.ok()).count(),
            mistakes.len()
        ));
    }
    if broken > 0 {
        extra.push(format!("{broken} could not run"));
    }
    if retried > 0 {
        extra.push(format!("{retried} booted twice"));
    }
    if before_vms > 0 {
        extra.push(format!(
            "{before_vms} failure(s) before the VMs: book, exercises or their text"
        ));
    }
    say.line(&format!(
        "\n{passed} passed, {} failed ({} VMs, {vm_seconds:.1} s of VM time, {wall:.1} s wall clock, {:.2} s per VM{})",
        outcomes.len() - passed + before_vms,
        outcomes.len(),
        wall / outcomes.len().max(1) as f64,
        extra.iter().map(|e| format!("; {e}")).collect::<String>()
    ));
}

/// How the VMs ended, and how often one was booted again: the figures of
/// `check --repeat`.
fn reliability(outcomes: &[Outcome], say: Say) {
    let mut ends: Vec<(String, usize)> = Vec::new();
    let mut count = |key: String| match ends.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += 1,
        None => ends.push((key, 1)),
    };
    for o in outcomes {
        let end = match (&o.end, &o.verdict) {
            (_, crate::verdict::Verdict::Pass) => "passed".to_string(),
            (None, _) => "never ran".to_string(),
            (Some(end), _) => format!("failed: {end}"),
        };
        count(end);
        if let Some(first) = &o.retried {
            count(format!("booted twice, the first VM: {first}"));
        }
    }
    say.line(&format!("reliability over {} VM runs:", outcomes.len()));
    for (what, n) in ends {
        say.line(&format!("  {n:>5}  {what}"));
    }
}

/// Exercise files that differ from their solutions outside the TODO
/// regions: one line each.
fn drifted_exercises(steps: &[Step], say: Say) -> Result<usize> {
    let mut drifted = 0;
    for step in steps.iter().filter(|s| !s.demo) {
        for file in exercise::derive_step(step)? {
            if file.state() == State::Drifted {
                drifted += 1;
                say.line(&format!(
                    "FAIL  {:<10} exercise  {} differs from its solution outside the TODO regions \
                     (course authors: cargo xtask exercises; students: this is your change, \
                     and cargo xtask reset {} would discard it)",
                    step.id,
                    relative(&file.path).display(),
                    step.id
                ));
            }
        }
    }
    Ok(drifted)
}

/// Steps whose solution uses a name that neither the exercise nor its
/// text names ([`crate::solvable`]): one line each.
fn unsolvable_steps(steps: &[Step], say: Say) -> Result<usize> {
    let mut unsolvable = 0;
    for step in steps.iter().filter(|s| !s.demo) {
        for problem in crate::solvable::problems(step)? {
            unsolvable += 1;
            say.line(&format!("FAIL  {:<10} text      {problem}", step.id));
        }
    }
    Ok(unsolvable)
}

fn relative(path: &Path) -> &Path {
    path.strip_prefix(root()).unwrap_or(path)
}

/// `cargo xtask exercises [--check] [--force]`.
pub fn exercises(check_only: bool, force: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    if check_only {
        let say = Say { json: false };
        let failed = drifted_exercises(&course.step, say)? + unsolvable_steps(&course.step, say)?;
        return Ok(if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    for step in &course.step {
        for path in exercise::write_step(step, force)? {
            println!("wrote {}", relative(&path).display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask book [--update-po]`.
pub fn book(update_po: bool) -> Result<ExitCode> {
    if update_po {
        for line in crate::translations::book::update_catalogues()? {
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    crate::book::build(&Course::load()?)?;
    println!("built book/build/index.html");
    for lang in crate::translations::book::languages()? {
        println!("built book/build/{lang}/index.html");
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask bench`.
pub fn bench(runs: Option<usize>, vm: bool, check: bool) -> Result<ExitCode> {
    if vm {
        crate::lab::check_environment()?;
        crate::bench::vm(runs.unwrap_or(10).max(1), check)?;
    } else {
        crate::bench::run(runs.unwrap_or(200).max(10))?;
    }
    Ok(ExitCode::SUCCESS)
}
