//! A step, run in a fresh VM and compared with its reviewed snapshot.
//!
//! [`Lab::prepare`] does the slow work once (packages, kernel, static
//! builds); [`Lab::run`] builds the step's initramfs and boots it;
//! [`Outcome`] says whether the transcript matched `tests/snapshots/ID.snap`.

use crate::course::{Course, Step, Variant};
use crate::normalize::Normalizer;
use crate::vm::{Accel, End, Machine, Run};
use crate::{Result, guest, initramfs, io_err, kernel, provision, root, vm_dir};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Shell functions every scenario can use (`run`, `note`, `start`...).
const SCENARIO_LIB: &str = "tests/scenarios/lib.sh";

/// Everything built once and shared by the VMs of one invocation.
pub struct Lab {
    pub course: Course,
    pub accel: Accel,
    vmlinuz: PathBuf,
    kernel: PathBuf,
    busybox: PathBuf,
    applets: Vec<String>,
    /// Built binaries by cargo name (`sem`, `sem-exercise`, `nslab-init`).
    bins: HashMap<String, PathBuf>,
}

impl Lab {
    /// Install what is missing, unpack the kernel, and build the programs of
    /// `steps` in the `variants` asked for (plus the solutions of every
    /// earlier step, which the scenarios use as tools).
    pub fn prepare(course: Course, steps: &[Step], variants: &[Variant]) -> Result<Lab> {
        provision::ensure()?;
        let accel = Accel::detect()?;
        let vmlinuz = kernel::find_vmlinuz()?;
        let kernel = kernel::bootable(&vmlinuz)?;
        let busybox = initramfs::find_busybox()?;
        let applets = initramfs::busybox_applets(&busybox)?;
        let mut packages: Vec<String> = Vec::new();
        for step in steps {
            for earlier in course.before(&step.id) {
                packages.push(earlier.package(Variant::Solution));
            }
            for &variant in variants {
                packages.push(step.package(variant));
            }
        }
        packages.sort();
        packages.dedup();
        let bins = guest::build(&packages)?;
        Ok(Lab {
            course,
            accel,
            vmlinuz,
            kernel,
            busybox,
            applets,
            bins,
        })
    }

    fn bin(&self, name: &str) -> Result<&Path> {
        self.bins
            .get(name)
            .map(PathBuf::as_path)
            .ok_or_else(|| format!("the build produced no binary '{name}'"))
    }

    /// The VM's files for one step: init, busybox, programs, scenario,
    /// written as `dir/initramfs.cpio`.
    pub fn initramfs(
        &self,
        step: &Step,
        variant: Variant,
        script: &str,
        dir: &Path,
    ) -> Result<PathBuf> {
        let mut tree = initramfs::Tree::default();
        tree.copy("/init", self.bin("nslab-init")?, 0o755)?;
        tree.char_dev("/dev/console", 5, 1)
            .char_dev("/dev/null", 1, 3)
            .dir("/proc")
            .dir("/sys")
            .dir("/tmp")
            .dir("/root")
            .file("/etc/passwd", PASSWD.into(), 0o644)
            .file("/etc/group", GROUP.into(), 0o644)
            .file("/etc/hostname", b"nslab\n".to_vec(), 0o644);
        tree.busybox("/bin", &self.busybox, &self.applets)?;
        if step.rootfs {
            initramfs::container_rootfs(&mut tree, "/rootfs", &self.busybox, &self.applets)?;
        }
        for tool in &step.host_tools {
            initramfs::host_program(&mut tree, Path::new(tool), "", "/bin")?;
        }
        for earlier in self.course.before(&step.id) {
            for bin in &earlier.bins {
                tree.copy(&format!("/bin/{bin}"), self.bin(bin)?, 0o755)?;
            }
        }
        let previous = self.course.before(&step.id).last();
        for (i, bin) in step.bins.iter().enumerate() {
            let built = match (variant, previous) {
                (Variant::Previous, Some(previous)) => previous
                    .bins
                    .get(i)
                    .ok_or_else(|| {
                        format!("step {} has fewer programs than {}", previous.id, step.id)
                    })?
                    .clone(),
                (Variant::Previous, None) => return Err(format!("step {} is the first", step.id)),
                _ => step.built_bin(bin, variant),
            };
            tree.copy(&format!("/bin/{bin}"), self.bin(&built)?, 0o755)?;
        }
        for module in &step.modules {
            let path = kernel::module(&self.vmlinuz, module)?;
            tree.copy(&format!("/lib/modules/{module}.ko"), &path, 0o644)?;
        }
        tree.file("/scenario.sh", script.as_bytes().to_vec(), 0o755);

        std::fs::create_dir_all(dir).map_err(|e| io_err(dir.display(), e))?;
        let path = dir.join("initramfs.cpio");
        let mut out = Vec::new();
        tree.write(&mut out).map_err(|e| io_err("initramfs", e))?;
        std::fs::write(&path, out).map_err(|e| io_err(path.display(), e))?;
        Ok(path)
    }

    /// A directory of its own for each VM of this process, since the same
    /// step may boot several times at once.
    fn run_dir(&self, step: &Step, variant: Variant) -> PathBuf {
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("{}-{}-{}-{n}", step.id, variant.name(), std::process::id());
        vm_dir().join("runs").join(name)
    }

    /// The scenario of a step, with the shared shell functions before it.
    pub fn scenario(step: &Step) -> Result<String> {
        let read = |rel: &str| {
            let path = root().join(rel);
            std::fs::read_to_string(&path).map_err(|e| io_err(path.display(), e))
        };
        Ok(format!(
            "{}\n{}",
            read(SCENARIO_LIB)?,
            read(&step.scenario)?
        ))
    }

    /// A VM for `step`, its files in a directory of its own.
    fn machine(
        &self,
        step: &Step,
        variant: Variant,
        script: &str,
        timeout: u64,
    ) -> Result<Machine> {
        let dir = self.run_dir(step, variant);
        Ok(Machine {
            kernel: self.kernel.clone(),
            initramfs: self.initramfs(step, variant, script, &dir)?,
            accel: self.accel,
            modules: step.modules.clone(),
            timeout,
            out_dir: dir,
        })
    }

    /// Boot one VM for `step` running `script`.
    /// The run's files are removed when the VM finished normally, and kept
    /// (their path is in the command line shown) when it did not.
    pub fn boot(&self, step: &Step, variant: Variant, script: &str) -> Result<Run> {
        let machine = self.machine(step, variant, script, step.timeout)?;
        let run = machine.run()?;
        if run.end == End::Done {
            let _ = std::fs::remove_dir_all(&machine.out_dir);
        }
        Ok(run)
    }

    /// An interactive VM with the step's programs on PATH.
    pub fn shell(&self, step: &Step, variant: Variant) -> Result<()> {
        let machine = self.machine(step, variant, "", 0)?;
        let result = machine.interactive();
        let _ = std::fs::remove_dir_all(&machine.out_dir);
        result
    }
}

const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\nnogroup:x:65534:\n";

/// The text compared with the snapshot: the scenario's stdout, its stderr
/// if any, and how it ended, with what it leaked. Volatile values are
/// normalised.
pub fn transcript(run: &Run) -> String {
    let first_pid = run.scenario_pid().unwrap_or(u64::MAX);
    let mut parts = Vec::new();
    if !run.stdout.trim().is_empty() {
        parts.push(run.stdout.trim().to_string());
    }
    if !run.stderr.trim().is_empty() {
        parts.push(format!("[stderr]\n{}", run.stderr.trim_end()));
    }
    for line in run.events() {
        match line.strip_prefix("leak: ") {
            Some(leak) => parts.push(format!("[leaked: {leak}]")),
            None => parts.push(format!("[scenario ended: {line}]")),
        }
    }
    Normalizer::new(first_pid).apply(&parts.join("\n"))
}

/// How one step's check ended.
pub struct Outcome {
    pub step: String,
    pub variant: Variant,
    pub accel: Accel,
    pub seconds: f64,
    /// The guest's own view: kernel start to scenario start, and scenario.
    pub guest_times: Option<(f64, f64)>,
    pub matched: bool,
    /// Whether it should have matched (false for an untouched exercise).
    pub expect_match: bool,
    /// What went wrong, for a person: the diff, the VM's end, diagnoses.
    pub details: String,
    pub transcript: String,
}

impl Outcome {
    /// The run ended as it should: matched when it had to, not otherwise.
    /// A VM that did not finish is never ok.
    pub fn ok(&self) -> bool {
        self.matched == self.expect_match && !self.transcript.is_empty()
    }
}

/// insta prints its diff on stderr: one at a time.
static COMPARE: Mutex<()> = Mutex::new(());

/// Run a step and compare. For the solution the comparison goes through
/// insta (a changed output becomes a `.snap.new` to review with `cargo insta
/// review`, except under CI); for an exercise it is read-only.
pub fn check(lab: &Lab, step: &Step, variant: Variant) -> Outcome {
    let mut outcome = Outcome {
        step: step.id.clone(),
        variant,
        accel: lab.accel,
        seconds: 0.0,
        guest_times: None,
        matched: false,
        expect_match: true,
        details: String::new(),
        transcript: String::new(),
    };
    let run = match Lab::scenario(step).and_then(|script| lab.boot(step, variant, &script)) {
        Ok(run) => run,
        Err(err) => {
            outcome.details = err;
            return outcome;
        }
    };
    outcome.seconds = run.seconds;
    outcome.accel = run.accel;
    outcome.guest_times = run.guest_times();
    if run.end != End::Done {
        outcome.details = format!(
            "the VM did not finish: {:?}\n{}",
            run.end,
            run.failure_details()
        );
        return outcome;
    }
    outcome.transcript = transcript(&run);
    let _one_at_a_time = COMPARE.lock().unwrap_or_else(|e| e.into_inner());
    let (matched, diff) = match variant {
        Variant::Solution => (insta_matches(step, &outcome.transcript), String::new()),
        Variant::Exercise | Variant::Previous => compare_read_only(step, &outcome.transcript),
    };
    outcome.matched = matched;
    if !matched {
        outcome.details = diff;
        for diagnosis in diagnose(step, &outcome.transcript) {
            outcome
                .details
                .push_str(&format!("likely mistake: {diagnosis}\n"));
        }
        if run.scenario_end().is_some_and(|e| e.starts_with("timeout")) {
            outcome.details.push_str(&format!(
                "the scenario did not end within {} s and was killed\n{}",
                step.timeout,
                run.failure_details()
            ));
        }
    }
    outcome
}

pub fn snapshot_dir() -> PathBuf {
    root().join("tests").join("snapshots")
}

fn insta_settings(step: &Step) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir());
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!("{} — {}", step.id, step.title));
    settings
}

fn insta_matches(step: &Step, transcript: &str) -> bool {
    let settings = insta_settings(step);
    settings.bind(|| {
        std::panic::catch_unwind(|| insta::assert_snapshot!(step.id.as_str(), transcript)).is_ok()
    })
}

/// The reviewed snapshot of a step, without insta's header.
pub fn read_snapshot(step_id: &str) -> Option<String> {
    let text = std::fs::read_to_string(snapshot_path(step_id)).ok()?;
    let (_, body) = split_snapshot(&text)?;
    Some(body.trim_end().to_string())
}

/// `tests/snapshots/<step>.snap`.
pub fn snapshot_path(step_id: &str) -> PathBuf {
    snapshot_dir().join(format!("{step_id}.snap"))
}

/// A snapshot file as insta writes it (`---`, header fields, `---`, body):
/// the line its body starts on, counted from 1, and the body.
pub fn split_snapshot(text: &str) -> Option<(usize, &str)> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    let header_fields = rest[..end].lines().count();
    Some((header_fields + 3, &rest[end + 5..]))
}

fn compare_read_only(step: &Step, transcript: &str) -> (bool, String) {
    let Some(expected) = read_snapshot(&step.id) else {
        return (
            false,
            format!("no snapshot tests/snapshots/{}.snap\n", step.id),
        );
    };
    if expected == transcript.trim_end() {
        return (true, String::new());
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), transcript);
    let mut out = String::from("expected (-) and what your program gave (+):\n");
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        out.push_str(&format!("{sign} {}", change.value()));
        if change.missing_newline() {
            out.push('\n');
        }
    }
    (false, out)
}

/// The manifest's diagnoses whose pattern the output matches.
pub fn diagnose(step: &Step, transcript: &str) -> Vec<String> {
    step.diagnosis
        .iter()
        .filter(|d| regex::Regex::new(&d.pattern).is_ok_and(|re| re.is_match(transcript)))
        .map(|d| d.message.clone())
        .collect()
}

/// Run `jobs` on up to `parallel` threads, results in the jobs' order.
pub fn in_parallel<J: Sync, R: Send>(
    jobs: &[J],
    parallel: usize,
    work: impl Fn(&J) -> R + Sync,
) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1).min(jobs.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let result = work(job);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

/// How many VMs to run at once: one per core.
pub fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_split_into_header_and_body() {
        let text =
            "---\nsource: a.rs\nassertion_line: 3\ndescription: d\n---\nline one\nline two\n";
        assert_eq!(split_snapshot(text), Some((6, "line one\nline two\n")));
        assert_eq!(split_snapshot("no header"), None);
    }
}
