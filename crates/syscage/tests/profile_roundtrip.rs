//! Write → parse round trips: any profile written as JSON reads back equal,
//! and a policy written as a Docker profile reads back as a policy that
//! decides the same.

use proptest::prelude::*;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::policy::{CmpOp, Condition, Policy, Rule};
use syscage::profile::{
    self, ActionName, ArchMapEntry, ArgCond, Filter, FlagName, KernelVersion, OpName, Profile,
    ResolveOptions, SyscallEntry,
};

const NAMES: [&str; 8] = [
    "read", "write", "openat", "socket", "clone", "mmap", "ioctl", "getpid",
];
const SCMP: [&str; 5] = [
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_S390",
];
const MOBY: [&str; 5] = ["amd64", "x86", "arm64", "s390x", "x32"];
const EDGES: [u64; 8] = [
    0,
    1,
    1 << 31,
    0xffff_ffff,
    1 << 32,
    1 << 63,
    u64::MAX,
    0x7e02_0000,
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z \"\\\\/\n\té😀]{0,12}"]
}

fn filter() -> impl Strategy<Value = Filter> {
    (
        prop::sample::subsequence(MOBY.to_vec(), 0..3),
        prop::collection::vec("CAP_[A-Z_]{1,8}", 0..3),
        prop::option::of(
            (0u32..7, 0u32..20).prop_map(|(major, minor)| KernelVersion { major, minor }),
        ),
    )
        .prop_map(|(arches, caps, min_kernel)| Filter {
            arches: arches.into_iter().map(str::to_string).collect(),
            caps,
            min_kernel,
        })
}

fn entry() -> impl Strategy<Value = SyscallEntry> {
    (
        prop::sample::subsequence(NAMES.to_vec(), 1..4),
        any::<bool>(),
        prop::sample::select(ActionName::ALL.to_vec()),
        prop::option::of(any::<u16>()),
        any::<bool>(),
        prop::collection::vec(
            (
                0u8..6,
                prop::sample::select(EDGES.to_vec()),
                prop::sample::select(EDGES.to_vec()),
                prop::sample::select(OpName::ALL.to_vec()),
            ),
            0..3,
        ),
        prop::option::of(text()),
        prop::option::of(filter()),
        prop::option::of(filter()),
    )
        .prop_map(
            |(names, single, action, errno_ret, named_errno, args, comment, includes, excludes)| {
                let (name, names) = if single && names.len() == 1 {
                    (Some(names[0].to_string()), Vec::new())
                } else {
                    (None, names.into_iter().map(str::to_string).collect())
                };
                let errno_ret = errno_ret.filter(|_| action.takes_data());
                let errno = errno_ret
                    .filter(|_| named_errno)
                    .and_then(profile::names::errno_name)
                    .map(str::to_string);
                SyscallEntry {
                    name,
                    names,
                    action,
                    errno_ret,
                    errno,
                    args: args
                        .into_iter()
                        .map(|(index, value, value_two, op)| ArgCond {
                            index,
                            value,
                            value_two,
                            op,
                        })
                        .collect(),
                    comment,
                    includes,
                    excludes,
                }
            },
        )
}

fn any_profile() -> impl Strategy<Value = Profile> {
    (
        prop::sample::select(ActionName::ALL.to_vec()),
        prop::option::of(1u16..200),
        any::<bool>(),
        prop::sample::subsequence(SCMP.to_vec(), 0..3),
        any::<bool>(),
        prop::collection::vec(entry(), 0..6),
        prop::sample::subsequence(FlagName::ALL.to_vec(), 0..3),
        prop::option::of(text()),
        prop::option::of(text()),
    )
        .prop_map(
            |(da, de, named, arches, as_map, syscalls, flags, listener_path, listener_metadata)| {
                let mut p = Profile::new(da);
                p.default_errno_ret = de.filter(|_| da.takes_data());
                p.default_errno = p
                    .default_errno_ret
                    .filter(|_| named)
                    .and_then(profile::names::errno_name)
                    .map(str::to_string);
                let arches: Vec<String> = arches.into_iter().map(str::to_string).collect();
                if as_map && !arches.is_empty() {
                    p.arch_map = vec![ArchMapEntry {
                        architecture: arches[0].clone(),
                        sub_architectures: Some(arches[1..].to_vec()).filter(|v| !v.is_empty()),
                    }];
                } else {
                    p.architectures = arches;
                }
                p.syscalls = syscalls;
                p.flags = flags;
                p.listener_path = listener_path;
                p.listener_metadata = listener_metadata;
                p
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn written_profiles_read_back_equal(p in any_profile()) {
        let text = p.to_json();
        let back = profile::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, p);
    }

    #[test]
    fn written_resolved_profiles_read_back_equal(p in any_profile()) {
        let opts = ResolveOptions::docker(vec![Arch::X86_64], KernelVersion { major: 6, minor: 1 });
        let oci = p.resolve_oci(Arch::X86_64, &opts);
        let back = profile::parse(&oci.to_json()).unwrap();
        prop_assert_eq!(back.select(&profile::Selection { arch: Arch::X86_64, caps: vec![], kernel: opts.kernel }).syscalls.len(), oci.syscalls.len());
        prop_assert_eq!(back.default_action(), p.default_action());
    }

    #[test]
    fn written_policies_decide_the_same(
        default in prop::sample::select(vec![Action::Errno(1), Action::KillProcess, Action::Allow, Action::Errno(38)]),
        rules in prop::collection::vec((
            prop::sample::select(NAMES.to_vec()),
            prop::sample::select(vec![Action::Allow, Action::Log, Action::Errno(13), Action::Trace(2), Action::KillThread]),
            prop::option::of((0u8..6, prop::sample::select(EDGES.to_vec()))),
        ), 0..8),
        probes in prop::collection::vec((prop::sample::select(NAMES.to_vec()), 0usize..6, prop::sample::select(EDGES.to_vec())), 16),
    ) {
        // One action per syscall (what a recorder emits): expressible.
        let mut policy = Policy::init(default).unwrap();
        policy.set_arches(vec![Arch::X86_64]).unwrap();
        policy.set_bad_arch_action(Action::KillThread).unwrap();
        for (name, action, cond) in rules {
            if policy.rules().iter().any(|r| r.syscall == name.into() && r.action != action) {
                continue;
            }
            let mut rule = Rule::new(name, action);
            if let Some((arg, v)) = cond {
                rule = rule.with(Condition::new(arg, CmpOp::Eq(v)));
            }
            policy.rule_add_verbatim(rule);
        }
        let text = profile::write_docker(&policy).unwrap();
        let p = profile::parse(&text).unwrap();
        let mut opts = ResolveOptions::docker(vec![Arch::X86_64], KernelVersion { major: 6, minor: 1 });
        opts.enosys_unknown = false;
        opts.sub_arches = false;
        let (back, _) = p.to_policy(&opts).unwrap();
        for (name, arg, v) in probes {
            let mut args = [0u64; 6];
            args[arg] = v;
            let data = SeccompData { nr: Arch::X86_64.syscall_nr(name).unwrap(), arch: Arch::X86_64.audit(), instruction_pointer: 0, args };
            prop_assert_eq!(back.evaluate(&data), policy.evaluate(&data), "{}", text);
        }
    }
}
