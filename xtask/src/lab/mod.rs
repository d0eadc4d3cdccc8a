//! Everything about running a VM, and nothing about what a step must show,
//! nor about the course: the lab is handed plain data — the packages to
//! build ([`Setup`]), and for each run the files to put in the VM
//! ([`Payload`]) — by [`crate::setup`], which reads the course.
//!
//! [`Lab::prepare`] does the slow work once (host tools, kernel, static
//! builds, the base initramfs and the saved VM); [`Lab::run`] writes a
//! run's payload disk in a run directory of its own and runs a VM with it
//! (restored from the saved one, or booted cold when there is none or the
//! restore fails); [`Lab::shell`] boots one interactively.
//!
//! Wiring, bottom up — each module imports only those above it (in
//! brackets), and of the rest of the crate only [`crate::root`] and
//! [`crate::vm_dir`]:
//!
//! - [`cleanup`]: the registries of running QEMUs and of run directories,
//!   and the signal handler that empties both;
//! - [`host`]: QEMU, the kernel and busybox, found or fetched;
//! - [`kernel`]: the guest kernel, unpacked once for a fast boot (host);
//! - [`guest`]: the course's programs, built static for the VM;
//! - [`initramfs`]: the VM's files, as cpio archives (host);
//! - [`base`]: the files every VM has, and the base initramfs (host,
//!   initramfs, kernel);
//! - [`qemu`]: the QEMU command line and process (host, cleanup);
//! - [`qmp`]: QEMU's monitor;
//! - [`snapshot`]: the saved VM: its key, its save and its restore (qemu,
//!   qmp);
//! - [`vm`]: one QEMU run of a VM, and how it ended (qemu, snapshot);
//! - [`machine`]: the machine's policy: restore, else boot cold, and give
//!   restores up after a failure (qemu, vm);
//! - this module: [`Lab`], which puts them together (all of the above).

pub mod base;
pub mod cleanup;
pub mod guest;
pub mod host;
pub mod initramfs;
pub mod kernel;
pub mod machine;
pub mod qemu;
pub mod qmp;
pub mod snapshot;
pub mod vm;

use anyhow::{Context, Result, bail};
use cleanup::RunDir;
pub use machine::Machine;
use nslab_protocol::RunArgs;
pub use qemu::Accel;
use qemu::Qemu;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
pub use vm::{Run, VmEnd};

/// What a lab builds, and what its VMs must be able to carry: plain data,
/// made from the course by [`crate::setup`].
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// Packages of the workspace that must compile: the course's own
    /// programs (the guest init is always built too).
    pub packages: Vec<String>,
    /// Packages of the workspace that may not compile (the exercises): each
    /// that does not is graded as such ([`Lab::build_error`]).
    pub exercises: Vec<String>,
    /// Packages of another workspace (its `Cargo.toml`), which must compile:
    /// the mistakes'.
    pub elsewhere: Option<(PathBuf, Vec<String>)>,
    /// Every kernel module a run may load (the virtio ones are added).
    pub modules: Vec<String>,
    /// Whether the VMs carry a container's root filesystem at /rootfs.
    pub rootfs: bool,
}

/// One run's own files and arguments, on top of what every VM has: plain
/// data, made from a step and a variant by [`crate::setup`].
#[derive(Debug, Clone, Default)]
pub struct Payload {
    /// What the run is called in its directory's name (`sem-solution`).
    pub name: String,
    /// The programs in `/bin`: each name in the VM, and the binary built
    /// (by [`Setup`]) that it is.
    pub bins: Vec<(String, String)>,
    /// Host programs carried into `/bin` with their shared libraries.
    pub host_tools: Vec<String>,
    /// Kernel modules in `/lib/modules`, loaded by the guest init.
    pub modules: Vec<String>,
    /// The scenario the guest init runs (empty for a shell).
    pub script: String,
    /// Seconds the scenario may run.
    pub timeout: u64,
}

/// Everything built once and shared by the VMs of one invocation.
pub struct Lab {
    pub accel: Accel,
    pub tools: host::Tools,
    kernel: PathBuf,
    /// The base initramfs: the init, the virtio modules, the common files.
    base: PathBuf,
    /// The saved VM every run starts from, unless snapshots are off.
    snapshot: Option<PathBuf>,
    /// Built binaries by cargo name (`sem`, `sem-exercise`, `nslab-init`).
    bins: HashMap<String, PathBuf>,
    /// Exercises that did not compile: the compiler's errors, by package.
    /// Each is graded as such; the others still run.
    unbuilt: HashMap<String, String>,
    /// The compiler's messages about the exercises built, by package.
    messages: HashMap<String, Vec<guest::Diagnostic>>,
}

/// Check the `NSLAB_*` variables before anything is built or booted: each
/// error names the variable. Gives the accelerator the VMs will use. The
/// check is made once a process: a command calls it first, to refuse a bad
/// variable before any build, and [`Lab::prepare`] gets its answer again.
pub fn check_environment() -> Result<Accel> {
    static CHECKED: std::sync::OnceLock<std::result::Result<Accel, String>> =
        std::sync::OnceLock::new();
    let checked = CHECKED.get_or_init(|| {
        (|| {
            let accel = Accel::detect()?;
            host::kernel_from_env()?;
            snapshot::wanted()?;
            if let Ok(value) = std::env::var("NSLAB_KEEP_RUNS")
                && !matches!(value.as_str(), "" | "0" | "1")
            {
                bail!(
                    "NSLAB_KEEP_RUNS must be 1 (keep the VMs' run directories) or 0, not '{value}'"
                );
            }
            Ok(accel)
        })()
        .map_err(|err: anyhow::Error| format!("{err:#}"))
    });
    checked.clone().map_err(anyhow::Error::msg)
}

/// `cargo xtask shell` needs a terminal: QEMU's console passes no
/// end-of-file, so without one the shell would never end. `step`: the step
/// named in the advice.
pub fn require_terminal(step: &str) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        bail!(
            "cargo xtask shell needs a terminal, and standard input is not one; \
             to run a command without one: cargo xtask run {step} -- COMMAND"
        );
    }
    Ok(())
}

impl Lab {
    /// Find or fetch the host tools, unpack the kernel, build the programs
    /// `setup` names, write the base initramfs and save a booted VM.
    pub fn prepare(setup: &Setup) -> Result<Lab> {
        let accel = check_environment()?;
        cleanup::install_signal_handler();
        cleanup::sweep_runs();
        let mut modules = setup.modules.clone();
        modules.extend(nslab_protocol::BASE_MODULES.map(String::from));
        modules.sort();
        modules.dedup();
        let tools = host::ensure(&modules)?;
        let kernel = kernel::bootable(&tools)?;
        let applets = initramfs::busybox_applets(&tools.busybox)?;
        // The course's own programs must compile; each exercise may not.
        let sorted = |list: &[String]| {
            let mut list = list.to_vec();
            list.sort();
            list.dedup();
            list
        };
        let mut bins = guest::build(&sorted(&setup.packages))?;
        let guest::Exercises {
            bins: built,
            unbuilt,
            messages,
        } = guest::build_exercises(&sorted(&setup.exercises))?;
        bins.extend(built);
        if let Some((manifest, packages)) = &setup.elsewhere
            && !packages.is_empty()
        {
            bins.extend(guest::build_in(manifest, &sorted(packages))?);
        }
        let init = bins
            .get("nslab-init")
            .context("the build produced no binary 'nslab-init'")?;
        let common = base::common_files(&tools, &applets, setup.rootfs)?;
        let base = base::initramfs(&tools, init, &common)?;
        let mut lab = Lab {
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
            match snapshot::ensure(&lab.qemu(PathBuf::new(), PathBuf::new())) {
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

    /// A QEMU of this lab with `disk`, its files in `out_dir`.
    fn qemu(&self, disk: PathBuf, out_dir: PathBuf) -> Qemu {
        Qemu {
            tools: self.tools.clone(),
            kernel: self.kernel.clone(),
            initramfs: self.base.clone(),
            disk,
            accel: self.accel,
            out_dir,
        }
    }

    /// The compiler's errors, when `package` (an exercise) did not compile.
    pub fn build_error(&self, package: &str) -> Option<&str> {
        self.unbuilt.get(package).map(String::as_str)
    }

    /// The compiler's messages about `package` (an exercise).
    pub fn exercise_messages(&self, package: &str) -> &[guest::Diagnostic] {
        self.messages.get(package).map_or(&[], Vec::as_slice)
    }

    fn bin(&self, name: &str) -> Result<&Path> {
        self.bins
            .get(name)
            .map(PathBuf::as_path)
            .with_context(|| format!("the build produced no binary '{name}'"))
    }

    /// The VM's files for one run, on top of the common ones
    /// ([`base::common_files`]): its host tools, programs, scenario and
    /// modules, written as the payload disk `dir/payload.img`.
    fn payload(&self, payload: &Payload, args: RunArgs, dir: &Path) -> Result<PathBuf> {
        let mut tree = initramfs::Tree::default();
        for tool in &payload.host_tools {
            let program = self.tools.program(tool)?;
            initramfs::host_program(&mut tree, &self.tools, &program, "", "/bin")?;
        }
        for (name, built) in &payload.bins {
            tree.copy(&format!("/bin/{name}"), self.bin(built)?, 0o755)?;
        }
        for module in &payload.modules {
            let path = kernel::module(&self.tools, module)?;
            tree.copy(&format!("/lib/modules/{module}.ko"), &path, 0o644)?;
        }
        tree.file("/scenario.sh", payload.script.as_bytes().to_vec(), 0o755);

        let mut archive = Vec::new();
        tree.write(&mut archive).context("writing the payload")?;
        let path = dir.join("payload.img");
        initramfs::write_disk(&path, args, &archive)?;
        Ok(path)
    }

    /// A VM for `payload`, its files in `dir`: the scenario with the run's
    /// timeout, or (`shell`) an interactive shell with none.
    fn machine(&self, payload: &Payload, shell: bool, dir: &RunDir) -> Result<Machine> {
        let args = RunArgs {
            timeout: if shell { 0 } else { payload.timeout },
            modules: payload.modules.clone(),
            shell,
        };
        let timeout = args.timeout;
        let disk = self.payload(payload, args, dir.path())?;
        Ok(Machine {
            qemu: self.qemu(disk, dir.path().to_path_buf()),
            snapshot: self.snapshot.clone(),
            timeout,
            stream: false,
        })
    }

    /// Run one VM with `payload`: restored from the saved VM, or booted
    /// cold when there is none or the restore fails ([`Machine::run`]). Its
    /// directory goes when the run ends.
    pub fn run(&self, payload: &Payload) -> Result<Run> {
        let dir = RunDir::new(&payload.name)?;
        self.machine(payload, false, &dir)?.run()
    }

    /// Run one VM with `payload`, as [`Lab::run`] does, its stdout and stderr
    /// shown here as they come (`cargo xtask run`).
    pub fn run_streaming(&self, payload: &Payload) -> Result<Run> {
        let dir = RunDir::new(&payload.name)?;
        let mut machine = self.machine(payload, false, &dir)?;
        machine.stream = true;
        machine.run()
    }

    /// Run one VM with `payload`, restored or booted as `restored` says,
    /// for `cargo xtask bench --vm`.
    pub fn run_as(&self, payload: &Payload, restored: bool) -> Result<Run> {
        let dir = RunDir::new(&payload.name)?;
        let mut machine = self.machine(payload, false, &dir)?;
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

    /// An interactive VM with the payload's programs on PATH, on this
    /// terminal (booted: its console is this terminal from the start).
    /// `step`: the step named in the advice when there is no terminal.
    pub fn shell(&self, payload: &Payload, step: &str) -> Result<()> {
        require_terminal(step)?;
        let dir = RunDir::new(&payload.name)?;
        let mut machine = self.machine(payload, true, &dir)?;
        machine.snapshot = None;
        machine.interactive()
    }
}
