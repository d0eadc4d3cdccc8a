//! The known mistakes of `course.toml`, made: each `[[step.mistake]]` is the
//! step's solution with one edit, inside one of its `// @solution` regions
//! (code a student writes), built as a crate of its own.
//!
//! The crates live in a cargo workspace of their own,
//! `target/nslab-mistakes`: `<step>-mistake-<n>/` holds the solution's
//! sources with the edit made, and a Cargo.toml made from the exercise's
//! (its binaries renamed `<bin>-mistake-<n>`, what it inherits from the
//! workspace written out). The workspace always holds every mistake of the
//! course, and a file is written only when its text changes, so that two
//! checks at once write the same thing and cargo rebuilds only what changed.
//!
//! The mutants of `cargo xtask mutants` ([`crate::mutants`]) are made the
//! same way, as edits of a solution region, in a workspace of their own,
//! `target/nslab-mutants` (`<step>-mutant-<n>/`): [`Kind`] says which.

use crate::course::{Course, Mistake, Step, Variant};
use crate::root;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Which edits of the solutions a workspace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The known mistakes of course.toml (`Step::mistake`).
    Mistakes,
    /// The mutants of `cargo xtask mutants` (`Step::mutants`).
    Mutants,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Mistakes => "mistake",
            Kind::Mutants => "mutant",
        }
    }

    fn edits(self, step: &Step) -> &[Mistake] {
        match self {
            Kind::Mistakes => &step.mistake,
            Kind::Mutants => &step.mutants,
        }
    }

    fn variant(self, n: usize) -> Variant {
        match self {
            Kind::Mistakes => Variant::Mistake(n),
            Kind::Mutants => Variant::Mutant(n),
        }
    }

    /// Its workspace's directory.
    pub fn dir(self) -> PathBuf {
        root()
            .join("target")
            .join(format!("nslab-{}s", self.name()))
    }

    /// The manifest of its workspace.
    pub fn manifest(self) -> PathBuf {
        self.dir().join("Cargo.toml")
    }
}

/// The solution's text with the mistake made in it, checked: `find` occurs
/// once, inside a `// @solution` region.
pub fn apply(step: &Step, mistake: &Mistake, solution: &str) -> Result<String> {
    let what = || format!("course.toml: step {}, mistake '{}'", step.id, mistake.id);
    let found: Vec<usize> = solution
        .match_indices(&mistake.find)
        .map(|(at, _)| at)
        .collect();
    let at = match found.as_slice() {
        [at] => *at,
        _ => bail!(
            "{}: `find` occurs {} times in solutions/{}/{} (it must occur once)",
            what(),
            found.len(),
            step.id,
            mistake.file
        ),
    };
    let end = at + mistake.find.len();
    if !in_solution_region(solution, at, end) {
        bail!(
            "{}: `find` is not inside a // @solution region of solutions/{}/{}: a mistake is in code the student writes",
            what(),
            step.id,
            mistake.file
        );
    }
    Ok(format!(
        "{}{}{}",
        &solution[..at],
        mistake.replace,
        &solution[end..]
    ))
}

/// Whether bytes `at..end` of a solution lie between a `// @solution` line
/// and the `// @exercise` line that follows it.
fn in_solution_region(text: &str, at: usize, end: usize) -> bool {
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        match line.trim() {
            "// @solution" => start = Some(offset + line.len()),
            "// @exercise" => {
                if let Some(s) = start.take()
                    && s <= at
                    && end <= offset
                {
                    return true;
                }
            }
            _ => {}
        }
        offset += line.len();
    }
    false
}

/// Write `path` only when its text changes.
fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
    }
    std::fs::write(path, text).with_context(|| path.display().to_string())
}

/// The Cargo.toml of mistake (or mutant) `n` of `step`, from the exercise's.
fn cargo_toml(step: &Step, kind: Kind, n: usize, workspace: &toml::Table) -> Result<String> {
    let exercise = root().join("exercises").join(&step.id);
    let path = exercise.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let mut manifest: toml::Table =
        toml::from_str(&text).with_context(|| path.display().to_string())?;
    let inherited = |section: &str| {
        workspace
            .get("workspace")
            .and_then(|w| w.get(section))
            .and_then(|t| t.as_table())
            .cloned()
            .unwrap_or_default()
    };
    let (package_fields, dependencies) = (inherited("package"), inherited("dependencies"));
    let is_inherited = |v: &toml::Value| v.get("workspace").and_then(|w| w.as_bool()) == Some(true);
    // An absolute path for a dependency's `path`, relative to `base`.
    let absolute = |dep: &mut toml::Value, base: &Path| {
        if let Some(p) = dep.get("path").and_then(|p| p.as_str()) {
            let abs = base.join(p).display().to_string();
            dep.as_table_mut()
                .map(|t| t.insert("path".into(), abs.into()));
        }
    };
    if let Some(package) = manifest.get_mut("package").and_then(|p| p.as_table_mut()) {
        package.insert("name".into(), step.package(kind.variant(n)).into());
        package.insert("autobins".into(), false.into());
        for (key, value) in package.iter_mut() {
            if is_inherited(value) {
                *value = package_fields
                    .get(key)
                    .cloned()
                    .with_context(|| format!("the workspace has no package.{key}"))?;
            }
        }
    }
    if let Some(bins) = manifest.get_mut("bin").and_then(|b| b.as_array_mut()) {
        for bin in bins.iter_mut().filter_map(|b| b.as_table_mut()) {
            let name = bin.get("name").and_then(|n| n.as_str()).unwrap_or_default();
            let renamed = name.replace("-exercise", &format!("-{}-{n}", kind.name()));
            bin.insert("name".into(), renamed.into());
            // Without autobins a binary needs its path.
            bin.entry("path").or_insert_with(|| "src/main.rs".into());
        }
    }
    if let Some(lib) = manifest.get_mut("lib").and_then(|l| l.as_table_mut()) {
        lib.remove("doc");
    }
    if let Some(deps) = manifest
        .get_mut("dependencies")
        .and_then(|d| d.as_table_mut())
    {
        for (name, dep) in deps.iter_mut() {
            if is_inherited(dep) {
                let mut resolved = dependencies
                    .get(name)
                    .cloned()
                    .with_context(|| format!("the workspace has no dependency {name}"))?;
                if resolved.is_str() {
                    resolved = toml::Value::Table(
                        [("version".to_string(), resolved)].into_iter().collect(),
                    );
                }
                absolute(&mut resolved, &root());
                *dep = resolved;
            } else {
                absolute(dep, &exercise);
            }
        }
    }
    manifest.remove("lints");
    let lints: toml::Table = toml::from_str("[rust]\nunused = \"allow\"\ndead_code = \"allow\"\n")?;
    manifest.insert("lints".into(), lints.into());
    Ok(format!(
        "# Written by xtask (src/mistakes.rs): {} {n} of step {}.\n{}",
        kind.name(),
        step.id,
        toml::to_string(&manifest)?
    ))
}

/// Write the crate of every mistake (or mutant) of the course, and their
/// workspace.
pub fn write_all(course: &Course, kind: Kind) -> Result<()> {
    let dir = || kind.dir();
    let workspace_path = root().join("Cargo.toml");
    let workspace: toml::Table =
        toml::from_str(&std::fs::read_to_string(&workspace_path).context("Cargo.toml")?)
            .context("Cargo.toml")?;
    let lock = dir().join(".lock");
    std::fs::create_dir_all(dir()).with_context(|| dir().display().to_string())?;
    let lock = std::fs::File::create(&lock).with_context(|| lock.display().to_string())?;
    lock.lock()
        .with_context(|| format!("locking {}", dir().display()))?;
    let mut members = Vec::new();
    for step in &course.step {
        let solution = root().join("solutions").join(&step.id);
        for (n, mistake) in kind.edits(step).iter().enumerate() {
            let name = step.package(kind.variant(n));
            let crate_dir = dir().join(&name);
            for entry in walkdir::WalkDir::new(solution.join("src")) {
                let entry = entry.context("reading a solution")?;
                if !entry.file_type().is_file() {
                    continue;
                }
                let rel = entry.path().strip_prefix(&solution).unwrap_or(entry.path());
                let text = std::fs::read_to_string(entry.path())
                    .with_context(|| entry.path().display().to_string())?;
                let text = match rel == Path::new(&mistake.file) {
                    true => apply(step, mistake, &text)?,
                    false => text,
                };
                write_if_changed(&crate_dir.join(rel), &text)?;
            }
            if !solution.join(&mistake.file).is_file() {
                bail!(
                    "course.toml: step {}, mistake '{}': no file solutions/{}/{}",
                    step.id,
                    mistake.id,
                    step.id,
                    mistake.file
                );
            }
            write_if_changed(
                &crate_dir.join("Cargo.toml"),
                &cargo_toml(step, kind, n, &workspace)?,
            )?;
            members.push(name);
        }
    }
    // The same versions as the course's own build, without a network
    // (cargo adds the mistakes' own packages to it).
    let lock_file = root().join("Cargo.lock");
    let text = std::fs::read_to_string(&lock_file).context("Cargo.lock")?;
    write_if_changed(&dir().join("Cargo.lock"), &text)?;
    let members: Vec<String> = members.iter().map(|m| format!("    {m:?},\n")).collect();
    write_if_changed(
        &kind.manifest(),
        &format!(
            "# Written by xtask (src/mistakes.rs): every {} made.\n\
             [workspace]\nresolver = \"3\"\nmembers = [\n{}]\n\n[profile.release]\ndebug = false\n",
            kind.name(),
            members.concat()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistake_is_made_once_and_only_in_a_solution_region() {
        let course = Course::load().unwrap();
        let step = course.step[0].clone();
        let text =
            "let a = 1;\n// @solution\nlet b = 2;\n// @exercise\n// todo!()\n// @end\nlet c = 2;\n";
        let mistake = |find: &str| Mistake {
            id: "m".into(),
            file: "src/main.rs".into(),
            find: find.into(),
            replace: "X".into(),
            diagnosis: "todo".into(),
        };
        assert_eq!(
            apply(&step, &mistake("b = 2"), text).unwrap(),
            text.replace("b = 2", "X")
        );
        // outside the regions, twice, never
        for find in ["a = 1", "= 2", "nothing"] {
            assert!(apply(&step, &mistake(find), text).is_err(), "{find}");
        }
    }
}
