//! One throwaway VM: boot (or restore a saved one), run a scenario, collect
//! what it printed, and say precisely how it ended.
//!
//! QEMU gets the four serial ports of [`nslab_protocol::Port`], each written
//! to a file of the run's directory, the run's payload disk (virtio), and
//! the isa-debug-exit device the guest init leaves through. QEMU never outlives us: it gets SIGKILL when the
//! thread that started it dies (`PR_SET_PDEATHSIG`, so even a `kill -9` of
//! xtask takes its VMs with it), and on SIGINT, SIGTERM or SIGHUP xtask kills
//! every VM it runs and removes their directories before it exits
//! ([`install_signal_handler`]).

use super::host::Tools;
use anyhow::{Context, Result};
use nslab_protocol::{BOOTED, Port, QEMU_EXIT_DONE, Report, SCENARIO_STARTS};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// What a person sees of each output stream at most: a program that prints
/// 200 MB must not flood the terminal or the diff.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// The guest's memory.
const RAM: &str = "256M";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    pub fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }

    /// KVM only where it really works: /dev/kvm opens, the CPU has hardware
    /// virtualisation (vmx or svm) and a vendor KVM module is loaded. A
    /// paravirtualised nested KVM (kvm_pvm) has /dev/kvm but no vmx/svm, and a
    /// stock kernel hangs under it. `NSLAB_ACCEL=kvm|tcg` overrides; asking
    /// for kvm where /dev/kvm cannot be opened is an error before any boot.
    pub fn detect() -> Result<Accel> {
        let opens = || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/kvm")
        };
        match std::env::var("NSLAB_ACCEL").as_deref() {
            Ok("kvm") => {
                opens().context(
                    "NSLAB_ACCEL=kvm, but /dev/kvm cannot be opened (is this user in the kvm group?)",
                )?;
                return Ok(Accel::Kvm);
            }
            Ok("tcg") => return Ok(Accel::Tcg),
            Ok(other) if !other.is_empty() => {
                anyhow::bail!("NSLAB_ACCEL must be kvm or tcg, not '{other}'");
            }
            _ => {}
        }
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let hardware = cpuinfo
            .lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"));
        let vendor = Path::new("/sys/module/kvm_intel").exists()
            || Path::new("/sys/module/kvm_amd").exists();
        Ok(if opens().is_ok() && hardware && vendor {
            Accel::Kvm
        } else {
            Accel::Tcg
        })
    }
}

/// Everything one VM needs.
#[derive(Clone)]
pub struct Machine {
    pub tools: Tools,
    pub kernel: PathBuf,
    /// The base initramfs: the init and the virtio modules, the same for
    /// every run.
    pub initramfs: PathBuf,
    /// The run's payload disk (a [`nslab_protocol::PayloadHeader`], then its
    /// files).
    pub disk: PathBuf,
    /// The saved base VM to start from, when snapshots are on.
    pub snapshot: Option<PathBuf>,
    pub accel: Accel,
    /// Seconds the guest init gives the scenario (0: no limit); the host's
    /// own limit comes on top of it.
    pub timeout: u64,
    /// Where the serial ports' files go.
    pub out_dir: PathBuf,
    /// Whether the scenario's stdout and stderr are shown here as they come
    /// (`cargo xtask run`), besides being collected.
    pub stream: bool,
}

/// How a QEMU starts.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// Boot the kernel.
    Cold,
    /// Restore this saved state, its memory beside it
    /// ([`super::snapshot::ram_of`]): `-incoming defer`, and the monitor on
    /// stdin and stdout to start the migration.
    Restore(&'a Path),
    /// Boot, with a QMP monitor on the socket `qmp` and the guest's memory
    /// in the file `ram`, to save the VM.
    Save { qmp: &'a Path, ram: &'a Path },
    /// Boot, with the console on this terminal.
    Interactive,
}

/// How a VM run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The guest init ran the scenario and reported.
    Done,
    /// The guest powered off or rebooted before the init reported: the
    /// program under test called reboot(2), or the init died.
    PoweredOff,
    /// The kernel panicked; its line.
    KernelPanic(String),
    /// QEMU did not exit in time: the guest hung.
    Timeout,
    /// The guest init never started: the kernel stalled while booting.
    BootStall,
    /// Something killed QEMU with this signal.
    QemuKilled(i32),
    /// QEMU itself failed (bad arguments, missing file...).
    QemuError(String),
    /// The run's own files went missing (its directory was removed).
    Lost(String),
}

impl End {
    /// Whether the student's program can have caused this end. The others
    /// are the harness's or the machine's, never the student's mistake.
    pub fn may_be_the_programs(&self) -> bool {
        matches!(self, End::Done | End::PoweredOff | End::KernelPanic(_))
    }
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Done => write!(f, "the scenario ran to its end"),
            End::PoweredOff => write!(
                f,
                "the VM powered off or rebooted while the scenario ran (does a program call reboot(2)?)"
            ),
            End::KernelPanic(line) => write!(f, "the guest kernel panicked: {line}"),
            End::Timeout => write!(f, "the VM hung: QEMU did not exit in time and was killed"),
            End::BootStall => write!(f, "the guest kernel stalled while booting"),
            End::QemuKilled(sig) => write!(f, "QEMU was killed by signal {sig}"),
            End::QemuError(err) => write!(f, "QEMU failed: {err}"),
            End::Lost(err) => write!(f, "the run's files were lost: {err}"),
        }
    }
}

/// What a VM run produced.
pub struct Run {
    pub end: End,
    /// The accelerator this run used.
    pub accel: Accel,
    pub stdout: String,
    pub stderr: String,
    /// The guest init's report.
    pub report: Report,
    pub console: String,
    pub seconds: f64,
    /// Seconds from QEMU's start to the scenario's: the VM's overhead.
    pub overhead: Option<f64>,
    /// Whether the VM was restored from a saved one rather than booted.
    pub restored: bool,
    pub command_line: String,
    /// How a first try ended, when the VM was booted again.
    pub retried: Option<End>,
}

impl Run {
    /// Everything a person needs when the run failed: the QEMU command and
    /// the end of the console.
    pub fn failure_details(&self) -> String {
        let tail: Vec<&str> = self.console.lines().rev().take(25).collect();
        let tail: Vec<String> = tail.into_iter().rev().map(|l| format!("  | {l}")).collect();
        format!(
            "qemu command line:\n  {}\nlast lines of the guest console:\n{}\n",
            self.command_line,
            tail.join("\n")
        )
    }
}

/// The QEMUs running now (their PIDs): what the signal handler kills.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// A QEMU in the registry of running ones, until dropped.
pub(super) struct Registered(u32);

impl Drop for Registered {
    fn drop(&mut self) {
        running().retain(|pid| *pid != self.0);
    }
}

/// Start a QEMU, in the registry of those the signal handler kills: none
/// starts once the handler has begun (it holds the registry's lock).
pub(super) fn spawn(cmd: &mut Command, qemu: &Path) -> Result<(std::process::Child, Registered)> {
    let mut registry = running();
    anyhow::ensure!(!stopping(), "interrupted");
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", qemu.display()))?;
    let pid = child.id();
    registry.push(pid);
    Ok((child, Registered(pid)))
}

/// Set once a signal asked us to stop: no VM starts after it.
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(super) fn stopping() -> bool {
    STOPPING.load(std::sync::atomic::Ordering::SeqCst)
}

/// On SIGINT, SIGTERM or SIGHUP: start no VM, kill every running one, remove
/// every run directory, and leave at once with status 130 (the shell's code
/// for an interrupted command), running no destructor alongside the
/// threads that are still at work.
pub fn install_signal_handler() {
    let _ = ctrlc::set_handler(|| {
        STOPPING.store(true, std::sync::atomic::Ordering::SeqCst);
        let vms = running().clone();
        for pid in &vms {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        super::remove_run_dirs();
        eprintln!(
            "\nxtask: interrupted; {} VM(s) stopped and cleaned up",
            vms.len()
        );
        // SAFETY: _exit ends the process at once; nothing runs after it.
        unsafe { libc::_exit(130) };
    });
}

/// SIGKILL for the child when the thread that started it dies. Checked
/// against a parent that died before the call.
fn die_with_parent(cmd: &mut Command) {
    let parent = nix::unistd::getpid();
    // SAFETY: prctl and getppid are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other("the parent is gone"));
            }
            Ok(())
        })
    };
}

/// The start of a file as text, at most [`OUTPUT_CAP`] bytes of it, with a
/// marker saying how much was cut.
fn read_capped(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len() as usize;
    let mut bytes = Vec::with_capacity(size.min(OUTPUT_CAP));
    file.take(OUTPUT_CAP as u64).read_to_end(&mut bytes)?;
    let mut text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    if size > OUTPUT_CAP {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("[… {} bytes cut]\n", size - OUTPUT_CAP));
    }
    Ok(text)
}

/// Whether the console's bytes show one of the init's markers.
pub(super) fn shows(console: &[u8], marker: &str) -> bool {
    console
        .windows(marker.len())
        .any(|w| w == marker.as_bytes())
}

/// The line of a kernel panic on the console, if any.
fn panic_line(console: &str) -> Option<String> {
    console
        .lines()
        .find(|l| l.contains("Kernel panic - not syncing"))
        .map(|l| l.trim().to_string())
}

/// What a streamed run has shown of one of its ports' files.
struct Tail {
    path: PathBuf,
    shown: u64,
    to_stderr: bool,
}

impl Tail {
    fn new(path: PathBuf, to_stderr: bool) -> Tail {
        Tail {
            path,
            shown: 0,
            to_stderr,
        }
    }

    /// Show what the file has gained since the last call, up to
    /// [`OUTPUT_CAP`] in all, as the guest wrote it.
    fn show_new(&mut self) {
        use std::io::{Read, Seek, Write};
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        let cap = OUTPUT_CAP as u64;
        if self.shown >= cap || file.seek(std::io::SeekFrom::Start(self.shown)).is_err() {
            return;
        }
        let mut bytes = Vec::new();
        if file.take(cap - self.shown).read_to_end(&mut bytes).is_err() || bytes.is_empty() {
            return;
        }
        self.shown += bytes.len() as u64;
        let bytes: Vec<u8> = bytes.into_iter().filter(|&b| b != b'\r').collect();
        let _ = match self.to_stderr {
            true => std::io::stderr().write_all(&bytes),
            false => {
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes).and_then(|()| out.flush())
            }
        };
    }
}

impl Machine {
    /// The QEMU command for this machine, started as `start` says. Every
    /// start has the same devices, so that a saved VM restores into any.
    pub(super) fn qemu(&self, start: Start) -> Command {
        let append = [
            "console=ttyS0",
            "panic=-1",
            "oops=panic",
            "rdinit=/init",
            // Under software emulation every boot-time self-test costs:
            // skip the crypto self-tests, the i8042 probing, the audit and
            // the CPU-bug mitigations (nothing here is hostile).
            "cryptomgr.notests",
            "mitigations=off",
            "nokaslr",
            "audit=0",
            "i8042.noaux",
            "i8042.nopnp",
            // Under TCG the IO-APIC timer check can miss the emulated
            // PIT's ticks and panic ("IO-APIC + timer doesn't work!"):
            // skip it (arch/x86/kernel/apic/io_apic.c, no_timer_check).
            "no_timer_check",
            // No LSM but capabilities, and no read-only remapping of the
            // kernel's data (with its W+X scan): namespaces behave the same.
            "lsm=capability",
            "rodata=off",
            // Two boot-time costs with nothing to do with namespaces: kprobe
            // event tracing and a key-derivation self-test that
            // cryptomgr.notests does not cover.
            "initcall_blacklist=init_kprobe_trace,crypto_kdf108_init",
            "quiet",
        ];
        let mut cmd = self.tools.command(&self.tools.qemu);
        for dir in &self.tools.qemu_data {
            cmd.arg("-L").arg(dir);
        }
        cmd.args(["-M", "pc", "-m", RAM, "-smp", "1"]);
        match self.accel {
            Accel::Kvm => cmd.args(["-accel", "kvm", "-cpu", "host"]),
            Accel::Tcg => cmd.args(["-accel", "tcg"]),
        };
        cmd.args([
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-reboot",
        ])
        .arg("-kernel")
        .arg(&self.kernel)
        .arg("-initrd")
        .arg(&self.initramfs)
        .arg("-append")
        .arg(append.join(" "));
        for port in Port::ALL {
            cmd.arg("-serial");
            if matches!(start, Start::Interactive) && port == Port::Console {
                cmd.arg("mon:stdio");
            } else {
                cmd.arg(format!("file:{}", self.out_dir.join(port.name()).display()));
            }
        }
        // The payload, read-only: the host's page cache has it, just
        // written.
        cmd.arg("-drive")
            .arg(format!(
                "file={},format=raw,if=none,id=payload,readonly=on",
                self.disk.display().to_string().replace(',', ",,")
            ))
            .args(["-device", "virtio-blk-pci,drive=payload"]);
        cmd.args([
            "-device",
            &format!(
                "isa-debug-exit,iobase={:#x},iosize=0x04",
                nslab_protocol::DEBUG_EXIT_PORT
            ),
        ]);
        // The memory of a saved VM is a file: written by the VM that is
        // saved, mapped copy-on-write by each one restored.
        let ram = |path: &Path, share: &str| {
            format!(
                "memory-backend-file,id=nslab-ram,size={RAM},share={share},mem-path={}",
                path.display().to_string().replace(',', ",,")
            )
        };
        match start {
            Start::Restore(state) => {
                cmd.arg("-object")
                    .arg(ram(&super::snapshot::ram_of(state), "off"))
                    .args(["-machine", "memory-backend=nslab-ram"])
                    .args(["-incoming", "defer", "-qmp", "stdio"]);
            }
            Start::Save { qmp, ram: file } => {
                cmd.arg("-object")
                    .arg(ram(file, "on"))
                    .args(["-machine", "memory-backend=nslab-ram"])
                    .arg("-qmp")
                    .arg(format!("unix:{},server=on,wait=off", qmp.display()));
                // The VM is saved stopped; without this, the state would say
                // so, and every restored VM would wait, stopped, for a
                // `cont` (migration/global_state.c).
                cmd.args(["-global", "migration.store-global-state=off"]);
            }
            Start::Cold | Start::Interactive => {}
        }
        die_with_parent(&mut cmd);
        cmd
    }

    /// Boot, run the scenario, and classify the end.
    ///
    /// Under software emulation a stock kernel very rarely stalls or
    /// panics while booting. A program that hangs is not such a case: the
    /// guest init stops it and reports a timeout. So a VM that stalls (no
    /// init after `boot_limit`, or no end at all) or panics before its init
    /// ran is killed and booted again, once; under KVM, again in software,
    /// since a KVM that stalls is not one to trust.
    ///
    /// With a saved VM, the run starts by restoring it; a restore that
    /// fails (QEMU refuses the state, or the guest never gets its payload)
    /// is booted cold instead, and no restore is tried again.
    pub fn run(&self) -> Result<Run> {
        let first = match &self.snapshot {
            Some(state) if super::snapshot::usable() => {
                let run = self.run_once(Start::Restore(state))?;
                let worked = run.console.contains(BOOTED)
                    || !matches!(run.end, End::QemuError(_) | End::BootStall | End::Timeout);
                if worked {
                    run
                } else {
                    super::snapshot::give_up(&run.end.to_string());
                    let mut cold = self.run_once(Start::Cold)?;
                    cold.retried = Some(run.end);
                    cold
                }
            }
            _ => self.run_once(Start::Cold)?,
        };
        let booted = first.console.contains(BOOTED);
        let again = match &first.end {
            End::BootStall | End::Timeout => true,
            End::KernelPanic(_) => !booted,
            _ => false,
        };
        if !again {
            return Ok(first);
        }
        eprintln!(
            "nslab: the VM ({}) ended early ({}); booting it again under tcg",
            self.accel.name(),
            first.end
        );
        let machine = Machine {
            accel: Accel::Tcg,
            snapshot: None,
            ..self.clone()
        };
        let mut second = machine.run_once(Start::Cold)?;
        second.retried = Some(first.end);
        Ok(second)
    }

    pub(super) fn boot_limit(&self) -> Duration {
        match self.accel {
            Accel::Kvm => Duration::from_secs(10),
            Accel::Tcg => Duration::from_secs(20),
        }
    }

    fn run_once(&self, start: Start) -> Result<Run> {
        std::fs::create_dir_all(&self.out_dir)
            .with_context(|| self.out_dir.display().to_string())?;
        for port in Port::ALL {
            let _ = std::fs::remove_file(self.out_dir.join(port.name()));
        }
        let mut cmd = self.qemu(start);
        let command_line = command_line(&cmd);
        // The guest init enforces the scenario's timeout; this one catches a
        // guest that hangs on top of it.
        let limit = Duration::from_secs(self.timeout) + self.boot_limit() + Duration::from_secs(10);
        let started = Instant::now();
        let restore = match start {
            Start::Restore(state) => Some(state),
            _ => None,
        };
        let monitor = if restore.is_some() {
            Stdio::piped
        } else {
            Stdio::null
        };
        cmd.stdin(monitor())
            .stdout(monitor())
            .stderr(Stdio::piped());
        let (mut child, registered) = spawn(&mut cmd, &self.tools.qemu)?;
        // The monitor of a restore, kept open while QEMU runs; or why it
        // could not start the restore.
        let (_monitor, refused) = match (restore, child.stdin.take(), child.stdout.take()) {
            (Some(state), Some(stdin), Some(stdout)) => {
                match super::snapshot::restore(stdin, stdout, state, self.boot_limit()) {
                    Ok(monitor) => (Some(monitor), None),
                    Err(err) => (None, Some(format!("{err:#}"))),
                }
            }
            _ => (None, None),
        };
        let console = self.out_dir.join(Port::Console.name());
        let mut tails = match self.stream {
            true => vec![
                Tail::new(self.out_dir.join(Port::Stdout.name()), false),
                Tail::new(self.out_dir.join(Port::Stderr.name()), true),
            ],
            false => Vec::new(),
        };
        let mut booted = false;
        let mut overhead = None;
        let waited = if let Some(why) = &refused {
            Err(End::QemuError(format!("restoring the saved VM: {why}")))
        } else {
            loop {
                // Finely until the scenario starts (its time is the VM's
                // overhead), then every 10 ms.
                let slice = Duration::from_millis(if overhead.is_some() { 10 } else { 2 });
                match child.wait_timeout(slice) {
                    Ok(Some(status)) => break Ok(status),
                    Ok(None) => {}
                    Err(err) => break Err(End::QemuError(format!("waiting for QEMU: {err}"))),
                }
                let elapsed = started.elapsed();
                tails.iter_mut().for_each(Tail::show_new);
                if overhead.is_none() {
                    let text = std::fs::read(&console).unwrap_or_default();
                    booted = booted || shows(&text, BOOTED);
                    if shows(&text, SCENARIO_STARTS) {
                        overhead = Some(elapsed.as_secs_f64());
                    }
                    if !booted && elapsed > self.boot_limit() {
                        break Err(End::BootStall);
                    }
                }
                if elapsed > limit {
                    break Err(End::Timeout);
                }
            }
        };
        if waited.is_err() {
            let _ = child.kill();
            let _ = child.wait();
        }
        drop(registered);
        tails.iter_mut().for_each(Tail::show_new);
        let seconds = started.elapsed().as_secs_f64();
        let mut qemu_stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            use std::io::Read;
            let _ = err.read_to_string(&mut qemu_stderr);
        }
        let read = |port: Port| read_capped(&self.out_dir.join(port.name()));
        let outputs = (|| Ok::<_, std::io::Error>((read(Port::Stdout)?, read(Port::Stderr)?)))();
        let console = read(Port::Console).unwrap_or_default();
        let report = Report::parse(&read(Port::Report).unwrap_or_default());
        let end = match waited {
            Err(End::QemuError(why)) if !qemu_stderr.trim().is_empty() => {
                End::QemuError(format!("{why}: {}", qemu_stderr.trim()))
            }
            Err(end) => end,
            Ok(status) => match (status.code(), status.signal()) {
                (_, Some(sig)) => End::QemuKilled(sig),
                _ if outputs.is_err() => End::Lost(format!(
                    "{}: {}",
                    self.out_dir.display(),
                    outputs
                        .as_ref()
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default()
                )),
                (Some(QEMU_EXIT_DONE), _) if report.complete() => End::Done,
                (Some(QEMU_EXIT_DONE), _) => End::Lost(
                    "the init left through its exit port, but its report is incomplete".into(),
                ),
                // -no-reboot: a reboot, a poweroff and a panic (panic=-1
                // reboots) all make QEMU exit 0.
                (Some(0), _) => match panic_line(&console) {
                    Some(line) => End::KernelPanic(line),
                    None => End::PoweredOff,
                },
                (code, _) => End::QemuError(format!(
                    "exit status {}: {}",
                    code.unwrap_or(-1),
                    qemu_stderr.trim()
                )),
            },
        };
        let (stdout, stderr) = outputs.unwrap_or_default();
        Ok(Run {
            end,
            accel: self.accel,
            stdout,
            stderr,
            report,
            console,
            seconds,
            overhead,
            restored: matches!(start, Start::Restore(_)),
            command_line,
            retried: None,
        })
    }

    /// An interactive VM: the console on this terminal (`cargo xtask shell`).
    pub fn interactive(&self) -> Result<()> {
        std::fs::create_dir_all(&self.out_dir)
            .with_context(|| self.out_dir.display().to_string())?;
        let (mut child, registered) = spawn(&mut self.qemu(Start::Interactive), &self.tools.qemu)?;
        let status = child.wait().context("waiting for QEMU");
        drop(registered);
        let status = status?;
        match (status.code(), status.signal()) {
            (Some(QEMU_EXIT_DONE) | Some(0), _) => Ok(()),
            (_, Some(sig)) => anyhow::bail!("QEMU was killed by signal {sig}"),
            _ => anyhow::bail!("QEMU ended with {status}"),
        }
    }
}

/// A command as a shell would take it, to reproduce a failure by hand.
fn command_line(cmd: &Command) -> String {
    let env: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v?.to_str()?)))
        .collect();
    let words: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut line = shell_words::join(env.iter().chain(&words));
    if line.is_empty() {
        line.push('?');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_cap_is_cut_with_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, vec![b'x'; OUTPUT_CAP + 10]).unwrap();
        let text = read_capped(&path).unwrap();
        assert!(
            text.ends_with("\n[… 10 bytes cut]\n"),
            "{}",
            &text[OUTPUT_CAP - 5..]
        );
        std::fs::write(&path, "short\r\n").unwrap();
        assert_eq!(read_capped(&path).unwrap(), "short\n");
    }

    #[test]
    fn a_panic_line_is_found_on_the_console() {
        let console = "[    1.2] ..MP-BIOS bug: 8254 timer not connected to IO-APIC\n\
                       [    1.3] Kernel panic - not syncing: IO-APIC + timer doesn't work!\n";
        assert_eq!(
            panic_line(console).as_deref(),
            Some("[    1.3] Kernel panic - not syncing: IO-APIC + timer doesn't work!")
        );
        assert_eq!(panic_line("all well"), None);
    }
}
