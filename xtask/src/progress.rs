//! A student's progress: which steps passed, how many hints were shown.
//! Kept in `.nslab-progress` at the top of the checkout (ignored by git),
//! one fact per line: `passed STEP` or `hints STEP N`.

use crate::{Result, io_err, root};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Default)]
pub struct Progress {
    pub passed: Vec<String>,
    pub hints: BTreeMap<String, usize>,
}

fn path() -> PathBuf {
    root().join(".nslab-progress")
}

impl Progress {
    pub fn load() -> Progress {
        let mut progress = Progress::default();
        let text = std::fs::read_to_string(path()).unwrap_or_default();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["passed", step] => progress.passed.push(step.to_string()),
                ["hints", step, n] => {
                    if let Ok(n) = n.parse() {
                        progress.hints.insert(step.to_string(), n);
                    }
                }
                _ => {}
            }
        }
        progress
    }

    pub fn save(&self) -> Result<()> {
        let mut text = String::new();
        for step in &self.passed {
            text.push_str(&format!("passed {step}\n"));
        }
        for (step, n) in &self.hints {
            text.push_str(&format!("hints {step} {n}\n"));
        }
        std::fs::write(path(), text).map_err(|e| io_err(path().display(), e))
    }

    pub fn has_passed(&self, step: &str) -> bool {
        self.passed.iter().any(|s| s == step)
    }

    pub fn mark_passed(&mut self, step: &str) {
        if !self.has_passed(step) {
            self.passed.push(step.to_string());
        }
    }
}
