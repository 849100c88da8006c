//! `syscage resolve`: syscall names to numbers and back, like libseccomp's
//! `scmp_sys_resolver`. Also home of the number and syscall parsing that
//! `syscage emu` shares.

use super::flag_groups::{Json, OneArch};
use anyhow::{anyhow, bail, Context};
use serde::Serialize;
use syscage::arch::Arch;

/// Arguments of `syscage resolve`.
#[derive(clap::Args)]
#[command(mut_arg("json", |a| a.help(r#"Print a JSON array of {"name", "nr"} objects"#)))]
pub struct Args {
    /// `-a`.
    #[command(flatten)]
    pub arch: OneArch,
    /// `--json`.
    #[command(flatten)]
    pub json: Json,
    /// Syscall names or numbers (decimal, 0x hex, 0o or leading-0 octal, 0b binary).
    #[arg(required = true, value_name = "NAME|NUMBER")]
    pub queries: Vec<String>,
}

/// One resolved syscall.
#[derive(Serialize)]
struct Resolved {
    name: String,
    nr: u32,
}

/// Parses an unsigned number as seccomp-tools (Ruby's `Integer()`) does:
/// decimal (`0d` optional), `0x` hex, `0o` or a leading `0` octal (`010`
/// is 8), `0b` binary; a leading `-` gives the two's complement (`-1` is
/// `u64::MAX`).
pub fn parse_number(text: &str) -> Option<u64> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let body = body.replace('_', "");
    let lower = body.to_ascii_lowercase();
    let value = if let Some(h) = lower.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = lower.strip_prefix("0o") {
        u64::from_str_radix(o, 8).ok()?
    } else if let Some(b) = lower.strip_prefix("0b") {
        u64::from_str_radix(b, 2).ok()?
    } else if let Some(d) = lower.strip_prefix("0d") {
        d.parse::<u64>().ok()?
    } else if let Some(o) = lower.strip_prefix('0').filter(|o| !o.is_empty()) {
        u64::from_str_radix(o, 8).ok()?
    } else if !lower.is_empty() && lower.bytes().all(|c| c.is_ascii_digit()) {
        lower.parse::<u64>().ok()?
    } else {
        return None;
    };
    if neg {
        (value <= 1 << 63).then(|| value.wrapping_neg())
    } else {
        Some(value)
    }
}

/// The number of a syscall name on `arch` in every spelling syscage prints
/// or seccomp-tools accepts: the kernel's, seccomp-tools' (`pread`,
/// `timerfd`, aarch64 `newfstat`, ...) and, on x86_64, `x32_NAME`.
fn named_nr(arch: Arch, name: &str) -> Option<u32> {
    arch.syscall_nr(name)
        .or_else(|| syscage::asm::names::syscall_nr(arch, name))
}

/// The name of `nr` on `arch`: the kernel's, or `x32_NAME` for an x32
/// number on x86_64 (as disasm prints it).
fn nr_name(arch: Arch, nr: u32) -> Option<String> {
    arch.syscall_name(nr)
        .map(str::to_string)
        .or_else(|| syscage::asm::symbol::syscall_name(arch, nr))
}

/// The 32-bit `seccomp_data.nr` for a syscall given by name on `arch` or by
/// number (a negative number is the `int` as the kernel stores it).
pub fn syscall_nr(arch: Arch, text: &str) -> anyhow::Result<u32> {
    if let Some(nr) = named_nr(arch, text) {
        return Ok(nr);
    }
    match parse_number(text) {
        Some(n) if n <= u32::MAX as u64 => Ok(n as u32),
        Some(n) if n >= (i32::MIN as i64) as u64 => Ok(n as u32),
        Some(_) => bail!("syscall number '{text}' does not fit in 32 bits"),
        None => bail!(
            "unknown syscall '{text}' on {arch} (expected a syscall name of {arch} or a number)"
        ),
    }
}

fn resolve_one(arch: Arch, query: &str) -> anyhow::Result<Resolved> {
    if let Some(nr) = named_nr(arch, query) {
        let name = nr_name(arch, nr)
            .ok_or_else(|| anyhow!("syscall '{query}' has number {nr} on {arch} but no name"))?;
        return Ok(Resolved { name, nr });
    }
    let nr = match parse_number(query) {
        Some(n) if n <= u32::MAX as u64 => n as u32,
        Some(_) => bail!("syscall number '{query}' does not fit in 32 bits"),
        None => bail!("unknown syscall '{query}' on {arch} (expected a syscall name or number)"),
    };
    let name = nr_name(arch, nr).ok_or_else(|| anyhow!("no syscall has number {nr} on {arch}"))?;
    Ok(Resolved { name, nr })
}

/// Runs `syscage resolve`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arch = args.arch.get()?;
    let resolved = args
        .queries
        .iter()
        .map(|q| resolve_one(arch, q))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let text = if args.json.json {
        let json = serde_json::to_string_pretty(&resolved).context("writing JSON")?;
        format!("{json}\n")
    } else {
        resolved
            .iter()
            .map(|r| format!("{} {}\n", r.name, r.nr))
            .collect()
    };
    write_stdout(&text)
}

/// Writes `text` to standard output (see `output::stdout`). Returns exit
/// code 0.
pub fn write_stdout(text: &str) -> anyhow::Result<u8> {
    crate::output::stdout::write_bytes(text.as_bytes());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("59"), Some(59));
        assert_eq!(parse_number("0x3b"), Some(59));
        assert_eq!(parse_number("0X3B"), Some(59));
        assert_eq!(parse_number("0o73"), Some(59));
        assert_eq!(parse_number("0b111011"), Some(59));
        assert_eq!(parse_number("-1"), Some(u64::MAX));
        assert_eq!(parse_number("-100"), Some((-100i64) as u64));
        // Ruby's Integer(), as seccomp-tools reads numbers: a leading 0 is octal.
        assert_eq!(parse_number("010"), Some(8));
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("0d10"), Some(10));
        assert_eq!(parse_number("-010"), Some((-8i64) as u64));
        assert_eq!(parse_number("08"), None);
        assert_eq!(parse_number("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "-",
            "0x",
            "12a",
            "read",
            "18446744073709551616",
            "1.5",
            " 1",
        ] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn syscalls() {
        assert_eq!(syscall_nr(Arch::X86_64, "execve").unwrap(), 59);
        assert_eq!(syscall_nr(Arch::X86, "execve").unwrap(), 11);
        assert_eq!(syscall_nr(Arch::X86_64, "0x3e7").unwrap(), 999);
        assert_eq!(syscall_nr(Arch::X86_64, "-1").unwrap(), u32::MAX);
        assert!(syscall_nr(Arch::X86_64, "nosuchcall").is_err());
        // Every name disasm prints is read back.
        assert_eq!(syscall_nr(Arch::X86_64, "x32_execve").unwrap(), 0x4000_0208);
        assert_eq!(
            resolve_one(Arch::X86_64, "0x40000208").unwrap().name,
            "x32_execve"
        );
        assert!(syscall_nr(Arch::X86_64, "0x100000000").is_err());
    }

    /// Every name in seccomp-tools' syscall tables (its aliases included:
    /// `pread`, `pwrite`, `timerfd`, aarch64 `getdents`/`newfstat`, ...)
    /// means the same number for emu and resolve as for seccomp-tools.
    #[test]
    fn seccomp_tools_names_are_accepted() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/seccomp-tools/tables");
        let mut checked = 0;
        for (file, arch) in [
            ("amd64", Arch::X86_64),
            ("i386", Arch::X86),
            ("aarch64", Arch::Aarch64),
            ("riscv64", Arch::Riscv64),
            ("s390x", Arch::S390x),
        ] {
            let path = dir.join(format!("sys_nr_{file}.json"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let table: std::collections::BTreeMap<String, u32> =
                serde_json::from_str(&text).unwrap();
            for (name, nr) in table {
                assert_eq!(syscall_nr(arch, &name).ok(), Some(nr), "{file} {name}");
                checked += 1;
            }
        }
        assert!(checked > 1500, "{checked}");
    }
}
