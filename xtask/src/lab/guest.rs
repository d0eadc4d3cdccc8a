//! The programs that run in the VM, built as static executables.
//!
//! The guest has no shared libraries, so everything is linked statically
//! against glibc (`+crt-static`). The flag is given for the target triple
//! only, so that build scripts and proc-macros still build for the host, and
//! in a target directory of its own, so that it does not invalidate the
//! ordinary host build.
//!
//! Exercises are built apart ([`build_exercises`]): one that does not
//! compile keeps none of the others from running, and its errors and the
//! compiler's messages are kept by package ([`Diagnostic`]).
//!
//! Wiring: imports nothing of the lab (only [`crate::root`]);
//! [`super::Lab::prepare`] builds through it.

use crate::root;
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// A message of the compiler: its level (`error`, `warning`), where its
/// primary span is, and its text as the compiler renders it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub level: String,
    /// The file, relative to the workspace, and the line (1-based).
    pub at: Option<(PathBuf, usize)>,
    /// The names in backticks of its first line (`unused import: `stat``).
    pub names: Vec<String>,
    pub rendered: String,
}

impl Diagnostic {
    fn of(message: &serde_json::Value) -> Diagnostic {
        let spans = message["spans"].as_array().cloned().unwrap_or_default();
        let primary = spans.iter().find(|s| s["is_primary"] == true);
        let at = primary.and_then(|s| {
            Some((
                PathBuf::from(s["file_name"].as_str()?),
                s["line_start"].as_u64()? as usize,
            ))
        });
        let text = message["message"].as_str().unwrap_or_default();
        let names = text
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect();
        // The lint levels xtask sets are not the student's business.
        let rendered = message["rendered"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                !l.contains("implied by `-W unused`") && !l.contains("override `-W unused`")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        Diagnostic {
            level: message["level"].as_str().unwrap_or_default().to_string(),
            at,
            names,
            rendered,
        }
    }

    pub fn is_error(&self) -> bool {
        self.level == "error"
    }
}

/// What a build gave: the binaries by cargo name, the compiler's messages
/// by package, and whether it succeeded.
pub struct Build {
    pub bins: HashMap<String, PathBuf>,
    pub messages: HashMap<String, Vec<Diagnostic>>,
    pub success: bool,
}

impl Build {
    /// The compiler's errors, rendered, in order.
    pub fn errors(&self) -> Vec<&str> {
        self.messages
            .values()
            .flatten()
            .filter(|d| d.is_error())
            .map(|d| d.rendered.as_str())
            .collect()
    }
}

/// How long a build may run before what cargo says is shown: a warm build
/// is quiet, a first one (minutes) shows what it compiles.
const QUIET_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// Build `packages` of the workspace of `manifest`. It prints nothing while
/// it is quick; past `QUIET_FOR` (5 s) it says what it builds, and cargo's
/// lines follow. The compiler's messages are returned, not printed. An
/// `Err` means cargo could not run; a build that failed is a [`Build`]
/// whose `success` is false.
pub fn compile(manifest: &Path, packages: &[String]) -> Result<Build> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root())
        // The programs only: a library is built as their dependency and
        // not copied out as target/…/release/libSTEP.rlib, where the
        // mistakes' copies of a step's library would collide (cargo's
        // "output filename collision", rust-lang/cargo#6313).
        .args(["build", "--release", "--bins", "--target", TARGET])
        .args(["--message-format", "json"])
        .arg("--manifest-path")
        .arg(manifest)
        .env("CARGO_TARGET_DIR", root().join("target").join("guest"))
        .env(
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            // Static, and without symbols: every run's payload carries a
            // dozen of them, a third of their size. `unused` warns even in
            // the exercises, which allow it (their TODOs leave names
            // unused): xtask shows a student the warnings of their own code.
            "-C target-feature=+crt-static -C strip=symbols -W unused",
        )
        .env("CARGO_TERM_PROGRESS_WHEN", "never")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for package in packages {
        cmd.args(["-p", package]);
    }
    let mut child = cmd.spawn().context("cannot run cargo")?;
    let stderr = child.stderr.take().context("cargo's stderr")?;
    let what = packages.join(", ");
    let speaker = std::thread::spawn(move || speak_when_slow(stderr, &what));
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        use std::io::Read;
        out.read_to_string(&mut stdout)
            .context("reading cargo's output")?;
    }
    let status = child.wait().context("waiting for cargo")?;
    let said = speaker.join().unwrap_or_default();
    let mut build = Build {
        bins: HashMap::new(),
        messages: HashMap::new(),
        success: status.success(),
    };
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let package = || package_name(msg["package_id"].as_str().unwrap_or_default());
        match msg["reason"].as_str() {
            Some("compiler-artifact") => {
                if let (Some(name), Some(exe)) =
                    (msg["target"]["name"].as_str(), msg["executable"].as_str())
                {
                    build.bins.insert(name.to_string(), PathBuf::from(exe));
                }
            }
            Some("compiler-message") => {
                build
                    .messages
                    .entry(package())
                    .or_default()
                    .push(Diagnostic::of(&msg["message"]));
            }
            _ => {}
        }
    }
    if !build.success && build.errors().is_empty() && !said.trim().is_empty() {
        // cargo failed before the compiler ran (a bad manifest…): its words.
        eprint!("{said}");
    }
    Ok(build)
}

/// The package's name in a package id spec: `path+file:///w/exercises/sem#sem-exercise@0.1.0`,
/// or `path+file:///w/solutions/sem#0.1.0` when it is the directory's name.
fn package_name(id: &str) -> String {
    let (url, fragment) = id.split_once('#').unwrap_or((id, ""));
    match fragment.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => url.rsplit('/').next().unwrap_or(url).to_string(),
    }
}

/// Read cargo's status lines; show them once the build has run for
/// `QUIET_FOR`, after a line that says what is built. Returns what was
/// not shown.
fn speak_when_slow(stderr: std::process::ChildStderr, what: &str) -> String {
    use std::io::{BufRead, Write};
    let started = std::time::Instant::now();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(|l| l.ok())
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut held = String::new();
    let mut speaking = false;
    loop {
        let line = rx.recv_timeout(std::time::Duration::from_millis(200));
        if !speaking && started.elapsed() >= QUIET_FOR {
            speaking = true;
            eprintln!(
                "nslab: building the VM's programs ({what}), static, in release mode; \
                 a first build takes a few minutes, later ones seconds"
            );
            eprint!("{held}");
            held.clear();
        }
        match line {
            Ok(line) if speaking => {
                eprintln!("{line}");
                let _ = std::io::stderr().flush();
            }
            Ok(line) => {
                held.push_str(&line);
                held.push('\n');
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    held
}

/// Build `packages` (and the guest init), which must compile: the course's
/// own programs.
pub fn build(packages: &[String]) -> Result<HashMap<String, PathBuf>> {
    let mut all = vec!["nslab-init".to_string()];
    all.extend(packages.iter().cloned());
    build_in(&root().join("Cargo.toml"), &all)
}

/// Build `packages` of the workspace of `manifest`, which must compile:
/// their errors are printed whole, and the build fails.
pub fn build_in(manifest: &Path, packages: &[String]) -> Result<HashMap<String, PathBuf>> {
    let build = compile(manifest, packages)?;
    if !build.success {
        for error in build.errors() {
            eprint!("{error}");
        }
        bail!(
            "building the VM's programs failed ({}): {}",
            packages.join(", "),
            build
                .errors()
                .first()
                .map_or("see the messages above", |e| e.lines().next().unwrap_or(e))
        );
    }
    Ok(build.bins)
}

/// What the build of the exercises gave: the binaries, and by package the
/// compiler's messages and, for those that did not compile, its errors.
pub struct Exercises {
    pub bins: HashMap<String, PathBuf>,
    pub unbuilt: HashMap<String, String>,
    pub messages: HashMap<String, Vec<Diagnostic>>,
}

/// Build the exercises: all at once, and when that fails one by one, so
/// that one that does not compile keeps none of the others from running.
pub fn build_exercises(packages: &[String]) -> Result<Exercises> {
    let manifest = root().join("Cargo.toml");
    let mut built = Exercises {
        bins: HashMap::new(),
        unbuilt: HashMap::new(),
        messages: HashMap::new(),
    };
    if packages.is_empty() {
        return Ok(built);
    }
    let all = compile(&manifest, packages)?;
    let builds = if all.success || packages.len() == 1 {
        vec![(packages.to_vec(), all)]
    } else {
        let mut one_by_one = Vec::new();
        for package in packages {
            let one = compile(&manifest, std::slice::from_ref(package))?;
            one_by_one.push((vec![package.clone()], one));
        }
        one_by_one
    };
    for (packages, build) in builds {
        if !build.success {
            let errors = build.errors();
            let errors = match errors.is_empty() {
                true => "cargo build failed (see the messages above)".to_string(),
                false => errors.concat(),
            };
            built.unbuilt.insert(packages[0].clone(), errors);
        }
        built.bins.extend(build.bins);
        for (package, messages) in build.messages {
            if packages.contains(&package) {
                built.messages.entry(package).or_default().extend(messages);
            }
        }
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_package_is_named_by_its_id() {
        use super::package_name;
        assert_eq!(
            package_name("path+file:///w/exercises/sem#sem-exercise@0.1.0"),
            "sem-exercise"
        );
        assert_eq!(package_name("path+file:///w/solutions/sem#0.1.0"), "sem");
        assert_eq!(
            package_name("registry+https://github.com/rust-lang/crates.io-index#nix@0.31.1"),
            "nix"
        );
    }
}
