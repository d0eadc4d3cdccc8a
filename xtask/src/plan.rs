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
        }
    }

    /// The line's name of the run: the label, and a mistake's id.
    pub fn describe(&self) -> String {
        match self.variant {
            Variant::Mistake(n) => format!("mistake {}", self.step.mistake[n].id),
            _ => self.label().to_string(),
        }
    }

    /// The name of its test in `tests/tests/vm.rs`.
    pub fn test_name(&self) -> String {
        if self.step.demo {
            return format!("{}::demonstration", self.step.id);
        }
        let what = match (self.variant, self.expect) {
            (Variant::Solution, _) => "solution",
            (Variant::Exercise, Expect::Match) => "exercise",
            (Variant::Exercise, _) => "exercise_fails",
            (Variant::Previous, _) => "previous_step_fails",
            (Variant::Mistake(n), _) => {
                return format!("{}::mistake::{}", self.step.id, self.step.mistake[n].id);
            }
        };
        format!("{}::{what}", self.step.id)
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

/// What a plan builds: each job's step in its variant.
pub fn builds(jobs: &[Job]) -> Vec<(Step, Variant)> {
    jobs.iter().map(|j| (j.step.clone(), j.variant)).collect()
}
