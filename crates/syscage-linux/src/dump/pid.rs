//! `dump -p PID`: read the filters of a live process with ptrace.

use std::io;

use libc::pid_t;
use syscage::bpf::ByteOrder;

use super::{strict_mode_filter, DumpError, DumpedFilter, InstallCall, SeccompMode};
use crate::filter_flags::FilterFlags;
use crate::tracee::{self, TraceError};

/// Result of [`dump_pid`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PidDump {
    /// The thread dumped.
    pub pid: pid_t,
    /// Its seccomp mode (`None`: seccomp is off, there are no filters).
    pub mode: Option<SeccompMode>,
    /// Its filters, oldest first.
    pub filters: Vec<DumpedFilter>,
}

/// Reads `Seccomp:` of `/proc/PID/status` (0 off, 1 strict, 2 filter).
fn proc_seccomp_mode(pid: pid_t) -> Result<u32, DumpError> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            DumpError::NoSuchProcess(pid)
        } else {
            DumpError::Status {
                pid,
                detail: e.to_string(),
            }
        }
    })?;
    status_field(&text, "Seccomp")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| DumpError::Status {
            pid,
            detail: "no 'Seccomp:' line (kernel without CONFIG_SECCOMP?)".into(),
        })
}

fn status_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// Why this process may not read filters: missing `CAP_SYS_ADMIN` or
/// being under seccomp itself (`None` when neither).
fn own_privilege_problem() -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let cap = status_field(&text, "CapEff").and_then(|v| u64::from_str_radix(v, 16).ok());
    const CAP_SYS_ADMIN: u32 = 21;
    if cap.is_some_and(|c| c & (1 << CAP_SYS_ADMIN) == 0) {
        return Some(": CAP_SYS_ADMIN is not in this process's effective capabilities".into());
    }
    if status_field(&text, "Seccomp").is_some_and(|m| m != "0") {
        return Some(": this process runs under a seccomp filter".into());
    }
    None
}

/// Every seccomp filter of the live thread `pid`, oldest first, with the
/// flags the kernel keeps (`LOG`). Attaches with `PTRACE_SEIZE` +
/// `PTRACE_INTERRUPT`, reads with `PTRACE_SECCOMP_GET_FILTER` and
/// `PTRACE_GET_SECCOMP_METADATA`, detaches: the process goes on unchanged.
/// A process in strict mode gets the equivalent filter.
///
/// Filters are per thread; this reads those of thread `pid` (a process's
/// main thread when given a pid).
pub fn dump_pid(pid: pid_t) -> Result<PidDump, DumpError> {
    if pid <= 0 {
        return Err(DumpError::NoSuchProcess(pid));
    }
    let mode = proc_seccomp_mode(pid)?;
    if mode == 0 {
        return Ok(PidDump {
            pid,
            mode: None,
            filters: Vec::new(),
        });
    }
    if mode == 2 {
        if let Some(detail) = own_privilege_problem() {
            return Err(DumpError::NotPermitted { pid, detail });
        }
    }
    match tracee::seize_and_interrupt(pid) {
        Ok(true) => {}
        Ok(false) => return Err(DumpError::ExitedDuringDump(pid)),
        Err(e) => {
            return Err(match e.errno() {
                Some(libc::ESRCH) => {
                    if std::path::Path::new(&format!("/proc/{pid}")).exists() {
                        DumpError::ExitedDuringDump(pid)
                    } else {
                        DumpError::NoSuchProcess(pid)
                    }
                }
                Some(errno @ (libc::EPERM | libc::EACCES)) => attach_refused(pid, errno),
                _ => e.into(),
            })
        }
    }
    let result = read_filters(pid, mode);
    // Detach whatever happened; a tracee that died is not an error here.
    match tracee::detach(pid) {
        Err(e) if e.errno() != Some(libc::ESRCH) && result.is_ok() => return Err(e.into()),
        _ => {}
    }
    result
}

fn read_filters(pid: pid_t, mode: u32) -> Result<PidDump, DumpError> {
    let arch = tracee::personality(pid).map_err(|e| gone_or(pid, e))?;
    if mode == 1 {
        return Ok(PidDump {
            pid,
            mode: Some(SeccompMode::Strict),
            filters: vec![DumpedFilter {
                pid,
                order: 1,
                call: InstallCall::Unknown,
                mode: SeccompMode::Strict,
                flags: FilterFlags::empty(),
                arch,
                insns: strict_mode_filter(arch),
            }],
        });
    }
    let mut filters = Vec::new();
    let native = ByteOrder::native();
    for index in 0u64.. {
        let raw = match tracee::seccomp_filter(pid, index) {
            Ok(Some(raw)) => raw,
            Ok(None) => break,
            Err(e) if matches!(e.errno(), Some(libc::EACCES | libc::EPERM)) => {
                return Err(DumpError::NotPermitted {
                    pid,
                    detail: format!(" ({e})"),
                })
            }
            Err(e) if e.errno() == Some(libc::EMEDIUMTYPE) => {
                return Err(DumpError::KernelCannotDump {
                    pid,
                    reason: "it was built without CONFIG_CHECKPOINT_RESTORE, so it keeps no copy of the filters",
                })
            }
            Err(e) if e.errno() == Some(libc::EIO) => {
                return Err(DumpError::KernelCannotDump {
                    pid,
                    reason: "it has no PTRACE_SECCOMP_GET_FILTER (Linux < 4.4 or CONFIG_SECCOMP_FILTER off)",
                })
            }
            Err(e) => return Err(gone_or(pid, e)),
        };
        let flags = tracee::seccomp_metadata(pid, index).map_err(|e| gone_or(pid, e))?;
        let flags = FilterFlags::from_bits_retain(flags as u32);
        let bytes: Vec<u8> = raw.concat();
        // The kernel hands back `struct sock_filter` in host order.
        let insns = syscage::bpf::codec::decode(&bytes, native).unwrap_or_default();
        filters.push(DumpedFilter {
            pid,
            order: index as usize + 1,
            call: InstallCall::Unknown,
            mode: SeccompMode::Filter,
            flags,
            arch,
            insns,
        });
    }
    Ok(PidDump {
        pid,
        mode: Some(SeccompMode::Filter),
        filters,
    })
}

/// Why `PTRACE_SEIZE` was refused: the process is exiting (zombie), is
/// traced by someone else, or ptrace is restricted.
fn attach_refused(pid: pid_t, errno: i32) -> DumpError {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let state = status_field(&status, "State").unwrap_or("");
    if state.is_empty() || state.starts_with('Z') || state.starts_with('X') {
        return DumpError::ExitedDuringDump(pid);
    }
    match status_field(&status, "TracerPid").and_then(|t| t.parse::<pid_t>().ok()) {
        Some(tracer) if tracer != 0 => DumpError::AlreadyTraced { pid, tracer },
        _ => DumpError::Attach {
            pid,
            error: io::Error::from_raw_os_error(errno),
        },
    }
}

fn gone_or(pid: pid_t, e: TraceError) -> DumpError {
    if e.errno() == Some(libc::ESRCH) {
        DumpError::ExitedDuringDump(pid)
    } else {
        e.into()
    }
}
