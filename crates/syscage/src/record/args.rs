//! Which syscall arguments decide the risk of a call, and the seccomp
//! conditions that let exactly the recorded values through (`--args`).
//!
//! Enumerations (socket family, `prctl` option, `ioctl` request, `fcntl`
//! command, `personality`) are matched with `SCMP_CMP_EQ`; flag words
//! (namespace bits of `clone`/`unshare`, `PROT_EXEC`, the type bits of a
//! socket type) with `SCMP_CMP_MASKED_EQ` on the bits that matter, so the
//! other bits of the word stay free.
//!
//! `clone3` takes its flags in a `struct clone_args` in memory, which a
//! seccomp filter cannot read. The recorder reads them from the tracee;
//! when no recorded `clone3` asked for a namespace, the profile answers
//! `clone3` with `ENOSYS` (as Docker's default profile does), so the C
//! library falls back to `clone(2)`, whose flags the filter can check, and
//! allows `clone` with the recorded namespace bits.

use crate::arch::Arch;

/// `CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
/// CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET`: the namespace bits of
/// `clone(2)`'s flags (its low byte is the exit signal, so `CLONE_NEWTIME`
/// cannot be asked for there). Docker's profile uses the same mask.
pub const CLONE_NAMESPACE_MASK: u64 = 0x7e02_0000;
/// `CLONE_NEWTIME`, valid in `clone3` and `unshare` flags.
pub const CLONE_NEWTIME: u64 = 0x80;
/// `SOCK_TYPE_MASK`: the socket type in `socket(2)`'s type argument,
/// without `SOCK_NONBLOCK`/`SOCK_CLOEXEC`.
pub const SOCK_TYPE_MASK: u64 = 0xf;
/// `PROT_EXEC`.
pub const PROT_EXEC: u64 = 0x4;

/// How one risk-deciding argument is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// The whole value (`SCMP_CMP_EQ`): an enumeration.
    Eq,
    /// Only these bits (`SCMP_CMP_MASKED_EQ`): a flag word.
    Masked(u64),
}

/// One risk-deciding argument of a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgField {
    /// Argument index, 0 to 5.
    pub index: u8,
    /// How it is compared.
    pub matching: Match,
}

/// Where the risk-deciding values of a syscall come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgSource {
    /// Argument registers, as `seccomp_data.args` carries them.
    Registers(&'static [ArgField]),
    /// `clone3`: the namespace bits of `struct clone_args.flags`, read
    /// from the tracee's memory at argument 0.
    Clone3Flags,
}

const fn eq(index: u8) -> ArgField {
    ArgField {
        index,
        matching: Match::Eq,
    }
}

const fn masked(index: u8, mask: u64) -> ArgField {
    ArgField {
        index,
        matching: Match::Masked(mask),
    }
}

const SOCKET: &[ArgField] = &[eq(0), masked(1, SOCK_TYPE_MASK)];
const CLONE: &[ArgField] = &[masked(0, CLONE_NAMESPACE_MASK)];
const CLONE_S390: &[ArgField] = &[masked(1, CLONE_NAMESPACE_MASK)];
const UNSHARE: &[ArgField] = &[masked(0, CLONE_NAMESPACE_MASK | CLONE_NEWTIME)];
const ARG0_EQ: &[ArgField] = &[eq(0)];
const ARG1_EQ: &[ArgField] = &[eq(1)];
const PROT: &[ArgField] = &[masked(2, PROT_EXEC)];

/// The risk-deciding arguments of syscall `name` on `arch`, if it has any.
pub fn risk_args(arch: Arch, name: &str) -> Option<ArgSource> {
    let fields = match name {
        "socket" | "socketpair" => SOCKET,
        // i386's multiplexer: the call number (SYS_SOCKET, ...) is an
        // enumeration; its arguments are in memory.
        "socketcall" => ARG0_EQ,
        "clone" if matches!(arch, Arch::S390x) => CLONE_S390,
        "clone" => CLONE,
        "clone3" => return Some(ArgSource::Clone3Flags),
        "unshare" => UNSHARE,
        "personality" | "prctl" => ARG0_EQ,
        "ioctl" | "fcntl" | "fcntl64" => ARG1_EQ,
        "mprotect" | "pkey_mprotect" | "mmap2" => PROT,
        // i386's `mmap` is old_mmap, whose arguments are in memory.
        "mmap" if !matches!(arch, Arch::X86 | Arch::Arm | Arch::S390x) => PROT,
        _ => return None,
    };
    Some(ArgSource::Registers(fields))
}

/// The values of `fields` that a rule must match, from the six argument
/// registers; on a 32-bit arch only the low word of each argument exists.
pub fn key_from_registers(fields: &[ArgField], args: &[u64; 6], wide: bool) -> Vec<u64> {
    fields
        .iter()
        .map(|f| {
            let raw = args[f.index as usize];
            let raw = if wide { raw } else { raw & 0xffff_ffff };
            match f.matching {
                Match::Eq => raw,
                Match::Masked(mask) => raw & mask,
            }
        })
        .collect()
}

/// The `clone3` key: the namespace bits of `clone_args.flags`.
pub fn key_from_clone3_flags(flags: u64) -> Vec<u64> {
    vec![flags & (CLONE_NAMESPACE_MASK | CLONE_NEWTIME)]
}

/// Whether the recorded keys of a single masked field cover every value
/// the mask allows, so the rule needs no condition (for example both
/// `mprotect` with and without `PROT_EXEC` were seen).
pub fn covers_everything(fields: &[ArgField], distinct_keys: usize) -> bool {
    match fields {
        [ArgField {
            matching: Match::Masked(mask),
            ..
        }] => mask.count_ones() < 16 && distinct_keys >= 1usize << mask.count_ones(),
        _ => false,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn masks_are_the_kernel_flag_values() {
        // <linux/sched.h>: CLONE_NEWNS 0x00020000, CLONE_NEWCGROUP 0x02000000,
        // CLONE_NEWUTS 0x04000000, CLONE_NEWIPC 0x08000000, CLONE_NEWUSER
        // 0x10000000, CLONE_NEWPID 0x20000000, CLONE_NEWNET 1 << 30.
        let ns = libc::CLONE_NEWNS
            | libc::CLONE_NEWCGROUP
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUSER
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWNET;
        assert_eq!(CLONE_NAMESPACE_MASK, ns as u64);
        assert_eq!(PROT_EXEC, libc::PROT_EXEC as u64);
        assert_eq!(SOCK_TYPE_MASK & libc::SOCK_CLOEXEC as u64, 0);
        assert_eq!(SOCK_TYPE_MASK & libc::SOCK_NONBLOCK as u64, 0);
        assert_eq!(
            libc::SOCK_RAW as u64 & SOCK_TYPE_MASK,
            libc::SOCK_RAW as u64
        );
    }

    #[test]
    fn keys_keep_only_the_deciding_bits() {
        let Some(ArgSource::Registers(f)) = risk_args(Arch::X86_64, "socket") else {
            panic!("socket has register arguments");
        };
        let stream_cloexec = (libc::SOCK_STREAM | libc::SOCK_CLOEXEC) as u64;
        let key = key_from_registers(f, &[2, stream_cloexec, 6, 0, 0, 0], true);
        assert_eq!(key, vec![2, libc::SOCK_STREAM as u64]);
        let Some(ArgSource::Registers(f)) = risk_args(Arch::X86_64, "mprotect") else {
            panic!("mprotect has register arguments");
        };
        let rwx = (libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC) as u64;
        assert_eq!(key_from_registers(f, &[0, 0, rwx, 0, 0, 0], true), vec![4]);
        // 32-bit arch: the high word does not exist.
        let Some(ArgSource::Registers(f)) = risk_args(Arch::X86, "ioctl") else {
            panic!("ioctl has register arguments");
        };
        let key = key_from_registers(f, &[0, 0xdead_beef_0000_5401, 0, 0, 0, 0], false);
        assert_eq!(key, vec![0x5401]);
        assert_eq!(risk_args(Arch::X86, "mmap"), None);
        assert_eq!(risk_args(Arch::X86_64, "read"), None);
        assert_eq!(
            risk_args(Arch::X86_64, "clone3"),
            Some(ArgSource::Clone3Flags)
        );
        let flags = (libc::CLONE_VM | libc::CLONE_NEWUSER) as u64 | CLONE_NEWTIME;
        assert_eq!(
            key_from_clone3_flags(flags),
            vec![(libc::CLONE_NEWUSER as u64) | CLONE_NEWTIME]
        );
    }

    #[test]
    fn a_single_bit_seen_both_ways_needs_no_condition() {
        assert!(covers_everything(PROT, 2));
        assert!(!covers_everything(PROT, 1));
        assert!(!covers_everything(SOCKET, 1000));
        assert!(!covers_everything(ARG0_EQ, 1000));
    }
}
