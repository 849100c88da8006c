//! `lint` reports at least every finding seccomp-tools 1.7.1's `audit`
//! reports on its fixtures (same check id, same arch, same syscalls).

use std::path::{Path, PathBuf};
use syscage::analyze::lift::{lift, Limits};
use syscage::analyze::lint::lint;
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, Program};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/seccomp-tools")
}

#[test]
fn every_seccomp_tools_audit_finding_is_reported() {
    let dir = data().join("expected/audit");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "audit fixtures missing");
    let mut checked = 0;
    let mut conditions = 0;
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let (name, arch) = stem.rsplit_once('.').unwrap();
        let arch = Arch::from_name(arch).unwrap();
        let bytes = std::fs::read(data().join("bpf").join(format!("{name}.bpf"))).unwrap();
        let prog = Program::from_bytes(&bytes, ByteOrder::Little).unwrap();
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let findings_expected = expected["reports"][0]["findings"]
            .as_array()
            .unwrap()
            .clone();
        let table = match lift(&prog, ByteOrder::Little, &Limits::default()) {
            Ok(t) => t,
            // all_inst reads M[] before writing it: the kernel refuses it,
            // so syscage reports that instead of auditing it.
            Err(e) => {
                assert_eq!(name, "all_inst", "{name}: {e}");
                continue;
            }
        };
        let ours = lint(&table, &prog, &[arch.audit()]);
        for f in findings_expected {
            let id = f["id"].as_str().unwrap();
            let want: Vec<&str> = f["syscalls"]
                .as_array()
                .map_or(vec![], |a| a.iter().map(|s| s.as_str().unwrap()).collect());
            let hit = ours.iter().any(|o| {
                o.id == id
                    && (f["arch"].is_null() || o.arch.as_deref() == f["arch"].as_str())
                    && want.iter().all(|w| o.syscalls.iter().any(|s| s == w))
            });
            // Conditions on arguments read as seccomp-tools writes them
            // (its arithmetic on sys_number / instruction_pointer aside).
            if let Some(cond) = f["condition"]
                .as_str()
                .filter(|c| !c.contains("sys_number") && !c.contains("instruction_pointer"))
            {
                let same = ours.iter().any(|o| {
                    o.id == id
                        && o.syscalls.iter().any(|s| want.contains(&s.as_str()))
                        && o.condition.as_deref() == Some(cond)
                });
                assert!(
                    same,
                    "{name}: condition {cond:?} of {id} {want:?} not reported as such"
                );
                conditions += 1;
            }
            assert!(
                hit,
                "{name}: seccomp-tools finding {f} not reported; ours: {:#?}",
                ours.iter()
                    .map(|o| (&o.id, &o.title, &o.syscalls))
                    .collect::<Vec<_>>()
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} findings compared");
    assert!(conditions >= 2, "only {conditions} conditions compared");
}
