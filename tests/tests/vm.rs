//! One test per step and variant, each in a fresh VM:
//! - `<step>::solution` — the solution's transcript matches the snapshot;
//! - `<step>::exercise_fails` — the untouched exercise does not.
//!
//! Nothing is skipped: if the VM cannot run here, every test fails with the
//! reason.

use libtest_mimic::{Arguments, Failed, Trial};
use std::sync::Arc;
use xtask::check::{self, Lab};
use xtask::course::{Course, Variant};

fn main() {
    let args = Arguments::from_args();
    let course = Course::load().expect("course.toml");
    let steps = course.step.clone();
    // Only build and boot when some test will run (`--list` builds nothing).
    let lab = if args.list {
        Err("listing only".to_string())
    } else {
        Lab::prepare(course, &steps, &[Variant::Solution, Variant::Exercise])
    };
    let lab = Arc::new(lab);
    let mut trials = Vec::new();
    for step in steps {
        for variant in [Variant::Solution, Variant::Exercise] {
            let lab = Arc::clone(&lab);
            let step = step.clone();
            let name = match variant {
                Variant::Solution => format!("{}::solution", step.id),
                Variant::Exercise => format!("{}::exercise_fails", step.id),
            };
            trials.push(Trial::test(name, move || {
                let lab = lab.as_ref().as_ref().map_err(|e| Failed::from(e.as_str()))?;
                let outcome = check::check(lab, &step, variant);
                match (variant, outcome.matched) {
                    (Variant::Solution, true) | (Variant::Exercise, false)
                        if !outcome.transcript.is_empty() =>
                    {
                        Ok(())
                    }
                    (Variant::Exercise, true) => Err(format!(
                        "the untouched exercise of {} passes its step: it must leave work to do",
                        step.id
                    )
                    .into()),
                    _ => Err(outcome.details.into()),
                }
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
