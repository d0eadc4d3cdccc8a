//! How one run is judged: the one place that says what passes, what is the
//! student's failure (with the diff and the likely mistakes) and what is
//! the machine's (a VM that hung, a harness error), which is never blamed
//! on the student. Judging writes nothing and prints nothing: a solution's
//! changed transcript is proposed for review by the command layer
//! ([`crate::commands::run_job`]), with [`Outcome::transcript`].

use crate::course::{Diagnosis, Step, Variant};
use crate::i18n::msg;
use crate::lab::{Accel, Run, VmEnd};
use crate::plan::{CourseCheck, Expect, Job, Subject};
use crate::{normalize, snapshots};

/// The verdict on one run.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The run showed what its job expects.
    Pass,
    /// The program under test did not do what was expected: `details` is
    /// the diff or what went wrong, `diagnoses` the likely mistakes.
    Fail {
        details: String,
        diagnoses: Vec<String>,
    },
    /// The run could not judge the program: the build, the VM or the
    /// harness failed. Not the student's mistake.
    Broken(String),
}

/// A judged run, or a check of the course's files, for reports.
pub struct Outcome {
    pub subject: Subject,
    pub accel: Accel,
    pub seconds: f64,
    /// Seconds from QEMU's start to the scenario's (the VM's overhead),
    /// and whether the VM was restored from the saved one or booted.
    pub start: Option<(f64, bool)>,
    /// The scenario's own seconds, by the guest's clock.
    pub scenario_seconds: Option<f64>,
    /// Whether the transcript equals the reviewed one.
    pub matched: bool,
    pub verdict: Verdict,
    /// How the VM ended (`None`: it never ran).
    pub end: Option<VmEnd>,
    /// How a first boot ended when the VM was booted again.
    pub retried: Option<VmEnd>,
    /// The normalised transcript of a VM that ran to its end.
    pub transcript: Option<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    /// A failure before any VM: the program did not compile.
    pub fn unbuilt(&self) -> bool {
        self.job().is_some() && self.end.is_none() && matches!(self.verdict, Verdict::Fail { .. })
    }

    /// An outcome for a job that could not even boot.
    pub fn broken(job: Job, accel: Accel, why: String) -> Outcome {
        Outcome {
            subject: Subject::Run(Box::new(job)),
            accel,
            seconds: 0.0,
            start: None,
            scenario_seconds: None,
            matched: false,
            verdict: Verdict::Broken(why),
            end: None,
            retried: None,
            transcript: None,
        }
    }

    /// The result of a check of the course's files.
    pub fn of_check(check: CourseCheck, verdict: Verdict, seconds: f64) -> Outcome {
        Outcome {
            subject: Subject::Course(check),
            accel: Accel::Tcg,
            seconds,
            start: None,
            scenario_seconds: None,
            matched: false,
            verdict,
            end: None,
            retried: None,
            transcript: None,
        }
    }

    /// The VM run it judged, if it is one.
    pub fn job(&self) -> Option<&Job> {
        self.subject.job()
    }
}

/// An exercise that does not compile: failed, with the compiler's errors,
/// and never booted ([`Outcome::unbuilt`]).
pub fn unbuilt(job: Job, accel: Accel, errors: &str) -> Outcome {
    let mut outcome = Outcome::broken(job, accel, String::new());
    outcome.verdict = Verdict::Fail {
        details: errors.trim_end().to_string(),
        diagnoses: Vec::new(),
    };
    outcome
}

/// The manifest's diagnoses whose pattern the output matches.
pub fn diagnose<'a>(step: &'a Step, transcript: &str) -> Vec<&'a Diagnosis> {
    step.diagnosis
        .iter()
        .filter(|d| regex::Regex::new(&d.pattern).is_ok_and(|re| re.is_match(transcript)))
        .collect()
}

/// Judge a run of `job`.
pub fn judge(job: Job, run: anyhow::Result<Run>, accel: Accel) -> Outcome {
    let run = match run {
        Ok(run) => run,
        Err(err) => return Outcome::broken(job, accel, format!("{err:#}")),
    };
    let mut outcome = Outcome {
        accel: run.accel,
        seconds: run.seconds,
        start: run.overhead.map(|o| (o, run.restored)),
        scenario_seconds: run.report.guest_times().map(|(_, scenario)| scenario),
        matched: false,
        verdict: Verdict::Pass,
        end: Some(run.end.clone()),
        retried: run.retried.clone(),
        transcript: None,
        subject: Subject::Run(Box::new(job.clone())),
    };
    let step = &job.step;
    // Ends that are not the program's say so, with what a person needs to
    // look into them.
    if !run.end.may_be_the_programs() {
        outcome.verdict = Verdict::Broken(format!("{}\n{}", run.end, run.failure_details()));
        return outcome;
    }
    let init_errors: Vec<&str> = run.report.init_errors().collect();
    if !init_errors.is_empty() {
        outcome.verdict = Verdict::Broken(format!(
            "the VM's init failed: {}\n{}",
            init_errors.join("; "),
            run.failure_details()
        ));
        return outcome;
    }
    let transcript = normalize::transcript(&run);
    let expected = match snapshots::read(&step.id) {
        Ok(Some(expected)) => expected,
        Ok(None) if job.variant == Variant::Solution => String::new(),
        Ok(None) => {
            outcome.verdict = Verdict::Broken(format!(
                "step {} has no reviewed snapshot {}",
                step.id,
                snapshots::path(&step.id).display()
            ));
            return outcome;
        }
        Err(err) => {
            outcome.verdict = Verdict::Broken(format!("{err:#}"));
            return outcome;
        }
    };
    let diff = snapshots::diff(&expected, &transcript);
    outcome.matched = diff.is_none();
    outcome.transcript = Some(transcript.clone());
    let mut details = String::new();
    if run.end != VmEnd::Done {
        details.push_str(&format!("{}\n", run.end));
    }
    if let Some(nslab_protocol::End::Timeout(secs)) = run.report.end() {
        details.push_str(&crate::tr!(msg::TIMED_OUT, seconds = secs));
        details.push('\n');
    }
    let found = match outcome.matched {
        true => Vec::new(),
        false => diagnose(step, &transcript),
    };
    // In the student's language: what a person reads, on the check's lines
    // and in its JSON.
    let diagnoses: Vec<String> = found.iter().map(|d| d.message_tr()).collect();
    outcome.verdict = match (job.expect, outcome.matched) {
        (Expect::Mistake(n), false) => {
            let mistake = &step.mistake[n];
            match found.as_slice() {
                [only] if only.id == mistake.diagnosis => Verdict::Pass,
                _ => {
                    let ids: Vec<&str> = found.iter().map(|d| d.id.as_str()).collect();
                    Verdict::Fail {
                        details: format!(
                            "{details}the mistake '{}' must get the diagnosis '{}' and no other; it got: {}\n{}",
                            mistake.id,
                            mistake.diagnosis,
                            if ids.is_empty() {
                                "none".to_string()
                            } else {
                                ids.join(", ")
                            },
                            diff.unwrap_or_default()
                        ),
                        diagnoses,
                    }
                }
            }
        }
        (Expect::Match, true) if run.end == VmEnd::Done => Verdict::Pass,
        (Expect::Match, _) => Verdict::Fail {
            details: details + &diff.unwrap_or_default(),
            diagnoses,
        },
        (Expect::Differ, false) => Verdict::Pass,
        (Expect::DifferWithDiagnosis, false) if !diagnoses.is_empty() => Verdict::Pass,
        (Expect::DifferWithDiagnosis, false) => Verdict::Fail {
            details: format!(
                "{details}it fails, but no diagnosis of course.toml names why: add one\n{}",
                diff.unwrap_or_default()
            ),
            diagnoses,
        },
        (Expect::Differ | Expect::DifferWithDiagnosis | Expect::Mistake(_), true) => {
            Verdict::Fail {
                details:
                    "it matches the snapshot: the scenario does not test what this run leaves out"
                        .into(),
                diagnoses,
            }
        }
    };
    outcome
}
