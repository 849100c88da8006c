//! One `AUDIT_SECCOMP` record, parsed from the kernel log's text or a
//! netlink message's payload.

/// `AUDIT_SECCOMP`, the record type of seccomp's log.
pub const AUDIT_SECCOMP: u16 = 1326;

/// One `AUDIT_SECCOMP` record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeccompRecord {
    /// The record's serial number (`audit(TIME:SERIAL)`).
    pub serial: u64,
    /// Process (thread group) id of the caller (`pid=`, the kernel's
    /// `task_tgid_nr`).
    pub pid: u32,
    /// Command name (`comm=`).
    pub comm: String,
    /// Signal that killed, 0 if none (`sig=`).
    pub sig: u32,
    /// `AUDIT_ARCH_*` of the call (`arch=`, hexadecimal).
    pub arch: u32,
    /// Syscall number as the filter saw it (`syscall=`).
    pub syscall: u32,
    /// The filter's return value (`code=`).
    pub code: u32,
}

/// Parses the text of one record (`... type=1326 audit(...): ... pid=...`,
/// or the payload of a netlink message, which starts at `audit(`).
pub fn parse_record(text: &str) -> Option<SeccompRecord> {
    let start = text.find("audit(")?;
    let rest = &text[start + 6..];
    let close = rest.find(')')?;
    let serial = rest[..close].split_once(':')?.1.parse().ok()?;
    let mut rec = SeccompRecord {
        serial,
        ..SeccompRecord::default()
    };
    let (mut have_arch, mut have_nr) = (false, false);
    for field in rest[close + 1..].split_whitespace() {
        let Some((k, v)) = field.split_once('=') else {
            continue;
        };
        match k {
            "pid" => rec.pid = v.parse().ok()?,
            "comm" => rec.comm = v.trim_matches('"').to_string(),
            "sig" => rec.sig = v.parse().ok()?,
            "arch" => {
                rec.arch = u32::from_str_radix(v, 16).ok()?;
                have_arch = true
            }
            "syscall" => {
                rec.syscall = v.parse().ok()?;
                have_nr = true
            }
            "code" => rec.code = u32::from_str_radix(v.trim_start_matches("0x"), 16).ok()?,
            _ => {}
        }
    }
    (have_arch && have_nr).then_some(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kmsg_and_netlink_records() {
        let kmsg = r#"5,123,774319092,-;audit: type=1326 audit(1795399962.861:7): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=13787 comm="logt" exe="/tmp/enf/logt" sig=0 arch=c000003e syscall=110 compat=0 ip=0x7fecc57f34f7 code=0x7ffc0000"#;
        let r = parse_record(kmsg).unwrap();
        assert_eq!(
            (r.serial, r.pid, r.sig, r.arch, r.syscall, r.code),
            (7, 13787, 0, 0xc000_003e, 110, 0x7ffc_0000)
        );
        assert_eq!(r.comm, "logt");
        let nl = "audit(1795399962.861:8): auid=0 uid=0 gid=0 ses=1 pid=5 comm=\"ab\" sig=31 arch=40000003 syscall=20 compat=1 ip=0x1 code=0x80000000";
        let r = parse_record(nl).unwrap();
        assert_eq!(
            (r.serial, r.sig, r.arch, r.syscall, r.code),
            (8, 31, 0x4000_0003, 20, 0x8000_0000)
        );
        assert!(parse_record("audit: type=1300 audit(1.2:3): foo=bar").is_none());
    }
}
