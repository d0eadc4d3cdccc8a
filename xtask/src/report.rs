//! Results of a check for machines: JSON and JUnit XML (for CI and for
//! grading a class's submissions).

use crate::check::Outcome;

pub fn json(outcomes: &[Outcome]) -> String {
    let steps: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "step": o.step,
                "variant": o.variant.name(),
                "passed": o.ok(),
                "matched_snapshot": o.matched,
                "accelerator": o.accel.name(),
                "seconds": (o.seconds * 100.0).round() / 100.0,
                "details": o.details,
            })
        })
        .collect();
    let passed = outcomes.iter().filter(|o| o.ok()).count();
    serde_json::to_string_pretty(&serde_json::json!({
        "passed": passed,
        "failed": outcomes.len() - passed,
        "steps": steps,
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
    let failures = outcomes.iter().filter(|o| !o.ok()).count();
    let total: f64 = outcomes.iter().map(|o| o.seconds).sum();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"nslab\" tests=\"{}\" failures=\"{failures}\" time=\"{total:.2}\">\n",
        outcomes.len()
    );
    for o in outcomes {
        xml.push_str(&format!(
            "  <testcase classname=\"nslab.{}\" name=\"{}\" time=\"{:.2}\"",
            o.variant.name(),
            o.step,
            o.seconds
        ));
        if o.ok() {
            xml.push_str("/>\n");
        } else {
            xml.push_str(&format!(
                ">\n    <failure message=\"output differs from the snapshot\">{}</failure>\n  </testcase>\n",
                escape(&o.details)
            ));
        }
    }
    xml.push_str("</testsuite>\n");
    xml
}
