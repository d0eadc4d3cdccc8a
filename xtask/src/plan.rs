//! What a check runs, and what each run must show: the one plan that
//! `cargo xtask check`, `cargo xtask verify` and `tests/tests/vm.rs` all use,
//! so that the tests and the check can never disagree.

use crate::course::{Step, Variant};
use crate::exercise;
use anyhow::Result;

/// What a run must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The step's reviewed transcript, exactly.
    Match,
    /// Something else, with at least one of the step's diagnoses: an
    /// untouched exercise must leave work to do, and tell the student what.
    DifferWithDiagnosis,
    /// Something else: the previous step's solution must not pass a step
    /// that adds to it.
    Differ,
    /// Something else, with the diagnosis the mistake names, and no other.
    Mistake(usize),
}

/// One VM run of a check.
#[derive(Debug, Clone)]
pub struct Job {
    pub step: Step,
    pub variant: Variant,
    pub expect: Expect,
    /// The exercise is the student's work, not what its solution gives.
    pub students: bool,
    /// Which time this run is made, from 1 (`check --repeat N` makes each
    /// run N times).
    pub round: usize,
}

impl Job {
    /// How a person calls this run, in one line of the check.
    fn label(&self) -> &'static str {
        if self.step.demo {
            return "demonstration";
        }
        match (self.variant, self.expect, self.students) {
            (Variant::Solution, _, _) => "solution",
            (Variant::Exercise, _, true) => "your exercise",
            (Variant::Exercise, Expect::Match, false) => "exercise",
            (Variant::Exercise, _, false) => "exercise (untouched: must fail)",
            (Variant::Previous, _, _) => "previous step's solution (must fail)",
            (Variant::Mistake(_), _, _) => "mistake",
            (Variant::Mutant(_), _, _) => "mutant",
        }
    }

    /// The line's name of the run: the label, and a mistake's id.
    pub fn describe(&self) -> String {
        match self.variant {
            Variant::Mistake(n) => format!("mistake {}", self.step.mistake[n].id),
            Variant::Mutant(n) => format!("mutant {}", self.step.mutants[n].id),
            _ => self.label().to_string(),
        }
    }

    /// The run's kind, unique within its step: `solution`,
    /// `exercise_fails`, `mistake::ID`, … and `#N` for a repeat.
    fn kind(&self) -> String {
        let kind = match (self.step.demo, self.variant, self.expect) {
            (true, _, _) => "demonstration".to_string(),
            (_, Variant::Solution, _) => "solution".to_string(),
            (_, Variant::Exercise, Expect::Match) => "exercise".to_string(),
            (_, Variant::Exercise, _) => "exercise_fails".to_string(),
            (_, Variant::Previous, _) => "previous_step_fails".to_string(),
            (_, Variant::Mistake(n), _) => format!("mistake::{}", self.step.mistake[n].id),
            (_, Variant::Mutant(n), _) => format!("mutant::{n}"),
        };
        match self.round {
            0 | 1 => kind,
            n => format!("{kind}#{n}"),
        }
    }

    /// The name of its test in `tests/tests/vm.rs`, and of its test case in
    /// a JUnit report: `sem::mistake::creat-without-excl`, unique in a plan.
    pub fn test_name(&self) -> String {
        format!("{}::{}", self.step.id, self.kind())
    }
}

/// A check of the course's own files, made before any VM: each is a result
/// of the check like a run, in its lines, its JSON and its JUnit report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CourseCheck {
    /// The book builds, in every language, with its links and
    /// translations checked.
    Book,
    /// A step's exercise is what its solution gives outside the TODO
    /// regions.
    Drift { step: String },
    /// A step can be solved from its text ([`crate::solvable::problems`]).
    Solvable { step: String },
    /// What a step's chapter suggests running is in its VM
    /// ([`crate::solvable::vm_commands`]).
    VmCommands { step: String },
}

impl CourseCheck {
    /// The step it is about (`book` for the book).
    pub fn step(&self) -> &str {
        match self {
            CourseCheck::Book => "book",
            CourseCheck::Drift { step }
            | CourseCheck::Solvable { step }
            | CourseCheck::VmCommands { step } => step,
        }
    }

    /// How a person calls it, in one line of the check.
    pub fn describe(&self) -> &'static str {
        match self {
            CourseCheck::Book => "book",
            CourseCheck::Drift { .. } => "exercise derived from its solution",
            CourseCheck::Solvable { .. } => "solvable from its text",
            CourseCheck::VmCommands { .. } => "chapter's commands in its VM",
        }
    }

    /// Its name in a JUnit report and the JSON: `sem::solvable`.
    pub fn test_name(&self) -> String {
        let kind = match self {
            CourseCheck::Book => return "book".to_string(),
            CourseCheck::Drift { .. } => "exercise_drift",
            CourseCheck::Solvable { .. } => "solvable",
            CourseCheck::VmCommands { .. } => "vm_commands",
        };
        format!("{}::{kind}", self.step())
    }
}

/// What a result of a check is about: a VM run of the plan, or a check of
/// the course's files.
#[derive(Debug, Clone)]
pub enum Subject {
    Run(Box<Job>),
    Course(CourseCheck),
}

impl Subject {
    /// The step (or `book`) of its line.
    pub fn step(&self) -> &str {
        match self {
            Subject::Run(job) => &job.step.id,
            Subject::Course(check) => check.step(),
        }
    }

    /// What its line calls it (English: the report translates it).
    pub fn describe(&self) -> String {
        match self {
            Subject::Run(job) => job.describe(),
            Subject::Course(check) => check.describe().to_string(),
        }
    }

    /// Its unique name: the test's, the JUnit test case's.
    pub fn test_name(&self) -> String {
        match self {
            Subject::Run(job) => job.test_name(),
            Subject::Course(check) => check.test_name(),
        }
    }

    /// The VM run, if it is one.
    pub fn job(&self) -> Option<&Job> {
        match self {
            Subject::Run(job) => Some(job.as_ref()),
            Subject::Course(_) => None,
        }
    }

    /// What a pass is worth when a class is graded: a step's points for a
    /// run of its exercise, nothing for the course's own checks.
    pub fn points(&self) -> u32 {
        self.job().map_or(0, |job| job.step.points)
    }
}

/// Who the check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The course itself (`cargo xtask check`, `cargo test`): every solution
    /// must match; every untouched exercise and, where the manifest asks,
    /// the previous step's solution must not. An exercise a student has
    /// changed is theirs: it is checked like `verify` does, as "your
    /// exercise".
    Course,
    /// A student or a grader (`verify`, `check --exercises`): each exercise
    /// must match.
    Exercises,
}

/// Whether a step's exercise is the student's work: it differs from what
/// its solution gives (only the TODO regions may, or `check` says it drifted).
pub fn exercise_changed(step: &Step) -> Result<bool> {
    Ok(exercise::derive_step(step)?.iter().any(|f| f.drifted()))
}

/// Every run of a check of `steps`, in order: solutions first, then
/// exercises, then the previous steps' solutions.
pub fn plan(steps: &[Step], audience: Audience) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    let job = |step: &Step, variant, expect, students| Job {
        step: step.clone(),
        variant,
        expect,
        students,
        round: 1,
    };
    let (demos, steps): (Vec<&Step>, Vec<&Step>) = steps.iter().partition(|s| s.demo);
    match audience {
        Audience::Exercises => {
            for step in steps {
                jobs.push(job(step, Variant::Exercise, Expect::Match, true));
            }
        }
        Audience::Course => {
            for step in &steps {
                jobs.push(job(step, Variant::Solution, Expect::Match, false));
            }
            for step in &steps {
                jobs.push(match exercise_changed(step)? {
                    true => job(step, Variant::Exercise, Expect::Match, true),
                    false => job(step, Variant::Exercise, Expect::DifferWithDiagnosis, false),
                });
            }
            for step in steps.iter().filter(|s| s.previous_fails) {
                jobs.push(job(step, Variant::Previous, Expect::Differ, false));
            }
            for step in &steps {
                for n in 0..step.mistake.len() {
                    jobs.push(job(step, Variant::Mistake(n), Expect::Mistake(n), false));
                }
            }
            for demo in demos {
                jobs.push(job(demo, Variant::Solution, Expect::Match, false));
            }
        }
    }
    Ok(jobs)
}

/// The plan `jobs` made `rounds` times over, each run's round in its name.
pub fn repeated(jobs: &[Job], rounds: usize) -> Vec<Job> {
    (1..=rounds.max(1))
        .flat_map(|round| jobs.iter().cloned().map(move |job| Job { round, ..job }))
        .collect()
}

/// What a plan builds: each job's step in its variant.
pub fn builds(jobs: &[Job]) -> Vec<(Step, Variant)> {
    jobs.iter().map(|j| (j.step.clone(), j.variant)).collect()
}
