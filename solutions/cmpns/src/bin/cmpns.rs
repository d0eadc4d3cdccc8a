//! `cmpns PID1 PID2`: are two processes in the same namespaces?
//!
//! Prints `TYPE is equal` or `TYPE is different` for each of the eight types.
//! Exit status: 0 when every namespace is shared, 1 when any differs, 2 on
//! an error. (The article's program meant the same, but returned the result
//! of the last comparison only: there, `uts` alone decided.)

use cmpns::identity;
use nslab::{Error, Ns, NsOrder, Result, must_exist, parse_pid, program_name};

const DIFFERENT: u8 = 1;
const FAILED: u8 = 2;

fn main() -> std::process::ExitCode {
    nslab::main(|| run().map_err(|err| err.with_code(FAILED)))
}

fn run() -> Result<u8> {
    let args = nslab::args();
    let [first, second] = args.as_slice() else {
        return Err(Error::msg(format!("Usage: {} pid1 pid2", program_name())));
    };
    let first = parse_pid(first, "First parameter")?;
    let second = parse_pid(second, "Second parameter")?;
    must_exist(&first)?;
    must_exist(&second)?;

    let mut status = 0;
    for ns in Ns::all(NsOrder::Alphabetical) {
        // ANCHOR: compare
        let same = identity(&first, ns)? == identity(&second, ns)?;
        // ANCHOR_END: compare
        println!("{ns} is {}", if same { "equal" } else { "different" });
        if !same {
            status = DIFFERENT;
        }
    }
    Ok(status)
}
