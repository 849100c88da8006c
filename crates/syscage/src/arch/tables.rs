//! Syscall tables per arch, built once from the `syscalls` crate.

use super::{x32, Arch, X32_SYSCALL_BIT};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// FNV-1a: name lookups hash short, trusted, static keys, where SipHash's
/// flooding resistance buys nothing and costs most of the lookup.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// One syscall of one arch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Syscall {
    /// Name as in the kernel's syscall table (`openat`, `_llseek`, ...).
    pub name: &'static str,
    /// Number as `seccomp_data.nr` carries it.
    pub nr: u32,
}

struct Table {
    by_nr: Vec<Syscall>,
    by_name: HashMap<&'static str, u32, BuildHasherDefault<Fnv>>,
}

macro_rules! crate_table {
    ($module:ident) => {
        syscalls::$module::Sysno::iter()
            .map(|s| Syscall {
                // The crate names `break` by its Rust raw identifier
                // `r#break` (x86, mips, ppc).
                name: s.name().trim_start_matches("r#"),
                nr: s.id() as u32,
            })
            .collect::<Vec<_>>()
    };
}

fn build(arch: Arch) -> Vec<Syscall> {
    let mut v = match arch {
        Arch::X86_64 => crate_table!(x86_64),
        Arch::X86 => crate_table!(x86),
        Arch::X32 => {
            let mut v: Vec<Syscall> = crate_table!(x86_64)
                .into_iter()
                .filter(|s| s.nr < 512 && !x32::X86_64_ONLY.contains(&s.nr))
                .collect();
            v.extend(
                x32::X32_SPECIFIC
                    .iter()
                    .map(|&(name, nr)| Syscall { name, nr }),
            );
            for s in &mut v {
                s.nr |= X32_SYSCALL_BIT;
            }
            v
        }
        Arch::Aarch64 => crate_table!(aarch64),
        Arch::Arm => crate_table!(arm),
        Arch::Riscv64 => crate_table!(riscv64),
        Arch::S390x => crate_table!(s390x),
        Arch::Ppc64le | Arch::Ppc64 => crate_table!(powerpc64),
        Arch::Ppc => crate_table!(powerpc),
        Arch::Mips | Arch::Mipsel => crate_table!(mips),
        Arch::Mips64 | Arch::Mipsel64 => crate_table!(mips64),
        Arch::Loongarch64 => crate_table!(loongarch64),
    };
    super::overrides::apply(arch, &mut v);
    v.sort_by_key(|s| s.nr);
    v
}

fn table(arch: Arch) -> &'static Table {
    static TABLES: OnceLock<Vec<Table>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        Arch::ALL
            .iter()
            .map(|&a| {
                let by_nr = build(a);
                let by_name = by_nr.iter().map(|s| (s.name, s.nr)).collect();
                Table { by_nr, by_name }
            })
            .collect()
    });
    let i = Arch::ALL.iter().position(|&a| a == arch).unwrap_or(0);
    &tables[i]
}

pub(super) fn nr(arch: Arch, name: &str) -> Option<u32> {
    table(arch).by_name.get(name).copied()
}

pub(super) fn name(arch: Arch, nr: u32) -> Option<&'static str> {
    let t = &table(arch).by_nr;
    t.binary_search_by_key(&nr, |s| s.nr)
        .ok()
        .map(|i| t[i].name)
}

pub(super) fn all(arch: Arch) -> &'static [Syscall] {
    &table(arch).by_nr
}
