//! The capability lines of /proc/PID/status, decoded into names (busybox
//! has no capsh), and the lines that say how the process is confined.
//! proc(5): each Cap* line is a 64-bit mask in hexadecimal, bit N for the
//! capability numbered N (include/uapi/linux/capability.h).

use caps::Capability;
use nslab::{Error, Result};

/// The lines of status that are printed as they are.
const AS_IS: [&str; 3] = ["NoNewPrivs:", "Seccomp:", "Seccomp_filters:"];

/// Print the Cap* lines of `path` decoded, then its confinement lines.
pub fn print(path: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(path).map_err(|err| Error::io(format!("read({path})"), &err))?;
    for line in text.lines() {
        if let Some((key, value)) = line
            .split_once(':')
            .filter(|(key, _)| key.starts_with("Cap"))
        {
            let mask = u64::from_str_radix(value.trim(), 16)
                .map_err(|_| Error::msg(format!("{path}: {line}: not a mask")))?;
            println!("{key}: {}", decode(mask));
        } else if AS_IS.iter().any(|prefix| line.starts_with(prefix)) {
            println!("{}", line.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    Ok(())
}

/// `all`, `none`, or the names of the mask's capabilities in the kernel's
/// order, as Docker names them (`net_raw` for CAP_NET_RAW).
pub fn decode(mask: u64) -> String {
    let every: u64 = caps::all()
        .iter()
        .map(|cap| cap.bitmask())
        .fold(0, |a, b| a | b);
    if mask == every {
        return "all".into();
    }
    if mask == 0 {
        return "none".into();
    }
    let mut known: Vec<Capability> = caps::all()
        .into_iter()
        .filter(|cap| mask & cap.bitmask() != 0)
        .collect();
    known.sort_by_key(|cap| cap.index());
    let mut names: Vec<String> = known.into_iter().map(name).collect();
    // Bits of capabilities newer than the crate: their numbers.
    for bit in 0..64 {
        if mask & (1 << bit) != 0 && every & (1 << bit) == 0 {
            names.push(format!("cap_{bit}"));
        }
    }
    names.join(",")
}

/// `net_raw` for CAP_NET_RAW.
pub fn name(cap: Capability) -> String {
    let name = cap.to_string().to_lowercase();
    name.strip_prefix("cap_").unwrap_or(&name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_decode_in_the_kernels_order() {
        assert_eq!(decode(0), "none");
        assert_eq!(decode(0x1ff_ffff_ffff), "all");
        // Docker's 14, as /proc/PID/status shows them in a container.
        assert_eq!(
            decode(0xa80425fb),
            "chown,dac_override,fowner,fsetid,kill,setgid,setuid,setpcap,\
             net_bind_service,net_raw,sys_chroot,mknod,audit_write,setfcap"
        );
        assert_eq!(decode((1 << 21) | (1 << 63)), "sys_admin,cap_63");
    }

    #[test]
    fn names_are_dockers() {
        assert_eq!(name(Capability::CAP_NET_RAW), "net_raw");
    }
}
