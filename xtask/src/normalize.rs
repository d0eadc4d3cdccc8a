//! What varies between two runs of the same scenario, made stable, so that
//! a snapshot states only what the kernel guarantees.
//!
//! - Namespace inode numbers become tags named after the namespace's type,
//!   numbered by first appearance among that type's (`net:[4026532117]` →
//!   `net:[net#1]`): the same namespace keeps the same tag, so "same" and
//!   "different" stay visible, and a namespace missing or added of one type
//!   moves no tag of another. The type is read where the line says it
//!   (`net:[…]`, `/proc/N/ns/net [Device,Inode]`, an `lsns` row, an owner
//!   `belongs to` is a user namespace, `Network namespace is`), anywhere in
//!   the transcript; an inode whose type no line says is `ns#N`. The inode
//!   numbers of the initial ipc, uts, user, pid, cgroup and time namespaces
//!   are constants of the kernel (4026531834 to 4026531839) and are kept as
//!   they are.
//! - Global PIDs (at least the scenario shell's own PID) become `PID#n` in
//!   the places where our programs, busybox or the kernel print a PID (`PID
//!   81`, `can't kill pid 81` too); in-namespace PIDs (1, 2...) are smaller
//!   and stay, since they are the point of the pid steps, and so do numbers
//!   from 32768 up (the VM's `pid_max`: `PID_MAX_DEFAULT`, 0x8000, in
//!   include/linux/threads.h, which `pid_idr_init()` in kernel/pid.c raises
//!   only past 32 CPUs): a PID no process can have, such as the `99999` of
//!   the bad-input lines, is what the scenario typed.
//! - The kernel release, MAC addresses, IPv6 link-local addresses,
//!   durations and `ls -l` dates become placeholders.
//! - A parent's `NAME: PID of child created by clone() is N` comes right
//!   after its command's `$` line, before what its child printed. The two
//!   processes write the same stdout with nothing to order them, as in the
//!   seeds' programs: on the VM's one CPU, a parent preempted between
//!   clone(2) and its write(2) lets the child print first (seen in 2 of 10
//!   full checks, from `container --hostname box /bin/hostname`). Each
//!   moves whole lines: stdout is line-buffered, one write(2) per line.

use regex::{Captures, Regex};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Inode numbers of the initial namespaces: fixed by the kernel
/// (PROC_*_INIT_INO in include/linux/proc_ns.h).
const FIXED_INODES: std::ops::RangeInclusive<u64> = 4026531834..=4026531839;

static INODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b40265\d{5}\b").unwrap());
/// Where a line says the type of the namespace of an inode number: the
/// type is the group `ty` (or, for an owner, a user namespace), the inode
/// the group `ino`.
static TYPED: LazyLock<Vec<(Regex, Option<&str>)>> = LazyLock::new(|| {
    const TYPE: &str = "(?P<ty>cgroup|ipc|mnt|net|pid|time|user|uts)";
    const INO: &str = r"(?P<ino>40265\d{5})\b";
    [
        (format!(r"\b{TYPE}:\[{INO}\]"), None),
        (
            format!(r"/ns/{TYPE}(_for_children)?( is child of)? \[Device,Inode\]: \[\d+,{INO}"),
            None,
        ),
        (format!(r"(?m)^{INO}\s+{TYPE}\b"), None),
        (
            format!(r"belongs to \[Device,Inode\]: \[\d+,{INO}"),
            Some("user"),
        ),
        (
            format!(r"Network namespace is \[Device,Inode\]: \[\d+,{INO}"),
            Some("net"),
        ),
    ]
    .into_iter()
    .map(|(re, ty)| (Regex::new(&re).unwrap(), ty))
    .collect()
});
/// Places where our programs, busybox and the kernel print a PID.
static PID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(Created process |PID of child created by clone\(\) is |/proc/|pid=|Process#|NSpid:\s+|NStgid:\s+|netns |\b[Pp][Ii][Dd] |\bwaitpid\(|\bkill\(|\bthread '[^']*' \()(\d+)\b",
    )
    .unwrap()
});
/// The VM's `pid_max`: no PID is this or more.
const PID_MAX: u64 = 32768;
/// The line a parent prints once clone(2) has returned (ns_child_exec's).
static CLONED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\S+: PID of child created by clone\(\) is \d+$").unwrap());
static KERNEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d+\.\d+\.\d+-\d+-(amd64|cloud-amd64)\b").unwrap());
static MAC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b").unwrap());
static LINK_LOCAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bfe80::[0-9a-f:]+(/\d+)?").unwrap());
/// `ls -l` dates: `Nov 22 22:40` (this year) or `Nov 22  2025`.
static LS_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +(\d{2}:\d{2}|\d{4})\b",
    )
    .unwrap()
});
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d+(\.\d+)?(/\d+(\.\d+)?)* ?(ms|µs|us)\b|\b\d+\.\d+ ?s\b").unwrap()
});

/// The text compared with the snapshot: the scenario's stdout, its stderr
/// if any, how it ended and what it leaked, with volatile values made
/// stable.
pub fn transcript(run: &crate::lab::Run) -> String {
    let report = &run.report;
    let first_pid = report.scenario_pid().map_or(u64::MAX, u64::from);
    let mut parts = Vec::new();
    if !run.stdout.trim().is_empty() {
        parts.push(run.stdout.trim().to_string());
    }
    if !run.stderr.trim().is_empty() {
        parts.push(format!("[stderr]\n{}", run.stderr.trim_end()));
    }
    if let Some(end) = report.end() {
        parts.push(format!("[scenario ended: {end}]"));
    }
    for (what, count) in report.leaks() {
        parts.push(format!("[{}]", leak(what, count)));
    }
    Normalizer::new(first_pid).apply(&parts.join("\n"))
}

/// What a run left behind, for a person: `leaked: process sem`, or
/// `leaked: 1,497 × process sem`.
pub fn leak(what: &str, count: usize) -> String {
    match count {
        1 => format!("leaked: {what}"),
        n => format!("leaked: {} × {what}", thousands(n)),
    }
}

/// 1497 → "1,497".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub struct Normalizer {
    /// The PID of the scenario's shell: every PID of ours is at least this.
    first_pid: u64,
}

impl Normalizer {
    pub fn new(first_pid: u64) -> Normalizer {
        Normalizer { first_pid }
    }

    pub fn apply(&self, text: &str) -> String {
        let text = parent_first(&text.replace("\r\n", "\n"));
        let text = namespace_tags(&text);
        let mut pids: HashMap<String, usize> = HashMap::new();
        let text = PID.replace_all(&text, |caps: &Captures| {
            let pid = &caps[2];
            if pid
                .parse()
                .is_ok_and(|n: u64| n < self.first_pid || n >= PID_MAX)
            {
                return caps[0].to_string();
            }
            let next = pids.len() + 1;
            format!(
                "{}PID#{}",
                &caps[1],
                pids.entry(pid.to_string()).or_insert(next)
            )
        });
        let text = KERNEL.replace_all(&text, "[KERNEL]");
        let text = MAC.replace_all(&text, "[MAC]");
        let text = LINK_LOCAL.replace_all(&text, "[LL6]");
        let text = DURATION.replace_all(&text, "[TIME]");
        let text = LS_DATE.replace_all(&text, "[DATE]");
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        lines.join("\n").trim_end().to_string()
    }
}

/// Namespace inode numbers replaced by tags of their type: `net#1`, the
/// first network namespace to appear (the module's doc says how).
fn namespace_tags(text: &str) -> String {
    let mut types: HashMap<&str, &str> = HashMap::new();
    for (re, ty) in TYPED.iter() {
        for caps in re.captures_iter(text) {
            let ty = ty.or_else(|| caps.name("ty").map(|m| m.as_str()));
            if let (Some(ino), Some(ty)) = (caps.name("ino"), ty) {
                types.entry(ino.as_str()).or_insert(ty);
            }
        }
    }
    let mut tags: HashMap<String, String> = HashMap::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    INODE
        .replace_all(text, |caps: &Captures| {
            let inode = &caps[0];
            if inode.parse().is_ok_and(|n: u64| FIXED_INODES.contains(&n)) {
                return inode.to_string();
            }
            tags.entry(inode.to_string())
                .or_insert_with(|| {
                    let ty = types.get(inode).copied().unwrap_or("ns");
                    let n = counts.entry(ty).or_insert(0);
                    *n += 1;
                    format!("{ty}#{n}")
                })
                .clone()
        })
        .into_owned()
}

/// Each parent's clone line moved up to just after its command's `$ ` line,
/// past the lines its child wrote first. Only past output lines: never past
/// a blank line, a `# ` note, another command or another clone line, so a
/// line with no command above it in its paragraph stays where it is.
fn parent_first(text: &str) -> String {
    let mut lines: Vec<&str> = text.split('\n').collect();
    for i in 0..lines.len() {
        if !CLONED.is_match(lines[i]) {
            continue;
        }
        let stop = lines[..i].iter().rposition(|line| {
            line.starts_with("$ ")
                || line.trim().is_empty()
                || line.starts_with("# ")
                || CLONED.is_match(line)
        });
        if let Some(command) = stop.filter(|&at| lines[at].starts_with("$ ")) {
            let line = lines.remove(i);
            lines.insert(command + 1, line);
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_counts_have_thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1497), "1,497");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn inodes_become_tags_of_their_type_and_fixed_ones_stay() {
        let n = Normalizer::new(70);
        let out = n.apply("net:[4026532117] uts:[4026531838] x 4026532117 4026532200");
        assert_eq!(out, "net:[net#1] uts:[4026531838] x net#1 ns#1");
        // Each way a transcript says the type.
        let out = n.apply(
            "/proc/83/ns/uts [Device,Inode]: [4,4026532201]\n\
             /proc/83/ns/uts belongs to [Device,Inode]: [4,4026532202]\n\
             /proc/83/ns/pid is child of [Device,Inode]: [4,4026532203]\n\
             4026532204 mnt         1   1 lsns\n\
             Network namespace is [Device,Inode]: [4,4026532205]\n\
             pid_for_children -> pid:[4026532203]",
        );
        assert_eq!(
            out,
            "/proc/PID#1/ns/uts [Device,Inode]: [4,uts#1]\n\
             /proc/PID#1/ns/uts belongs to [Device,Inode]: [4,user#1]\n\
             /proc/PID#1/ns/pid is child of [Device,Inode]: [4,pid#1]\n\
             mnt#1 mnt         1   1 lsns\n\
             Network namespace is [Device,Inode]: [4,net#1]\n\
             pid_for_children -> pid:[pid#1]"
        );
    }

    #[test]
    fn a_missing_namespace_moves_no_tag_of_another_type() {
        let n = Normalizer::new(70);
        let all = "ipc -> ipc:[4026532210]\nmnt -> mnt:[4026532211]\nuts -> uts:[4026532212]";
        let no_mnt = "ipc -> ipc:[4026532210]\nmnt -> mnt:[4026531841]\nuts -> uts:[4026532212]";
        let (all, no_mnt) = (n.apply(all), n.apply(no_mnt));
        assert_eq!(
            all,
            "ipc -> ipc:[ipc#1]\nmnt -> mnt:[mnt#1]\nuts -> uts:[uts#1]"
        );
        let changed: Vec<_> = all
            .lines()
            .zip(no_mnt.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(changed.len(), 0, "the VM's own mnt is mnt#1 too: {no_mnt}");
        // An extra namespace of one type renumbers that type only.
        let extra = "net:[4026532300]\nipc -> ipc:[4026532210]\nuts -> uts:[4026532212]";
        assert_eq!(
            n.apply(extra),
            "net:[net#1]\nipc -> ipc:[ipc#1]\nuts -> uts:[uts#1]"
        );
    }

    #[test]
    fn only_global_pids_are_replaced() {
        let n = Normalizer::new(70);
        let out = n.apply(
            "Created process 83 in requested namespaces\n/proc/83/ns/pid /proc/1/ns/pid /proc/91/x",
        );
        assert_eq!(
            out,
            "Created process PID#1 in requested namespaces\n/proc/PID#1/ns/pid /proc/1/ns/pid /proc/PID#2/x"
        );
        // Where busybox and our error lines name a PID, but not past pid_max.
        let out = n
            .apply("No process has PID 81\nsh: can't kill pid 81\nNo process has PID 99999\nPID 1");
        assert_eq!(
            out,
            "No process has PID PID#1\nsh: can't kill pid PID#1\nNo process has PID 99999\nPID 1"
        );
        // A thread group's ids are PIDs too: each level's, the VM's first.
        let out = n.apply("NStgid:\t83\t2\t1\nNSpid:\t83\t2\t1");
        assert_eq!(out, "NStgid:\tPID#1\t2\t1\nNSpid:\tPID#1\t2\t1");
    }

    #[test]
    fn a_parent_clone_line_comes_before_its_child_output() {
        let n = Normalizer::new(70);
        // The child printed first, then the parent (seen under load).
        let raced = "$ container --hostname box /bin/hostname\nbox\n\
                     container: PID of child created by clone() is 91\ncontainer: terminating";
        let ordered = "$ container --hostname box /bin/hostname\n\
                       container: PID of child created by clone() is PID#1\nbox\ncontainer: terminating";
        assert_eq!(n.apply(raced), ordered);
        assert_eq!(n.apply(ordered), ordered);
        // Past several lines of the child's, and only within its command.
        let raced = "$ a\nx\n$ container ls\nbin\ndev\n\
                     container: PID of child created by clone() is 91\netc";
        assert_eq!(
            n.apply(raced),
            "$ a\nx\n$ container ls\ncontainer: PID of child created by clone() is PID#1\nbin\ndev\netc"
        );
        // No command above it in its paragraph: it stays.
        let alone = "# note\nbox\ncontainer: PID of child created by clone() is 91";
        assert_eq!(
            n.apply(alone),
            "# note\nbox\ncontainer: PID of child created by clone() is PID#1"
        );
    }

    #[test]
    fn volatile_values_become_placeholders() {
        let n = Normalizer::new(70);
        let out = n.apply(
            "Linux 6.1.0-56-amd64\nlrwxrwxrwx 1 root root 0 Nov 22 22:40 uts\nlink/ether 5a:0b:11:22:33:44\r\ninet6 fe80::580b:11ff:fe22:3344/64\n64 bytes: seq=0 ttl=64 time=0.412 ms\nround-trip min/avg/max = 0.1/0.2/0.3 ms  \n\n",
        );
        assert_eq!(
            out,
            "Linux [KERNEL]\nlrwxrwxrwx 1 root root 0 [DATE] uts\nlink/ether [MAC]\ninet6 [LL6]\n64 bytes: seq=0 ttl=64 time=[TIME]\nround-trip min/avg/max = [TIME]"
        );
    }
}
