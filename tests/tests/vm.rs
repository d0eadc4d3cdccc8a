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
use xtask::vm::End;

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
        let mut variants = vec![Variant::Solution, Variant::Exercise];
        if step.previous_fails {
            variants.push(Variant::Previous);
        }
        for variant in variants {
            let lab = Arc::clone(&lab);
            let step = step.clone();
            let name = match variant {
                Variant::Solution => format!("{}::solution", step.id),
                Variant::Exercise => format!("{}::exercise_fails", step.id),
                Variant::Previous => format!("{}::previous_step_fails", step.id),
            };
            trials.push(Trial::test(name, move || {
                let lab = lab
                    .as_ref()
                    .as_ref()
                    .map_err(|e| Failed::from(e.as_str()))?;
                let outcome = check::check(lab, &step, variant);
                match (variant, outcome.matched) {
                    // An untouched exercise must fail, and the course must
                    // tell the student why.
                    (Variant::Exercise, false)
                        if check::diagnose(&step, &outcome.transcript).is_empty() =>
                    {
                        Err(format!(
                            "the untouched exercise of {} fails without any diagnosis: add one to course.toml",
                            step.id
                        )
                        .into())
                    }
                    (Variant::Solution, true)
                    | (Variant::Exercise, false)
                    | (Variant::Previous, false)
                        if !outcome.transcript.is_empty() =>
                    {
                        Ok(())
                    }
                    (Variant::Previous, true) => Err(format!(
                        "the previous step's solution passes step {}: its scenario does not test what the step adds",
                        step.id
                    )
                    .into()),
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
    trials.push(harness_trial(
        &lab,
        "harness::a_scenario_that_never_ends_is_killed",
        |lab| {
            let mut step = lab.course.step[0].clone();
            step.timeout = 2;
            let run = lab.boot(&step, Variant::Solution, "echo started\nsleep 1000\n")?;
            expect(run.end == End::Done, || {
                format!("the VM did not finish: {:?}", run.end)
            })?;
            expect(run.stdout == "started\n", || {
                format!("stdout: {:?}", run.stdout)
            })?;
            expect(run.scenario_end() == Some("timeout=2"), || {
                format!("{:?}", run.report)
            })?;
            let transcript = check::transcript(&run);
            expect(transcript.ends_with("[scenario ended: timeout=2]"), || {
                transcript.clone()
            })
        },
    ));
    trials.push(harness_trial(&lab, "harness::leaks_are_reported", |lab| {
        let step = lab.course.step[0].clone();
        let script = "mkdir /tmp/m && mount -t tmpfs none /tmp/m\nsleep 1000 &\n\
                      while ! grep -q 1000 /proc/$!/cmdline; do usleep 1000; done\n";
        let run = lab.boot(&step, Variant::Solution, script)?;
        expect(run.end == End::Done, || {
            format!("the VM did not finish: {:?}\n{}", run.end, run.failure_details())
        })?;
        let transcript = check::transcript(&run);
        expect(
            transcript == "[scenario ended: exit=0]\n[leaked: process sleep]\n[leaked: mount none /tmp/m tmpfs]",
            || transcript.clone(),
        )
    }));
    libtest_mimic::run(&args, trials).exit();
}

fn expect(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

/// A test of the VM harness itself, on the first step's VM.
fn harness_trial(
    lab: &Arc<Result<Lab, String>>,
    name: &str,
    test: fn(&Lab) -> Result<(), String>,
) -> Trial {
    let lab = Arc::clone(lab);
    Trial::test(name, move || {
        let lab = lab
            .as_ref()
            .as_ref()
            .map_err(|e| Failed::from(e.as_str()))?;
        test(lab).map_err(Failed::from)
    })
}
