//! PID 1 of an nslab VM.
//!
//! The host (xtask) boots a kernel with a small initramfs holding this init
//! and the virtio modules, and gives the VM a disk with the run's payload
//! (the step's programs, busybox, a scenario script). This init:
//!
//! 1. mounts /proc, /sys and /dev (devtmpfs), loads the virtio modules, and
//!    says it is ready; this state is the same for every run, so the host
//!    may have saved it once and restored it for this run;
//! 2. waits for the payload disk's header, adds the host's seed to the
//!    entropy pool (every run restored from one snapshot starts with the same
//!    pool), unpacks the payload into a tmpfs and makes that the root, as
//!    switch_root does: `/` is then a mount, which pivot_root(2) needs;
//! 3. loads the kernel modules the run names and runs the scenario
//!    (`/bin/sh /scenario.sh`) as an ordinary child in a session of its own —
//!    not as PID 1, whose signal and reaping rules differ — with stdout on
//!    ttyS1 and stderr on ttyS2;
//! 4. kills it after the run's timeout;
//! 5. writes its end and any leak (a process, mount, network device,
//!    System V semaphore or cgroup left behind) to ttyS3, as typed report
//!    lines;
//! 6. powers off through QEMU's isa-debug-exit port, so that QEMU's exit
//!    status tells the host that the harness finished.
//!
//! With `nslab.mode=shell` it runs an interactive shell on the console
//! instead. Init must never exit: that would panic the kernel. Every key,
//! port and code named here is defined once, in `nslab-protocol`.

mod payload;

use nix::fcntl::OFlag;
use nix::mount::{MsFlags, mount};
use nix::sys::signal::{Signal, kill};
use nix::sys::termios;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, setsid};
use nslab_protocol::{
    BASE_MODULES, BOOTED, DEBUG_EXIT_PORT, DEBUG_EXIT_VALUE, End, Line, Port, READY,
    SCENARIO_STARTS,
};
use std::ffi::CString;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let mut report = Vec::new();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| boot(&mut report)));
    if outcome.is_err() {
        report.push(Line::InitError("panic".into()));
    }
    power_off(&report);
}

fn boot(report: &mut Vec<Line>) {
    if let Err(err) = mount_filesystems(&[
        ("proc", "/proc", "proc"),
        ("sysfs", "/sys", "sysfs"),
        ("devtmpfs", "/dev", "devtmpfs"),
    ]) {
        report.push(Line::InitError(format!("mount: {err}")));
        return;
    }
    for module in BASE_MODULES {
        if let Err(err) = load_module(module) {
            report.push(Line::InitError(format!("module {module}: {err}")));
            return;
        }
    }
    if let Err(err) = payload::prepare_root() {
        report.push(Line::InitError(format!("root: {err}")));
        return;
    }
    println!("{READY}");
    let header = match payload::wait() {
        Ok(header) => header,
        Err(err) => {
            report.push(Line::InitError(format!("payload: {err}")));
            return;
        }
    };
    println!("{BOOTED}");
    payload::seed_entropy(&header.seed);
    if let Err(err) = payload::enter(&header) {
        report.push(Line::InitError(format!("payload: {err}")));
        return;
    }
    // cgroup2 where a host has it (systemd mounts it there at boot): the
    // cgroup step's programs look for it there, and the leak report lists
    // the cgroups a scenario leaves. Mounted per run, after the snapshot,
    // with the run's root.
    if let Err(err) = mount_filesystems(&[
        ("tmpfs", "/tmp", "tmpfs"),
        ("cgroup2", CGROUP_ROOT, "cgroup2"),
    ]) {
        report.push(Line::InitError(format!("mount: {err}")));
        return;
    }
    let _ = nix::unistd::sethostname("nslab");
    let args = header.args;
    for module in &args.modules {
        if let Err(err) = load_module(module) {
            report.push(Line::InitError(format!("module {module}: {err}")));
        }
    }
    if args.shell {
        interactive_shell();
        return;
    }
    report.push(Line::UptimeStart(uptime()));
    if let Err(err) = run_scenario(Duration::from_secs(args.timeout), report) {
        report.push(Line::InitError(err.to_string()));
    }
    report.push(Line::UptimeEnd(uptime()));
}

/// Seconds since the kernel started (its first field of /proc/uptime).
fn uptime() -> f64 {
    let text = std::fs::read_to_string("/proc/uptime").unwrap_or_default();
    text.split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.0)
}

fn mount_filesystems(filesystems: &[(&str, &str, &str)]) -> nix::Result<()> {
    let none: Option<&str> = None;
    for &(source, target, fstype) in filesystems {
        let _ = std::fs::create_dir_all(target);
        mount(Some(source), target, Some(fstype), MsFlags::empty(), none)?;
    }
    Ok(())
}

fn load_module(name: &str) -> std::io::Result<()> {
    let file = File::open(format!("/lib/modules/{name}.ko"))?;
    let params = CString::default();
    nix::kmod::finit_module(&file, &params, nix::kmod::ModuleInitFlags::empty())?;
    Ok(())
}

/// A serial port in raw mode (no `\n` → `\r\n`, no echo) that ignores the
/// modem lines (CLOCAL). It is opened non-blocking, so that the open cannot
/// wait for a carrier, then switched back to blocking writes.
fn open_port(path: &str) -> std::io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags((OFlag::O_NOCTTY | OFlag::O_NONBLOCK).bits())
        .open(path)?;
    let mut tio = termios::tcgetattr(&file)?;
    termios::cfmakeraw(&mut tio);
    tio.control_flags |= termios::ControlFlags::CLOCAL;
    tio.control_flags &= !termios::ControlFlags::HUPCL;
    termios::tcsetattr(&file, termios::SetArg::TCSANOW, &tio)?;
    nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFL(OFlag::empty()))?;
    Ok(file)
}

/// Wait until a port has sent what it holds, for `limit` at most: unlike
/// tcdrain(), this cannot hang the VM.
fn drain(port: &File, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ writes one int.
        let ok = unsafe { libc::ioctl(port.as_raw_fd(), libc::TIOCOUTQ, &mut queued) } == 0;
        if !ok || queued == 0 || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `/bin/sh ARGS` with a clean environment, in a session of its own.
fn shell(args: &[&str]) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(args)
        .env_clear()
        .env("PATH", "/bin")
        .env("HOME", "/root")
        .env("LANG", "C");
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            setsid()?;
            Ok(())
        })
    };
    cmd
}

/// Where init mounts the cgroup2 filesystem.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// What a scenario might leave behind, read before and after it runs.
struct Resources {
    mounts: Vec<String>,
    net_devices: Vec<String>,
    semaphores: Vec<String>,
    /// Every cgroup below the root, as its path from the root (`/box`).
    cgroups: Vec<String>,
}

/// The cgroups below `dir` (a directory of the cgroup2 filesystem, `path`
/// from its root), parents before their children.
fn cgroups_below(dir: &std::path::Path, path: &str, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut children: Vec<_> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    children.sort();
    for name in children {
        let child = format!("{path}/{name}");
        found.push(child.clone());
        cgroups_below(&dir.join(&name), &child, found);
    }
}

impl Resources {
    fn read() -> Resources {
        let lines = |path: &str, skip: usize| -> Vec<String> {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.lines().skip(skip).map(str::to_owned).collect()
        };
        let mut net_devices: Vec<String> = std::fs::read_dir("/sys/class/net")
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        net_devices.sort();
        let mut cgroups = Vec::new();
        cgroups_below(std::path::Path::new(CGROUP_ROOT), "", &mut cgroups);
        Resources {
            mounts: lines("/proc/self/mounts", 0),
            net_devices,
            semaphores: lines("/proc/sysvipc/sem", 1),
            cgroups,
        }
    }

    /// One leak line for each thing that `after` has and `self` had not.
    fn leaks(&self, after: &Resources, report: &mut Vec<Line>) {
        let new = |before: &[String], after: &[String], what: &str, report: &mut Vec<Line>| {
            let items = after
                .iter()
                .filter(|item| !before.contains(item))
                .map(|item| {
                    let short: Vec<&str> = item.split_whitespace().take(3).collect();
                    format!("{what} {}", short.join(" "))
                });
            push_leaks(report, items);
        };
        new(&self.mounts, &after.mounts, "mount", report);
        new(
            &self.net_devices,
            &after.net_devices,
            "network device",
            report,
        );
        new(&self.semaphores, &after.semaphores, "semaphore", report);
        new(&self.cgroups, &after.cgroups, "cgroup", report);
        // And the other way round: the scenario must not unmount the VM's.
        new(&after.mounts, &self.mounts, "unmounted", report);
    }
}

/// Leaks, a line for each different one, with its count.
fn push_leaks(report: &mut Vec<Line>, items: impl IntoIterator<Item = String>) {
    for (what, count) in nslab_protocol::group(items) {
        report.push(Line::Leak { what, count });
    }
}

fn run_scenario(timeout: Duration, report: &mut Vec<Line>) -> std::io::Result<()> {
    let before = Resources::read();
    println!("{SCENARIO_STARTS}");
    let child = shell(&["/scenario.sh"])
        .stdin(Stdio::null())
        .stdout(open_port(&Port::Stdout.device())?)
        .stderr(open_port(&Port::Stderr.device())?)
        .spawn()?;
    // We reap with waitpid() ourselves: as PID 1 we also collect orphans.
    let child = Pid::from_raw(child.id() as i32);
    report.push(Line::ScenarioPid(child.as_raw() as u32));

    let end = wait_with_deadline(child, timeout);
    report.push(Line::End(end));
    // Anything still alive was left behind by the scenario (a process whose
    // parent did not wait for it), or is what the timeout interrupted. A
    // fork bomb may refill the table while we kill: a few rounds, bounded.
    let mut left = Vec::new();
    for _ in 0..20 {
        let found = user_processes();
        if found.is_empty() {
            break;
        }
        for (pid, comm) in found {
            if kill(pid, Signal::SIGKILL).is_ok() && !left.contains(&(pid, comm.clone())) {
                left.push((pid, comm));
            }
        }
        std::thread::sleep(Duration::from_millis(5));
        while let Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) =
            waitpid(None, Some(WaitPidFlag::WNOHANG))
        {}
    }
    push_leaks(
        report,
        left.into_iter().map(|(_, comm)| format!("process {comm}")),
    );
    // Reap them, for a while: a process stuck in the kernel (state D)
    // ignores even SIGKILL, and must not keep the VM from reporting.
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(5)),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    before.leaks(&Resources::read(), report);
    Ok(())
}

/// Wait for the scenario, reaping every other child on the way (we are PID 1:
/// orphans come to us). Kill its session when the deadline passes.
fn wait_with_deadline(child: Pid, timeout: Duration) -> End {
    let deadline = Instant::now() + timeout;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => return End::Exit(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                return End::Signal(sig as i32);
            }
            Ok(WaitStatus::StillAlive) | Err(_) => {
                if !timeout.is_zero() && Instant::now() >= deadline {
                    let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
                    let _ = kill(child, Signal::SIGKILL);
                    let _ = waitpid(child, None);
                    return End::Timeout(timeout.as_secs());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(_) => {}
        }
    }
}

/// Processes other than init and the kernel's threads.
fn user_processes() -> Vec<(Pid, String)> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == 1 {
            continue;
        }
        // Kernel threads have an empty command line. The name shown is the
        // program's as it was run (argv[0]): busybox applets run through
        // /proc/self/exe, so their `comm` is "exe".
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let Some(argv0) = cmdline.split(|&b| b == 0).next().filter(|a| !a.is_empty()) else {
            continue;
        };
        let argv0 = String::from_utf8_lossy(argv0);
        let name = argv0.rsplit('/').next().unwrap_or(&argv0).to_string();
        found.push((Pid::from_raw(pid), name));
    }
    found.sort_by_key(|(pid, _)| pid.as_raw());
    found
}

/// `cargo xtask shell`: a login shell on the console, its controlling tty.
fn interactive_shell() {
    let Ok(console) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(Port::Console.device())
    else {
        return;
    };
    let fd = console.as_raw_fd();
    let mut cmd = shell(&["-l"]);
    cmd.env("TERM", "linux")
        .env("PS1", "nslab-vm# ")
        .stdin(console.try_clone().expect("dup console"))
        .stdout(console.try_clone().expect("dup console"))
        .stderr(console);
    // SAFETY: ioctl(TIOCSCTTY) is async-signal-safe; it runs after setsid.
    unsafe {
        cmd.pre_exec(move || {
            libc::ioctl(fd, libc::TIOCSCTTY, 0);
            Ok(())
        })
    };
    if let Ok(child) = cmd.spawn() {
        let child = Pid::from_raw(child.id() as i32);
        while let Ok(status) = waitpid(None, None) {
            if status.pid() == Some(child) {
                break;
            }
        }
    }
}

/// Report on ttyS3, let every port drain, and leave through
/// isa-debug-exit.
fn power_off(report: &[Line]) -> ! {
    if let Ok(mut status) = open_port(&Port::Report.device()) {
        for line in report {
            let _ = writeln!(status, "{line}");
        }
        let _ = writeln!(status, "{}", Line::Done);
        drain(&status, Duration::from_secs(2));
    }
    for port in [Port::Console, Port::Stdout, Port::Stderr] {
        if let Ok(file) = open_port(&port.device()) {
            drain(&file, Duration::from_secs(1));
        }
    }
    if let Ok(mut port) = std::fs::OpenOptions::new().write(true).open("/dev/port")
        && port.seek(SeekFrom::Start(DEBUG_EXIT_PORT.into())).is_ok()
    {
        let _ = port.write_all(&[DEBUG_EXIT_VALUE]);
    }
    let _ = nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_POWER_OFF);
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}
