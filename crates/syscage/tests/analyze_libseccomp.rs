//! The symbolic analysis on real compilers' output: for the Docker and
//! Podman default profiles compiled by syscage and by libseccomp 2.5 (built
//! as runc builds it), the lifted tables agree with the emulator on random
//! inputs, `diff P P` is empty, and `diff` between the two compilations
//! finds differences only for syscalls libseccomp 2.5 does not know.

use libseccomp::ScmpSyscall;
use std::collections::BTreeSet;
use syscage::analyze::diff::diff;
use syscage::analyze::lift::{lift, Limits, Verdict, WORD_ARCH, WORD_NR};
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::bpf::data::SeccompData;
use syscage::bpf::Program;
use syscage::compile::{compile, CompileOptions};
use syscage::profile::{self, KernelVersion, ResolveOptions};

mod runc_bridge;

use runc_bridge::{runc_filter, scmp_arch};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

/// Every input in `prog`'s lifted table's leaves and the emulator agree on
/// (xorshift inputs built from the numbers each arch knows).
fn lifted_agrees_with_emulator(name: &str, prog: &Program, arches: &[Arch]) {
    let order = arches[0].byte_order();
    let table = lift(prog, order, &Limits::default()).unwrap();
    assert!(
        table.is_exact(),
        "{name}: compilers emit exactly liftable code"
    );
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20_000 {
        let arch = arches[(next() % arches.len() as u64) as usize];
        let table_nrs = arch.syscalls();
        let nr = match next() % 8 {
            0 => next() as u32,
            _ => table_nrs[(next() % table_nrs.len() as u64) as usize].nr,
        };
        let arg = |v: u64| match v % 4 {
            0 => 0,
            1 => v >> 32,
            2 => v & 0xffff_ffff,
            _ => v,
        };
        let data = SeccompData {
            nr,
            arch: arch.audit(),
            instruction_pointer: next(),
            args: [
                arg(next()),
                arg(next()),
                arg(next()),
                arg(next()),
                arg(next()),
                arg(next()),
            ],
        };
        let emu = syscage::emu::run(prog, &data, order).unwrap();
        let leaves: Vec<_> = table.lookup(&data).collect();
        assert_eq!(leaves.len(), 1, "{name}: {data:x?}");
        assert_eq!(
            leaves[0].verdict,
            Verdict::Ret(emu.ret),
            "{name}: {data:x?}"
        );
    }
}

#[test]
fn syscage_and_libseccomp_compilations_differ_only_where_libseccomp_lacks_the_syscall() {
    for (file, host) in [
        ("docker-default-seccomp.json", Arch::X86_64),
        ("podman-default-seccomp.json", Arch::X86_64),
        ("docker-default-seccomp.json", Arch::Aarch64),
    ] {
        let text = std::fs::read_to_string(format!("{DATA}/{file}")).unwrap();
        let p = profile::parse(&text).unwrap();
        let mut opts = ResolveOptions::docker(
            vec![host],
            KernelVersion {
                major: 6,
                minor: 18,
            },
        );
        // libseccomp has no ENOSYS stub: compare the profiles' own rules.
        opts.enosys_unknown = false;
        let (policy, _) = p.to_policy(&opts).unwrap();
        let ours = compile(&policy, &CompileOptions::default()).unwrap();
        let theirs = runc_filter(&p.resolve_oci(host, &opts), host);
        let order = host.byte_order();
        let label = format!("{file} on {host}");

        lifted_agrees_with_emulator(&format!("syscage {label}"), &ours, policy.arches());
        lifted_agrees_with_emulator(&format!("libseccomp {label}"), &theirs, policy.arches());
        for prog in [&ours, &theirs] {
            assert!(
                diff(prog, prog, order, &Limits::default())
                    .unwrap()
                    .is_empty(),
                "{label}: diff P P"
            );
        }

        // Every difference is a syscall libseccomp 2.5 cannot name.
        let mut names = BTreeSet::new();
        for d in diff(&ours, &theirs, order, &Limits::default()).unwrap() {
            let audit = d.region[WORD_ARCH]
                .intervals
                .as_single()
                .expect("arch decided");
            let nrs = &d.region[WORD_NR].intervals;
            assert!(nrs.count() <= 64, "{label}: a large region differs: {nrs}");
            for &(lo, hi) in nrs.intervals() {
                for nr in lo..=hi {
                    let arch = match Arch::from_audit(audit) {
                        Some(Arch::X86_64) if nr & X32_SYSCALL_BIT != 0 => Arch::X32,
                        Some(a) => a,
                        None => panic!("{label}: difference on unknown arch {audit:#x}"),
                    };
                    let name = arch
                        .syscall_name(nr)
                        .unwrap_or_else(|| panic!("{label}: unnamed {nr:#x}"));
                    let known = ScmpSyscall::from_name_by_arch(name, scmp_arch(arch))
                        .is_ok_and(|s| i32::from(s) >= 0 && i32::from(s) as u32 == nr);
                    assert!(
                        !known,
                        "{label}: {arch} {name} decided differently though libseccomp knows it"
                    );
                    names.insert(name.to_string());
                }
            }
        }
        // The Docker profile names syscalls newer than libseccomp 2.5.4.
        if file.starts_with("docker") {
            assert!(names.contains("mseal"), "{label}: {names:?}");
        }
    }
}
