//! Results of a check, for people (one line per run, details on failure)
//! and for machines: JSON and JUnit XML (for CI and for grading a class).

use crate::verdict::{Outcome, Verdict};

/// One line per VM run, and the details of a failure.
pub fn describe(outcome: &Outcome) -> String {
    let mut times = Vec::new();
    if let Some((start, restored)) = outcome.start {
        let how = if restored { "restored" } else { "booted" };
        times.push(format!("{how} in {start:.2} s"));
    }
    if let Some(scenario) = outcome.scenario_seconds {
        times.push(format!("scenario {scenario:.2} s"));
    }
    let guest = match times.is_empty() {
        true => String::new(),
        false => format!(" ({})", times.join(", ")),
    };
    let status = match &outcome.verdict {
        Verdict::Pass => "ok",
        Verdict::Fail { .. } => "FAIL",
        Verdict::Broken(_) => "ERROR",
    };
    let mut text = format!(
        "{status:<5} {:<10} {:<36} {}  {:>5.2} s{guest}",
        outcome.job.step.id,
        outcome.job.describe(),
        outcome.accel.name(),
        outcome.seconds
    );
    if let Some(first) = &outcome.retried {
        text.push_str(&format!(
            "\n      (booted twice: the first VM ended with: {first})"
        ));
    }
    let mut push = |line: &str| text.push_str(&format!("\n      {line}"));
    match &outcome.verdict {
        Verdict::Pass => {}
        Verdict::Fail { details, diagnoses } => {
            for line in details.lines() {
                push(line);
            }
            for diagnosis in diagnoses {
                push(&format!("likely mistake: {diagnosis}"));
            }
        }
        Verdict::Broken(why) => {
            push("not a mistake of the program: the check itself could not run");
            for line in why.lines() {
                push(line);
            }
        }
    }
    text
}

fn verdict_name(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail { .. } => "fail",
        Verdict::Broken(_) => "error",
    }
}

fn details(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Pass => String::new(),
        Verdict::Fail { details, .. } => details.clone(),
        Verdict::Broken(why) => why.clone(),
    }
}

/// What git knows of the checkout: its commit and its author, for grading.
fn checkout() -> (Option<String>, Option<String>) {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(crate::root())
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    (
        git(&["rev-parse", "HEAD"]),
        git(&["log", "-1", "--format=%an <%ae>"]),
    )
}

pub fn json(outcomes: &[Outcome]) -> String {
    let runs: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let diagnoses = match &o.verdict {
                Verdict::Fail { diagnoses, .. } => diagnoses.clone(),
                _ => Vec::new(),
            };
            serde_json::json!({
                "step": o.job.step.id,
                "variant": o.job.variant.name(),
                "what": o.job.describe(),
                "passed": o.ok(),
                "verdict": verdict_name(&o.verdict),
                "matched_snapshot": o.matched,
                "accelerator": o.accel.name(),
                "seconds": (o.seconds * 100.0).round() / 100.0,
                "details": details(&o.verdict),
                "diagnoses": diagnoses,
                "points": if o.ok() { o.job.step.points } else { 0 },
                "points_possible": o.job.step.points,
            })
        })
        .collect();
    let passed = outcomes.iter().filter(|o| o.ok()).count();
    let points: u32 = outcomes
        .iter()
        .filter(|o| o.ok())
        .map(|o| o.job.step.points)
        .sum();
    let possible: u32 = outcomes.iter().map(|o| o.job.step.points).sum();
    let (commit, author) = checkout();
    serde_json::to_string_pretty(&serde_json::json!({
        "passed": passed,
        "failed": outcomes.len() - passed,
        "points": points,
        "points_possible": possible,
        "commit": commit,
        "author": author,
        "runs": runs,
    }))
    .unwrap_or_default()
}

pub fn junit(outcomes: &[Outcome]) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let failures = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Fail { .. }))
        .count();
    let errors = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Broken(_)))
        .count();
    let total: f64 = outcomes.iter().map(|o| o.seconds).sum();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"nslab\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{total:.2}\">\n",
        outcomes.len()
    );
    for o in outcomes {
        xml.push_str(&format!(
            "  <testcase classname=\"nslab.{}\" name=\"{}\" time=\"{:.2}\"",
            o.job.variant.name(),
            o.job.step.id,
            o.seconds
        ));
        let (tag, message) = match &o.verdict {
            Verdict::Pass => {
                xml.push_str("/>\n");
                continue;
            }
            Verdict::Fail { .. } => ("failure", "the output is not what the step expects"),
            Verdict::Broken(_) => ("error", "the check could not run"),
        };
        let mut body = details(&o.verdict);
        if let Verdict::Fail { diagnoses, .. } = &o.verdict {
            for d in diagnoses {
                body.push_str(&format!("likely mistake: {d}\n"));
            }
        }
        xml.push_str(&format!(
            ">\n    <{tag} message=\"{message}\">{}</{tag}>\n  </testcase>\n",
            escape(&body)
        ));
    }
    xml.push_str("</testsuite>\n");
    xml
}
