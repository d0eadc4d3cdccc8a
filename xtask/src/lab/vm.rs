//! One QEMU run of a throwaway VM: restore the saved VM or boot, run a
//! scenario, collect what it printed, and say precisely how it ended.
//!
//! Wiring: imports [`super::qemu`] (the command line, the process) and
//! [`super::snapshot`] (the restore); [`super::machine`] decides which runs
//! to make.

use super::qemu::{Accel, Qemu, Start, command_line, shows};
use anyhow::{Context, Result};
use nslab_protocol::{BOOTED, Port, QEMU_EXIT_DONE, Report, SCENARIO_STARTS};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// What a person sees of each output stream at most: a program that prints
/// 200 MB must not flood the terminal or the diff.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// How a VM run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmEnd {
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

impl VmEnd {
    /// Whether the student's program can have caused this end. The others
    /// are the harness's or the machine's, never the student's mistake.
    pub fn may_be_the_programs(&self) -> bool {
        matches!(
            self,
            VmEnd::Done | VmEnd::PoweredOff | VmEnd::KernelPanic(_)
        )
    }
}

impl std::fmt::Display for VmEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VmEnd::Done => write!(f, "the scenario ran to its end"),
            VmEnd::PoweredOff => write!(
                f,
                "the VM powered off or rebooted while the scenario ran (does a program call reboot(2)?)"
            ),
            VmEnd::KernelPanic(line) => write!(f, "the guest kernel panicked: {line}"),
            VmEnd::Timeout => write!(f, "the VM hung: QEMU did not exit in time and was killed"),
            VmEnd::BootStall => write!(f, "the guest kernel stalled while booting"),
            VmEnd::QemuKilled(sig) => write!(f, "QEMU was killed by signal {sig}"),
            VmEnd::QemuError(err) => write!(f, "QEMU failed: {err}"),
            VmEnd::Lost(err) => write!(f, "the run's files were lost: {err}"),
        }
    }
}

/// What a VM run produced.
pub struct Run {
    pub end: VmEnd,
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
    pub retried: Option<VmEnd>,
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

/// Run one QEMU: restoring the saved state `restore`, or booted. The guest
/// init gives the scenario `timeout` seconds (0: no limit); with `stream`,
/// its stdout and stderr are shown here as they come (`cargo xtask run`),
/// besides being collected.
pub fn run(qemu: &Qemu, timeout: u64, stream: bool, restore: Option<&Path>) -> Result<Run> {
    let out_dir = &qemu.out_dir;
    std::fs::create_dir_all(out_dir).with_context(|| out_dir.display().to_string())?;
    for port in Port::ALL {
        let _ = std::fs::remove_file(out_dir.join(port.name()));
    }
    let ram = restore.map(super::snapshot::ram_of);
    let start = match &ram {
        Some(ram) => Start::Restore { ram },
        None => Start::Cold,
    };
    let mut cmd = qemu.command(start);
    let command_line = command_line(&cmd);
    // The guest init enforces the scenario's timeout; this one catches a
    // guest that hangs on top of it.
    let limit = Duration::from_secs(timeout) + qemu.accel.boot_limit() + Duration::from_secs(10);
    let started = Instant::now();
    let monitor = if restore.is_some() {
        Stdio::piped
    } else {
        Stdio::null
    };
    cmd.stdin(monitor())
        .stdout(monitor())
        .stderr(Stdio::piped());
    let (mut child, registered) = qemu.spawn(&mut cmd)?;
    // The monitor of a restore, kept open while QEMU runs; or why it
    // could not start the restore.
    let (_monitor, refused) = match (restore, child.stdin.take(), child.stdout.take()) {
        (Some(state), Some(stdin), Some(stdout)) => {
            match super::snapshot::restore(stdin, stdout, state, qemu.accel.boot_limit()) {
                Ok(monitor) => (Some(monitor), None),
                Err(err) => (None, Some(format!("{err:#}"))),
            }
        }
        _ => (None, None),
    };
    let console = out_dir.join(Port::Console.name());
    let mut tails = match stream {
        true => vec![
            Tail::new(out_dir.join(Port::Stdout.name()), false),
            Tail::new(out_dir.join(Port::Stderr.name()), true),
        ],
        false => Vec::new(),
    };
    let mut booted = false;
    let mut overhead = None;
    let waited = if let Some(why) = &refused {
        Err(VmEnd::QemuError(format!("restoring the saved VM: {why}")))
    } else {
        loop {
            // Finely until the scenario starts (its time is the VM's
            // overhead), then every 10 ms.
            let slice = Duration::from_millis(if overhead.is_some() { 10 } else { 2 });
            match child.wait_timeout(slice) {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(err) => break Err(VmEnd::QemuError(format!("waiting for QEMU: {err}"))),
            }
            let elapsed = started.elapsed();
            tails.iter_mut().for_each(Tail::show_new);
            if overhead.is_none() {
                let text = std::fs::read(&console).unwrap_or_default();
                booted = booted || shows(&text, BOOTED);
                if shows(&text, SCENARIO_STARTS) {
                    overhead = Some(elapsed.as_secs_f64());
                }
                if !booted && elapsed > qemu.accel.boot_limit() {
                    break Err(VmEnd::BootStall);
                }
            }
            if elapsed > limit {
                break Err(VmEnd::Timeout);
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
    let read = |port: Port| read_capped(&out_dir.join(port.name()));
    let outputs = (|| Ok::<_, std::io::Error>((read(Port::Stdout)?, read(Port::Stderr)?)))();
    let console = read(Port::Console).unwrap_or_default();
    let report = Report::parse(&read(Port::Report).unwrap_or_default());
    let end = match waited {
        Err(VmEnd::QemuError(why)) if !qemu_stderr.trim().is_empty() => {
            VmEnd::QemuError(format!("{why}: {}", qemu_stderr.trim()))
        }
        Err(end) => end,
        Ok(status) => match (status.code(), status.signal()) {
            (_, Some(sig)) => VmEnd::QemuKilled(sig),
            _ if outputs.is_err() => VmEnd::Lost(format!(
                "{}: {}",
                out_dir.display(),
                outputs
                    .as_ref()
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            )),
            (Some(QEMU_EXIT_DONE), _) if report.complete() => VmEnd::Done,
            (Some(QEMU_EXIT_DONE), _) => VmEnd::Lost(
                "the init left through its exit port, but its report is incomplete".into(),
            ),
            // -no-reboot: a reboot, a poweroff and a panic (panic=-1
            // reboots) all make QEMU exit 0.
            (Some(0), _) => match panic_line(&console) {
                Some(line) => VmEnd::KernelPanic(line),
                None => VmEnd::PoweredOff,
            },
            (code, _) => VmEnd::QemuError(format!(
                "exit status {}: {}",
                code.unwrap_or(-1),
                qemu_stderr.trim()
            )),
        },
    };
    let (stdout, stderr) = outputs.unwrap_or_default();
    Ok(Run {
        end,
        accel: qemu.accel,
        stdout,
        stderr,
        report,
        console,
        seconds,
        overhead,
        restored: restore.is_some(),
        command_line,
        retried: None,
    })
}

/// An interactive VM: the console on this terminal (`cargo xtask shell`).
pub fn interactive(qemu: &Qemu) -> Result<()> {
    let out_dir = &qemu.out_dir;
    std::fs::create_dir_all(out_dir).with_context(|| out_dir.display().to_string())?;
    let (mut child, registered) = qemu.spawn(&mut qemu.command(Start::Interactive))?;
    let status = child.wait().context("waiting for QEMU");
    drop(registered);
    let status = status?;
    match (status.code(), status.signal()) {
        (Some(QEMU_EXIT_DONE) | Some(0), _) => Ok(()),
        (_, Some(sig)) => anyhow::bail!("QEMU was killed by signal {sig}"),
        _ => anyhow::bail!("QEMU ended with {status}"),
    }
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
