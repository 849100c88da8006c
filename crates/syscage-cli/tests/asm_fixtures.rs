//! `syscage asm` against seccomp-tools 1.7.1: every `expected/asm/*` output
//! byte for byte, and every `expected/disasm-asm-able/**` listing assembled
//! back into the bytes of its `bpf/**` original. The directories are
//! enumerated, and a file this test cannot place fails it, so nothing is
//! skipped silently.

mod syscage_bin;
use std::path::{Path, PathBuf};
use std::process::Command;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::asm::parse::assemble;
use syscage::bpf::{Insn, Program};
use syscage_bin::syscage;

fn data() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/seccomp-tools"
    ))
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn arch(name: &str) -> Arch {
    Arch::from_name(name).unwrap_or_else(|| panic!("unknown arch {name}"))
}

/// The source of `expected/asm/<name>.*`.
fn asm_source(name: &str) -> PathBuf {
    let top = data().join("asm").join(format!("{name}.asm"));
    if top.exists() {
        return top;
    }
    let inline = data()
        .join("asm/from-spec-inline")
        .join(format!("{name}.asm"));
    assert!(inline.exists(), "no source for expected/asm/{name}.*");
    inline
}

#[test]
fn expected_asm_outputs_byte_for_byte() {
    let mut checked = 0;
    for path in sorted_files(&data().join("expected/asm")) {
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        // <name>.<arch>.<kind>, kind one of bpf, inspect.txt, c_array.txt, c_source.c, assembly.s
        let (stem, format) = [
            (".inspect.txt", "inspect"),
            (".c_array.txt", "c-array"),
            (".c_source.c", "c-source"),
            (".assembly.s", "assembly"),
            (".bpf", "raw"),
        ]
        .into_iter()
        .find_map(|(suffix, f)| file.strip_suffix(suffix).map(|s| (s.to_string(), f)))
        .unwrap_or_else(|| panic!("expected/asm/{file}: unknown output kind"));
        let (name, arch_name) = stem.rsplit_once('.').expect("<name>.<arch>");
        let src = asm_source(name);
        let out = syscage(&["asm", src.to_str().unwrap(), "-a", arch_name, "-f", format]);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = std::fs::read(&path).unwrap();
        assert!(
            out.stdout == expected,
            "{file}: output differs\n--- got\n{}\n--- expected\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&expected)
        );
        checked += 1;
    }
    assert_eq!(checked, 16, "expected/asm holds 16 files");
}

/// The original raw filter of a disasm-asm-able listing.
fn original_bpf(dir_arch: &str, name: &str) -> PathBuf {
    let d = data().join("bpf");
    let candidates = if dir_arch == "s390x" {
        vec![d.join("s390x-big-endian").join(format!("{name}.bpf"))]
    } else {
        vec![
            d.join(format!("{name}.bpf")),
            d.join("from-spec-inline").join(format!("{name}.bpf")),
        ]
    };
    candidates
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no bpf for disasm-asm-able/{dir_arch}/{name}.txt"))
}

/// What the text of a listing cannot carry: `A = 64` may have been
/// `A = len`, `return KILL` may have been a KILL with data bits the kernel
/// ignores, and don't-care fields are already dropped by decoding.
fn semantic(p: &Program) -> Vec<Insn> {
    p.insns
        .iter()
        .map(|i| match *i {
            Insn::LdLen => Insn::LdImm(64),
            Insn::LdxLen => Insn::LdxImm(64),
            Insn::Ret(k) => Insn::Ret(Action::from_ret(k).to_ret()),
            other => other,
        })
        .collect()
}

#[test]
fn disasm_asm_able_round_trips() {
    let mut exact = 0;
    let mut semantic_only = 0;
    let mut rejected = 0;
    let root = data().join("expected/disasm-asm-able");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let dir_arch = dir.file_name().unwrap().to_str().unwrap().to_string();
        let a = arch(&dir_arch);
        for path in sorted_files(&dir) {
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            let what = format!("disasm-asm-able/{dir_arch}/{name}.txt");
            let text = std::fs::read_to_string(&path).unwrap();
            let result = assemble(&text, a);
            if name == "else_jmp" {
                // Its jumps go past the end; seccomp-tools rejects `goto 0004` too.
                let e = result.expect_err(&what);
                assert_eq!((e.line, e.col), (3, 23), "{what}: {e}");
                assert!(e.message.contains("'0004'"), "{e}");
                rejected += 1;
                continue;
            }
            let program = result.unwrap_or_else(|e| panic!("{what}: {e}"));
            let original = std::fs::read(original_bpf(&dir_arch, &name)).unwrap();
            let got = program.to_bytes(a.byte_order());
            if name == "all_inst" || name == "misc_alu" {
                let orig = Program::from_bytes(&original, a.byte_order()).unwrap();
                assert_eq!(semantic(&program), semantic(&orig), "{what}");
                semantic_only += 1;
            } else {
                assert!(got == original, "{what}: bytes differ");
                exact += 1;
            }
        }
    }
    // 4 little-endian arches x 15 fixtures + 6 s390x fixtures.
    assert_eq!(exact + semantic_only + rejected, 66);
    assert_eq!((semantic_only, rejected), (8, 4));
}

#[test]
fn cli_errors_are_one_line_with_position() {
    let dir = std::env::temp_dir().join(format!("syscage-asm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, &str); 6] = [
        (
            "A = arch\nif (A == nosuchcall) goto x\nx: return KILL\n",
            ":2:10: expected",
        ),
        ("A = arch\nA ==\n", ":2:5: expected"),
        ("return ALLOW\ngoto 0004\n", ":2:6: expected"),
        ("A = args[9]\nreturn A\n", ":1:10: expected"),
        ("A = amd64.nope\nreturn A\n", ":1:5: expected"),
        ("A = $\n", ":1:5: expected"),
    ];
    for (i, (src, want)) in cases.iter().enumerate() {
        let f = dir.join(format!("bad{i}.asm"));
        std::fs::write(&f, src).unwrap();
        let out = syscage(&["asm", f.to_str().unwrap(), "-a", "amd64"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{src:?}: {err}");
        assert!(out.stdout.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("{}{want}", f.display())),
            "{src:?}: {err}"
        );
        assert!(err.contains("found"), "{err}");
    }
    let out = syscage(&["asm", "-", "-a", "nosucharch"]);
    assert_eq!(out.status.code(), Some(2));
    let out = syscage(&[
        "asm",
        dir.join("bad0.asm").to_str().unwrap(),
        "-a",
        "aarch64",
        "-f",
        "assembly",
    ]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

/// A program is written as the text says (as seccomp-tools does); when the
/// validator (`bpf::validate`, the kernel's rules) refuses it, standard
/// error says so, and only then.
#[test]
fn refused_programs_are_written_with_a_warning() {
    let dir = std::env::temp_dir().join(format!("syscage-asm-warn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // No final RET; M[] read before written; a fine filter.
    let cases: [(&str, &[u8]); 3] = [
        ("A = arch\n", &[0x20, 0, 0, 0, 4, 0, 0, 0]),
        (
            "A = mem[3]\nreturn A\n",
            &[0x60, 0, 0, 0, 3, 0, 0, 0, 0x16, 0, 0, 0, 0, 0, 0, 0],
        ),
        ("return ALLOW\n", &[6, 0, 0, 0, 0, 0, 0xff, 0x7f]),
    ];
    for (i, (src, bytes)) in cases.into_iter().enumerate() {
        let f = dir.join(format!("case{i}.asm"));
        std::fs::write(&f, src).unwrap();
        let out = syscage(&["asm", f.to_str().unwrap(), "-a", "amd64", "-f", "raw"]);
        assert_eq!(out.status.code(), Some(0), "{src:?}");
        assert_eq!(out.stdout, bytes, "{src:?}");
        let raw = syscage::bpf::codec::decode(bytes, syscage::bpf::ByteOrder::Little).unwrap();
        let refused = syscage::bpf::validate(&raw).is_err();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.contains("would refuse"), refused, "{src:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn output_file_and_stdin() {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("syscage-asm-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("f.bpf");
    let src = data().join("asm/libseccomp.asm");
    let out = syscage(&[
        "asm",
        src.to_str().unwrap(),
        "-a",
        "x86_64",
        "-f",
        "raw",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read(&out_path).unwrap(),
        std::fs::read(data().join("bpf/libseccomp.bpf")).unwrap()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_syscage"))
        .args(["asm", "-a", "amd64", "-f", "raw"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&src).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        out.stdout,
        std::fs::read(data().join("bpf/libseccomp.bpf")).unwrap()
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Every syscall name of seccomp-tools' tables assembles to seccomp-tools'
/// number on its arch; `x32_NAME` forms on amd64 too, except where x32 has
/// its own number for NAME (see docs/compat.md).
#[test]
fn seccomp_tools_syscall_names_resolve() {
    let mut checked = 0;
    let mut x32_differ = 0;
    for a in ["amd64", "i386", "aarch64", "riscv64", "s390x"] {
        let path = data().join(format!("tables/sys_nr_{a}.json"));
        let table: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(table.len() > 250, "{}", path.display());
        for (name, nr) in table {
            let nr = u32::try_from(nr.as_u64().unwrap()).unwrap();
            let src = format!("A == {name} ? 0 : 0\nA == {a}.{name} ? 0 : 0\nreturn A");
            let expect = Insn::Ja(0);
            let p = assemble(&src, arch(a)).unwrap_or_else(|e| panic!("{a} {name}: {e}"));
            assert_eq!(p.insns[0], expect);
            let p = assemble(&format!("A = {name}\nA = {a}.{name}\nreturn A"), arch(a))
                .unwrap_or_else(|e| panic!("{a} {name}: {e}"));
            assert_eq!(
                &p.insns[..2],
                &[Insn::LdImm(nr), Insn::LdImm(nr)],
                "{a} {name}"
            );
            if a == "amd64" {
                // seccomp-tools: x32_NAME = the amd64 number with bit 30. syscage
                // agrees wherever x32 has NAME at that number (all but x32's own
                // 512-547 entries, where it takes x32's real number).
                let p = assemble(&format!("A = x32_{name}\nreturn A"), arch(a)).unwrap();
                let Insn::LdImm(got) = p.insns[0] else {
                    panic!()
                };
                if got != nr | 0x4000_0000 {
                    assert!(
                        (0x4000_0200..0x4000_0224).contains(&got),
                        "x32_{name}: {got:#x}"
                    );
                    x32_differ += 1;
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 1500, "{checked}");
    assert!(x32_differ < 40, "{x32_differ} x32 names differ");
}

/// `bpf/s390x-big-endian/*` were made by `seccomp-tools asm <src> -a s390x -f raw`.
#[test]
fn s390x_big_endian_fixtures_are_asm_output() {
    let mut checked = 0;
    for path in sorted_files(&data().join("bpf/s390x-big-endian")) {
        let file = path.file_name().unwrap().to_str().unwrap();
        let name = file
            .strip_suffix(".s390x.bpf")
            .unwrap_or_else(|| panic!("bpf/s390x-big-endian/{file}: unexpected name"));
        let src = std::fs::read_to_string(asm_source(name)).unwrap();
        let p = assemble(&src, Arch::S390x).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = std::fs::read(&path).unwrap();
        assert!(
            p.to_bytes(Arch::S390x.byte_order()) == expected,
            "{file}: bytes differ"
        );
        checked += 1;
    }
    assert_eq!(checked, 6);
}

/// `-f disasm` is seccomp-tools' disassembly of the result: compare with
/// `expected/disasm` wherever that holds the disassembly of an asm fixture
/// (the amd64 ones whose bpf is `asm` output, and every s390x one).
#[test]
fn disasm_format_matches_expected_disasm() {
    let mut checked = 0;
    let mut sources = sorted_files(&data().join("asm"));
    sources.extend(sorted_files(&data().join("asm/from-spec-inline")));
    for src in sources {
        let name = src.file_stem().unwrap().to_str().unwrap().to_string();
        for (arch_name, file) in [
            ("amd64", format!("amd64/{name}.disasm")),
            ("s390x", format!("s390x/{name}.s390x.disasm")),
        ] {
            let expected_path = data().join("expected/disasm").join(&file);
            if !expected_path.exists() {
                continue;
            }
            let out = syscage(&[
                "asm",
                src.to_str().unwrap(),
                "-a",
                arch_name,
                "-f",
                "disasm",
            ]);
            assert!(out.status.success(), "{file}");
            let expected = std::fs::read(&expected_path).unwrap();
            assert!(
                out.stdout == expected,
                "{file}: differs\n--- got\n{}\n--- expected\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&expected)
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 8, "2 amd64 + 6 s390x disassemblies");
}
