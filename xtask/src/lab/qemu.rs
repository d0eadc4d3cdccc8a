//! One QEMU: its command line and its process.
//!
//! QEMU gets the four serial ports of [`nslab_protocol::Port`], each written
//! to a file of the run's directory, the run's payload disk (virtio), and
//! the isa-debug-exit device the guest init leaves through. Every start has
//! the same devices, so that a saved VM restores into any. QEMU never
//! outlives us: it gets SIGKILL when the thread that started it dies
//! (`PR_SET_PDEATHSIG`, so even a `kill -9` of xtask takes its VMs with it),
//! and it is started through [`cleanup::spawn`], so that the signal handler
//! kills it.
//!
//! Wiring: imports [`super::host`] (the QEMU binary and its firmware) and
//! [`super::cleanup`]; [`super::snapshot`] and [`super::vm`] build on it.

use super::cleanup::{self, Registered};
use super::host::Tools;
use anyhow::{Context, Result};
use nslab_protocol::Port;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

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

    /// How long a boot may take before the VM is taken for stalled.
    pub fn boot_limit(self) -> Duration {
        match self {
            Accel::Kvm => Duration::from_secs(10),
            Accel::Tcg => Duration::from_secs(20),
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

/// How a QEMU starts.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// Boot the kernel.
    Cold,
    /// Restore a saved VM whose memory is the file `ram` (mapped copy on
    /// write): `-incoming defer`, and the monitor on stdin and stdout to
    /// start the migration.
    Restore { ram: &'a Path },
    /// Boot, with a QMP monitor on the socket `qmp` and the guest's memory
    /// in the file `ram`, to save the VM.
    Save { qmp: &'a Path, ram: &'a Path },
    /// Boot, with the console on this terminal.
    Interactive,
}

/// What every QEMU of a run is started with, however it starts.
#[derive(Clone)]
pub struct Qemu {
    pub tools: Tools,
    pub kernel: PathBuf,
    /// The base initramfs: the init and the virtio modules, the same for
    /// every run.
    pub initramfs: PathBuf,
    /// The run's payload disk (a [`nslab_protocol::PayloadHeader`], then its
    /// files).
    pub disk: PathBuf,
    pub accel: Accel,
    /// Where the serial ports' files go.
    pub out_dir: PathBuf,
}

impl Qemu {
    /// The QEMU command, started as `start` says.
    pub fn command(&self, start: Start) -> Command {
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
            Start::Restore { ram: file } => {
                cmd.arg("-object")
                    .arg(ram(file, "off"))
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

    /// Start `cmd` (made by [`Qemu::command`]), in the registry of the
    /// QEMUs the signal handler kills.
    pub fn spawn(&self, cmd: &mut Command) -> Result<(Child, Registered)> {
        cleanup::spawn(cmd, &self.tools.qemu)
    }
}

/// Whether the console's bytes show one of the init's markers.
pub fn shows(console: &[u8], marker: &str) -> bool {
    console
        .windows(marker.len())
        .any(|w| w == marker.as_bytes())
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

/// A command as a shell would take it, to reproduce a failure by hand.
pub fn command_line(cmd: &Command) -> String {
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
