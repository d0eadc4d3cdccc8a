//! The course's VM runs as tests, one per run of `cargo xtask check`'s
//! plan (`xtask::plan`, the same function the check calls), each judged by
//! the same `xtask::verdict::judge`: `<step>::solution`,
//! `<step>::exercise_fails` (an untouched exercise must fail with a
//! diagnosis), `<step>::previous_step_fails`; and tests of the VM harness
//! itself (`harness::…`).
//!
//! Nothing is skipped: if the VM cannot run here, every test fails with the
//! reason.

use libtest_mimic::{Arguments, Failed, Trial};
use nslab_protocol::End;
use std::sync::Arc;
use xtask::course::{Course, Variant};
use xtask::lab::{Lab, Run, VmEnd};
use xtask::plan::{self, Audience};
use xtask::setup;
use xtask::verdict::{self, Verdict};

/// The course, and the lab made for its plan.
struct Ready {
    course: Course,
    lab: Lab,
}

type Shared = Arc<Result<Ready, String>>;

fn main() {
    let args = Arguments::from_args();
    let course = Course::load().expect("course.toml");
    let steps = course.select(&[]).expect("the steps");
    let jobs = plan::plan(&steps, Audience::Course).expect("the plan");
    // Only build and boot when some test will run (`--list` builds nothing).
    let lab: Shared = Arc::new(if args.list {
        Err("listing only".to_string())
    } else {
        setup::lab(&course, &plan::builds(&jobs))
            .map(|lab| Ready { course, lab })
            .map_err(|e| format!("{e:#}"))
    });
    let mut trials = Vec::new();
    for job in jobs {
        let lab = Arc::clone(&lab);
        trials.push(Trial::test(job.test_name(), move || {
            let ready = lab
                .as_ref()
                .as_ref()
                .map_err(|e| Failed::from(e.as_str()))?;
            let outcome = xtask::commands::run_job(&ready.course, &ready.lab, &job);
            match outcome.ok() {
                true => Ok(()),
                false => Err(xtask::report::describe_plain(&outcome).into()),
            }
        }));
    }
    trials.extend(harness_trials(&lab));
    libtest_mimic::run(&args, trials).exit();
}

fn expect(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

/// Boot the first step's VM with `script` instead of its scenario.
fn boot(ready: &Ready, timeout: u64, script: &str) -> Result<Run, String> {
    let mut step = ready.course.step[0].clone();
    step.timeout = timeout;
    setup::run(&ready.course, &ready.lab, &step, Variant::Solution, script)
        .map_err(|e| format!("{e:#}"))
}

fn done(run: &Run) -> Result<(), String> {
    expect(run.end == VmEnd::Done, || {
        format!(
            "the VM did not finish: {}\n{}",
            run.end,
            run.failure_details()
        )
    })
}

type HarnessTest = fn(&Ready) -> Result<(), String>;

/// Tests of the VM harness itself, on the first step's VM.
fn harness_trials(lab: &Shared) -> Vec<Trial> {
    let tests: [(&str, HarnessTest); 9] = [
        (
            "book::every_command_a_chapter_suggests_is_in_its_vm",
            |ready| {
                let problems = xtask::commands::missing_vm_commands(
                    &ready.course,
                    &ready.lab,
                    &ready.course.step,
                )
                .map_err(|e| format!("{e:#}"))?;
                expect(problems.is_empty(), || problems.join("\n"))
            },
        ),
        ("harness::each_run_starts_from_the_saved_vm", |ready| {
            let run = boot(ready, 10, "echo hello\n")?;
            done(&run)?;
            let wanted = xtask::lab::snapshot::wanted().map_err(|e| e.to_string())?;
            expect(run.restored == wanted, || {
                format!(
                    "snapshots are {}, but the VM was {}",
                    if wanted { "on" } else { "off" },
                    if run.restored { "restored" } else { "booted" }
                )
            })
        }),
        ("harness::each_run_gets_its_own_entropy", |ready| {
            // Restored VMs start from one saved state, entropy pool
            // included: their random numbers must still differ (the
            // payload's seed makes sure of it, whatever timing the guest
            // also mixes in).
            let script = "od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'; echo\n";
            let first = boot(ready, 10, script)?;
            let second = boot(ready, 10, script)?;
            done(&first)?;
            done(&second)?;
            expect(
                first.stdout.trim().len() == 32 && first.stdout != second.stdout,
                || format!("two VMs read {:?} and {:?}", first.stdout, second.stdout),
            )
        }),
        ("harness::a_scenario_that_never_ends_is_killed", |ready| {
            let run = boot(ready, 2, "echo started\nsleep 1000\n")?;
            done(&run)?;
            expect(run.stdout == "started\n", || {
                format!("stdout: {:?}", run.stdout)
            })?;
            expect(run.report.end() == Some(End::Timeout(2)), || {
                format!("{:?}", run.report)
            })?;
            let transcript = xtask::normalize::transcript(&run);
            expect(transcript.ends_with("[scenario ended: timeout=2]"), || {
                transcript.clone()
            })
        }),
        ("harness::leaks_are_reported", |ready| {
            let script = "mkdir /tmp/m && mount -t tmpfs none /tmp/m\nsleep 1000 &\n\
                          while ! grep -q 1000 /proc/$!/cmdline; do usleep 1000; done\n";
            let run = boot(ready, 20, script)?;
            done(&run)?;
            let transcript = xtask::normalize::transcript(&run);
            expect(
                transcript
                    == "[scenario ended: exit=0]\n[leaked: process sleep]\n[leaked: mount none /tmp/m tmpfs]",
                || transcript.clone(),
            )
        }),
        ("harness::a_leaked_cgroup_is_reported", |ready| {
            // The cgroups that were there before the scenario (none below
            // the root in a fresh VM) are not leaks; a new one is, nested
            // ones each by its path from the cgroup2 root.
            let script = "mkdir -p /sys/fs/cgroup/left/inner /sys/fs/cgroup/gone\n\
                          rmdir /sys/fs/cgroup/gone\n";
            let run = boot(ready, 20, script)?;
            done(&run)?;
            let transcript = xtask::normalize::transcript(&run);
            expect(
                transcript
                    == "[scenario ended: exit=0]\n[leaked: cgroup /left]\n[leaked: cgroup /left/inner]",
                || transcript.clone(),
            )
        }),
        ("harness::identical_leaks_are_one_line", |ready| {
            // 40 sessions of their own, which a kill of the scenario's
            // session would not reach: each is found and counted.
            let script = "for i in $(seq 40); do setsid sleep 1000 & done\n\
                          while [ \"$(pidof sleep | wc -w)\" -lt 40 ]; do usleep 1000; done\n";
            let run = boot(ready, 20, script)?;
            done(&run)?;
            let transcript = xtask::normalize::transcript(&run);
            expect(
                transcript == "[scenario ended: exit=0]\n[leaked: 40 × process sleep]",
                || transcript.clone(),
            )
        }),
        ("harness::output_is_capped", |ready| {
            // 200 KB on stdout: the transcript keeps 64 KiB and says how
            // much it cut.
            let run = boot(ready, 20, "head -c 200000 /dev/zero | tr '\\0' x\n")?;
            done(&run)?;
            let cut = 200_000 - xtask::lab::vm::OUTPUT_CAP;
            expect(
                run.stdout.len() < xtask::lab::vm::OUTPUT_CAP + 100
                    && run.stdout.ends_with(&format!("[… {cut} bytes cut]\n")),
                || {
                    format!(
                        "{} bytes, ending {:?}",
                        run.stdout.len(),
                        &run.stdout[run.stdout.len().saturating_sub(40)..]
                    )
                },
            )
        }),
        (
            "harness::a_program_that_powers_the_vm_off_is_named",
            |ready| {
                let mut step = ready.course.step[0].clone();
                step.timeout = 20;
                let script = "echo before\npoweroff -f\nsleep 5\n";
                let run = setup::run(&ready.course, &ready.lab, &step, Variant::Solution, script);
                let job = plan::plan(std::slice::from_ref(&step), Audience::Exercises)
                    .map_err(|e| e.to_string())?
                    .remove(0);
                let outcome = verdict::judge(job, run, ready.lab.accel);
                // The program's doing, so the student's failure, with its cause.
                match &outcome.verdict {
                    Verdict::Fail { details, .. } if details.contains("powered off") => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            },
        ),
    ];
    tests
        .into_iter()
        .map(|(name, test)| {
            let lab = Arc::clone(lab);
            Trial::test(name, move || {
                let lab = lab
                    .as_ref()
                    .as_ref()
                    .map_err(|e| Failed::from(e.as_str()))?;
                test(lab).map_err(Failed::from)
            })
        })
        .collect()
}
