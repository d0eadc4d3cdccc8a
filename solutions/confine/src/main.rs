//! Step 13 — `confinedcontainer [--keep CAP,…] [--no-seccomp] [--show]
//! [--rootfs DIR] [--hostname NAME] [CMD ARGS…]`: the container of step 10,
//! confined before it execs its command, as Docker, runc, crun and youki do.
//!
//! Root in pivotcontainer is still root: it holds every capability, so it
//! can mount, load a kernel module, reboot the machine, or make a user
//! namespace and be root again there. The child here sets up its root as in
//! step 10, then, before it execs the command:
//!
//! 1. keeps only Docker's 14 default capabilities (or those of `--keep`) in
//!    each of its five capability sets: bounding, inheritable, effective,
//!    permitted and ambient;
//! 2. sets no_new_privs: nothing it execs can gain a privilege it has not;
//! 3. installs seccomp filters that answer EPERM to the calls a container
//!    has no business making (mount, reboot, module loading, a new user
//!    namespace…) and ENOSYS to clone3, whose flags a filter cannot read.
//!
//! `--no-seccomp` leaves the filters out (to show what they close);
//! `--show` prints the child's capability sets just before its execve.

mod status;

use caps::{CapSet, Capability, CapsHashSet};
use container::{clone_container, exec, namespaces, wait_container};
use nslab::{Error, Result, program_name};
use pivot::setup;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

/// Docker's default capabilities, the 14 a container keeps unless told
/// otherwise: moby's `oci/caps/defaults.go`.
const DOCKER_DEFAULT: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// The calls the filter answers EPERM, whatever their arguments: the
/// container's root is set up already, it has no modules to load, no
/// machine to reboot or kexec, and the kernel's keyrings and eBPF reach
/// beyond it. Docker's default profile denies each of them too, unless the
/// container is given the capability the call needs.
const DENIED: [(&str, i64); 12] = [
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("reboot", libc::SYS_reboot),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("bpf", libc::SYS_bpf),
];

/// The command line: step 10's, with what to keep and whether to filter.
struct Options {
    container: container::Options,
    keep: CapsHashSet,
    seccomp: bool,
    show: bool,
}

fn main() -> std::process::ExitCode {
    nslab::main(|| {
        let options = Options::parse()?;
        options.check()?;
        let child = clone_container(namespaces(), Box::new(|| child_main(&options)))?;
        wait_container(child)
    })
}

/// The child's body: enter the container, exec; on failure print the line
/// and exit 127. Should the parent die first, the kernel kills the
/// container's init.
fn child_main(options: &Options) -> isize {
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    let err = match enter(options) {
        Ok(()) => exec(&options.container.command),
        Err(err) => err,
    };
    report(err)
}

// ANCHOR: enter
/// In the child, before its execve: set up the root, confine, and with
/// `--show` print the capability sets the command will start from.
fn enter(options: &Options) -> Result<()> {
    // TODO: the root first, as in step 10, setup(&options.container)?; then
    // confine(options)?. Confined first, the setup would be refused its
    // own mounts and pivot_root: they need CAP_SYS_ADMIN, and the filter
    // denies them.
    // @solution
    setup(&options.container)?;
    confine(options)?;
    // @exercise
    // // TODO: set up the root, then confine
    // @end
    if options.show {
        println!("{}: before execve:", program_name());
        status::print("/proc/self/status")?;
    }
    Ok(())
}
// ANCHOR_END: enter

fn report(err: Error) -> isize {
    err.report();
    127
}

// ANCHOR: confine
/// Confine the child, once its root is set up and just before its execve.
/// The order matters:
///
/// 1. the capabilities first: our filter does not deny capset(2) or
///    prctl(2), but a filter that did would refuse the drop itself if it
///    came first;
/// 2. no_new_privs before the filter: once CAP_SYS_ADMIN is dropped,
///    seccomp(2) refuses (EACCES) a filter to a process without
///    no_new_privs, which could otherwise exec a set-user-ID program under
///    a filter that fools it;
/// 3. the filter last: it denies mount and pivot_root, which `setup` needed,
///    and it must still allow what comes after it, the execve of the
///    command (a deny list allows everything it does not name).
fn confine(options: &Options) -> Result<()> {
    drop_capabilities(&options.keep)?;
    // TODO: set no_new_privs, nix::sys::prctl::set_no_new_privs() (prctl(2)
    // PR_SET_NO_NEW_PRIVS); name it "prctl(PR_SET_NO_NEW_PRIVS)" in its
    // error. Then, unless --no-seccomp (options.seccomp), build the two
    // filters, let (deny, clone3) = filters()?, and install(&deny)? and
    // install(&clone3)?.
    // @solution
    nix::sys::prctl::set_no_new_privs()
        .map_err(|errno| Error::sys("prctl(PR_SET_NO_NEW_PRIVS)", errno))?;
    if options.seccomp {
        let (deny, clone3) = filters()?;
        install(&deny)?;
        install(&clone3)?;
    }
    // @exercise
    // // TODO: no_new_privs, then the filters
    // @end
    Ok(())
}
// ANCHOR_END: confine

// ANCHOR: drop
/// Keep `keep`, and nothing else, in each of the five capability sets.
fn drop_capabilities(keep: &CapsHashSet) -> Result<()> {
    // TODO: with the `caps` crate, in this order:
    // 1. the bounding set, the limit of what an execve can ever give back:
    //    caps::drop(None, CapSet::Bounding, cap) for each cap of caps::all()
    //    that is not kept. prctl(PR_CAPBSET_DROP) needs CAP_SETPCAP in the
    //    effective set, so this comes before the effective set is cut;
    // 2. caps::set(None, CapSet::Inheritable, keep), what execve may pass on;
    // 3. caps::set(None, CapSet::Effective, keep), then the same for
    //    CapSet::Permitted: capset(2) refuses an effective set that is not
    //    in the permitted one;
    // 4. caps::set(None, CapSet::Ambient, keep): a capability can be ambient
    //    only when it is permitted and inheritable.
    // Each call returns a caps::errors::CapsError: report it with
    // caps_error("the bounding set") (and so on), which makes the line.
    // @solution
    for cap in caps::all() {
        if !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap).map_err(caps_error("the bounding set"))?;
        }
    }
    caps::set(None, CapSet::Inheritable, keep).map_err(caps_error("the inheritable set"))?;
    caps::set(None, CapSet::Effective, keep).map_err(caps_error("the effective set"))?;
    caps::set(None, CapSet::Permitted, keep).map_err(caps_error("the permitted set"))?;
    caps::set(None, CapSet::Ambient, keep).map_err(caps_error("the ambient set"))?;
    // @exercise
    // let _ = keep; // TODO: the five sets
    // @end
    Ok(())
}
// ANCHOR_END: drop

/// A `caps` error as our line: `the bounding set: PR_CAPBSET_DROP failure:
/// Operation not permitted (os error 1)` (the crate's text names the call
/// and errno, after a "caps error: " of its own).
fn caps_error(set: &'static str) -> impl Fn(caps::errors::CapsError) -> Error {
    move |err| {
        let text = err.to_string();
        let text = text.strip_prefix("caps error: ").unwrap_or(&text);
        Error::msg(format!("{set}: {text}"))
    }
}

// ANCHOR: filters
/// The two filters, compiled to classic BPF by seccompiler. Each program
/// starts with the architecture check: it loads `seccomp_data.arch` and
/// kills the process when it is not the one the filter was compiled for
/// (the same system call numbers mean other calls on another
/// architecture, i386's through `int 0x80` on this one).
fn filters() -> Result<(BpfProgram, BpfProgram)> {
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|err| Error::msg(format!("seccompiler: {err}")))?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        DENIED.iter().map(|&(_, nr)| (nr, Vec::new())).collect();
    // TODO: deny a new user namespace: a rule (SeccompRule::new) with one
    // SeccompCondition::new(0, SeccompCmpArgLen::Qword,
    // SeccompCmpOp::MaskedEq(new_user), new_user), where new_user is
    // libc::CLONE_NEWUSER as u64: "the flags (argument 0), masked with
    // CLONE_NEWUSER, equal CLONE_NEWUSER", whatever other flags come with
    // it. rules.insert() it for libc::SYS_unshare and for libc::SYS_clone.
    // Both constructors return a seccompiler::BackendError: make the line
    // with seccompiler_error.
    // @solution
    let new_user = libc::CLONE_NEWUSER as u64;
    let condition = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::MaskedEq(new_user),
        new_user,
    )
    .map_err(seccompiler_error)?;
    let rule = SeccompRule::new(vec![condition]).map_err(seccompiler_error)?;
    rules.insert(libc::SYS_unshare, vec![rule.clone()]);
    rules.insert(libc::SYS_clone, vec![rule]);
    // @exercise
    // // TODO: unshare and clone with CLONE_NEWUSER
    // @end
    let deny = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(seccompiler_error)?;
    // TODO: a second filter for clone3 alone: its flags are in a struct in
    // memory, which a filter cannot read (it sees the pointer). Answer it
    // SeccompAction::Errno(libc::ENOSYS as u32), "no such call", for glibc
    // then falls back to clone, which the first filter checks; EPERM would
    // stop the C library from starting a thread or a process at all. The
    // rules: BTreeMap::from([(libc::SYS_clone3, Vec::new())]) (no rule: the
    // call matches whatever its arguments). As for the first filter,
    // SeccompFilter::new(rules, the action of every other call (Allow), the
    // action of the calls the rules match, arch).
    // @solution
    let clone3 = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(seccompiler_error)?;
    // @exercise
    // let clone3 = deny.clone(); // TODO: clone3 answered ENOSYS
    // @end
    Ok((
        deny.try_into().map_err(seccompiler_error)?,
        clone3.try_into().map_err(seccompiler_error)?,
    ))
}
// ANCHOR_END: filters

fn seccompiler_error(err: seccompiler::BackendError) -> Error {
    Error::msg(format!("seccompiler: {err}"))
}

// ANCHOR: install
/// Install a filter on this thread with seccomp(2): the kernel copies the
/// program, checks it, and runs it on every system call this thread and
/// its children make from now on, and after execve too. (seccompiler's own
/// `apply_filter` would set no_new_privs itself; we do each step apart.)
fn install(filter: &BpfProgram) -> Result<()> {
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        // seccompiler's sock_filter is the kernel's struct sock_filter.
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: the kernel reads `len` instructions from `filter`, which
    // lives until we return; it keeps a copy of its own.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &program as *const libc::sock_fprog,
        )
    };
    if ret == -1 {
        return Err(Error::last("seccomp(SECCOMP_SET_MODE_FILTER)"));
    }
    Ok(())
}
// ANCHOR_END: install

impl Options {
    fn parse() -> Result<Options> {
        use lexopt::prelude::*;
        let usage = || {
            Error::msg(format!(
                "Usage: {} [--keep CAP,...] [--no-seccomp] [--show] [--rootfs DIR] \
                 [--hostname NAME] [CMD ARGS...]",
                program_name()
            ))
        };
        let bad = |err: lexopt::Error| Error::msg(format!("{}: {err}", program_name()));
        let mut options = Options {
            container: container::Options {
                rootfs: PathBuf::from("rootfs"),
                hostname: "container".into(),
                command: Vec::new(),
            },
            keep: DOCKER_DEFAULT.into_iter().collect(),
            seccomp: true,
            show: false,
        };
        let mut parser = lexopt::Parser::from_env();
        while let Some(arg) = parser.next().map_err(bad)? {
            match arg {
                Long("keep") => options.keep = parse_keep(parser.value().map_err(bad)?)?,
                Long("no-seccomp") => options.seccomp = false,
                Long("show") => options.show = true,
                Long("rootfs") => options.container.rootfs = parser.value().map_err(bad)?.into(),
                Long("hostname") => options.container.hostname = parser.value().map_err(bad)?,
                Short('h') | Long("help") => return Err(usage()),
                Value(first) => {
                    options.container.command.push(first);
                    options
                        .container
                        .command
                        .extend(parser.raw_args().map_err(bad)?);
                }
                other => return Err(bad(other.unexpected())),
            }
        }
        if options.container.command.is_empty() {
            options.container.command.push("/bin/sh".into());
        }
        Ok(options)
    }

    /// Step 10's checks, and that we hold what we are asked to keep: a
    /// capability this process does not have, its child cannot keep.
    fn check(&self) -> Result<()> {
        self.container.check()?;
        let permitted = caps::read(None, CapSet::Permitted)
            .map_err(|err| Error::msg(format!("{}: {err}", program_name())))?;
        if let Some(cap) = sorted(&self.keep).find(|cap| !permitted.contains(cap)) {
            return Err(Error::msg(format!(
                "{}: --keep {}: this process does not have it (its permitted set lacks it)",
                program_name(),
                status::name(cap)
            )));
        }
        Ok(())
    }
}

/// `chown,net_raw` (or `CAP_CHOWN,…`, any case) as a set; "" keeps none.
fn parse_keep(list: OsString) -> Result<CapsHashSet> {
    let list = list.to_string_lossy().into_owned();
    list.split(',')
        .filter(|name| !name.is_empty())
        .map(|name| {
            caps::to_canonical(name).parse::<Capability>().map_err(|_| {
                Error::msg(format!(
                    "{}: --keep: unknown capability '{name}'",
                    program_name()
                ))
            })
        })
        .collect()
}

/// The capabilities of `set` in the kernel's order.
fn sorted(set: &CapsHashSet) -> impl Iterator<Item = Capability> {
    let mut caps: Vec<Capability> = set.iter().copied().collect();
    caps.sort_by_key(|cap| cap.index());
    caps.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_takes_names_in_any_case_with_or_without_cap_() {
        let keep = parse_keep("chown,CAP_NET_RAW,Kill".into()).unwrap();
        let expected = [
            Capability::CAP_CHOWN,
            Capability::CAP_NET_RAW,
            Capability::CAP_KILL,
        ];
        assert_eq!(keep, expected.into_iter().collect());
        assert!(parse_keep("".into()).unwrap().is_empty());
    }

    #[test]
    fn keep_refuses_an_unknown_name_in_one_line() {
        let err = parse_keep("chown,bogus".into()).unwrap_err();
        assert!(
            err.message()
                .ends_with("--keep: unknown capability 'bogus'"),
            "{}",
            err.message()
        );
    }
}
