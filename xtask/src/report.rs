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
    let how = match (outcome.unbuilt(), outcome.job()) {
        (true, _) => tr!(msg::DOES_NOT_COMPILE),
        (false, None) => format!("{:.2} s", outcome.seconds),
        (false, Some(_)) => format!(
            "{}  {:>5.2} s{guest}",
            outcome.accel.name(),
            outcome.seconds
        ),
    };
    let mut text = format!(
        "{status} {:<10} {:<36} {how}",
        outcome.subject.step(),
        tr!(&outcome.subject.describe()),
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
pub(crate) fn checkout() -> (Option<String>, Option<String>) {
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
            let points = o.subject.points();
            serde_json::json!({
                "name": o.subject.test_name(),
                "step": o.subject.step(),
                "variant": o.job().map_or("course", |j| j.variant.name()),
                "what": o.subject.describe(),
                "passed": o.ok(),
                "verdict": verdict_name(&o.verdict),
                "matched_snapshot": o.matched,
                "accelerator": o.job().map(|_| o.accel.name()),
                "seconds": (o.seconds * 100.0).round() / 100.0,
                "details": details(&o.verdict),
                "diagnoses": diagnoses,
                "points": if o.ok() { points } else { 0 },
                "points_possible": points,
            })
        })
        .collect();
    let passed = outcomes.iter().filter(|o| o.ok()).count();
    let points: u32 = outcomes
        .iter()
        .filter(|o| o.ok())
        .map(|o| o.subject.points())
        .sum();
    let possible: u32 = outcomes.iter().map(|o| o.subject.points()).sum();
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

/// The JUnit XML report: one test case per result, named as the tests
/// name it (`sem::mistake::creat-without-excl`, `book`), in the class of
/// its step; written by quick-junit (nextest's), whose strings drop what
/// XML cannot hold (a control byte a program printed, a colour).
pub fn junit(outcomes: &[Outcome]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("nslab");
    for o in outcomes {
        let status = match &o.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Fail { diagnoses, .. } => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let mut body = details(&o.verdict);
                for d in diagnoses {
                    body.push_str(&format!("\nlikely mistake: {d}"));
                }
                status
                    .set_message(match o.job() {
                        Some(_) => "the output is not what the step expects",
                        None => "the course's own files fail this check",
                    })
                    .set_description(body);
                status
            }
            Verdict::Broken(why) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message("the check could not run")
                    .set_description(why.as_str());
                status
            }
        };
        let mut case = TestCase::new(o.subject.test_name(), status);
        case.set_classname(format!("nslab.{}", o.subject.step()))
            .set_time(std::time::Duration::from_secs_f64(o.seconds.max(0.0)));
        suite.add_test_case(case);
    }
    let total: f64 = outcomes.iter().map(|o| o.seconds).sum();
    suite.set_time(std::time::Duration::from_secs_f64(total.max(0.0)));
    let mut report = Report::new("nslab");
    report.add_test_suite(suite);
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->\n"))
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

    fn sem_plan(rounds: usize) -> Vec<crate::plan::Job> {
        let course = crate::course::Course::load().unwrap();
        let steps = course.select(&["sem".to_string()]).unwrap();
        crate::plan::repeated(
            &crate::plan::plan(&steps, crate::plan::Audience::Course).unwrap(),
            rounds,
        )
    }

    #[test]
    fn every_junit_test_case_has_its_own_name_even_repeated() {
        let outcomes: Vec<Outcome> = sem_plan(2)
            .into_iter()
            .map(|job| Outcome::broken(job, crate::lab::Accel::Tcg, "why".into()))
            .collect();
        let xml = junit(&outcomes);
        let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        let names: Vec<String> = report.test_suites[0]
            .test_cases
            .iter()
            .map(|c| c.name.as_str().to_string())
            .collect();
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert!(names.contains(&"sem::mistake::creat-without-excl#2".to_string()));
    }

    #[test]
    fn a_control_byte_a_program_printed_leaves_the_junit_report_valid() {
        let job = sem_plan(1).remove(0);
        let mut outcome = Outcome::broken(job, crate::lab::Accel::Tcg, String::new());
        outcome.verdict = Verdict::Fail {
            details: "+ bell \u{7} escape \u{1b}[31m nul \u{0} <&>\"".into(),
            diagnoses: vec!["a <diagnosis> & more".into()],
        };
        let xml = junit(&[outcome]);
        let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        assert_eq!(report.failures, 1, "{xml}");
        assert!(xml.contains("&lt;&amp;&gt;"), "{xml}");
    }

    #[test]
    fn a_broken_book_is_a_failure_in_the_json_and_the_junit() {
        use crate::plan::CourseCheck;
        let book = Outcome::of_check(
            CourseCheck::Book,
            Verdict::Fail {
                details: "steps/sem.md: a link to nowhere.md leads nowhere".into(),
                diagnoses: Vec::new(),
            },
            0.5,
        );
        let json: serde_json::Value =
            serde_json::from_str(&json(std::slice::from_ref(&book))).unwrap();
        assert_eq!(json["failed"], 1);
        assert_eq!(json["runs"][0]["name"], "book");
        assert_eq!(json["runs"][0]["verdict"], "fail");
        let xml = junit(&[book]);
        assert!(
            xml.contains("name=\"book\"") && xml.contains("nowhere.md"),
            "{xml}"
        );
    }
}
