//! The instructors' and course authors' commands: check, exercises, book,
//! bench.

use super::{Say, run_jobs, status};
use crate::course::{Course, Step};
use crate::exercise::{self, State};
use crate::lab::{self, Lab};
use crate::plan::{self, Audience, CourseCheck};
use crate::verdict::{Outcome, Verdict};
use crate::{report, root};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

/// What `check` prints on stdout for a machine, besides its lines for a
/// person (which then go to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Only the lines for a person, on stdout.
    Text,
    /// nslab's JSON ([`report::json`]), which `cargo xtask class` reads.
    Json,
    /// Gradescope's `results.json` ([`crate::platforms::gradescope`]).
    Gradescope,
    /// GitHub Classroom's runner result, base64
    /// ([`crate::platforms::classroom`]).
    Classroom,
}

/// Output formats of `check`.
pub struct Formats<'a> {
    pub format: Format,
    pub junit: Option<&'a Path>,
}

/// `cargo xtask check [--exercises] [STEP…]`: the course's own checks
/// (each exercise derived from its solution, each step solvable from its
/// text, the book, each chapter's commands in its VM), then the plan's VM
/// runs; every one is an [`Outcome`], in the lines, the JSON and the JUnit
/// report alike, and the exit status is theirs.
pub fn check(ids: &[String], exercises: bool, repeat: usize, formats: Formats) -> Result<ExitCode> {
    let say = Say {
        json: formats.format != Format::Text,
    };
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
    let jobs = plan::repeated(&plan::plan(&steps, audience)?, repeat);
    let started = std::time::Instant::now();
    let outcomes = std::thread::scope(|scope| -> Result<Vec<Outcome>> {
        let mut outcomes = Vec::new();
        let mut checked = |outcome: Outcome| {
            say.line(&report::describe(&outcome));
            outcomes.push(outcome);
        };
        if !exercises {
            for step in steps.iter().filter(|s| !s.demo) {
                let files = exercise::derive_step(step)?;
                checked(drift(step, &files));
                checked(solvable(step, &files));
            }
        }
        // The book in a thread of its own: a first install of its tools
        // compiles for minutes, which the VMs need not wait for.
        let book = (!exercises).then(|| {
            scope.spawn(|| {
                let outcome = the_book(&course);
                say.line(&report::describe(&outcome));
                outcome
            })
        });
        let lab = crate::setup::lab(&course, &plan::builds(&jobs))?;
        if !exercises {
            for step in steps.iter().filter(|s| !s.demo) {
                checked(vm_commands(&course, &lab, step));
            }
        }
        eprintln!(
            "running {} VM(s) under {}, {} at a time",
            jobs.len(),
            lab.accel.name(),
            crate::schedule::parallelism()
        );
        let runs = run_jobs(&course, &lab, &jobs, say);
        if let Some(book) = book {
            outcomes.push(book.join().unwrap_or_else(|_| {
                Outcome::of_check(
                    CourseCheck::Book,
                    Verdict::Broken("the book's check panicked".into()),
                    0.0,
                )
            }));
        }
        outcomes.extend(runs);
        Ok(outcomes)
    })?;
    match formats.format {
        Format::Text => {}
        Format::Json => println!("{}", report::json(&outcomes)),
        Format::Gradescope => println!("{}", crate::platforms::gradescope(&outcomes)),
        Format::Classroom => println!("{}", crate::platforms::classroom(&outcomes)),
    }
    if let Some(mut file) = junit {
        use std::io::Write;
        file.write_all(report::junit(&outcomes).as_bytes())
            .context("writing the JUnit report")?;
    }
    summary(&outcomes, started.elapsed().as_secs_f64(), say);
    if repeat > 1 {
        reliability(&outcomes, say);
    }
    Ok(status(&outcomes))
}

/// A check of the course's files, timed: a pass, the course's failure
/// (`problems`, one a line), or `Err`: it could not run.
fn course_check(check: CourseCheck, work: impl FnOnce() -> Result<Vec<String>>) -> Outcome {
    let started = std::time::Instant::now();
    let verdict = match work() {
        Ok(problems) if problems.is_empty() => Verdict::Pass,
        Ok(problems) => Verdict::Fail {
            details: problems.join("\n"),
            diagnoses: Vec::new(),
        },
        Err(err) => Verdict::Broken(format!("{err:#}")),
    };
    Outcome::of_check(check, verdict, started.elapsed().as_secs_f64())
}

/// The step's exercise files that differ from their solution outside the
/// TODO regions.
fn drift(step: &Step, files: &[exercise::Derived]) -> Outcome {
    let check = CourseCheck::Drift {
        step: step.id.clone(),
    };
    course_check(check, || {
        Ok(files
            .iter()
            .filter(|f| f.state() == State::Drifted)
            .map(|file| {
                format!(
                    "{} differs from its solution outside the TODO regions (course authors: \
                     cargo xtask exercises; students: this is your change, and cargo xtask \
                     reset {} would discard it)",
                    relative(&file.path).display(),
                    step.id
                )
            })
            .collect())
    })
}

/// Whether the step can be solved from its text ([`crate::solvable`]).
fn solvable(step: &Step, files: &[exercise::Derived]) -> Outcome {
    let check = CourseCheck::Solvable {
        step: step.id.clone(),
    };
    course_check(check, || crate::solvable::problems(step, files))
}

/// The book built in every language with its checks. Its tools missing
/// (and not installable) is the machine's: the check could not run.
fn the_book(course: &Course) -> Outcome {
    course_check(CourseCheck::Book, || {
        crate::mdbook::ensure_tools_quietly()?;
        Ok(match crate::book::build(course) {
            Ok(()) => Vec::new(),
            Err(problems) => vec![format!("{problems:#}")],
        })
    })
}

/// The commands the step's chapter suggests, in its VM.
fn vm_commands(course: &Course, lab: &Lab, step: &Step) -> Outcome {
    let check = CourseCheck::VmCommands {
        step: step.id.clone(),
    };
    course_check(check, || {
        super::missing_vm_commands(course, lab, std::slice::from_ref(step))
    })
}

fn summary(outcomes: &[Outcome], wall: f64, say: Say) {
    let passed = outcomes.iter().filter(|o| o.ok()).count();
    let broken = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, crate::verdict::Verdict::Broken(_)))
        .count();
    let retried = outcomes.iter().filter(|o| o.retried.is_some()).count();
    let mistakes: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| {
            o.job()
                .is_some_and(|j| matches!(j.variant, crate::course::Variant::Mistake(_)))
        })
        .collect();
    let vms: Vec<&Outcome> = outcomes.iter().filter(|o| o.job().is_some()).collect();
    let vm_seconds: f64 = vms.iter().map(|o| o.seconds).sum();
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
    say.line(&format!(
        "\n{passed} passed, {} failed ({} VMs, {vm_seconds:.1} s of VM time, {wall:.1} s wall clock, {:.2} s per VM{})",
        outcomes.len() - passed,
        vms.len(),
        wall / vms.len().max(1) as f64,
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

fn relative(path: &Path) -> &Path {
    path.strip_prefix(root()).unwrap_or(path)
}

/// `cargo xtask exercises [--check] [--force]`.
pub fn exercises(check_only: bool, force: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    if check_only {
        let say = Say { json: false };
        let mut outcomes = Vec::new();
        for step in &course.step {
            let files = exercise::derive_step(step)?;
            outcomes.push(drift(step, &files));
            outcomes.push(solvable(step, &files));
        }
        for outcome in outcomes.iter().filter(|o| !o.ok()) {
            say.line(&report::describe(outcome));
        }
        return Ok(status(&outcomes));
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
