//! Command-line pieces shared by the steps: PIDs and namespace names.
//!
//! Messages follow the article's programs (`First parameter 'x' must be a
//! pid`), so that a reader holding the article recognises them.
//!
//! Arguments are read as the kernel passes them, bytes that need not be
//! UTF-8 (`std::env::args()` would panic on such an argument). An argument
//! that is not UTF-8 is never a PID nor a namespace name: it gets the same
//! message as any other bad argument, with its odd bytes shown as `\xHH`.

use crate::{Error, Ns, NsOrder, Result};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// The program's arguments, without its name, as the kernel passed them.
pub fn args() -> Vec<OsString> {
    std::env::args_os().skip(1).collect()
}

/// The name the program was called by, without its directory (for `Usage:`).
pub fn program_name() -> String {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    std::path::Path::new(&argv0)
        .file_name()
        .map(shown)
        .unwrap_or_else(|| "nslab".into())
}

/// An argument as a message shows it: its text, with each byte that is
/// not part of valid UTF-8 written `\xHH` (bash's `$'\xff'` notation).
pub fn shown(arg: &OsStr) -> String {
    let mut text = String::new();
    for chunk in arg.as_bytes().utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// A PID: decimal digits only, not empty (the article's `is_pid()` accepts
/// an empty string; we do not), and a number from 1 to 2^31-1. `what`
/// names the argument in the message: `First parameter`, `Parameter`...
///
/// The PID is the number the digits spell, returned in its plain decimal
/// form: `01` is PID 1, as execns.c's `atoi()` reads it. (cmpns.c and
/// idns.c paste the digits into `/proc/01/ns/...` instead, which procfs
/// does not have: a leading zero is no PID name there.)
pub fn parse_pid(arg: &OsStr, what: &str) -> Result<String> {
    let digits = !arg.is_empty() && arg.as_bytes().iter().all(u8::is_ascii_digit);
    let pid = arg.to_str().and_then(|text| text.parse::<i32>().ok());
    match pid {
        Some(pid) if digits && pid > 0 => Ok(pid.to_string()),
        _ => Err(Error::msg(format!("{what} '{}' must be a pid", shown(arg)))),
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
pub fn parse_ns_name(arg: &OsStr, what: &str) -> Result<Ns> {
    arg.to_str()
        .and_then(Ns::from_name)
        .ok_or_else(|| Error::msg(format!("{what} '{}'", shown(arg))))
}

/// A list of namespace names, where `all` (or no name at all) means every
/// type. The result is in `order`, whatever the order of the arguments, and
/// has no duplicates.
pub fn parse_ns_list<S: AsRef<OsStr>>(args: &[S], order: NsOrder, what: &str) -> Result<Vec<Ns>> {
    let mut wanted = Vec::new();
    for arg in args {
        match arg.as_ref() {
            all if all == "all" => wanted.extend(Ns::ALL),
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
pub fn parse_pid_and_types(args: &[OsString], pid_what: &str) -> Result<(String, Vec<Ns>)> {
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

/// A program that takes no argument: `Usage: NAME` when it is given any.
pub fn no_arguments() -> Result<()> {
    match args().is_empty() {
        true => Ok(()),
        false => Err(Error::msg(format!("Usage: {}", program_name()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(text: &str) -> &OsStr {
        OsStr::new(text)
    }

    #[test]
    fn pids_are_positive_decimal_numbers() {
        assert_eq!(parse_pid(os("42"), "Parameter").unwrap(), "42");
        for bad in [
            "",
            "-1",
            "0",
            "00",
            "+1",
            " 1",
            "12a",
            "self",
            "99999999999",
        ] {
            let err = parse_pid(os(bad), "Parameter").unwrap_err();
            assert_eq!(err.message(), format!("Parameter '{bad}' must be a pid"));
        }
    }

    #[test]
    fn a_pid_is_the_number_its_digits_spell() {
        assert_eq!(parse_pid(os("01"), "Parameter").unwrap(), "1");
        assert_eq!(parse_pid(os("007"), "Parameter").unwrap(), "7");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_escaped() {
        let odd = OsStr::from_bytes(b"1\xff2\xc3");
        assert_eq!(shown(odd), "1\\xff2\\xc3");
        assert_eq!(shown(os("été")), "été");
        let err = parse_pid(odd, "First parameter").unwrap_err();
        assert_eq!(
            err.message(),
            "First parameter '1\\xff2\\xc3' must be a pid"
        );
        let err = parse_ns_name(OsStr::from_bytes(b"ut\xffs"), "Bad namespace name").unwrap_err();
        assert_eq!(err.message(), "Bad namespace name 'ut\\xffs'");
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
