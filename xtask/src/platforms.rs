//! The grading platforms' formats, from the same outcomes as
//! [`crate::report::json`]: Gradescope's `results.json` and GitHub
//! Classroom's runner result. Each test carries the step's points of
//! `course.toml`, its verdict, and as its output the diff and the likely
//! mistakes (Markdown where the platform renders it).
//!
//! - Gradescope (gradescope/autograder_samples, `docs/specs.md`): the
//!   autograder writes `/autograder/results/results.json`, `{score,
//!   tests: [{name, score, max_score, status, output, output_format,
//!   visibility}]}`; `status` is `passed` or `failed` only: a run that
//!   could not judge the program is `failed` with no points, and its output
//!   says it is not the student's mistake.
//! - GitHub Classroom (classroom-resources/autograding-command-grader,
//!   `src/main.js`): a runner's `result` output is the base64 of `{version:
//!   1, status, max_score, tests: [{name, status, score, message,
//!   test_code, filename, line_no, duration}]}`, which
//!   `autograding-grading-reporter` reads from `RUNNER_RESULTS`. Its
//!   message is printed as text, so it is plain.

use crate::i18n::msg;
use crate::plan::Subject;
use crate::tr;
use crate::verdict::{Outcome, Verdict};

/// The name a platform shows for a result: the run's unique name
/// ([`Subject::test_name`]) and, for a run of a step, its title.
fn display_name(subject: &Subject) -> String {
    match subject.job() {
        Some(job) => format!("{} ({})", job.step.title_tr(), subject.test_name()),
        None => subject.test_name(),
    }
}

/// A Markdown code block holding `text` whatever backticks it holds.
fn fenced(text: &str, info: &str) -> String {
    let longest = text
        .lines()
        .map(|l| l.trim_start().chars().take_while(|c| *c == '`').count())
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{info}\n{}\n{fence}", text.trim_end())
}

/// What the student reads of one result, in Markdown (`markdown`) or
/// plain text: the verdict, the diff or the compiler's errors, the likely
/// mistakes, and how to see it on their machine.
fn feedback(o: &Outcome, markdown: bool) -> String {
    let mut parts = Vec::new();
    match &o.verdict {
        Verdict::Pass => parts.push(tr!(msg::GRADE_PASSED)),
        Verdict::Fail { details, diagnoses } => {
            parts.push(match o.unbuilt() {
                true => tr!(msg::DOES_NOT_COMPILE),
                false => tr!(msg::GRADE_FAILED),
            });
            if !details.trim().is_empty() {
                parts.push(match markdown {
                    true => fenced(details, if o.unbuilt() { "text" } else { "diff" }),
                    false => details.trim_end().to_string(),
                });
            }
            for diagnosis in diagnoses {
                let line = tr!(msg::LIKELY_MISTAKE, diagnosis = diagnosis);
                parts.push(match markdown {
                    true => format!("**{line}**"),
                    false => line,
                });
            }
        }
        Verdict::Broken(why) => {
            parts.push(tr!(msg::NOT_THE_PROGRAM));
            parts.push(match markdown {
                true => fenced(why, "text"),
                false => why.trim_end().to_string(),
            });
        }
    }
    if let Some(job) = o.job().filter(|_| !o.ok()) {
        parts.push(tr!(msg::GRADE_AGAIN, step = job.step.id));
    }
    parts.join("\n\n")
}

fn points(o: &Outcome) -> u32 {
    if o.ok() { o.subject.points() } else { 0 }
}

/// Gradescope's `results.json` for `outcomes` (see the module's doc).
pub fn gradescope(outcomes: &[Outcome]) -> String {
    let tests: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "name": display_name(&o.subject),
                "name_format": "text",
                "score": points(o),
                "max_score": o.subject.points(),
                "status": if o.ok() { "passed" } else { "failed" },
                "output": feedback(o, true),
                "output_format": "md",
                "visibility": "visible",
                "tags": [o.subject.step()],
            })
        })
        .collect();
    let score: u32 = outcomes.iter().map(points).sum();
    let seconds: f64 = outcomes.iter().map(|o| o.seconds).sum();
    let (commit, author) = crate::report::checkout();
    serde_json::to_string_pretty(&serde_json::json!({
        "score": score,
        "execution_time": seconds.ceil() as u64,
        "test_output_format": "md",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": { "commit": commit, "author": author },
        "tests": tests,
    }))
    .unwrap_or_default()
}

/// The status GitHub Classroom knows: `pass`, `fail`, or `error` when the
/// check could not run.
fn classroom_status(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail { .. } => "fail",
        Verdict::Broken(_) => "error",
    }
}

/// GitHub Classroom's runner result for `outcomes`, before its base64
/// ([`classroom`]): what `autograding-command-grader` makes of one
/// command, with one test per result.
pub fn classroom_result(outcomes: &[Outcome]) -> serde_json::Value {
    let tests: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "name": display_name(&o.subject),
                "status": classroom_status(&o.verdict),
                "score": points(o),
                "message": feedback(o, false),
                "test_code": match o.job() {
                    Some(job) => format!("cargo xtask verify {}", job.step.id),
                    None => format!("cargo xtask check {}", o.subject.step()),
                },
                "filename": "",
                "line_no": 0,
                "duration": (o.seconds * 1000.0).round() as u64,
            })
        })
        .collect();
    let status = if outcomes
        .iter()
        .any(|o| matches!(o.verdict, Verdict::Broken(_)))
    {
        "error"
    } else if outcomes.iter().all(Outcome::ok) {
        "pass"
    } else {
        "fail"
    };
    serde_json::json!({
        "version": 1,
        "status": status,
        "max_score": outcomes.iter().map(|o| o.subject.points()).sum::<u32>(),
        "tests": tests,
    })
}

/// GitHub Classroom's runner result, as the command grader's `result`
/// output holds it: base64 of its JSON, one line.
pub fn classroom(outcomes: &[Outcome]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(classroom_result(outcomes).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Accel;

    /// The outcomes of a graded run of the first two steps' exercises: the
    /// first passed, the second failed with a diff and a diagnosis, and a
    /// third that could not run (the first step again, as `--repeat 2`).
    fn graded() -> Vec<Outcome> {
        let course = crate::course::Course::load().unwrap();
        let steps: Vec<crate::course::Step> = course.step.iter().take(2).cloned().collect();
        let jobs = crate::plan::plan(&steps, crate::plan::Audience::Exercises).unwrap();
        let mut outcomes: Vec<Outcome> = jobs
            .iter()
            .map(|job| Outcome::broken(job.clone(), Accel::Tcg, String::new()))
            .collect();
        outcomes[0].verdict = Verdict::Pass;
        outcomes[0].seconds = 1.25;
        outcomes[1].verdict = Verdict::Fail {
            details: "expected (-) and what your program gave (+):\n- a\n+ ```b``` <i>\n".into(),
            diagnoses: vec![steps[1].diagnosis[0].message_tr()],
        };
        // It ran (a failure with no VM is one that did not compile).
        outcomes[1].end = Some(crate::lab::VmEnd::Done);
        let mut again = jobs[0].clone();
        again.round = 2;
        outcomes.push(Outcome::broken(
            again,
            Accel::Tcg,
            "QEMU died: no space left".into(),
        ));
        outcomes
    }

    /// Gradescope's results.json against its specification,
    /// gradescope/autograder_samples docs/specs.md (af5dee4), field by
    /// field:
    ///
    /// > "score": 44.0, // optional, but required if not on each test case
    /// > below. Overrides total of tests if specified.
    /// > "tests": [ { "score": 2.0, "max_score": 2.0, "status": "passed",
    /// > // optional, see "Test case status" below
    /// > "name": "Your name here", "output": "Giant multiline string …",
    /// > "output_format": "text", "visibility": "visible", … } ]
    ///
    /// > you can set the "status" field to either "passed" or "failed"
    ///
    /// > Options for the the format field are as follows: "text" … "html"
    /// > … "simple_format" … "md" … "ansi"
    ///
    /// > Options for the visibility field are as follows: hidden,
    /// > after_due_date, after_published, visible (default)
    #[test]
    fn gradescope_results_follow_its_specification() {
        const FORMATS: &[&str] = &["text", "html", "simple_format", "md", "ansi"];
        const VISIBILITY: &[&str] = &["hidden", "after_due_date", "after_published", "visible"];
        let outcomes = graded();
        let json: serde_json::Value = serde_json::from_str(&gradescope(&outcomes)).unwrap();
        let object = json.as_object().unwrap();
        let known = [
            "score",
            "execution_time",
            "output",
            "output_format",
            "test_output_format",
            "test_name_format",
            "visibility",
            "stdout_visibility",
            "extra_data",
            "tests",
            "leaderboard",
        ];
        for key in object.keys() {
            assert!(known.contains(&key.as_str()), "not in the spec: {key}");
        }
        assert!(json["score"].is_number());
        assert!(json["execution_time"].is_u64());
        assert!(FORMATS.contains(&json["test_output_format"].as_str().unwrap()));
        assert!(FORMATS.contains(&json["test_name_format"].as_str().unwrap()));
        assert!(VISIBILITY.contains(&json["visibility"].as_str().unwrap()));
        assert!(VISIBILITY.contains(&json["stdout_visibility"].as_str().unwrap()));
        assert!(json["extra_data"].is_object());
        let tests = json["tests"].as_array().unwrap();
        assert_eq!(tests.len(), outcomes.len());
        let test_keys = [
            "score",
            "max_score",
            "status",
            "name",
            "name_format",
            "number",
            "output",
            "output_format",
            "tags",
            "visibility",
            "extra_data",
        ];
        let mut names = std::collections::BTreeSet::new();
        let mut total = 0.0;
        for test in tests {
            for key in test.as_object().unwrap().keys() {
                assert!(test_keys.contains(&key.as_str()), "not in the spec: {key}");
            }
            let (score, max) = (
                test["score"].as_f64().unwrap(),
                test["max_score"].as_f64().unwrap(),
            );
            assert!((0.0..=max).contains(&score), "{test}");
            total += score;
            // "By default, test cases where the student was awarded the
            // "max_score" points are marked as passing": ours agree.
            let status = test["status"].as_str().unwrap();
            assert!(["passed", "failed"].contains(&status));
            assert_eq!(status == "passed", max > 0.0 && score == max, "{test}");
            assert!(
                names.insert(test["name"].as_str().unwrap().to_string()),
                "{test}"
            );
            assert!(test["output"].is_string());
            assert!(FORMATS.contains(&test["output_format"].as_str().unwrap()));
            assert!(FORMATS.contains(&test["name_format"].as_str().unwrap()));
            assert!(VISIBILITY.contains(&test["visibility"].as_str().unwrap()));
            assert!(
                test["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|t| t.is_string())
            );
        }
        assert_eq!(json["score"].as_f64().unwrap(), total);
        // The output, in Markdown: the diff in a fence, the likely
        // mistake, how to see it again.
        let failed = tests[1]["output"].as_str().unwrap();
        assert!(failed.contains("```diff\n"), "{failed}");
        assert!(failed.contains("+ ```b``` <i>"), "{failed}");
        assert!(failed.contains("**likely mistake: "), "{failed}");
        assert!(failed.contains("`cargo xtask verify "), "{failed}");
        // A run that could not judge the program fails, with no points,
        // and says it is not the student's mistake.
        let broken = tests[2]["output"].as_str().unwrap();
        assert!(broken.starts_with(msg::NOT_THE_PROGRAM), "{broken}");
        assert!(broken.contains("QEMU died"), "{broken}");
    }

    #[test]
    fn a_fence_is_longer_than_any_fence_inside() {
        assert_eq!(fenced("a\n", "text"), "```text\na\n```");
        let inner = "error: x\n````rust\nfn main() {}\n````\n";
        assert_eq!(
            fenced(inner, "text"),
            "`````text\nerror: x\n````rust\nfn main() {}\n````\n`````"
        );
    }

    /// GitHub Classroom's runner result, read as its reporter reads it:
    /// classroom-resources/autograding-grading-reporter (43c2d9f), mirrored
    /// line by line.
    #[test]
    fn classroom_result_is_what_the_reporter_reads() {
        let outcomes = graded();
        let encoded = classroom(&outcomes);
        // src/main.js:
        //   const encodedResults = process.env[`${runner.trim().toUpperCase()}_RESULTS`];
        //   const json = Buffer.from(encodedResults, "base64").toString("utf-8");
        //   return { runner, results: JSON.parse(json) };
        use base64::Engine;
        assert!(
            !encoded.contains('\n'),
            "one line, for an output or $GITHUB_ENV"
        );
        let json = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .unwrap();
        let results: serde_json::Value = serde_json::from_slice(&json).unwrap();
        // autograding-command-grader src/main.js, generateResult:
        //   { version: 1, status, max_score: maxScore, tests: [ { name: testName,
        //     status, score: status === 'pass' ? maxScore : 0, message,
        //     test_code: command, filename: '', line_no: 0, duration } ] }
        assert_eq!(results["version"], 1);
        assert!(results["max_score"].is_u64());
        // src/main.js:
        //   if (runnerResults.some((r) => r.results.status === "fail")) { core.setFailed("Some tests failed.")
        //   } else if (runnerResults.some((r) => r.results.status === 'error')) { core.setFailed("Some tests errored.")
        assert_eq!(results["status"], "error");
        let tests = results["tests"].as_array().unwrap();
        let statuses: Vec<&str> = tests
            .iter()
            .map(|t| t["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["pass", "fail", "error"]);
        for test in tests {
            assert!(test["name"].is_string() && test["message"].is_string());
            assert!(
                test["test_code"]
                    .as_str()
                    .unwrap()
                    .starts_with("cargo xtask ")
            );
            assert_eq!(test["filename"], "");
            // src/console-results.js: if (test.line_no !== 0) {… - line ${test.line_no}
            assert_eq!(test["line_no"], 0);
            assert!(test["duration"].is_u64());
            // generateResult: score: status === 'pass' ? maxScore : 0
            let pass = test["status"] == "pass";
            assert_eq!(test["score"].as_u64().unwrap() > 0, pass, "{test}");
        }
        // src/console-results.js, an error: console.log(`Error: ${test.message || …}`):
        // the message is printed as text, so it is plain, and says whose it is.
        assert!(
            tests[2]["message"]
                .as_str()
                .unwrap()
                .starts_with(msg::NOT_THE_PROGRAM)
        );
        assert!(!tests[1]["message"].as_str().unwrap().contains("```diff"));
        // src/notify-classroom.js: the points GitHub Classroom records:
        //   acc.maxPoints += results.max_score;
        //   results.tests.forEach(({ score }) => { acc.totalPoints += score; });
        let total: u64 = tests.iter().map(|t| t["score"].as_u64().unwrap()).sum();
        let max = results["max_score"].as_u64().unwrap();
        let points: u32 = outcomes.iter().map(|o| o.subject.points()).sum();
        assert_eq!(max, u64::from(points));
        assert_eq!(total, u64::from(outcomes[0].subject.points()));
        // src/helpers/test-helpers.js, the console's table:
        //   const score = runnerResult.tests.reduce((acc, { status }) => status === "pass" ? acc + 1 : acc, 0);
        //   return (score / tests.length) * (getMaxScoreForTest(runnerResult) || 0);
        // It agrees with the points recorded when the steps weigh the same
        // (course.toml's default) or, as the workflow grades, a runner
        // holds one step.
        let passed = statuses.iter().filter(|s| **s == "pass").count() as f64;
        let console = passed / tests.len() as f64 * max as f64;
        if outcomes
            .iter()
            .all(|o| o.subject.points() == outcomes[0].subject.points())
        {
            assert_eq!(console, total as f64);
        }
        let one = classroom_result(&outcomes[..1]);
        let one_console = 1.0 * one["max_score"].as_f64().unwrap();
        assert_eq!(one_console, one["tests"][0]["score"].as_f64().unwrap());
        assert_eq!(one["status"], "pass");
        assert_eq!(classroom_result(&outcomes[..2])["status"], "fail");
    }
}
