//! Parsing Docker / OCI profiles: the two default profiles in place
//! (checked field by field against serde_json's reading of the same text),
//! and every kind of bad input with its JSON path and line:column.

use serde_json::Value;
use syscage::profile::{self, ActionName, OpName, ProfileErrorKind as K};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn check_against_serde(file: &str) {
    let text = std::fs::read_to_string(format!("{DATA}/{file}")).unwrap();
    let p = profile::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        p.default_action.as_str(),
        v["defaultAction"].as_str().unwrap()
    );
    assert_eq!(
        p.default_errno_ret.map(u64::from),
        v["defaultErrnoRet"].as_u64()
    );
    assert_eq!(p.default_errno.as_deref(), v["defaultErrno"].as_str());
    let arch_map = v["archMap"].as_array().unwrap();
    assert_eq!(p.arch_map.len(), arch_map.len());
    for (e, j) in p.arch_map.iter().zip(arch_map) {
        assert_eq!(e.architecture, j["architecture"].as_str().unwrap());
        let subs: Option<Vec<&str>> = j["subArchitectures"]
            .as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap()).collect());
        assert_eq!(
            e.sub_architectures
                .as_ref()
                .map(|v| v.iter().map(String::as_str).collect::<Vec<_>>()),
            subs
        );
    }
    let calls = v["syscalls"].as_array().unwrap();
    assert_eq!(p.syscalls.len(), calls.len());
    for (s, j) in p.syscalls.iter().zip(calls) {
        let names: Vec<&str> = j["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(s.all_names(), names);
        assert_eq!(s.action.as_str(), j["action"].as_str().unwrap());
        assert_eq!(s.errno_ret.map(u64::from), j["errnoRet"].as_u64());
        assert_eq!(s.errno.as_deref(), j["errno"].as_str());
        assert_eq!(s.comment.as_deref(), j["comment"].as_str());
        let args = j["args"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        assert_eq!(s.args.len(), args.len());
        for (a, ja) in s.args.iter().zip(args) {
            assert_eq!(u64::from(a.index), ja["index"].as_u64().unwrap());
            assert_eq!(a.value, ja["value"].as_u64().unwrap());
            assert_eq!(a.value_two, ja["valueTwo"].as_u64().unwrap_or(0));
            assert_eq!(a.op.as_str(), ja["op"].as_str().unwrap());
        }
        for (f, key) in [(&s.includes, "includes"), (&s.excludes, "excludes")] {
            let jf = &j[key];
            assert_eq!(f.is_some(), jf.is_object(), "{names:?} {key}");
            if let Some(f) = f {
                let caps: Vec<&str> = jf["caps"]
                    .as_array()
                    .map_or(vec![], |a| a.iter().map(|c| c.as_str().unwrap()).collect());
                let arches: Vec<&str> = jf["arches"]
                    .as_array()
                    .map_or(vec![], |a| a.iter().map(|c| c.as_str().unwrap()).collect());
                assert_eq!(f.caps, caps);
                assert_eq!(f.arches, arches);
                assert_eq!(
                    f.min_kernel.map(|k| k.to_string()).as_deref(),
                    jf["minKernel"].as_str()
                );
            }
        }
    }
}

#[test]
fn docker_default_parses_field_by_field() {
    check_against_serde("docker-default-seccomp.json");
}

#[test]
fn podman_default_parses_field_by_field() {
    check_against_serde("podman-default-seccomp.json");
}

#[test]
fn podman_errno_names_give_numbers() {
    let text = std::fs::read_to_string(format!("{DATA}/podman-default-seccomp.json")).unwrap();
    let p = profile::parse(&text).unwrap();
    assert_eq!(p.default_errno.as_deref(), Some("ENOSYS"));
    assert_eq!(p.default_action(), syscage::action::Action::Errno(38));
    let einval = p
        .syscalls
        .iter()
        .find(|s| s.errno.as_deref() == Some("EINVAL"))
        .unwrap();
    assert_eq!(einval.to_action(), syscage::action::Action::Errno(22));
}

/// Parses `text`, expecting an error of `kind` at `path`, `line`:`col`.
fn bad(text: &str, path: &str, line: usize, col: usize, kind: K) {
    let e = profile::parse(text).expect_err(text);
    assert_eq!(e.path, path, "{text}\n{e}");
    let pos = e.pos.expect("a position");
    assert_eq!((pos.line, pos.col), (line, col), "{text}\n{e}");
    assert_eq!(e.kind, kind, "{text}");
    // One line: path and message, no panic text.
    assert!(!e.to_string().contains('\n'));
}

const HEAD: &str = "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [\n";

#[test]
fn unknown_action() {
    bad(
        &format!("{HEAD}  {{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOWW\"}}]}}"),
        "syscalls[0].action",
        3,
        33,
        K::UnknownAction("SCMP_ACT_ALLOWW".into()),
    );
    bad(
        "{\"defaultAction\": \"ALLOW\"}",
        "defaultAction",
        1,
        19,
        K::UnknownAction("ALLOW".into()),
    );
}

#[test]
fn unknown_operator() {
    bad(
        &format!("{HEAD}  {{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n   \"args\": [{{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQQ\"}}]}}]}}"),
        "syscalls[0].args[0].op",
        4,
        44,
        K::UnknownOperator("SCMP_CMP_EQQ".into()),
    );
}

#[test]
fn unknown_arch_names() {
    bad(
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_Z80\"]}",
        "architectures[1]",
        1,
        75,
        K::UnknownArch("SCMP_ARCH_Z80".into(), "an SCMP_ARCH_* name such as SCMP_ARCH_X86_64"),
    );
    bad(
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"x86\"]}]}",
        "archMap[0].subArchitectures[0]",
        2,
        71,
        K::UnknownArch("x86".into(), "an SCMP_ARCH_* name such as SCMP_ARCH_X86_64"),
    );
    bad(
        &format!("{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {{\"arches\": [\"amd64\", \"x86-64\"]}}}}]}}"),
        "syscalls[0].includes.arches[1]",
        3,
        82,
        K::UnknownArch("x86-64".into(), "a moby arch name such as amd64, arm64, x86, x32, s390x"),
    );
}

#[test]
fn argument_index_above_5() {
    bad(
        &format!("{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}}]}}]}}"),
        "syscalls[0].args[0].index",
        3,
        68,
        K::ArgIndex(6),
    );
}

#[test]
fn errno_ret_on_non_errno_action() {
    bad(
        &format!(
            "{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}}]}}"
        ),
        "syscalls[0].errnoRet",
        3,
        61,
        K::ErrnoRetOnAction("SCMP_ACT_ALLOW"),
    );
    bad(
        "{\"defaultAction\": \"SCMP_ACT_KILL\", \"defaultErrnoRet\": 1}",
        "defaultErrnoRet",
        1,
        55,
        K::ErrnoRetOnAction("SCMP_ACT_KILL"),
    );
    bad(
        &format!(
            "{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_TRAP\", \"errnoRet\": 1}}]}}"
        ),
        "syscalls[0].errnoRet",
        3,
        60,
        K::ErrnoRetOnAction("SCMP_ACT_TRAP"),
    );
}

#[test]
fn name_and_names() {
    bad(
        &format!("{HEAD}{{\"name\": \"read\", \"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"}}]}}"),
        "syscalls[0].name",
        3,
        10,
        K::NameAndNames,
    );
    bad(
        &format!("{HEAD}{{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}}]}}"),
        "syscalls[0]",
        3,
        1,
        K::NoName,
    );
}

#[test]
fn invalid_json() {
    let e =
        profile::parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"syscalls\": [}").unwrap_err();
    assert_eq!(e.path, "$");
    assert_eq!(e.pos.map(|p| (p.line, p.col)), Some((2, 15)));
    assert!(matches!(e.kind, K::Syntax(_)));
    for text in [
        "",
        "{",
        "[1,]",
        "{\"a\" 1}",
        "nul",
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\"} {}",
    ] {
        assert!(
            matches!(profile::parse(text).unwrap_err().kind, K::Syntax(_)),
            "{text:?}"
        );
    }
}

#[test]
fn wrong_types_and_ranges() {
    bad(
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}",
        "syscalls",
        1,
        49,
        K::WrongType {
            expected: "an array",
            found: "an object",
        },
    );
    bad(
        &format!("{HEAD}{{\"names\": [\"read\", 3], \"action\": \"SCMP_ACT_ALLOW\"}}]}}"),
        "syscalls[0].names[1]",
        3,
        20,
        K::WrongType {
            expected: "a string",
            found: "a number",
        },
    );
    bad(
        &format!("{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}}]}}]}}"),
        "syscalls[0].args[0].value",
        3,
        80,
        K::WrongType { expected: "an unsigned integer", found: "a negative number" },
    );
    bad(
        &format!("{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{{\"index\": 0, \"value\": 18446744073709551616, \"op\": \"SCMP_CMP_EQ\"}}]}}]}}"),
        "syscalls[0].args[0].value",
        3,
        80,
        K::OutOfRange { value: "18446744073709551616".into(), max: u64::MAX },
    );
    bad(
        &format!("{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 65536}}]}}"),
        "syscalls[0].errnoRet",
        3,
        61,
        K::OutOfRange { value: "65536".into(), max: 65535 },
    );
    bad(
        &format!(
            "{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"nmaes\": []}}]}}"
        ),
        "syscalls[0].nmaes",
        3,
        49,
        K::UnknownField(
            "nmaes".into(),
            "names, name, action, errnoRet, errno, args, comment, includes, excludes",
        ),
    );
    bad(
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultAction\": \"SCMP_ACT_LOG\"}",
        "defaultAction",
        1,
        37,
        K::DuplicateField("defaultAction".into()),
    );
    bad(
        "{\"syscalls\": []}",
        "$",
        1,
        1,
        K::MissingField("defaultAction"),
    );
    bad(
        &format!("{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {{\"minKernel\": \"five\"}}}}]}}"),
        "syscalls[0].includes.minKernel",
        3,
        75,
        K::KernelVersion("five".into()),
    );
    bad(
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\"],\n \"archMap\": []}",
        "archMap",
        2,
        13,
        K::ArchitecturesAndArchMap,
    );
    bad(
        &format!("{HEAD}{{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1, \"errno\": \"ENOSYS\"}}]}}"),
        "syscalls[0].errno",
        3,
        73,
        K::ErrnoMismatch { name: "ENOSYS".into(), by_name: 38, value: 1 },
    );
    bad(
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNK\"]}",
        "flags[0]",
        1,
        47,
        K::UnknownFlag("SECCOMP_FILTER_FLAG_TSYNK".into()),
    );
}

#[test]
fn every_field_is_read() {
    let text = r#"{
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "listenerPath": "/run/agent.sock", "listenerMetadata": "meta",
        "syscalls": [
          {"name": "read", "action": "SCMP_ACT_TRACE", "errnoRet": 7, "comment": "c"},
          {"names": ["mmap"], "action": "SCMP_ACT_ALLOW",
           "args": [{"index": 2, "value": 4, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"}],
           "includes": {"caps": ["CAP_SYS_ADMIN"], "minKernel": "5.8"}, "excludes": {"arches": ["arm64"]}}
        ]}"#;
    let p = profile::parse(text).unwrap();
    assert_eq!(p.default_errno_ret, Some(38));
    assert_eq!(p.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"]);
    assert_eq!(p.flags.len(), 2);
    assert_eq!(p.listener_path.as_deref(), Some("/run/agent.sock"));
    assert_eq!(p.listener_metadata.as_deref(), Some("meta"));
    assert_eq!(p.syscalls[0].name.as_deref(), Some("read"));
    assert_eq!(p.syscalls[0].action, ActionName::Trace);
    assert_eq!(p.syscalls[0].to_action(), syscage::action::Action::Trace(7));
    let a = &p.syscalls[1].args[0];
    assert_eq!(
        (a.index, a.value, a.value_two, a.op),
        (2, 4, 4, OpName::MaskedEq)
    );
    assert_eq!(
        a.op.to_cmp(a.value, a.value_two),
        syscage::policy::CmpOp::MaskedEq { mask: 4, value: 4 }
    );
    let inc = p.syscalls[1].includes.as_ref().unwrap();
    assert_eq!(inc.min_kernel.unwrap().to_string(), "5.8");
    assert_eq!(p.syscalls[1].excludes.as_ref().unwrap().arches, ["arm64"]);
}

mod robustness {
    use proptest::prelude::*;
    use syscage::arch::Arch;
    use syscage::profile::{self, KernelVersion, ResolveOptions};

    fn podman() -> String {
        std::fs::read_to_string(format!("{}/podman-default-seccomp.json", super::DATA)).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Damaged profiles give a located error or a profile, never a
        /// panic; what parses also resolves and writes without panicking.
        #[test]
        fn damaged_profiles_never_panic(
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..24, "[\\[\\]{},:\"0-9a-zA-Z_ \\-.]{0,6}"), 1..4)
        ) {
            let mut text = podman();
            for (at, len, insert) in edits {
                let mut i = at.index(text.len());
                while !text.is_char_boundary(i) { i -= 1; }
                let mut j = (i + len).min(text.len());
                while !text.is_char_boundary(j) { j -= 1; }
                text.replace_range(i..j, &insert);
            }
            match profile::parse(&text) {
                Ok(p) => {
                    prop_assert_eq!(profile::parse(&p.to_json()), Ok(p.clone()));
                    let opts = ResolveOptions::docker(vec![Arch::X86_64, Arch::Aarch64], KernelVersion { major: 6, minor: 1 });
                    if let Ok((policy, _)) = p.to_policy(&opts) {
                        let _ = profile::write_docker(&policy);
                    }
                }
                Err(e) => {
                    prop_assert!(e.pos.is_some(), "{}", e);
                    prop_assert!(!e.to_string().contains('\n'));
                }
            }
        }
    }
}
