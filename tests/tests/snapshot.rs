//! A saved VM that cannot be restored: the run boots cold instead, passes,
//! and no later run of the process tries a restore again. (A test binary of
//! its own: giving up on restores lasts as long as the process.)

use xtask::course::{Course, Variant};
use xtask::plan::{self, Audience};
use xtask::setup;
use xtask::verdict;

#[test]
fn a_state_that_cannot_be_restored_falls_back_to_a_cold_boot() {
    let course = Course::load().expect("course.toml");
    let step = course.find("sem").expect("step sem").clone();
    let job = plan::plan(std::slice::from_ref(&step), Audience::Course)
        .expect("the plan")
        .into_iter()
        .find(|job| job.variant == Variant::Solution)
        .expect("a solution job");
    let mut lab = setup::lab(&course, &[(step.clone(), Variant::Solution)]).expect("the lab");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let garbage = dir.path().join("garbage.state");
    std::fs::write(&garbage, b"not the state of a VM\n").unwrap();
    lab.replace_snapshot(Some(garbage));
    let script = setup::scenario(&step).expect("the scenario");
    for attempt in ["first", "second"] {
        let run = setup::run(&course, &lab, &step, Variant::Solution, &script).expect("a run");
        assert!(!run.restored, "the {attempt} run claims it was restored");
        // The first tried the state, the second did not try again.
        assert_eq!(
            run.retried.is_some(),
            attempt == "first",
            "the {attempt} run: {:?}",
            run.retried
        );
        let outcome = verdict::judge(job.clone(), Ok(run), lab.accel);
        assert!(
            outcome.ok(),
            "the {attempt} run, booted cold, failed:\n{}",
            xtask::report::describe_plain(&outcome)
        );
    }
}
