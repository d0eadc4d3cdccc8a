//! Results of a check, for people (one line per run, details on failure)
//! and for machines: JSON and JUnit XML (for CI and for grading a class).

use crate::i18n::msg;
use crate::tr;
use crate::verdict::{Outcome, Verdict};

/// The styles of a report on a terminal; [`crate::commands::Say`] prints
/// through anstream, which drops them where colour is not wanted (a pipe, a
/// file, `NO_COLOR`).
mod style {
    use anstyle::{AnsiColor, Style};
    pub const OK: Style = AnsiColor::Green.on_default().bold();
    pub const FAIL: Style = AnsiColor::Red.on_default().bold();
    pub const ERROR: Style = AnsiColor::Yellow.on_default().bold();
    pub const REMOVED: Style = AnsiColor::Red.on_default();
    pub const ADDED: Style = AnsiColor::Green.on_default();
    pub const MISTAKE: Style = AnsiColor::Yellow.on_default().bold();
}

/// `text` in `style`.
fn paint(style: anstyle::Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// [`describe`] without its styles: for a log or a test's message.
pub fn describe_plain(outcome: &Outcome) -> String {
    anstream::adapter::strip_str(&describe(outcome)).to_string()
}

/// One line per VM run, and the details of a failure, styled (see
/// `style`).
pub fn describe(outcome: &Outcome) -> String {
    let mut times = Vec::new();
    if let Some((start, restored)) = outcome.start {
        let seconds = format!("{start:.2}");
        times.push(match restored {
            true => tr!(msg::RESTORED_IN, seconds = seconds),
            false => tr!(msg::BOOTED_IN, seconds = seconds),
        });
    }
    if let Some(scenario) = outcome.scenario_seconds {
        times.push(tr!(msg::SCENARIO_TOOK, seconds = format!("{scenario:.2}")));
    }
    let guest = match times.is_empty() {
        true => String::new(),
        false => format!(" ({})", times.join(", ")),
    };
    let status = match &outcome.verdict {
        Verdict::Pass => paint(style::OK, "ok   "),
        Verdict::Fail { .. } => paint(style::FAIL, "FAIL "),
        Verdict::Broken(_) => paint(style::ERROR, "ERROR"),
    };
    let how = match outcome.unbuilt() {
        true => tr!(msg::DOES_NOT_COMPILE),
        false => format!(
            "{}  {:>5.2} s{guest}",
            outcome.accel.name(),
            outcome.seconds
        ),
    };
    let mut text = format!(
        "{status} {:<10} {:<36} {how}",
        outcome.job.step.id,
        tr!(&outcome.job.describe()),
    );
    if let Some(first) = &outcome.retried {
        text.push_str("\n      ");
        text.push_str(&tr!(msg::BOOTED_TWICE, end = first));
    }
    let mut push = |line: &str| text.push_str(&format!("\n      {line}"));
    match &outcome.verdict {
        Verdict::Pass => {}
        Verdict::Fail { details, diagnoses } => {
            for line in details.lines() {
                match line.chars().next() {
                    Some('-') if line.starts_with("- ") => push(&paint(style::REMOVED, line)),
                    Some('+') if line.starts_with("+ ") => push(&paint(style::ADDED, line)),
                    _ => push(line),
                }
            }
            for diagnosis in diagnoses {
                push(&paint(
                    style::MISTAKE,
                    &tr!(msg::LIKELY_MISTAKE, diagnosis = diagnosis),
                ));
            }
        }
        Verdict::Broken(why) => {
            push(&tr!(msg::NOT_THE_PROGRAM));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_that_does_not_compile_is_one_block_with_no_vm_time() {
        let course = crate::course::Course::load().unwrap();
        let step = course.step[0].clone();
        let job = crate::plan::plan(
            std::slice::from_ref(&step),
            crate::plan::Audience::Exercises,
        )
        .unwrap()
        .remove(0);
        let errors = "error[E0425]: cannot find value `x` in this scope\n --> exercises/sem/src/main.rs:3:5\n";
        let outcome = crate::verdict::unbuilt(job, crate::lab::Accel::Tcg, errors);
        let text = describe_plain(&outcome);
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("FAIL  sem ") && first.ends_with(msg::DOES_NOT_COMPILE),
            "{text}"
        );
        assert_eq!(text.matches("error[E0425]").count(), 1, "{text}");
        assert!(!first.contains("tcg"), "no VM ran: {text}");
        // Styled for a terminal, and the styles come off whole.
        assert!(describe(&outcome).contains('\u{1b}'));
        assert!(!text.contains('\u{1b}'));
    }
}
