//! mdbook and mdbook-i18n-helpers, the programs: installed with cargo
//! when missing, run to build one language of the book or to extract its
//! messages.
//!
//! Wiring: a leaf of xtask, used by [`crate::book`] (the checked build) and
//! [`crate::translations`] (the book's catalogues). A translation's title
//! comes from the course's catalogue ([`msg::BOOK_TITLE`]).

use crate::i18n::{Catalogue, msg};
use crate::root;
use crate::tr;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The mdbook we build with, installed with cargo when it is missing; the
/// book's preprocessor reads its JSON with `mdbook-preprocessor` of the same
/// release (crates/mdbook-nslab).
const MDBOOK_VERSION: &str = "0.5.4";

/// The mdbook-i18n-helpers (mdbook-xgettext, mdbook-gettext) we translate
/// with, installed with cargo when they are missing: 0.4.0 is the first
/// release built on mdbook 0.5 (0.3.x speak mdbook 0.4's JSON).
const I18N_HELPERS_VERSION: &str = "0.4.0";

/// The book's directory, `book/`.
pub fn book_dir() -> PathBuf {
    root().join("book")
}

/// Whether `program` can be started at all.
fn found(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// About how many minutes `cargo install` compiles each tool on two
/// cores: what the command says before it starts (the issue 26 machine:
/// about five minutes for both).
fn install_minutes(krate: &str) -> u32 {
    match krate {
        "mdbook" => 3,
        _ => 2,
    }
}

/// `cargo install` one crate at a pinned version, saying so first, and
/// how long it took after; `quiet`: without cargo's progress (the check
/// installs them while its VMs run and print their lines).
fn cargo_install(krate: &str, version: &str, quiet: bool) -> Result<()> {
    let minutes = install_minutes(krate);
    eprintln!(
        "{}",
        match quiet {
            false => tr!(
                msg::INSTALLING_TOOL,
                krate = krate,
                version = version,
                minutes = minutes
            ),
            true => tr!(
                msg::INSTALLING_TOOL_QUIETLY,
                krate = krate,
                version = version,
                minutes = minutes
            ),
        }
    );
    let started = std::time::Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut install = Command::new(cargo);
    install.args(["install", "--locked", krate, "--version", version]);
    if quiet {
        install.arg("--quiet").stdout(Stdio::null());
    }
    let status = install
        .status()
        .with_context(|| format!("running cargo install {krate}"))?;
    anyhow::ensure!(status.success(), "cargo install {krate} failed ({status})");
    eprintln!(
        "{}",
        tr!(
            msg::INSTALLED_TOOL,
            krate = krate,
            version = version,
            seconds = started.elapsed().as_secs()
        )
    );
    Ok(())
}

/// Make sure `mdbook` runs; install it with cargo otherwise.
pub fn ensure_mdbook() -> Result<()> {
    ensure_mdbook_with(false)
}

fn ensure_mdbook_with(quiet: bool) -> Result<()> {
    if found("mdbook") {
        return Ok(());
    }
    cargo_install("mdbook", MDBOOK_VERSION, quiet)
}

/// Make sure `mdbook-gettext` and `mdbook-xgettext` run; install
/// mdbook-i18n-helpers with cargo otherwise.
pub fn ensure_i18n_helpers() -> Result<()> {
    ensure_i18n_helpers_with(false)
}

fn ensure_i18n_helpers_with(quiet: bool) -> Result<()> {
    if found("mdbook-gettext") && found("mdbook-xgettext") {
        return Ok(());
    }
    cargo_install("mdbook-i18n-helpers", I18N_HELPERS_VERSION, quiet)
}

/// Both tools, installed without cargo's progress where missing: for a
/// check that runs its VMs meanwhile.
pub fn ensure_tools_quietly() -> Result<()> {
    ensure_mdbook_with(true)?;
    ensure_i18n_helpers_with(true)
}

/// `mdbook build` into `dest`, in `language` (English when `None`): the
/// lines of its log that warn or fail.
pub fn build(dest: &Path, language: Option<&str>) -> Result<Vec<String>> {
    let mut mdbook = Command::new("mdbook");
    mdbook
        .arg("build")
        .arg(book_dir())
        .arg("--dest-dir")
        .arg(dest);
    if let Some(lang) = language {
        mdbook.env("MDBOOK_BOOK__LANGUAGE", lang);
        // The title in the language, from the course's catalogue.
        let title = Catalogue::of(lang)?.get(msg::BOOK_TITLE).to_string();
        mdbook.env("MDBOOK_BOOK__TITLE", title);
    }
    let out = mdbook.output().context("running mdbook")?;
    let which = language.map_or(String::new(), |l| format!(" ({l})"));
    let log = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    for line in log.lines() {
        if line.contains("WARN") || line.contains("ERROR") {
            problems.push(format!("mdbook{which}: {}", line.trim()));
        }
    }
    if !out.status.success() {
        // The whole log: the line that says why is not always marked.
        problems.push(format!(
            "mdbook build{which} failed ({}):\n{log}",
            out.status
        ));
    }
    Ok(problems)
}

/// Extract the English book's messages into `dir/messages.pot`
/// (mdbook-xgettext), and return its path.
pub fn extract_messages(dir: &Path) -> Result<PathBuf> {
    // The xgettext renderer instead of the HTML one; without line numbers,
    // so that an edit does not touch every later message's reference.
    let out = Command::new("mdbook")
        .arg("build")
        .arg(book_dir())
        .arg("--dest-dir")
        .arg(dir)
        .env("MDBOOK_OUTPUT", r#"{"xgettext": {"granularity": 0}}"#)
        .output()
        .context("running mdbook with mdbook-xgettext")?;
    let log = String::from_utf8_lossy(&out.stderr);
    let pot = dir.join("messages.pot");
    if !out.status.success() || log.contains("WARN") || log.contains("ERROR") || !pot.is_file() {
        bail!(
            "extracting the book's messages failed ({}):\n{log}",
            out.status
        );
    }
    Ok(pot)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The preprocessor reads mdbook's JSON with the `mdbook-preprocessor`
    /// of the same release: catches a bump of one without the other.
    #[test]
    fn the_preprocessors_mdbook_is_the_one_installed() {
        let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
        let locked = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"mdbook-preprocessor\""))
            .and_then(|p| p.split("version = \"").nth(1))
            .and_then(|v| v.split('"').next());
        assert_eq!(locked, Some(MDBOOK_VERSION));
    }
}
