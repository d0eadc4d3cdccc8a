//! What each `cargo xtask` command does. `main.rs` parses the command line
//! and calls one of these; they return the process's exit status:
//! 0 when everything passed, 1 when a program (the student's, or the
//! course's own) failed, and [`BROKEN`] when the check itself could not run.

pub mod instructor;
pub mod student;

use crate::course::Course;
use crate::lab::Lab;
use crate::plan::Job;
use crate::report;
use crate::schedule::{in_parallel, parallelism};
use crate::setup;
use crate::verdict::{self, Outcome, Verdict};
use std::process::ExitCode;

/// The exit status when the check could not run (the machine's fault, not
/// the program's): a missing tool, a VM that hung, a bad argument.
pub const BROKEN: u8 = 2;

/// Where a command's lines for a person go: stdout, or stderr when stdout
/// carries JSON.
#[derive(Clone, Copy)]
pub struct Say {
    pub json: bool,
}

impl Say {
    /// A line for a person, in colour where the stream is a terminal that
    /// takes it (anstream drops the styles for a pipe, a file or
    /// `NO_COLOR`).
    pub fn line(self, text: &str) {
        if self.json {
            anstream::eprintln!("{text}");
        } else {
            anstream::println!("{text}");
        }
    }
}

/// Run `jobs` in fresh VMs, several at a time, each judged and described
/// as soon as it ends; the outcomes in the jobs' order.
pub fn run_jobs(course: &Course, lab: &Lab, jobs: &[Job], say: Say) -> Vec<Outcome> {
    in_parallel(jobs, parallelism(), |job| {
        let outcome = run_job(course, lab, job);
        say.line(&report::describe(&outcome));
        outcome
    })
}

/// Run one job in a fresh VM (unless it did not compile), and judge it. A
/// solution whose transcript changed is proposed for review
/// ([`crate::snapshots::propose`]): the one place the check writes a
/// snapshot file.
pub fn run_job(course: &Course, lab: &Lab, job: &Job) -> Outcome {
    let outcome = match lab.build_error(&job.step.package(job.variant)) {
        Some(error) => verdict::unbuilt(job.clone(), lab.accel, error),
        None => {
            let run = setup::scenario(&job.step)
                .and_then(|script| setup::run(course, lab, &job.step, job.variant, &script));
            verdict::judge(job.clone(), run, lab.accel)
        }
    };
    if job.variant == crate::course::Variant::Solution
        && !outcome.matched
        && let Some(transcript) = &outcome.transcript
    {
        crate::snapshots::propose(&job.step, transcript);
    }
    outcome
}

/// The exit status for a set of outcomes.
pub fn status(outcomes: &[Outcome]) -> ExitCode {
    if outcomes
        .iter()
        .any(|o| matches!(o.verdict, Verdict::Broken(_)))
    {
        ExitCode::from(BROKEN)
    } else if outcomes.iter().all(Outcome::ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What the chapters suggest running that their step's VM lacks
/// ([`crate::solvable::vm_commands`]), for `steps` (demonstrations have no
/// chapter of their own): one line each.
pub fn missing_vm_commands(
    course: &Course,
    lab: &Lab,
    steps: &[crate::course::Step],
) -> anyhow::Result<Vec<String>> {
    let applets = crate::lab::initramfs::busybox_applets(&lab.tools.busybox)?;
    let mut problems = Vec::new();
    for step in steps.iter().filter(|s| !s.demo) {
        problems.extend(crate::solvable::vm_commands(course, step, &applets)?);
    }
    Ok(problems)
}
