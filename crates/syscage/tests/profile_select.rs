//! Rule selection as moby does it (arch, capabilities, kernel version) and
//! translation as runc + libseccomp do it, on small profiles and on the
//! Docker and Podman default profiles.

use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::policy::Policy;
use syscage::profile::{self, KernelVersion, ResolveOptions};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn k(major: u32, minor: u32) -> KernelVersion {
    KernelVersion { major, minor }
}

fn opts(arch: Arch, caps: &[&str], kernel: KernelVersion) -> ResolveOptions {
    let mut o = ResolveOptions::docker(vec![arch], kernel);
    o.caps = caps.iter().map(|s| s.to_string()).collect();
    o.enosys_unknown = false;
    o
}

fn decide(p: &Policy, arch: Arch, name: &str, args: [u64; 6]) -> Action {
    let nr = arch
        .syscall_nr(name)
        .unwrap_or_else(|| panic!("{name} on {arch}"));
    p.evaluate(&SeccompData {
        nr,
        arch: arch.audit(),
        instruction_pointer: 0,
        args,
    })
}

/// Asserts what `p` decides on `arch` for each (syscall name, arguments,
/// expected action), in order; a failure names the call.
#[track_caller]
fn assert_decisions(p: &Policy, arch: Arch, cases: &[(&str, [u64; 6], Action)]) {
    for &(name, args, want) in cases {
        assert_eq!(
            decide(p, arch, name, args),
            want,
            "{name}{args:?} on {arch}"
        );
    }
}

/// Parses the profile `text` and translates it for an x86_64 host without
/// capabilities on kernel 6.1: the policy and its warnings.
#[track_caller]
fn x86_64_policy(text: &str) -> (Policy, Vec<profile::Warning>) {
    let p = profile::parse(text).unwrap();
    p.to_policy(&opts(Arch::X86_64, &[], k(6, 1))).unwrap()
}

/// Asserts some warning is about the rule at `path` and says `text`.
#[track_caller]
fn assert_warned(warnings: &[profile::Warning], path: &str, text: &str) {
    assert!(
        warnings
            .iter()
            .any(|w| w.path == path && w.message.contains(text)),
        "no warning at {path} saying {text:?}: {warnings:#?}"
    );
}

const FILTERS: &str = r#"{
  "defaultAction": "SCMP_ACT_ERRNO",
  "archMap": [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
  ],
  "syscalls": [
    {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
    {"names": ["write"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["arm64"]}},
    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_SYS_CHROOT"]}},
    {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_KILL"]}},
    {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
    {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}}
  ]
}"#;

#[test]
fn includes_and_excludes_by_arch() {
    let p = profile::parse(FILTERS).unwrap();
    let (x86, _) = p.to_policy(&opts(Arch::X86_64, &[], k(6, 1))).unwrap();
    assert_eq!(x86.arches(), [Arch::X86_64, Arch::X86, Arch::X32]);
    assert_decisions(
        &x86,
        Arch::X86_64,
        &[
            ("arch_prctl", [0; 6], Action::Allow),
            ("write", [0; 6], Action::Allow),
        ],
    );
    let (arm, _) = p.to_policy(&opts(Arch::Aarch64, &[], k(6, 1))).unwrap();
    assert_eq!(arm.arches(), [Arch::Aarch64, Arch::Arm]);
    // Excluded on arm64 hosts: for both arches of the host.
    assert_decisions(&arm, Arch::Aarch64, &[("write", [0; 6], Action::Errno(1))]);
    assert_decisions(&arm, Arch::Arm, &[("write", [0; 6], Action::Errno(1))]);
    assert_decisions(&arm, Arch::Aarch64, &[("read", [0; 6], Action::Allow)]);
    // Without sub-arches only the host arch is covered.
    let mut o = opts(Arch::X86_64, &[], k(6, 1));
    o.sub_arches = false;
    assert_eq!(p.to_policy(&o).unwrap().0.arches(), [Arch::X86_64]);
}

#[test]
fn includes_need_every_cap_excludes_any() {
    let p = profile::parse(FILTERS).unwrap();
    let pol = |caps: &[&str]| p.to_policy(&opts(Arch::X86_64, caps, k(6, 1))).unwrap().0;
    for (caps, name, want) in [
        (&["CAP_SYS_ADMIN"][..], "mount", Action::Errno(1)),
        (&["CAP_SYS_ADMIN", "CAP_SYS_CHROOT"], "mount", Action::Allow),
        (&[], "chroot", Action::Allow),
        (&["CAP_KILL"], "chroot", Action::Errno(1)),
    ] {
        let got = decide(&pol(caps), Arch::X86_64, name, [0; 6]);
        assert_eq!(got, want, "{name} with {caps:?}");
    }
}

#[test]
fn min_kernel_compares_major_minor() {
    let p = profile::parse(FILTERS).unwrap();
    let pol = |kv| p.to_policy(&opts(Arch::X86_64, &[], kv)).unwrap().0;
    for (kv, name, want) in [
        (k(4, 7), "ptrace", Action::Errno(1)),
        (k(4, 8), "ptrace", Action::Allow),
        (k(5, 0), "ptrace", Action::Allow),
        (k(5, 9), "getpid", Action::Allow),
        (k(5, 10), "getpid", Action::Errno(1)),
    ] {
        let got = decide(&pol(kv), Arch::X86_64, name, [0; 6]);
        assert_eq!(got, want, "{name} on kernel {kv:?}");
    }
    assert_eq!(KernelVersion::parse("6.18.0-1-amd64"), Some(k(6, 18)));
    assert_eq!(KernelVersion::parse("3.12-1-amd64"), Some(k(3, 12)));
}

fn docker() -> profile::Profile {
    profile::parse(&std::fs::read_to_string(format!("{DATA}/docker-default-seccomp.json")).unwrap())
        .unwrap()
}

#[test]
fn docker_default_caps_and_kernel() {
    let p = docker();
    let default_caps: Vec<&str> = profile::names::DOCKER_DEFAULT_CAPS.to_vec();
    let (pol, _) = p
        .to_policy(&opts(Arch::X86_64, &default_caps, k(6, 1)))
        .unwrap();
    const CLONE_NEWUSER: u64 = 0x1000_0000;
    assert_decisions(
        &pol,
        Arch::X86_64,
        &[
            // clone: allowed only without namespace flags unless CAP_SYS_ADMIN.
            ("clone", [0x11, 0, 0, 0, 0, 0], Action::Allow),
            ("clone", [CLONE_NEWUSER, 0, 0, 0, 0, 0], Action::Errno(1)),
            ("clone3", [0; 6], Action::Errno(38)),
            ("mount", [0; 6], Action::Errno(1)),
            ("ptrace", [0; 6], Action::Allow),
            // personality: only the listed values.
            ("personality", [8, 0, 0, 0, 0, 0], Action::Allow),
            ("personality", [1, 0, 0, 0, 0, 0], Action::Errno(1)),
            // socket: AF_VSOCK (40) is refused, others allowed.
            ("socket", [40, 0, 0, 0, 0, 0], Action::Errno(1)),
            ("socket", [2, 0, 0, 0, 0, 0], Action::Allow),
        ],
    );
    let mut admin = default_caps.clone();
    admin.push("CAP_SYS_ADMIN");
    let (pol, _) = p.to_policy(&opts(Arch::X86_64, &admin, k(4, 7))).unwrap();
    assert_decisions(
        &pol,
        Arch::X86_64,
        &[
            ("clone", [CLONE_NEWUSER, 0, 0, 0, 0, 0], Action::Allow),
            ("mount", [0; 6], Action::Allow),
            // minKernel 4.8 for ptrace.
            ("ptrace", [0; 6], Action::Errno(1)),
        ],
    );
}

#[test]
fn podman_setns_second_unconditional_rule_is_dropped_with_a_warning() {
    let text = std::fs::read_to_string(format!("{DATA}/podman-default-seccomp.json")).unwrap();
    let p = profile::parse(&text).unwrap();
    let (pol, warnings) = p
        .to_policy(&opts(
            Arch::X86_64,
            profile::names::DOCKER_DEFAULT_CAPS,
            k(6, 1),
        ))
        .unwrap();
    // The ALLOW list comes first, so libseccomp keeps ALLOW for setns even
    // though the later "excludes CAP_SYS_ADMIN" rule says EPERM.
    assert_decisions(
        &pol,
        Arch::X86_64,
        &[
            ("setns", [0; 6], Action::Allow),
            ("sethostname", [0; 6], Action::Errno(1)),
        ],
    );
    let w: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        w.iter()
            .any(|w| w.contains("'setns' is dropped") && w.contains("libseccomp keeps the first")),
        "{w:#?}"
    );
    assert_eq!(pol.default_action(), Action::Errno(38));
}

#[test]
fn runc_translation_rules() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
        {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [
            {"index": 2, "value": 4, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["no_such_syscall", "getpid"], "action": "SCMP_ACT_TRAP"},
        {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_NE"}]},
        {"names": ["kill"], "action": "SCMP_ACT_LOG"}
    ]}"#;
    let (pol, warnings) = x86_64_policy(text);
    assert_decisions(
        &pol,
        Arch::X86_64,
        &[
            // A rule with the default action is not added, so it cannot shadow the ALLOW.
            ("read", [0; 6], Action::Allow),
            // Two conditions on one argument: OR'ed.
            ("write", [1, 0, 0, 0, 0, 0], Action::Allow),
            ("write", [2, 0, 0, 0, 0, 0], Action::Allow),
            ("write", [3, 0, 0, 0, 0, 0], Action::Errno(1)),
            // MASKED_EQ: value is the mask, valueTwo the datum.
            ("mmap", [0, 0, 3, 0, 0, 0], Action::Allow),
            ("mmap", [0, 0, 7, 0, 0, 0], Action::Errno(1)),
            // Unknown names are skipped with a warning; TRAP carries 0.
            ("getpid", [0; 6], Action::Trap(0)),
        ],
    );
    assert_warned(&warnings, "syscalls[4]", "no_such_syscall");
    // An unconditional rule after a conditional one replaces it.
    assert_decisions(
        &pol,
        Arch::X86_64,
        &[
            ("kill", [0, 9, 0, 0, 0, 0], Action::Log),
            ("kill", [0, 1, 0, 0, 0, 0], Action::Log),
        ],
    );
    assert_warned(&warnings, "syscalls[5]", "replaces");
    // libseccomp's default bad-arch action.
    assert_eq!(pol.bad_arch_action(), Action::KillThread);
}

#[test]
fn enosys_for_unknown_numbers() {
    let p = docker();
    let mut o = opts(Arch::X86_64, profile::names::DOCKER_DEFAULT_CAPS, k(6, 1));
    o.enosys_unknown = true;
    let (pol, _) = p.to_policy(&o).unwrap();
    assert_eq!(pol.unknown_action(), Some(Action::Errno(38)));
    let data = SeccompData {
        nr: 1000,
        arch: Arch::X86_64.audit(),
        instruction_pointer: 0,
        args: [0; 6],
    };
    assert_eq!(pol.evaluate(&data), Action::Errno(38));
}

#[test]
fn libseccomp_chain_rules() {
    let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [
        {"names": ["setns"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
        {"names": ["setns"], "action": "SCMP_ACT_KILL", "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]},
        {"names": ["socketcall"], "action": "SCMP_ACT_LOG"},
        {"names": ["bind"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
    ]}"#;
    let (pol, warnings) = x86_64_policy(text);
    // The longer chain is dropped: the earlier, more general one wins.
    assert_decisions(
        &pol,
        Arch::X86_64,
        &[("setns", [1, 2, 0, 0, 0, 0], Action::Log)],
    );
    assert_warned(&warnings, "syscalls[1]", "more general");
    // On x86, bind also becomes socketcall(SYS_BIND = 2, ...), which the
    // earlier unconditional socketcall rule already decides.
    assert_decisions(
        &pol,
        Arch::X86,
        &[
            ("bind", [0; 6], Action::Errno(13)),
            ("socketcall", [2, 0, 0, 0, 0, 0], Action::Log),
        ],
    );
    assert_warned(&warnings, "syscalls[3]", "'socketcall'");

    // Same conditions, other action: libseccomp's EEXIST, so an error.
    let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["setns"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
        {"names": ["setns"], "action": "SCMP_ACT_KILL", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}
    ]}"#;
    let e = profile::parse(text)
        .unwrap()
        .to_policy(&opts(Arch::X86_64, &[], k(6, 1)))
        .unwrap_err();
    assert_eq!(e.path, "syscalls[1]");
    assert!(matches!(e.kind, profile::ProfileErrorKind::Rejected(_)));
}
