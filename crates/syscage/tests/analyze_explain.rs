//! Every claim `explain` prints agrees with the emulator (issue 15.1).
//!
//! Random filter-shaped programs, written in seccomp-tools syntax and
//! assembled, test arguments with 64-bit split-word comparisons, masks of
//! either word, `mem[]`, X, ALU and arch reloads. For sampled and boundary
//! inputs (high words included) the printed text of each explanation is
//! parsed back and evaluated: the verdict it claims for the input must be
//! what the emulator returns. `SYSCAGE_PROPTEST_CASES` sets the number of
//! programs (default 300).

mod explain_check;
mod xorshift;

use proptest::prelude::*;
use syscage::analyze::explain::{explain, Item};
use syscage::analyze::lift::{lift, Limits};
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::{ByteOrder, Program};
use xorshift::Rng;

const SYSCALLS: &[&str] = &["read", "write", "mmap", "mprotect", "ioctl", "socket"];
const RETS: &[&str] = &["ALLOW", "KILL", "ERRNO(1)", "ERRNO(38)", "TRAP", "LOG"];

/// A filter in seccomp-tools syntax, and the constants it uses.
fn random_filter(rng: &mut Rng) -> (String, Vec<u32>) {
    let mut ks = vec![0u32, 1, 2, 3, u32::MAX];
    let mut src = String::new();
    let mut label = 0;
    let mut fresh = || {
        label += 1;
        format!("l{label}")
    };
    let two_arches = rng.below(2) == 0;
    src.push_str("A = arch\n");
    src.push_str("if (A == ARCH_X86_64) goto amd64\n");
    if two_arches {
        src.push_str("if (A == ARCH_I386) goto i386\n");
    }
    src.push_str("return KILL\n");
    for (section, arch_name) in [("amd64", "ARCH_X86_64"), ("i386", "ARCH_I386")] {
        if section == "i386" && !two_arches {
            break;
        }
        src.push_str(&format!("{section}:\nA = sys_number\n"));
        for _ in 0..1 + rng.below(3) {
            let name = rng.pick(SYSCALLS);
            let next = fresh();
            src.push_str(&format!("if (A != {name}) goto {next}\n"));
            let fail = rng.pick(RETS);
            for _ in 0..1 + rng.below(3) {
                let arg = rng.below(6);
                let k = if rng.below(3) == 0 {
                    rng.next() as u32
                } else {
                    rng.pick(&[0, 1, 2, 3, 0xff, 0xfffffffc, 0x8000_0000, u32::MAX])
                };
                ks.push(k);
                let cmp = rng.pick(&["==", "!=", ">", ">=", "<", "<=", "&"]);
                let ok = fresh();
                match rng.below(8) {
                    // A 64-bit comparison: high word, then low word.
                    0 | 1 => {
                        let h = rng.pick(&[0u32, 1, u32::MAX]);
                        ks.push(h);
                        src.push_str(&format!("A = args[{arg}] >> 32\n"));
                        src.push_str(&format!("if (A != {h:#x}) goto f{ok}\n"));
                        src.push_str(&format!("A = args[{arg}]\n"));
                        src.push_str(&format!("if (A {cmp} {k:#x}) goto {ok}\n"));
                    }
                    // A mask of either word.
                    2 | 3 => {
                        let hi = if rng.below(2) == 0 { " >> 32" } else { "" };
                        let r = rng.next() as u32;
                        let m = rng.pick(&[0xfffffffcu32, 0xff, 0x8000_0000, r]);
                        ks.push(m);
                        src.push_str(&format!("A = args[{arg}]{hi}\n"));
                        src.push_str(&format!("A &= {m:#x}\n"));
                        src.push_str(&format!("if (A == {:#x}) goto {ok}\n", k & m));
                    }
                    // Through scratch memory, with an arch reload between.
                    4 => {
                        src.push_str(&format!("A = args[{arg}]\nmem[3] = A\n"));
                        src.push_str(&format!("A = arch\nif (A != {arch_name}) goto f{ok}\n"));
                        src.push_str(&format!("A = mem[3]\nif (A {cmp} {k:#x}) goto {ok}\n"));
                    }
                    // Against X.
                    5 => {
                        src.push_str(&format!("X = {k:#x}\nA = args[{arg}]\n"));
                        src.push_str(&format!("if (A > X) goto {ok}\n"));
                    }
                    // Arithmetic the lifter does not track.
                    6 => {
                        src.push_str(&format!("A = args[{arg}]\nA += 3\n"));
                        src.push_str(&format!("if (A == {k:#x}) goto {ok}\n"));
                    }
                    _ => {
                        src.push_str(&format!("A = args[{arg}]\n"));
                        src.push_str(&format!("if (A {cmp} {k:#x}) goto {ok}\n"));
                    }
                }
                src.push_str(&format!("f{ok}:\nreturn {fail}\n{ok}:\n"));
            }
            src.push_str(&format!("return {}\n{next}:\n", rng.pick(RETS)));
            src.push_str("A = sys_number\n");
        }
        src.push_str(&format!("return {}\n", rng.pick(RETS)));
    }
    (src, ks)
}

fn inputs(rng: &mut Rng, ks: &[u32], wide: bool) -> Vec<[u64; 6]> {
    let mut vals: Vec<u32> = vec![0, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX];
    for &k in ks {
        vals.extend([k, k.wrapping_add(1), k.wrapping_sub(1), !k]);
    }
    let his: &[u32] = if wide { &[0, 1, u32::MAX] } else { &[0] };
    (0..60)
        .map(|_| {
            std::array::from_fn(|_| {
                let lo = if rng.below(5) == 0 {
                    rng.next() as u32
                } else {
                    rng.pick(&vals)
                };
                let hi = if wide && rng.below(4) == 0 {
                    rng.pick(&vals)
                } else {
                    rng.pick(his)
                };
                (hi as u64) << 32 | lo as u64
            })
        })
        .collect()
}

fn check(seed: u64) -> Result<(), TestCaseError> {
    let mut rng = Rng(seed | 1);
    let (src, ks) = random_filter(&mut rng);
    let prog: Program =
        syscage::asm::parse::assemble(&src, Arch::X86_64).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let table = lift(&prog, ByteOrder::Little, &Limits::default()).expect("lift");
    let e = explain(&table, &[], &|_| None);
    for a in &e.arches {
        let arch = Arch::from_audit(a.audit).expect("known arch");
        let claims = explain_check::Claims::new(a);
        let mut probes: Vec<u32> = SYSCALLS.iter().filter_map(|n| arch.syscall_nr(n)).collect();
        probes.push(arch.syscall_nr("getpid").unwrap());
        for nr in probes {
            let name = arch.syscall_name(nr).unwrap();
            for args in inputs(&mut rng, &ks, arch.args_64bit()) {
                let data = SeccompData {
                    nr,
                    arch: a.audit,
                    instruction_pointer: 0,
                    args,
                };
                if let Err(e) =
                    claims.check(&prog, ByteOrder::Little, name, &data, table.is_exact())
                {
                    return Err(TestCaseError::fail(format!("{e}\n{src}")));
                }
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("SYSCAGE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]
    #[test]
    fn explain_claims_agree_with_the_emulator(seed in any::<u64>()) {
        check(seed)?;
    }
}

/// The OpenSSH mmap fragment (issue 15): the printed condition includes
/// the high word.
#[test]
fn openssh_mmap_prot_check_is_printed_on_64_bits() {
    let src = "A = arch\nif (A != ARCH_X86_64) goto kill\nA = sys_number\n\
               if (A != mmap) goto kill\nA = args[2] >> 32\nif (A != 0) goto kill\n\
               A = args[2]\nA &= 0xfffffffc\nif (A == 0) goto allow\n\
               kill:\nreturn KILL\nallow:\nreturn ALLOW\n";
    let prog = syscage::asm::parse::assemble(src, Arch::X86_64).unwrap();
    let table = lift(&prog, ByteOrder::Little, &Limits::default()).unwrap();
    let e = explain(&table, &[], &syscage::arch::params::syscall_params);
    let allow = e.arches[0]
        .groups
        .iter()
        .find(|g| g.verdict == "ALLOW")
        .unwrap();
    assert_eq!(
        allow.items,
        [Item::When {
            syscall: "mmap".into(),
            conditions: vec!["(prot & 0xfffffffffffffffc) == 0x0".into()],
        }]
    );
}
