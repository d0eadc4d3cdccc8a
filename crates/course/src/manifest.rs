//! The course manifest, `course.toml`: the list of steps in order, and the
//! demonstrations (`[[demo]]`: scenarios with a reviewed transcript but no
//! exercise, such as the kernel part's).
//!
//! Wiring: read by every part of xtask (re-exported as `xtask::course`) and
//! by the book's preprocessor; its errors and translated texts go through
//! [`crate::i18n`], which knows nothing of it.

use crate::i18n::msg;
use crate::{root, tr};
use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Course {
    pub step: Vec<Step>,
    /// The demonstrations (`[[demo]]`), as steps without programs of their
    /// own.
    #[serde(default, rename = "demo", deserialize_with = "demos")]
    pub demos: Vec<Step>,
}

/// A demonstration: a scenario run with every step's solution as tools,
/// whose transcript is reviewed and shown in the book like a step's, with
/// nothing for the student to write.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Demo {
    id: String,
    title: String,
    scenario: String,
    #[serde(default)]
    modules: Vec<String>,
    #[serde(default)]
    rootfs: bool,
    #[serde(default)]
    host_tools: Vec<String>,
    #[serde(default = "default_timeout")]
    timeout: u64,
}

fn demos<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<Step>, D::Error> {
    let demos: Vec<Demo> = Vec::deserialize(d)?;
    Ok(demos
        .into_iter()
        .map(|demo| Step {
            id: demo.id,
            title: demo.title,
            teaches: String::new(),
            bins: Vec::new(),
            scenario: demo.scenario,
            modules: demo.modules,
            rootfs: demo.rootfs,
            host_tools: demo.host_tools,
            timeout: demo.timeout,
            minutes: 0,
            points: 0,
            hints: Vec::new(),
            diagnosis: Vec::new(),
            mistake: Vec::new(),
            previous_fails: false,
            unsaid: Default::default(),
            demo: true,
            mutants: Vec::new(),
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Short name: the solution package, `solutions/<id>`, `exercises/<id>`.
    pub id: String,
    pub title: String,
    /// One sentence: what the step teaches (README and book).
    pub teaches: String,
    /// The binaries the step builds (reference names, as in the article).
    pub bins: Vec<String>,
    /// The scenario script, relative to the workspace root.
    pub scenario: String,
    /// Kernel modules the scenario needs (loaded by the guest init).
    #[serde(default)]
    pub modules: Vec<String>,
    /// Whether the step uses a container root filesystem at /rootfs. Every
    /// VM carries it as soon as one step does: it is among the files common
    /// to all runs (xtask's `lab::base::common_files`).
    #[serde(default)]
    pub rootfs: bool,
    /// Host programs carried into the VM with their shared libraries.
    #[serde(default)]
    pub host_tools: Vec<String>,
    /// Seconds the scenario may run in the VM.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Suggested time in class, for the instructors' plan.
    pub minutes: u32,
    /// The step's weight when a class is graded (`check --exercises`).
    #[serde(default = "default_points")]
    pub points: u32,
    pub hints: Vec<String>,
    #[serde(default)]
    pub diagnosis: Vec<Diagnosis>,
    /// The known mistakes of the step: each must fail with its own
    /// diagnosis, and no other.
    #[serde(default)]
    pub mistake: Vec<Mistake>,
    /// Whether the previous step's solution, installed under this step's
    /// program names, must fail this step: the check that the scenario tests
    /// what the step adds (only where the programs are comparable). A
    /// program the previous step lacks stays this step's solution's.
    #[serde(default)]
    pub previous_fails: bool,
    /// Names a solution region uses that the exercise must not give away
    /// (the point of the step), each with the reason: the one exception to
    /// "solvable from its text" (xtask's `solvable`).
    #[serde(default)]
    pub unsaid: std::collections::BTreeMap<String, String>,
    /// A demonstration, not a step (set from `[[demo]]`).
    #[serde(skip)]
    pub demo: bool,
    /// Mutants of the solution's regions, made as mistakes with no
    /// diagnosis named (set by xtask's `mutants`, never read from the file).
    #[serde(skip)]
    pub mutants: Vec<Mistake>,
}

/// A likely mistake, recognised in the normalised transcript of a run that
/// failed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    /// What mistakes name it by.
    pub id: String,
    /// A regex over the transcript.
    pub pattern: String,
    /// What the student reads after "likely mistake:".
    pub message: String,
}

/// A known mistake: an edit of the solution that makes it, and the
/// diagnosis it must get.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mistake {
    pub id: String,
    /// The source file of the solution it edits, relative to the step's
    /// crate (`src/main.rs`).
    pub file: String,
    /// Text of the solution that occurs exactly once in `file`...
    pub find: String,
    /// ...and what it becomes.
    pub replace: String,
    /// The id of the diagnosis the run must get.
    pub diagnosis: String,
}

fn default_timeout() -> u64 {
    20
}

fn default_points() -> u32 {
    1
}

/// Which crate of a step is built: the reference solution or the student's
/// exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    Solution,
    Exercise,
    /// The previous step's solution in this step's place.
    Previous,
    /// The solution with the step's mistake number N made in it.
    Mistake(usize),
    /// The solution with the step's mutant number N (`Step::mutants`).
    Mutant(usize),
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Solution => "solution",
            Variant::Exercise => "exercise",
            Variant::Previous => "previous",
            Variant::Mistake(_) => "mistake",
            Variant::Mutant(_) => "mutant",
        }
    }
}

impl Step {
    /// The cargo package of this step's variant (for `Previous`, the
    /// previous step's solution, which every step's VM carries anyway).
    pub fn package(&self, variant: Variant) -> String {
        match variant {
            Variant::Solution | Variant::Previous => self.id.clone(),
            Variant::Exercise => format!("{}-exercise", self.id),
            Variant::Mistake(n) => format!("{}-mistake-{n}", self.id),
            Variant::Mutant(n) => format!("{}-mutant-{n}", self.id),
        }
    }

    /// The name cargo gives the binary `bin` of this variant.
    pub fn built_bin(&self, bin: &str, variant: Variant) -> String {
        match variant {
            Variant::Solution | Variant::Previous => bin.to_string(),
            Variant::Exercise => format!("{bin}-exercise"),
            Variant::Mistake(n) => format!("{bin}-mistake-{n}"),
            Variant::Mutant(n) => format!("{bin}-mutant-{n}"),
        }
    }

    /// The diagnosis named `id`.
    pub fn diagnosis(&self, id: &str) -> Option<&Diagnosis> {
        self.diagnosis.iter().find(|d| d.id == id)
    }

    /// The title, in the student's language ([`crate::i18n`]).
    pub fn title_tr(&self) -> String {
        tr!(&self.title)
    }

    /// What the step teaches, in the student's language.
    pub fn teaches_tr(&self) -> String {
        tr!(&self.teaches)
    }

    /// The hints, in the student's language.
    pub fn hints_tr(&self) -> Vec<String> {
        self.hints.iter().map(|hint| tr!(hint)).collect()
    }
}

impl Diagnosis {
    /// The message, in the student's language.
    pub fn message_tr(&self) -> String {
        tr!(&self.message)
    }
}

/// The error for an id that names none of `steps`: the ids it could have
/// meant, and the closest one when it is close (a typo).
fn unknown<'a>(id: &str, steps: impl Iterator<Item = &'a Step>) -> anyhow::Error {
    let ids: Vec<&str> = steps.map(|s| s.id.as_str()).collect();
    let near = ids
        .iter()
        .map(|known| (strsim::damerau_levenshtein(id, known), *known))
        .filter(|(distance, known)| *distance <= 2.max(known.len() / 3))
        .min();
    match near {
        Some((_, near)) => anyhow::anyhow!(tr!(
            msg::NO_STEP_NEAR,
            step = id,
            near = near,
            steps = ids.join(", ")
        )),
        None => anyhow::anyhow!(tr!(msg::NO_STEP, step = id, steps = ids.join(", "))),
    }
}

/// The first id that occurs twice.
fn twice<'a>(ids: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().find(|id| !seen.insert(*id))
}

impl Course {
    pub fn load() -> Result<Course> {
        let path = root().join("course.toml");
        let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
        let course: Course = toml::from_str(&text).context("course.toml")?;
        if let Some(id) = twice(course.all().map(|s| s.id.as_str())) {
            bail!("course.toml: step '{id}' is listed twice");
        }
        for step in &course.step {
            let what =
                |kind: &str, id: &str| format!("course.toml: step {}: {kind} '{id}'", step.id);
            if let Some(id) = twice(step.diagnosis.iter().map(|d| d.id.as_str())) {
                bail!("{} is listed twice", what("diagnosis", id));
            }
            if let Some(id) = twice(step.mistake.iter().map(|m| m.id.as_str())) {
                bail!("{} is listed twice", what("mistake", id));
            }
            for d in &step.diagnosis {
                regex::Regex::new(&d.pattern).with_context(|| what("diagnosis", &d.id))?;
            }
            for m in &step.mistake {
                if step.diagnosis(&m.diagnosis).is_none() {
                    bail!(
                        "{} names no diagnosis of the step: '{}'",
                        what("mistake", &m.id),
                        m.diagnosis
                    );
                }
            }
        }
        Ok(course)
    }

    /// A step, or a demonstration, by id.
    pub fn find(&self, id: &str) -> Result<&Step> {
        self.all()
            .find(|s| s.id == id)
            .ok_or_else(|| unknown(id, self.all()))
    }

    /// A step with an exercise, by id (a demonstration has none).
    pub fn exercise_step(&self, id: &str) -> Result<&Step> {
        let Some(step) = self.all().find(|s| s.id == id) else {
            return Err(unknown(id, self.step.iter()));
        };
        if step.demo {
            bail!(tr!(msg::IS_DEMO, step = id));
        }
        Ok(step)
    }

    /// The steps, then the demonstrations.
    pub fn all(&self) -> impl Iterator<Item = &Step> {
        self.step.iter().chain(&self.demos)
    }

    /// The steps and demonstrations named, in course order; all of them
    /// when none is named.
    pub fn select(&self, ids: &[String]) -> Result<Vec<Step>> {
        for id in ids {
            self.find(id)?;
        }
        Ok(self
            .all()
            .filter(|s| ids.is_empty() || ids.contains(&s.id))
            .cloned()
            .collect())
    }

    /// The steps before `id`: their solutions are tools in `id`'s VM. A
    /// demonstration has every step before it.
    pub fn before(&self, id: &str) -> &[Step] {
        let at = match self.step.iter().position(|s| s.id == id) {
            Some(at) => at,
            None if self.demos.iter().any(|d| d.id == id) => self.step.len(),
            None => 0,
        };
        &self.step[..at]
    }
}
