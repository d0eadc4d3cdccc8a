//! `ownerns PID [TYPE…|all]`: the user namespace that owns each namespace
//! of PID (NS_GET_USERNS).

fn main() -> std::process::ExitCode {
    nslab::main(|| ioctls::for_each_namespace("NS_GET_USERNS", "belongs to", ioctls::owner))
}
