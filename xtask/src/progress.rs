//! A student's progress: which steps passed, how many hints were shown.
//! Kept in `.nslab-progress` at the top of the checkout (ignored by git),
//! one fact per line: `passed STEP DIGEST` or `hints STEP N`.
//!
//! A pass counts only while the exercise is the code that passed: DIGEST is
//! a SHA-256 of the exercise's sources when it passed, and a step whose
//! sources changed since is not passed any more. A line that cannot be read
//! (a stray byte, an old format) is skipped, never the whole file; the file
//! is written whole to a temporary file and renamed into place.
//! `NSLAB_PROGRESS=FILE` keeps it elsewhere (the tests use a temporary one).

use crate::course::Step;
use crate::root;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(Default)]
pub struct Progress {
    /// Step → digest of its exercise when it passed.
    passed: BTreeMap<String, String>,
    pub hints: BTreeMap<String, usize>,
}

fn path() -> PathBuf {
    match std::env::var_os("NSLAB_PROGRESS") {
        Some(file) if !file.is_empty() => PathBuf::from(file),
        _ => root().join(".nslab-progress"),
    }
}

/// The files of a step's exercise that make its program: `src/**/*.rs`
/// (an editor's swap or backup file is none of them) and its Cargo.toml.
fn sources(step: &Step) -> Vec<PathBuf> {
    let dir = root().join("exercises").join(&step.id);
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir.join("src"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_file() && name.ends_with(".rs") && !name.starts_with('.')
        })
        .map(|e| e.into_path())
        .collect();
    files.push(dir.join("Cargo.toml"));
    files.sort();
    files
}

/// The SHA-256 of a step's exercise: of each source's code by relative
/// path, so that a comment or whitespace changed anywhere keeps a pass
/// ([`crate::exercise::code_digest`]; a file that does not lex as Rust, and
/// Cargo.toml, by their bytes).
pub fn digest(step: &Step) -> Result<String> {
    digest_with(step, |file, bytes| {
        match file.extension().is_some_and(|e| e == "rs") {
            true => std::str::from_utf8(bytes)
                .ok()
                .and_then(crate::exercise::code_digest)
                .map(String::into_bytes)
                .unwrap_or_else(|| bytes.to_vec()),
            false => bytes.to_vec(),
        }
    })
}

/// The digest of earlier versions, of every file's bytes: a pass recorded
/// by one still counts while the files are unchanged.
fn bytes_digest(step: &Step) -> Result<String> {
    digest_with(step, |_, bytes| bytes.to_vec())
}

fn digest_with(
    step: &Step,
    content: impl Fn(&std::path::Path, &[u8]) -> Vec<u8>,
) -> Result<String> {
    let dir = root().join("exercises").join(&step.id);
    let mut hash = Sha256::new();
    for file in sources(step) {
        let bytes = std::fs::read(&file).with_context(|| file.display().to_string())?;
        let bytes = content(&file, &bytes);
        hash.update(
            file.strip_prefix(&dir)
                .unwrap_or(&file)
                .as_os_str()
                .as_encoded_bytes(),
        );
        hash.update([0]);
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    Ok(format!("{:x}", hash.finalize()))
}

impl Progress {
    pub fn load() -> Progress {
        let mut progress = Progress::default();
        let bytes = std::fs::read(path()).unwrap_or_default();
        for line in String::from_utf8_lossy(&bytes).lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let clean = |w: &str| {
                w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            };
            match words.as_slice() {
                ["passed", step, digest] if clean(step) && clean(digest) => {
                    progress.passed.insert(step.to_string(), digest.to_string());
                }
                ["hints", step, n] if clean(step) => {
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
        for (step, digest) in &self.passed {
            text.push_str(&format!("passed {step} {digest}\n"));
        }
        for (step, n) in &self.hints {
            text.push_str(&format!("hints {step} {n}\n"));
        }
        let path = path();
        let dir = path.parent().unwrap_or(&path);
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).with_context(|| dir.display().to_string())?;
        tmp.write_all(text.as_bytes())
            .with_context(|| tmp.path().display().to_string())?;
        tmp.persist(&path)
            .with_context(|| path.display().to_string())?;
        Ok(())
    }

    /// Whether the step passed, with the exercise as it is now.
    pub fn has_passed(&self, step: &Step) -> bool {
        self.passed.get(&step.id).is_some_and(|d| {
            digest(step).is_ok_and(|now| &now == d) || bytes_digest(step).is_ok_and(|old| &old == d)
        })
    }

    /// Whether the step passed once, but its exercise changed since.
    pub fn passed_before(&self, step: &Step) -> bool {
        self.passed.contains_key(&step.id) && !self.has_passed(step)
    }

    pub fn mark_passed(&mut self, step: &Step) -> Result<()> {
        self.passed.insert(step.id.clone(), digest(step)?);
        Ok(())
    }

    pub fn withdraw(&mut self, step: &Step) {
        self.passed.remove(&step.id);
    }
}
