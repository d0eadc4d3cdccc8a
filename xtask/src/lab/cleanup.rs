//! What a VM leaves behind, removed however xtask ends: the registries of
//! the QEMUs running now and of the run directories (`target/nslab-vm/runs/…`)
//! that exist now, and the signal handler that kills the one and removes the
//! other.
//!
//! Wiring: the bottom of [`crate::lab`]; it imports nothing of the lab (only
//! [`crate::vm_dir`]). [`super::qemu`] starts every QEMU through [`spawn`],
//! and [`super::Lab`] makes every run's directory as a [`RunDir`].
//!
//! A run directory is removed when its run ends (its [`RunDir`] is dropped),
//! however it ends — kept only with `NSLAB_KEEP_RUNS=1`, for debugging — and
//! those of processes that died without cleaning up are swept at the next
//! start ([`sweep_runs`]). On SIGINT, SIGTERM or SIGHUP xtask kills every VM
//! it runs and removes their directories before it exits
//! ([`install_signal_handler`]).

use crate::vm_dir;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Set once a signal asked us to stop: no VM starts and no run directory
/// is made after it.
static STOPPING: AtomicBool = AtomicBool::new(false);

fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// The QEMUs running now (their PIDs): what the signal handler kills.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn running() -> MutexGuard<'static, Vec<u32>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The run directories of this process that exist now: what the signal
/// handler removes.
static RUN_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn run_dirs() -> MutexGuard<'static, Vec<PathBuf>> {
    RUN_DIRS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A QEMU in the registry of running ones, until dropped.
pub struct Registered(u32);

impl Drop for Registered {
    fn drop(&mut self) {
        running().retain(|pid| *pid != self.0);
    }
}

/// Start a QEMU (`program`, for the error), in the registry of those the
/// signal handler kills: none starts once the handler has begun (it holds
/// the registry's lock).
pub fn spawn(cmd: &mut Command, program: &Path) -> Result<(Child, Registered)> {
    let mut registry = running();
    anyhow::ensure!(!stopping(), "interrupted");
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let pid = child.id();
    registry.push(pid);
    Ok((child, Registered(pid)))
}

/// Whether run directories are kept (`NSLAB_KEEP_RUNS=1`).
pub fn keep_runs() -> bool {
    std::env::var("NSLAB_KEEP_RUNS").is_ok_and(|v| v == "1")
}

fn runs_dir() -> PathBuf {
    vm_dir().join("runs")
}

/// Remove the run directories of processes that are gone (`NAME-PID-…`).
pub fn sweep_runs() {
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

/// Remove every run directory of this process (unless runs are kept). The
/// signal handler calls it once it has made [`stopping`] true, so no new
/// directory is made after it.
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
    /// A new directory for the run called `name` (`sem-solution`), under
    /// `target/nslab-vm/runs`, with this process's PID in its name.
    pub fn new(name: &str) -> Result<RunDir> {
        let mut registry = run_dirs();
        anyhow::ensure!(!stopping(), "interrupted");
        let runs = runs_dir();
        std::fs::create_dir_all(&runs).with_context(|| runs.display().to_string())?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-p{}-", std::process::id()))
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

/// On SIGINT, SIGTERM or SIGHUP: start no VM, kill every running one, remove
/// every run directory, and leave at once with status 130 (the shell's code
/// for an interrupted command), running no destructor alongside the
/// threads that are still at work.
pub fn install_signal_handler() {
    let _ = ctrlc::set_handler(|| {
        STOPPING.store(true, Ordering::SeqCst);
        let vms = running().clone();
        for pid in &vms {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        remove_run_dirs();
        eprintln!(
            "\nxtask: interrupted; {} VM(s) stopped and cleaned up",
            vms.len()
        );
        // SAFETY: _exit ends the process at once; nothing runs after it.
        unsafe { libc::_exit(130) };
    });
}
