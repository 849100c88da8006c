//! Seccomp state of processes, from `/proc/PID/status`: the `Seccomp`,
//! `Seccomp_filters` and `NoNewPrivs` lines and the command name.

use crate::error::{Error, Result};

/// Seccomp mode of a thread (`Seccomp:` line; `PR_GET_SECCOMP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `SECCOMP_MODE_DISABLED` (0).
    Disabled,
    /// `SECCOMP_MODE_STRICT` (1).
    Strict,
    /// `SECCOMP_MODE_FILTER` (2).
    Filter,
}

impl Mode {
    /// Lower-case name: `disabled`, `strict`, `filter`.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Disabled => "disabled",
            Mode::Strict => "strict",
            Mode::Filter => "filter",
        }
    }
}

/// The seccomp-related fields of one `/proc/PID/status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcStatus {
    /// Process id.
    pub pid: u32,
    /// Command name (`Name:`, the kernel's `comm`).
    pub command: String,
    /// Seccomp mode; `None` on a kernel without `CONFIG_SECCOMP`.
    pub mode: Option<Mode>,
    /// Number of filters attached (`Seccomp_filters:`, Linux ≥ 5.9).
    pub filters: Option<u32>,
    /// `NoNewPrivs:` (Linux ≥ 4.10).
    pub no_new_privs: Option<bool>,
}

/// Parses the text of a `/proc/PID/status` file.
pub fn parse(pid: u32, text: &str, path: &str) -> Result<ProcStatus> {
    let mut st = ProcStatus {
        pid,
        command: String::new(),
        mode: None,
        filters: None,
        no_new_privs: None,
    };
    let bad = |what: &str| Error::Parse {
        path: path.to_string(),
        what: what.to_string(),
    };
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Name" => st.command = unescape_name(value),
            "Seccomp" => {
                st.mode = Some(match value {
                    "0" => Mode::Disabled,
                    "1" => Mode::Strict,
                    "2" => Mode::Filter,
                    _ => return Err(bad("Seccomp: expected 0, 1 or 2")),
                })
            }
            "Seccomp_filters" => {
                st.filters = Some(
                    value
                        .parse()
                        .map_err(|_| bad("Seccomp_filters: expected a number"))?,
                )
            }
            "NoNewPrivs" => st.no_new_privs = Some(value == "1"),
            _ => {}
        }
    }
    Ok(st)
}

/// `Name:` escapes `\` as `\\` and newline as `\n`.
fn unescape_name(v: &str) -> String {
    v.replace("\\n", "\n").replace("\\\\", "\\")
}

/// Reads `/proc/PID/status`.
pub fn read(pid: u32) -> Result<ProcStatus> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    parse(pid, &text, &path)
}

/// Reads the calling thread's status (`/proc/thread-self/status`).
pub fn read_self() -> Result<ProcStatus> {
    let path = "/proc/thread-self/status";
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_string(),
        source,
    })?;
    parse(std::process::id(), &text, path)
}

/// Every process's status, by ascending pid. Processes that exit while
/// being read are left out.
pub fn all() -> Result<Vec<ProcStatus>> {
    let dir = std::fs::read_dir("/proc").map_err(|source| Error::Io {
        path: "/proc".into(),
        source,
    })?;
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids.into_iter().filter_map(|p| read(p).ok()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seccomp_lines() {
        let text =
            "Name:\tmy\\\\cmd\nUmask:\t0022\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\n";
        let st = parse(7, text, "x").unwrap();
        assert_eq!(st.command, "my\\cmd");
        assert_eq!(st.mode, Some(Mode::Filter));
        assert_eq!(st.filters, Some(3));
        assert_eq!(st.no_new_privs, Some(true));
        assert!(parse(7, "Seccomp:\t9\n", "x").is_err());
    }

    #[test]
    fn reads_init_and_self() {
        let me = read(std::process::id()).unwrap();
        assert!(me.mode.is_some());
        assert!(all().unwrap().iter().any(|s| s.pid == std::process::id()));
    }
}
