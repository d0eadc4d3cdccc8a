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
    let mut mistakes = Vec::new();
    for (step, variant) in builds {
        for earlier in course.before(&step.id) {
            setup.packages.push(earlier.package(Variant::Solution));
        }
        if step.demo {
            continue;
        }
        let list = match variant {
            Variant::Mistake(_) => &mut mistakes,
            Variant::Exercise => &mut setup.exercises,
            Variant::Solution | Variant::Previous => &mut setup.packages,
        };
        list.push(step.package(*variant));
    }
    if !mistakes.is_empty() {
        setup.elsewhere = Some((crate::mistakes::manifest(), mistakes));
    }
    setup
}

/// The lab for `builds`: the mistakes' workspace written when some are
/// built, then [`Lab::prepare`].
pub fn lab(course: &Course, builds: &[(Step, Variant)]) -> Result<Lab> {
    let setup = setup(course, builds);
    if setup.elsewhere.is_some() {
        crate::mistakes::write_all(course)?;
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
