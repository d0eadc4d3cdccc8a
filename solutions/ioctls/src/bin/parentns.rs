//! `parentns PID [TYPE…|all]`: the parent of each namespace of PID
//! (NS_GET_PARENT). Only pid and user namespaces form a hierarchy.

fn main() -> std::process::ExitCode {
    nslab::main(|| ioctls::for_each_namespace("NS_GET_PARENT", "is child of", ioctls::parent))
}
