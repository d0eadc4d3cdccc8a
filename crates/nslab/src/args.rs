//! Command-line pieces shared by the steps: PIDs and namespace names.
//!
//! Messages follow the article's programs (`First parameter 'x' must be a
//! pid`), so that a reader holding the article recognises them.

use crate::{Error, Ns, NsOrder, Result};

/// The name the program was called by, without its directory (for `Usage:`).
pub fn program_name() -> String {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    std::path::Path::new(&argv0)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "nslab".into())
}

/// A PID: decimal digits only, and not empty (the article's `is_pid()`
/// accepts an empty string; we do not). `what` names the argument in the
/// message: `First parameter`, `Parameter`...
pub fn parse_pid(arg: &str, what: &str) -> Result<String> {
    let digits = !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit());
    match digits && arg.parse::<i32>().is_ok_and(|pid| pid > 0) {
        true => Ok(arg.to_owned()),
        false => Err(Error::msg(format!("{what} '{arg}' must be a pid"))),
    }
}

/// Stop early, with one line, when there is no process `pid` (the
/// article's programs went on and printed one stat() error per type).
pub fn must_exist(pid: &str) -> Result<()> {
    match std::path::Path::new(&format!("/proc/{pid}")).exists() {
        true => Ok(()),
        false => Err(Error::msg(format!("No process has PID {pid}"))),
    }
}

/// One namespace name; `what` begins the error message, e.g. `Bad namespace
/// name` gives `Bad namespace name 'foo'`.
pub fn parse_ns_name(arg: &str, what: &str) -> Result<Ns> {
    Ns::from_name(arg).ok_or_else(|| Error::msg(format!("{what} '{arg}'")))
}

/// A list of namespace names, where `all` (or no name at all) means every
/// type. The result is in `order`, whatever the order of the arguments, and
/// has no duplicates.
pub fn parse_ns_list<S: AsRef<str>>(args: &[S], order: NsOrder, what: &str) -> Result<Vec<Ns>> {
    let mut wanted = Vec::new();
    for arg in args {
        match arg.as_ref() {
            "all" => wanted.extend(Ns::ALL),
            name => wanted.push(parse_ns_name(name, what)?),
        }
    }
    Ok(Ns::all(order)
        .into_iter()
        .filter(|ns| wanted.is_empty() || wanted.contains(ns))
        .collect())
}

/// The command line `PROGRAM PID [TYPE…|all]` of idns, ownerns, parentns
/// and nstype: the PID, and the types in the order given (all eight in
/// listing order when none is given, or with `all`). `pid_what` names the
/// PID in its error message (`Parameter`, `First parameter`). Every name is
/// checked before the program prints anything, and the process must exist.
pub fn parse_pid_and_types(args: &[String], pid_what: &str) -> Result<(String, Vec<Ns>)> {
    let Some((pid, names)) = args.split_first() else {
        return Err(Error::msg(format!(
            "Usage: {} pid [ns_names...]",
            program_name()
        )));
    };
    let pid = parse_pid(pid, pid_what)?;
    let mut list = Vec::new();
    for name in names {
        if name == "all" {
            list = Ns::all(NsOrder::Listing).to_vec();
            break;
        }
        list.push(parse_ns_name(name, "Unknown namespace name")?);
    }
    if list.is_empty() {
        list = Ns::all(NsOrder::Listing).to_vec();
    }
    must_exist(&pid)?;
    Ok((pid, list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_are_positive_decimal_numbers() {
        assert_eq!(parse_pid("42", "Parameter").unwrap(), "42");
        for bad in ["", "-1", "0", "12a", "self", "99999999999"] {
            let err = parse_pid(bad, "Parameter").unwrap_err();
            assert_eq!(err.message(), format!("Parameter '{bad}' must be a pid"));
        }
    }

    #[test]
    fn namespace_lists_follow_the_requested_order() {
        let list = parse_ns_list(&["mnt", "ipc", "ipc"], NsOrder::Enter, "Bad").unwrap();
        assert_eq!(list, vec![Ns::Ipc, Ns::Mnt]);
        let all = parse_ns_list::<&str>(&[], NsOrder::Listing, "Bad").unwrap();
        assert_eq!(all, Ns::all(NsOrder::Listing).to_vec());
        let err = parse_ns_list(&["uts", "bogus"], NsOrder::Enter, "Bad namespace").unwrap_err();
        assert_eq!(err.message(), "Bad namespace 'bogus'");
    }
}
