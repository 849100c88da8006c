//! The lifted decision table agrees with the emulator: on every
//! seccomp-tools fixture and on random programs, for random inputs built
//! from the programs' own constants (so that every branch is exercised),
//! the leaves containing an input return what the emulator returns.

mod xorshift;

use std::path::{Path, PathBuf};
use syscage::analyze::lift::{lift, Limits, Verdict};
use syscage::bpf::data::SeccompData;
use syscage::bpf::{ByteOrder, Insn, Program, Src};
use xorshift::Rng;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/seccomp-tools/bpf")
}

fn constants(prog: &Program) -> Vec<u32> {
    let mut ks = vec![0, 1, u32::MAX, 0x4000_0000, 0x8000_0000];
    for i in &prog.insns {
        let k = match *i {
            Insn::Jmp { src: Src::K(k), .. } | Insn::LdImm(k) | Insn::LdxImm(k) => k,
            Insn::Alu(_, Src::K(k)) => k,
            _ => continue,
        };
        ks.extend([k, k.wrapping_add(1), k.wrapping_sub(1), !k]);
    }
    ks
}

fn random_input(rng: &mut Rng, ks: &[u32]) -> SeccompData {
    let mut w = || {
        let lo = if rng.next() % 4 == 0 {
            rng.next() as u32
        } else {
            rng.pick(ks)
        };
        let hi = if rng.next() % 2 == 0 { 0 } else { rng.pick(ks) };
        (hi as u64) << 32 | lo as u64
    };
    SeccompData {
        nr: w() as u32,
        arch: w() as u32,
        instruction_pointer: w(),
        args: [w(), w(), w(), w(), w(), w()],
    }
}

fn check_agrees(name: &str, prog: &Program, order: ByteOrder, rng: &mut Rng, samples: usize) {
    let table = lift(prog, order, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let ks = constants(prog);
    for _ in 0..samples {
        let data = random_input(rng, &ks);
        let emu = syscage::emu::run(prog, &data, order).expect("valid program");
        let leaves: Vec<_> = table.lookup(&data).collect();
        assert!(!leaves.is_empty(), "{name}: no leaf contains {data:x?}");
        if table.is_exact() {
            assert_eq!(leaves.len(), 1, "{name}: overlapping leaves for {data:x?}");
        }
        let exact_hit = leaves.iter().find(|l| l.exact);
        if let Some(leaf) = exact_hit.filter(|l| l.verdict != Verdict::Unknown) {
            assert_eq!(leaf.verdict, Verdict::Ret(emu.ret), "{name}: {data:x?}");
        } else {
            assert!(
                leaves
                    .iter()
                    .any(|l| l.verdict == Verdict::Ret(emu.ret) || l.verdict == Verdict::Unknown),
                "{name}: {data:x?}"
            );
        }
    }
}

#[test]
fn fixtures_lift_in_agreement_with_the_emulator() {
    // Programs the kernel refuses: else_jmp jumps past the end, all_inst
    // (random opcodes) reads M[] before writing it. The lifter must refuse
    // them too, with the instruction index.
    let invalid = ["else_jmp.bpf", "all_inst.bpf"];
    let mut rng = Rng(0x5eed);
    let mut seen = 0;
    for (dir, order) in [
        (shared(), ByteOrder::Little),
        (shared().join("from-spec-inline"), ByteOrder::Little),
        (shared().join("s390x-big-endian"), ByteOrder::Big),
    ] {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "bpf"))
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let bytes = std::fs::read(&path).unwrap();
            let prog = Program::from_bytes(&bytes, order).unwrap_or_else(|e| panic!("{name}: {e}"));
            if invalid.contains(&name.as_str()) {
                let err = lift(&prog, order, &Limits::default()).expect_err(&name);
                assert!(err.to_string().starts_with("instruction "), "{name}: {err}");
                continue;
            }
            check_agrees(&name, &prog, order, &mut rng, 3000);
            seen += 1;
        }
    }
    assert!(seen >= 19, "only {seen} fixtures found");
}

/// A random program that the kernel would accept: forward jumps only,
/// loads of seccomp_data words and constants, masks, M[] written before
/// it is read, a RET at the end.
fn random_program(rng: &mut Rng) -> Program {
    use syscage::bpf::{AluOp, JmpCond};
    let len = 2 + (rng.next() % 40) as usize;
    let mut insns = Vec::with_capacity(len);
    let mut written = false;
    for pc in 0..len - 1 {
        let left = (len - pc - 2) as u64;
        let jump = |rng: &mut Rng| (rng.next() % (left.min(255) + 1)) as u8;
        let k = if rng.next() % 3 == 0 {
            rng.next() as u32
        } else {
            rng.pick(&[0, 1, 2, 0x3e, 0xc000_003e, 0x4000_0000, u32::MAX])
        };
        let insn = match rng.next() % 12 {
            0..=2 => Insn::LdAbs(4 * (rng.next() % 16) as u32),
            3 => Insn::Alu(AluOp::And, Src::K(k)),
            4 => Insn::Alu(
                rng.pick(&[AluOp::Add, AluOp::Or, AluOp::Xor, AluOp::Rsh]),
                Src::K(k % 32),
            ),
            5 if written => Insn::LdMem(0),
            5 => {
                written = true;
                Insn::St(0)
            }
            6 => Insn::Tax,
            7 => Insn::Ret(rng.pick(&[0x7fff_0000, 0x0005_0001, 0, 0x8000_0000, 0x7ffc_0000])),
            8 if left > 0 => Insn::Ja(rng.next() as u32 % left as u32),
            _ => Insn::Jmp {
                cond: rng.pick(&[JmpCond::Eq, JmpCond::Gt, JmpCond::Ge, JmpCond::Set]),
                src: if rng.next() % 5 == 0 {
                    Src::X
                } else {
                    Src::K(k)
                },
                jt: jump(rng),
                jf: jump(rng),
            },
        };
        insns.push(insn);
    }
    insns.push(Insn::RetA);
    // M[0] is read only after the St(0) that precedes it in program order,
    // but a jump may skip that store: keep only programs where no path can.
    Program::new(insns)
}

#[test]
fn random_programs_lift_in_agreement_with_the_emulator() {
    let mut rng = Rng(0xdecaf);
    let mut lifted = 0;
    for i in 0..3000 {
        let prog = random_program(&mut rng);
        // Programs where a jump skips the store are refused by the kernel
        // (M[] read before written); the lifter refuses them too.
        if lift(&prog, ByteOrder::Little, &Limits::default()).is_err() {
            continue;
        }
        check_agrees(
            &format!("random #{i}"),
            &prog,
            ByteOrder::Little,
            &mut rng,
            200,
        );
        lifted += 1;
    }
    assert!(lifted > 2000, "only {lifted} random programs were liftable");
}

#[test]
fn adversarial_programs_give_up_within_limits() {
    // 2047 independent bit tests, each on its own, both branches joining
    // again: 2^2047 paths.
    let mut insns = vec![Insn::LdAbs(16)];
    for i in 0..2047 {
        insns.push(Insn::Jmp {
            cond: syscage::bpf::JmpCond::Set,
            src: Src::K(1 << (i % 32)),
            jt: 0,
            jf: 1,
        });
        insns.push(Insn::LdAbs(16 + 4 * (i % 12)));
    }
    insns.push(Insn::Ret(0x7fff_0000));
    assert!(insns.len() <= 4096);
    let prog = Program::new(insns);
    // A tenth of the default budget keeps the test quick; the default
    // gives up the same way, ten times later.
    let limits = Limits {
        max_steps: Limits::default().max_steps / 10,
        ..Limits::default()
    };
    let err = lift(&prog, ByteOrder::Little, &limits).expect_err("must give up");
    assert!(err.to_string().contains("too many paths"), "{err}");
}
