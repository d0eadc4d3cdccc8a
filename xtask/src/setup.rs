//! From the course to the lab: which packages a set of runs builds, and
//! each run's files in its VM, as the plain data that [`crate::lab`] takes
//! ([`lab::Setup`], [`lab::Payload`]) — so that the lab knows nothing of
//! steps, variants or mistakes.
//!
//! Wiring: imports [`crate::course`], [`crate::mistakes`] (their workspace)
//! and [`crate::lab`]; the commands and the tests call it where they used to
//! hand the lab the course.

use crate::course::{Course, Step, Variant};
use crate::lab::{self, Lab};
use crate::mistakes::Kind;
use crate::root;
use anyhow::{Context, Result, bail};

/// Shell functions every scenario can use (`run`, `note`, `start`...).
const SCENARIO_LIB: &str = "tests/scenarios/lib.sh";

/// What the lab builds for `builds` (each step in its variant): the
/// programs of each, plus the solutions of every earlier step, which the
/// scenarios use as tools; and what any VM of the course must carry.
pub fn setup(course: &Course, builds: &[(Step, Variant)]) -> lab::Setup {
    let mut setup = lab::Setup {
        modules: course.all().flat_map(|s| s.modules.clone()).collect(),
        rootfs: course.all().any(|step| step.rootfs),
        ..lab::Setup::default()
    };
    let (mut mistakes, mut mutants) = (Vec::new(), Vec::new());
    for (step, variant) in builds {
        for earlier in course.before(&step.id) {
            setup.packages.push(earlier.package(Variant::Solution));
        }
        if step.demo {
            continue;
        }
        let list = match variant {
            Variant::Mistake(_) => &mut mistakes,
            Variant::Mutant(_) => &mut mutants,
            Variant::Exercise => &mut setup.exercises,
            Variant::Solution | Variant::Previous => &mut setup.packages,
        };
        list.push(step.package(*variant));
    }
    // (a check builds mistakes, `cargo xtask mutants` mutants: never both)
    if !mistakes.is_empty() {
        setup.elsewhere = Some((Kind::Mistakes.manifest(), mistakes));
    } else if !mutants.is_empty() {
        setup.elsewhere = Some((Kind::Mutants.manifest(), mutants));
    }
    setup
}

/// The lab for `builds`: the mistakes' workspace written when some are
/// built, then [`Lab::prepare`].
pub fn lab(course: &Course, builds: &[(Step, Variant)]) -> Result<Lab> {
    let setup = setup(course, builds);
    for kind in [Kind::Mistakes, Kind::Mutants] {
        if setup
            .elsewhere
            .as_ref()
            .is_some_and(|(manifest, _)| *manifest == kind.manifest())
        {
            crate::mistakes::write_all(course, kind)?;
        }
    }
    Lab::prepare(&setup)
}

/// The scenario of a step, with the shared shell functions before it.
pub fn scenario(step: &Step) -> Result<String> {
    let read = |rel: &str| {
        let path = root().join(rel);
        std::fs::read_to_string(&path).with_context(|| path.display().to_string())
    };
    Ok(format!(
        "{}\n{}",
        read(SCENARIO_LIB)?,
        read(&step.scenario)?
    ))
}

/// One run of `step` in `variant` running `script`: its host tools, the
/// earlier steps' programs, its own (in the variant), its modules.
pub fn payload(
    course: &Course,
    step: &Step,
    variant: Variant,
    script: &str,
) -> Result<lab::Payload> {
    let mut bins = Vec::new();
    for earlier in course.before(&step.id) {
        for bin in &earlier.bins {
            bins.push((bin.clone(), bin.clone()));
        }
    }
    let previous = course.before(&step.id).last();
    for (i, bin) in step.bins.iter().enumerate() {
        let built = match (variant, previous) {
            // A program the previous step lacks (a provided tool, such
            // as the pivot step's escape) is this step's solution's.
            (Variant::Previous, Some(previous)) => match previous.bins.get(i) {
                Some(theirs) => theirs.clone(),
                None => step.built_bin(bin, Variant::Solution),
            },
            (Variant::Previous, None) => bail!("step {} is the first", step.id),
            _ => step.built_bin(bin, variant),
        };
        bins.push((bin.clone(), built));
    }
    Ok(lab::Payload {
        name: format!("{}-{}", step.id, variant.name()),
        bins,
        host_tools: step.host_tools.clone(),
        modules: step.modules.clone(),
        script: script.to_string(),
        timeout: step.timeout,
    })
}

/// Run one VM of `step` in `variant` with `script` ([`Lab::run`]).
pub fn run(
    course: &Course,
    lab: &Lab,
    step: &Step,
    variant: Variant,
    script: &str,
) -> Result<lab::Run> {
    lab.run(&payload(course, step, variant, script)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_is_built_where_it_belongs() {
        let course = Course::load().unwrap();
        let [first, second, ..] = course.step.as_slice() else {
            panic!("the course has fewer than two steps");
        };
        let builds = [
            (first.clone(), Variant::Exercise),
            (first.clone(), Variant::Mistake(0)),
            (second.clone(), Variant::Solution),
        ];
        let made = setup(&course, &builds);
        assert_eq!(made.exercises, [first.package(Variant::Exercise)]);
        // The second step's VM carries the first's solution as a tool.
        assert_eq!(made.packages, [first.id.clone(), second.id.clone()]);
        let (manifest, mistakes) = made.elsewhere.expect("the mistakes' workspace");
        assert_eq!(manifest, Kind::Mistakes.manifest());
        assert_eq!(mistakes, [first.package(Variant::Mistake(0))]);
        // What any run may need, whichever runs are made.
        let modules: Vec<String> = course.all().flat_map(|s| s.modules.clone()).collect();
        assert_eq!(made.modules, modules);
        assert_eq!(made.rootfs, course.all().any(|s| s.rootfs));
    }

    #[test]
    fn a_previous_run_has_the_previous_steps_programs_under_this_steps_names() {
        let course = Course::load().unwrap();
        let (at, step) = course
            .step
            .iter()
            .enumerate()
            .find(|(at, s)| *at > 0 && s.previous_fails)
            .expect("a step whose previous step's solution must fail");
        let previous = &course.step[at - 1];
        let previous_run = payload(&course, step, Variant::Previous, "true\n").unwrap();
        assert_eq!(previous_run.name, format!("{}-previous", step.id));
        let earlier: usize = course.step[..at].iter().map(|s| s.bins.len()).sum();
        assert_eq!(previous_run.bins.len(), earlier + step.bins.len());
        for (i, bin) in step.bins.iter().enumerate() {
            let theirs = previous.bins.get(i).cloned().unwrap_or_else(|| bin.clone());
            assert_eq!(previous_run.bins[earlier + i], (bin.clone(), theirs));
        }
        let mistake = payload(&course, step, Variant::Mistake(0), "").unwrap();
        assert_eq!(
            mistake.bins[earlier].1,
            step.built_bin(&step.bins[0], Variant::Mistake(0))
        );
        assert!(payload(&course, &course.step[0], Variant::Previous, "").is_err());
    }
}
