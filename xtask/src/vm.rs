//! One throwaway VM: boot, run a scenario, collect what it printed.
//!
//! QEMU gets four serial ports, each written to a file on the host: ttyS0 is
//! the kernel's console, ttyS1 the scenario's stdout, ttyS2 its stderr, and
//! ttyS3 the guest init's report (how the scenario ended, what it leaked).
//! The guest init leaves through the isa-debug-exit device, which makes QEMU
//! exit with status 99: any other end is a failure of the VM itself.

use crate::{Result, io_err};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// QEMU's exit status when the guest init wrote 0x31 to port 0xf4.
const HARNESS_DONE: i32 = 99;

/// What the guest init prints on the console first (crates/vm-init).
const BOOTED: &str = "nslab-init: booted";

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
    /// stock kernel hangs under it. `NSLAB_ACCEL=kvm|tcg` overrides.
    pub fn detect() -> Result<Accel> {
        match std::env::var("NSLAB_ACCEL").as_deref() {
            Ok("kvm") => return Ok(Accel::Kvm),
            Ok("tcg") => return Ok(Accel::Tcg),
            Ok(other) if !other.is_empty() => {
                return Err(format!("NSLAB_ACCEL must be kvm or tcg, not '{other}'"));
            }
            _ => {}
        }
        let opens = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let hardware = cpuinfo
            .lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"));
        let vendor = Path::new("/sys/module/kvm_intel").exists()
            || Path::new("/sys/module/kvm_amd").exists();
        Ok(if opens && hardware && vendor {
            Accel::Kvm
        } else {
            Accel::Tcg
        })
    }
}

/// Everything one VM needs.
#[derive(Clone)]
pub struct Machine {
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
    pub accel: Accel,
    /// Kernel modules for the guest init to load, by name.
    pub modules: Vec<String>,
    /// Seconds the guest init gives the scenario.
    pub timeout: u64,
    /// Where the serial ports' files go.
    pub out_dir: PathBuf,
}

/// How a VM run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The guest init ran the scenario and reported.
    Done,
    /// The kernel panicked or the guest rebooted before init reported.
    GuestPanic,
    /// QEMU did not exit in time: the guest hung.
    Timeout,
    /// The guest init never started: the kernel stalled while booting.
    BootStall,
    /// QEMU itself failed (bad arguments, missing file...).
    QemuError(String),
}

/// What a VM run produced.
pub struct Run {
    pub end: End,
    /// The accelerator this run used.
    pub accel: Accel,
    pub stdout: String,
    pub stderr: String,
    /// The guest init's report: `exit=0`, `signal=9`, `timeout=20`, `leak: ...`.
    pub report: Vec<String>,
    pub console: String,
    pub seconds: f64,
    pub command_line: String,
}

impl Run {
    /// The init's report without its measurements (the scenario's PID, the
    /// guest's clock): how the scenario ended, and what it leaked.
    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.report
            .iter()
            .map(String::as_str)
            .filter(|l| !l.starts_with("scenario-pid=") && !l.starts_with("uptime-"))
    }

    /// The PID of the scenario's shell: every PID it starts is at least this.
    pub fn scenario_pid(&self) -> Option<u64> {
        self.report
            .iter()
            .find_map(|l| l.strip_prefix("scenario-pid=")?.parse().ok())
    }

    /// How the scenario ended, from the init's report (`exit=0`...).
    pub fn scenario_end(&self) -> Option<&str> {
        self.report.iter().map(String::as_str).find(|l| {
            l.starts_with("exit=") || l.starts_with("signal=") || l.starts_with("timeout=")
        })
    }

    /// Seconds from the kernel's start to the scenario's, and the
    /// scenario's own, as the guest measured them.
    pub fn guest_times(&self) -> Option<(f64, f64)> {
        let get = |key: &str| {
            self.report
                .iter()
                .find_map(|l| l.strip_prefix(key)?.parse::<f64>().ok())
        };
        let start = get("uptime-start=")?;
        Some((start, get("uptime-end=")? - start))
    }

    /// Everything a person needs when the run failed: the QEMU command and
    /// the end of the console.
    pub fn failure_details(&self) -> String {
        let tail: Vec<&str> = self.console.lines().rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "qemu command line:\n  {}\nlast lines of the guest console:\n{}\n",
            self.command_line,
            tail.iter()
                .map(|l| format!("  | {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }
}

impl Machine {
    fn qemu(&self, interactive: bool) -> Command {
        let append = vec![
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
        let mut append: Vec<String> = append.into_iter().map(String::from).collect();
        append.push(format!("nslab.timeout={}", self.timeout));
        if !self.modules.is_empty() {
            append.push(format!("nslab.modules={}", self.modules.join(",")));
        }
        if interactive {
            append.push("nslab.mode=shell".into());
        }
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args(["-M", "pc", "-m", "256M", "-smp", "1"]);
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
        if interactive {
            cmd.args(["-serial", "mon:stdio"]);
        } else {
            cmd.arg("-serial").arg(self.port("console"));
        }
        for port in ["stdout", "stderr", "report"] {
            cmd.arg("-serial").arg(self.port(port));
        }
        cmd.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        cmd
    }

    fn port(&self, name: &str) -> String {
        format!("file:{}", self.out_dir.join(name).display())
    }

    /// Boot, run the scenario, and classify the end.
    ///
    /// Under software emulation a stock kernel very rarely stalls, before
    /// its init starts or later. A program that hangs is not such a case:
    /// the guest init stops it and reports a timeout. So a VM that stalls
    /// (no init after `boot_limit`, or no end at all) is killed and booted
    /// again, once; under KVM, again in software, since a KVM that stalls is
    /// not one to trust.
    pub fn run(&self) -> Result<Run> {
        let run = self.run_once()?;
        if !matches!(run.end, End::BootStall | End::Timeout) {
            return Ok(run);
        }
        let again = Machine {
            accel: Accel::Tcg,
            ..self.clone()
        };
        eprintln!(
            "nslab: the VM ({}) stalled ({:?}); booting it again under tcg",
            self.accel.name(),
            run.end
        );
        again.run_once()
    }

    fn boot_limit(&self) -> Duration {
        match self.accel {
            Accel::Kvm => Duration::from_secs(10),
            Accel::Tcg => Duration::from_secs(20),
        }
    }

    fn run_once(&self) -> Result<Run> {
        std::fs::create_dir_all(&self.out_dir).map_err(|e| io_err(self.out_dir.display(), e))?;
        let mut cmd = self.qemu(false);
        let command_line = shell_words(&cmd);
        // The guest init enforces the scenario's timeout; this one catches a
        // guest that hangs on top of it.
        let limit = Duration::from_secs(self.timeout) + self.boot_limit() + Duration::from_secs(10);
        let started = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
        let console = self.out_dir.join("console");
        let mut booted = false;
        let status = loop {
            let slice = Duration::from_millis(if booted { 10 } else { 50 });
            if let Some(status) = child
                .wait_timeout(slice)
                .map_err(|e| format!("waiting for qemu: {e}"))?
            {
                break Ok(status);
            }
            let elapsed = started.elapsed();
            if !booted {
                booted = std::fs::read(&console)
                    .is_ok_and(|text| text.windows(BOOTED.len()).any(|w| w == BOOTED.as_bytes()));
                if !booted && elapsed > self.boot_limit() {
                    break Err(End::BootStall);
                }
            }
            if elapsed > limit {
                break Err(End::Timeout);
            }
        };
        if status.is_err() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let seconds = started.elapsed().as_secs_f64();
        let mut qemu_stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            use std::io::Read;
            let _ = err.read_to_string(&mut qemu_stderr);
        }
        let read = |name: &str| {
            let bytes = std::fs::read(self.out_dir.join(name)).unwrap_or_default();
            String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
        };
        let report: Vec<String> = read("report").lines().map(str::to_owned).collect();
        let end = match status.map(|s| s.code()) {
            Err(end) => end,
            Ok(Some(HARNESS_DONE)) if report.last().is_some_and(|l| l == "end") => End::Done,
            Ok(Some(0)) | Ok(Some(HARNESS_DONE)) => End::GuestPanic,
            Ok(code) => End::QemuError(format!(
                "qemu exited with {}: {}",
                code.map_or("a signal".into(), |c| c.to_string()),
                qemu_stderr.trim()
            )),
        };
        Ok(Run {
            end,
            accel: self.accel,
            stdout: read("stdout"),
            stderr: read("stderr"),
            report: report.into_iter().filter(|l| l != "end").collect(),
            console: read("console"),
            seconds,
            command_line,
        })
    }

    /// An interactive VM: the console on this terminal (`cargo xtask shell`).
    pub fn interactive(&self) -> Result<()> {
        std::fs::create_dir_all(&self.out_dir).map_err(|e| io_err(self.out_dir.display(), e))?;
        let status = self
            .qemu(true)
            .status()
            .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
        match status.code() {
            Some(HARNESS_DONE) | Some(0) => Ok(()),
            _ => Err(format!("qemu ended with {status}")),
        }
    }
}

/// A command as a shell would take it, to reproduce a failure by hand.
fn shell_words(cmd: &Command) -> String {
    let quote = |s: &str| {
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}
