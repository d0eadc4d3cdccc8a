//! Everything about running a VM, and nothing about what a step must show.
//!
//! [`Lab::prepare`] does the slow work once (host tools, kernel, static
//! builds, the base initramfs and the saved VM); [`Lab::boot`] writes a
//! step's payload disk in a run directory of its own and starts a VM with it
//! (restored from the saved one, or booted); [`Lab::shell`] boots it
//! interactively. Run directories
//! (`target/nslab-vm/runs/…`) are removed when their run ends, however it
//! ends — kept only with `NSLAB_KEEP_RUNS=1`, for debugging — and those of
//! processes that died without cleaning up are swept at the next start.
//!
//! - [`host`]: QEMU, the kernel and busybox, found or fetched;
//! - [`kernel`]: the guest kernel, unpacked once for a fast boot;
//! - [`guest`]: the steps' programs, built static for the VM;
//! - [`initramfs`]: the VM's files, as cpio archives;
//! - [`snapshot`]: the booted VM, saved once and restored for each run;
//! - [`vm`]: one QEMU run, and how it ended.

pub mod guest;
pub mod host;
pub mod initramfs;
pub mod kernel;
pub mod snapshot;
pub mod vm;

use crate::course::{Course, Step, Variant};
use crate::{root, vm_dir};
use anyhow::{Context, Result, bail};
use nslab_protocol::RunArgs;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
pub use vm::{Accel, End, Machine, Run};

/// Shell functions every scenario can use (`run`, `note`, `start`...).
const SCENARIO_LIB: &str = "tests/scenarios/lib.sh";

/// Built binaries by cargo name.
type Bins = HashMap<String, PathBuf>;

/// Everything built once and shared by the VMs of one invocation.
pub struct Lab {
    pub course: Course,
    pub accel: Accel,
    pub tools: host::Tools,
    kernel: PathBuf,
    /// The base initramfs: the init, the virtio modules, the common files.
    base: PathBuf,
    /// The saved VM every run starts from, unless snapshots are off.
    snapshot: Option<PathBuf>,
    /// Built binaries by cargo name (`sem`, `sem-exercise`, `nslab-init`).
    bins: Bins,
    /// Exercises that did not compile: the compiler's errors, by package.
    /// Each is graded as such; the others still run.
    unbuilt: HashMap<String, String>,
    /// The compiler's messages about the exercises built, by package.
    messages: HashMap<String, Vec<guest::Diagnostic>>,
}

/// Whether run directories are kept (`NSLAB_KEEP_RUNS=1`).
pub fn keep_runs() -> bool {
    std::env::var("NSLAB_KEEP_RUNS").is_ok_and(|v| v == "1")
}

/// Check the `NSLAB_*` variables before anything is built or booted: each
/// error names the variable. Gives the accelerator the VMs will use.
pub fn check_environment() -> Result<Accel> {
    let accel = Accel::detect()?;
    host::kernel_from_env()?;
    snapshot::wanted()?;
    if let Ok(value) = std::env::var("NSLAB_KEEP_RUNS")
        && !matches!(value.as_str(), "" | "0" | "1")
    {
        bail!("NSLAB_KEEP_RUNS must be 1 (keep the VMs' run directories) or 0, not '{value}'");
    }
    Ok(accel)
}

pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn runs_dir() -> PathBuf {
    vm_dir().join("runs")
}

/// Remove the run directories of processes that are gone (`STEP-VARIANT-PID-…`).
fn sweep_runs() {
    let Ok(entries) = std::fs::read_dir(runs_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .split('-')
            .find_map(|w| w.strip_prefix('p')?.parse::<i32>().ok());
        let alive = pid.is_some_and(|pid| {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        });
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The run directories of this process that exist now: what the signal
/// handler removes.
static RUN_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn run_dirs() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    RUN_DIRS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remove every run directory of this process (unless runs are kept). The
/// signal handler calls it once it has made [`vm::stopping`] true, so no
/// new directory is made after it.
fn remove_run_dirs() {
    let dirs = run_dirs();
    if !keep_runs() {
        for dir in dirs.iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A run's directory: removed when dropped, unless runs are kept.
pub struct RunDir {
    dir: Option<tempfile::TempDir>,
}

impl RunDir {
    fn new(step: &Step, variant: Variant) -> Result<RunDir> {
        let mut registry = run_dirs();
        anyhow::ensure!(!vm::stopping(), "interrupted");
        let runs = runs_dir();
        std::fs::create_dir_all(&runs).with_context(|| runs.display().to_string())?;
        let dir = tempfile::Builder::new()
            .prefix(&format!(
                "{}-{}-p{}-",
                step.id,
                variant.name(),
                std::process::id()
            ))
            .tempdir_in(&runs)
            .with_context(|| runs.display().to_string())?;
        registry.push(dir.path().to_path_buf());
        Ok(RunDir { dir: Some(dir) })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().map(|d| d.path()).unwrap_or(Path::new(""))
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        run_dirs().retain(|d| d != dir.path());
        if keep_runs() {
            eprintln!("nslab: run directory kept: {}", dir.keep().display());
        }
    }
}

impl Lab {
    /// Find or fetch the host tools, unpack the kernel, and build the
    /// programs of each step in the variant asked for (plus the solutions of
    /// every earlier step, which the scenarios use as tools).
    pub fn prepare(course: Course, builds: &[(Step, Variant)]) -> Result<Lab> {
        let accel = check_environment()?;
        vm::install_signal_handler();
        sweep_runs();
        let mut modules: Vec<String> = course.all().flat_map(|s| s.modules.clone()).collect();
        modules.extend(nslab_protocol::BASE_MODULES.map(String::from));
        modules.sort();
        modules.dedup();
        let tools = host::ensure(&modules)?;
        let kernel = kernel::bootable(&tools)?;
        let applets = initramfs::busybox_applets(&tools.busybox)?;
        // The course's own programs must compile; each exercise may not.
        let mut packages: Vec<String> = Vec::new();
        let mut exercises: Vec<String> = Vec::new();
        let mut mistakes: Vec<String> = Vec::new();
        for (step, variant) in builds {
            for earlier in course.before(&step.id) {
                packages.push(earlier.package(Variant::Solution));
            }
            if step.demo {
                continue;
            }
            let list = match variant {
                Variant::Mistake(_) => &mut mistakes,
                Variant::Exercise => &mut exercises,
                Variant::Solution | Variant::Previous => &mut packages,
            };
            list.push(step.package(*variant));
        }
        for list in [&mut packages, &mut exercises, &mut mistakes] {
            list.sort();
            list.dedup();
        }
        let mut bins = guest::build(&packages)?;
        let Exercises {
            bins: built,
            unbuilt,
            messages,
        } = build_exercises(&exercises)?;
        bins.extend(built);
        if !mistakes.is_empty() {
            crate::mistakes::write_all(&course)?;
            bins.extend(guest::build_in(&crate::mistakes::manifest(), &mistakes)?);
        }
        let init = bins
            .get("nslab-init")
            .context("the build produced no binary 'nslab-init'")?;
        let common = common_files(&course, &tools, &applets)?;
        let base = base_initramfs(&tools, init, &common)?;
        let mut lab = Lab {
            course,
            accel,
            tools,
            kernel,
            base,
            snapshot: None,
            bins,
            unbuilt,
            messages,
        };
        if snapshot::wanted()? {
            let template = lab.template(PathBuf::new(), PathBuf::new(), 0);
            match snapshot::ensure(&template) {
                Ok(state) => lab.snapshot = Some(state),
                Err(err) => eprintln!(
                    "nslab: could not save a booted VM ({err:#}); booting every VM instead"
                ),
            }
        }
        Ok(lab)
    }

    /// The saved VM every run starts from, if any.
    pub fn snapshot(&self) -> Option<&Path> {
        self.snapshot.as_deref()
    }

    /// Start the runs from this saved VM instead (or boot them, with
    /// `None`): for the tests of a restore that fails.
    pub fn replace_snapshot(&mut self, state: Option<PathBuf>) {
        self.snapshot = state;
    }

    /// A VM of this lab with `disk`, its files in `out_dir`.
    fn template(&self, disk: PathBuf, out_dir: PathBuf, timeout: u64) -> Machine {
        Machine {
            tools: self.tools.clone(),
            kernel: self.kernel.clone(),
            initramfs: self.base.clone(),
            disk,
            snapshot: self.snapshot.clone(),
            accel: self.accel,
            timeout,
            out_dir,
            stream: false,
        }
    }

    /// The compiler's errors, when the variant of `step` did not compile.
    pub fn build_error(&self, step: &Step, variant: Variant) -> Option<&str> {
        self.unbuilt.get(&step.package(variant)).map(String::as_str)
    }

    /// The compiler's messages about the exercise of `step`.
    pub fn exercise_messages(&self, step: &Step) -> &[guest::Diagnostic] {
        self.messages
            .get(&step.package(Variant::Exercise))
            .map_or(&[], Vec::as_slice)
    }

    fn bin(&self, name: &str) -> Result<&Path> {
        self.bins
            .get(name)
            .map(PathBuf::as_path)
            .with_context(|| format!("the build produced no binary '{name}'"))
    }

    /// The VM's files for one run, on top of the common ones
    /// ([`common_files`]): its host tools, programs, scenario and modules,
    /// written as the payload disk `dir/payload.img`.
    fn payload(
        &self,
        step: &Step,
        variant: Variant,
        script: &str,
        args: RunArgs,
        dir: &Path,
    ) -> Result<PathBuf> {
        let mut tree = initramfs::Tree::default();
        for tool in &step.host_tools {
            let program = self.tools.program(tool)?;
            initramfs::host_program(&mut tree, &self.tools, &program, "", "/bin")?;
        }
        for earlier in self.course.before(&step.id) {
            for bin in &earlier.bins {
                tree.copy(&format!("/bin/{bin}"), self.bin(bin)?, 0o755)?;
            }
        }
        let previous = self.course.before(&step.id).last();
        for (i, bin) in step.bins.iter().enumerate() {
            let built = match (variant, previous) {
                // A program the previous step lacks (a provided tool, such
                // as the pivot step's escape) is this step's solution's.
                (Variant::Previous, Some(previous)) => match previous.bins.get(i) {
                    Some(theirs) => theirs.clone(),
                    None => step.built_bin(bin, Variant::Solution),
                },
                (Variant::Previous, None) => bail!("step {} is the first", step.id),
                _ => step.built_bin(bin, variant),
            };
            tree.copy(&format!("/bin/{bin}"), self.bin(&built)?, 0o755)?;
        }
        for module in &step.modules {
            let path = kernel::module(&self.tools, module)?;
            tree.copy(&format!("/lib/modules/{module}.ko"), &path, 0o644)?;
        }
        tree.file("/scenario.sh", script.as_bytes().to_vec(), 0o755);

        let mut archive = Vec::new();
        tree.write(&mut archive).context("writing the payload")?;
        let path = dir.join("payload.img");
        initramfs::write_disk(&path, args, &archive)?;
        Ok(path)
    }

    /// The scenario of a step, with the shared shell functions before it.
    pub fn scenario(step: &Step) -> Result<String> {
        let read = |rel: &str| {
            let path = root().join(rel);
            std::fs::read_to_string(&path).with_context(|| path.display().to_string())
        };
        Ok(format!(
            "{}\n{}",
            read(SCENARIO_LIB)?,
            read(&step.scenario)?
        ))
    }

    /// A VM for `step`, its files in `dir`.
    fn machine(
        &self,
        step: &Step,
        variant: Variant,
        script: &str,
        args: RunArgs,
        dir: &RunDir,
    ) -> Result<Machine> {
        let timeout = args.timeout;
        let disk = self.payload(step, variant, script, args, dir.path())?;
        Ok(self.template(disk, dir.path().to_path_buf(), timeout))
    }

    /// Start one VM for `step` running `script`; its directory goes when the
    /// run ends.
    pub fn boot(&self, step: &Step, variant: Variant, script: &str) -> Result<Run> {
        let dir = RunDir::new(step, variant)?;
        self.machine(step, variant, script, run_args(step, false), &dir)?
            .run()
    }

    /// Start one VM for `step` running `script`, its stdout and stderr shown
    /// here as they come (`cargo xtask run`).
    pub fn boot_streaming(&self, step: &Step, variant: Variant, script: &str) -> Result<Run> {
        let dir = RunDir::new(step, variant)?;
        let mut machine = self.machine(step, variant, script, run_args(step, false), &dir)?;
        machine.stream = true;
        machine.run()
    }

    /// Start one VM for `step`'s solution running `script`, restored or
    /// booted as `restored` says, for `cargo xtask bench --vm`.
    pub fn boot_as(&self, step: &Step, script: &str, restored: bool) -> Result<Run> {
        let dir = RunDir::new(step, Variant::Solution)?;
        let args = run_args(step, false);
        let mut machine = self.machine(step, Variant::Solution, script, args, &dir)?;
        if !restored {
            machine.snapshot = None;
        } else {
            anyhow::ensure!(
                machine.snapshot.is_some(),
                "no saved VM to restore (is NSLAB_SNAPSHOT off?)"
            );
        }
        machine.run()
    }

    /// An interactive VM with the step's programs on PATH, on this
    /// terminal (booted: its console is this terminal from the start).
    pub fn shell(&self, step: &Step, variant: Variant) -> Result<()> {
        require_terminal(step)?;
        let dir = RunDir::new(step, variant)?;
        let args = run_args(step, true);
        let mut machine = self.machine(step, variant, "", args, &dir)?;
        machine.snapshot = None;
        machine.interactive()
    }
}

/// What the init is asked for a run of `step`: the scenario with the step's
/// timeout, or an interactive shell with none.
fn run_args(step: &Step, shell: bool) -> RunArgs {
    RunArgs {
        timeout: if shell { 0 } else { step.timeout },
        modules: step.modules.clone(),
        shell,
    }
}

/// The files every run has, whatever its step: busybox and its applets, the
/// few files of /etc and, since some steps use it, a container's root
/// filesystem at /rootfs. They go into the base initramfs
/// ([`nslab_protocol::COMMON_ARCHIVE`]): a restored VM has them already.
/// (A step's host tools stay in its payload: their libraries would show in
/// the VM's `/`.)
fn common_files(
    course: &Course,
    tools: &host::Tools,
    applets: &[String],
) -> Result<initramfs::Tree> {
    let mut tree = initramfs::Tree::default();
    tree.dir("/dev")
        .dir("/proc")
        .dir("/sys")
        .dir("/tmp")
        .dir("/root")
        .file("/etc/passwd", PASSWD.into(), 0o644)
        .file("/etc/group", GROUP.into(), 0o644)
        .file("/etc/hostname", b"nslab\n".to_vec(), 0o644);
    tree.busybox("/bin", &tools.busybox, applets)?;
    if course.all().any(|step| step.rootfs) {
        initramfs::container_rootfs(&mut tree, tools, "/rootfs", applets)?;
    }
    Ok(tree)
}

/// The base initramfs: the guest init, the virtio modules and the `common`
/// files, the same for every step and run; kept in target/nslab-vm under a
/// digest of its bytes.
fn base_initramfs(tools: &host::Tools, init: &Path, common: &initramfs::Tree) -> Result<PathBuf> {
    use sha2::Digest;
    let mut tree = initramfs::Tree::default();
    tree.copy("/init", init, 0o755)?;
    let mut archive = Vec::new();
    common
        .write(&mut archive)
        .context("writing the common files")?;
    tree.file(nslab_protocol::COMMON_ARCHIVE, archive, 0o644);
    // The kernel opens /dev/console for init before it runs it.
    tree.char_dev("/dev/console", 5, 1)
        .char_dev("/dev/null", 1, 3);
    for module in nslab_protocol::BASE_MODULES {
        let path = kernel::module(tools, module)?;
        tree.copy(&format!("/lib/modules/{module}.ko"), &path, 0o644)?;
    }
    let mut archive = Vec::new();
    tree.write(&mut archive)
        .context("writing the base initramfs")?;
    let digest = sha2::Sha256::digest(&archive);
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let dir = vm_dir();
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let path = dir.join(format!("base-{name}.cpio"));
    if !path.exists() {
        let mut tmp =
            tempfile::NamedTempFile::new_in(&dir).with_context(|| dir.display().to_string())?;
        std::io::Write::write_all(&mut tmp, &archive).context("writing the base initramfs")?;
        tmp.persist(&path)
            .with_context(|| path.display().to_string())?;
        // Those of earlier inits are of no more use.
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("base-") && name.ends_with(".cpio") && entry.path() != path {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(path)
}

/// What the build of the exercises gave: the binaries, and by package the
/// compiler's messages and, for those that did not compile, its errors.
struct Exercises {
    bins: Bins,
    unbuilt: HashMap<String, String>,
    messages: HashMap<String, Vec<guest::Diagnostic>>,
}

/// Build the exercises: all at once, and when that fails one by one, so
/// that one that does not compile keeps none of the others from running.
fn build_exercises(packages: &[String]) -> Result<Exercises> {
    let manifest = root().join("Cargo.toml");
    let mut built = Exercises {
        bins: HashMap::new(),
        unbuilt: HashMap::new(),
        messages: HashMap::new(),
    };
    if packages.is_empty() {
        return Ok(built);
    }
    let all = guest::compile(&manifest, packages)?;
    let builds = if all.success || packages.len() == 1 {
        vec![(packages.to_vec(), all)]
    } else {
        let mut one_by_one = Vec::new();
        for package in packages {
            let one = guest::compile(&manifest, std::slice::from_ref(package))?;
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

/// `cargo xtask shell` needs a terminal: QEMU's console passes no
/// end-of-file, so without one the shell would never end.
pub fn require_terminal(step: &Step) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        bail!(
            "cargo xtask shell needs a terminal, and standard input is not one; \
             to run a command without one: cargo xtask run {} -- COMMAND",
            step.id
        );
    }
    Ok(())
}

/// The VM's users: root, nobody, and student (uid 1000), an ordinary user
/// for the steps that run without privilege (`su student -c CMD`).
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nstudent:x:1000:1001:student:/tmp:/bin/sh\n";
const GROUP: &str = "root:x:0:\nnogroup:x:65534:\nstudent:x:1001:\n";

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
