//! Policies from allow and deny lists of syscall words, as a user types
//! them (`syscage run --allow read,write`, `--deny 83`).
//!
//! A word is a syscall name some arch of the policy has, or a number. A
//! number means the native arch's syscall, as in libseccomp
//! (`seccomp_rule_add` takes native numbers): it is turned into that
//! syscall's name, which each arch of the policy then maps to its own
//! number (`--deny 83` on x86_64 and i386 denies `mkdir`, 83 on x86_64 and
//! 39 on i386). A number the native arch has no name for is taken as is
//! when the policy covers a single arch, refused otherwise.

use super::{Policy, PolicyError, SyscallId};
use crate::action::Action;
use crate::arch::alternatives::alternatives;
use crate::arch::Arch;

/// Which list a word came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// Syscalls to allow; everything else gets the refusal.
    Allow,
    /// Syscalls to refuse; everything else is allowed.
    Deny,
}

impl std::fmt::Display for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            List::Allow => "allow",
            List::Deny => "deny",
        })
    }
}

/// Why a list could not be added to a policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// No arch of the policy has a syscall of that name.
    #[error("{word}: unknown syscall on {arches}")]
    UnknownName {
        /// The list the word is in.
        list: List,
        /// The word as given.
        word: String,
        /// The policy's arches, comma separated.
        arches: String,
    },
    /// A number the native arch has no name for, in a policy of several
    /// arches: it cannot be translated to the others.
    #[error("{word}: {native} has no syscall {nr}, so the number cannot be translated to the filter's other arches; give a name")]
    UntranslatableNumber {
        /// The list the word is in.
        list: List,
        /// The word as given.
        word: String,
        /// The native arch's name.
        native: &'static str,
        /// The number.
        nr: u32,
    },
    /// The builder refused the rule.
    #[error("{word}: {source}")]
    Rule {
        /// The list the word is in.
        list: List,
        /// The word as given.
        word: String,
        /// What the builder said.
        source: PolicyError,
    },
}

impl ListError {
    /// The list the offending word is in.
    pub fn list(&self) -> List {
        match self {
            ListError::UnknownName { list, .. }
            | ListError::UntranslatableNumber { list, .. }
            | ListError::Rule { list, .. } => *list,
        }
    }
}

/// A denied syscall whose work other syscalls the policy still allows can
/// do ([`alternatives`]): `--deny open` leaves `openat` open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAlternatives {
    /// The word as given in the deny list.
    pub word: String,
    /// The syscall it named.
    pub name: String,
    /// The alternatives the policy still allows, on some of its arches.
    pub open: Vec<&'static str>,
}

/// The default action of a policy built from lists only: the refusal when
/// there is an allow list (what it does not name is refused), allow
/// otherwise.
pub fn default_action(has_allow_list: bool, refusal: Action) -> Action {
    if has_allow_list {
        refusal
    } else {
        Action::Allow
    }
}

/// The syscall a list word names for a policy of `arches` (see the
/// module's documentation).
pub fn syscall_word(list: List, word: &str, arches: &[Arch]) -> Result<SyscallId, ListError> {
    let word = word.trim();
    let number = match word.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => word.parse::<u32>().ok(),
    };
    if let Some(nr) = number {
        let native = Arch::native();
        if let Some(name) = native.syscall_name(nr) {
            return Ok(SyscallId::Name(name.to_string()));
        }
        if arches.len() <= 1 {
            return Ok(SyscallId::Nr(nr));
        }
        return Err(ListError::UntranslatableNumber {
            list,
            word: word.to_string(),
            native: native.name(),
            nr,
        });
    }
    if arches.iter().any(|a| a.syscall_nr(word).is_some()) {
        return Ok(SyscallId::Name(word.to_string()));
    }
    let names: Vec<&str> = arches.iter().map(|a| a.name()).collect();
    Err(ListError::UnknownName {
        list,
        word: word.to_string(),
        arches: names.join(", "),
    })
}

/// Adds an allow rule for each word of `allow` and a `refusal` rule for
/// each word of `deny` (through [`Policy::rule_add`], so multiplexed
/// syscalls are rewritten as libseccomp does). Returns, for the denied
/// syscalls, the alternatives the policy still allows.
pub fn add_lists<S: AsRef<str>>(
    policy: &mut Policy,
    allow: &[S],
    deny: &[S],
    refusal: Action,
) -> Result<Vec<OpenAlternatives>, ListError> {
    let arches: Vec<Arch> = policy.arches().to_vec();
    let rule = |policy: &mut Policy, list, word: &str, action, id| {
        policy
            .rule_add(action, id, &[])
            .map(|_| ())
            .map_err(|source| ListError::Rule {
                list,
                word: word.trim().to_string(),
                source,
            })
    };
    for w in allow {
        let id = syscall_word(List::Allow, w.as_ref(), &arches)?;
        rule(policy, List::Allow, w.as_ref(), Action::Allow, id)?;
    }
    let mut denied = Vec::new();
    for w in deny {
        let id = syscall_word(List::Deny, w.as_ref(), &arches)?;
        if let SyscallId::Name(n) = &id {
            denied.push((w.as_ref().trim().to_string(), n.clone()));
        }
        rule(policy, List::Deny, w.as_ref(), refusal, id)?;
    }
    Ok(denied
        .into_iter()
        .filter_map(|(word, name)| {
            let open: Vec<&'static str> = alternatives(&name)
                .into_iter()
                .filter(|alt| {
                    policy.arches().iter().any(|a| a.syscall_nr(alt).is_some())
                        && still_allowed(policy, alt)
                })
                .collect();
            (!open.is_empty()).then_some(OpenAlternatives { word, name, open })
        })
        .collect())
}

/// Whether the policy lets `name` through: an unconditional allow rule, or
/// no rule for it and an allowing default. Any other rule for it (an
/// action, conditions) counts as handled.
pub fn still_allowed(policy: &Policy, name: &str) -> bool {
    let mut rules = policy
        .rules()
        .iter()
        .filter(|r| matches!(&r.syscall, SyscallId::Name(n) if n == name))
        .peekable();
    if rules.peek().is_none() {
        return policy.default_action() == Action::Allow;
    }
    rules.all(|r| r.action == Action::Allow && r.conditions.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(default: Action, arches: &[Arch]) -> Policy {
        let mut p = Policy::init(default).unwrap();
        p.set_arches(arches.iter().copied()).unwrap();
        p
    }

    #[test]
    fn a_native_number_becomes_its_name_for_every_arch() {
        let id = syscall_word(List::Deny, "83", &[Arch::X86_64, Arch::X86]);
        if Arch::native() == Arch::X86_64 {
            assert_eq!(id.unwrap(), SyscallId::Name("mkdir".to_string()));
        }
        let hex = syscall_word(List::Deny, "0x0", &[Arch::X86_64]).unwrap();
        let name = Arch::native().syscall_name(0).unwrap().to_string();
        assert_eq!(hex, SyscallId::Name(name));
    }

    #[test]
    fn an_unnamed_number_is_kept_for_one_arch_and_refused_for_several() {
        assert_eq!(
            syscall_word(List::Allow, "4000", &[Arch::native()]).unwrap(),
            SyscallId::Nr(4000)
        );
        let e = syscall_word(List::Allow, "4000", &[Arch::X86_64, Arch::Aarch64]).unwrap_err();
        assert!(matches!(
            e,
            ListError::UntranslatableNumber { nr: 4000, .. }
        ));
        assert!(e.to_string().contains("give a name"), "{e}");
    }

    #[test]
    fn an_unknown_name_names_the_arches() {
        let e = syscall_word(List::Allow, "nosuch", &[Arch::X86_64, Arch::X86]).unwrap_err();
        assert_eq!(e.to_string(), "nosuch: unknown syscall on x86_64, x86");
        assert_eq!(e.list(), List::Allow);
    }

    #[test]
    fn deny_lists_report_the_alternatives_left_open() {
        let mut p = policy(Action::Allow, &[Arch::X86_64]);
        let open = add_lists::<&str>(&mut p, &[], &["open"], Action::Errno(1)).unwrap();
        assert_eq!(open.len(), 1);
        assert!(open[0].open.contains(&"openat"), "{open:?}");
        // Denying the alternatives too leaves nothing open.
        let mut p = policy(Action::Allow, &[Arch::X86_64]);
        let open = add_lists::<&str>(
            &mut p,
            &[],
            &["open", "openat", "openat2", "creat", "open_by_handle_at"],
            Action::Errno(1),
        )
        .unwrap();
        assert!(open.iter().all(|o| o.name != "open"), "{open:?}");
    }

    #[test]
    fn an_allow_list_under_a_refusing_default_allows_only_its_words() {
        let refusal = Action::Errno(1);
        let mut p = policy(default_action(true, refusal), &[Arch::X86_64]);
        add_lists(&mut p, &["read", "write"], &[], refusal).unwrap();
        assert!(still_allowed(&p, "read"));
        assert!(!still_allowed(&p, "openat"));
        assert_eq!(default_action(false, refusal), Action::Allow);
    }
}
