//! The machine's policy: a run restores the saved VM; when the restore
//! fails it boots cold instead, and from then on this process gives
//! restores up; a VM that stalls or panics while booting is booted again,
//! once, in software.
//!
//! Wiring: imports [`super::qemu`] and [`super::vm`] (one QEMU run);
//! [`super::Lab`] makes each [`Machine`] and runs it.

use super::qemu::{Accel, Qemu};
use super::vm::{self, Run, VmEnd};
use anyhow::Result;
use nslab_protocol::BOOTED;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Everything one VM needs.
#[derive(Clone)]
pub struct Machine {
    /// Its QEMU: kernel, initramfs, payload disk, accelerator, where its
    /// files go.
    pub qemu: Qemu,
    /// The saved base VM to start from, when snapshots are on.
    pub snapshot: Option<PathBuf>,
    /// Seconds the guest init gives the scenario (0: no limit); the host's
    /// own limit comes on top of it.
    pub timeout: u64,
    /// Whether the scenario's stdout and stderr are shown here as they come
    /// (`cargo xtask run`), besides being collected.
    pub stream: bool,
}

/// Set once a restore failed: this process boots cold from then on.
static GAVE_UP: AtomicBool = AtomicBool::new(false);

/// Whether restores still work in this process.
fn usable() -> bool {
    !GAVE_UP.load(Ordering::SeqCst)
}

/// A restore failed: say so once, and boot cold from now on.
fn give_up(why: &str) {
    if !GAVE_UP.swap(true, Ordering::SeqCst) {
        eprintln!("nslab: restoring the saved VM failed ({why}); booting every VM cold instead");
    }
}

impl Machine {
    /// Run the scenario, and classify the end.
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
            Some(state) if usable() => {
                let run = self.once(Some(state))?;
                let worked = run.console.contains(BOOTED)
                    || !matches!(
                        run.end,
                        VmEnd::QemuError(_) | VmEnd::BootStall | VmEnd::Timeout
                    );
                if worked {
                    run
                } else {
                    give_up(&run.end.to_string());
                    let mut cold = self.once(None)?;
                    cold.retried = Some(run.end);
                    cold
                }
            }
            _ => self.once(None)?,
        };
        let booted = first.console.contains(BOOTED);
        let again = match &first.end {
            VmEnd::BootStall | VmEnd::Timeout => true,
            VmEnd::KernelPanic(_) => !booted,
            _ => false,
        };
        if !again {
            return Ok(first);
        }
        eprintln!(
            "nslab: the VM ({}) ended early ({}); booting it again under tcg",
            self.qemu.accel.name(),
            first.end
        );
        let machine = Machine {
            qemu: Qemu {
                accel: Accel::Tcg,
                ..self.qemu.clone()
            },
            snapshot: None,
            ..self.clone()
        };
        let mut second = machine.once(None)?;
        second.retried = Some(first.end);
        Ok(second)
    }

    /// One QEMU run: restoring `restore`, or booted.
    fn once(&self, restore: Option<&Path>) -> Result<Run> {
        vm::run(&self.qemu, self.timeout, self.stream, restore)
    }

    /// An interactive VM: the console on this terminal (`cargo xtask shell`),
    /// booted.
    pub fn interactive(&self) -> Result<()> {
        vm::interactive(&self.qemu)
    }
}
