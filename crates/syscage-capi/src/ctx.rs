//! The filter context (`scmp_filter_ctx`, libseccomp's `db_filter_col`):
//! default and bad-arch actions, attributes, and one [`ArchDb`] per arch.
//! Every function returns libseccomp's negative errno on refusal.

use crate::db::{libseccomp_conditions, ArchDb};
use crate::tokens::{action_of, cmp_of, syscall_of, ApiSyscall};
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::policy::{multiplex, Attributes, Condition, Policy, Rule, SyscallId};

/// `struct scmp_arg_cmp` (layout checked against `seccomp.h` by a test).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScmpArgCmp {
    /// Argument number, 0 to 5.
    pub arg: libc::c_uint,
    /// `enum scmp_compare`.
    pub op: libc::c_uint,
    /// Datum (the mask for `SCMP_CMP_MASKED_EQ`).
    pub datum_a: u64,
    /// Second datum (the value for `SCMP_CMP_MASKED_EQ`).
    pub datum_b: u64,
}

/// libseccomp's `ARG_COUNT_MAX`.
pub const ARG_COUNT_MAX: usize = 6;

/// A filter context.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// `SCMP_FLTATR_ACT_DEFAULT`.
    pub default: Action,
    /// `SCMP_FLTATR_ACT_BADARCH`.
    pub bad_arch: Action,
    /// The other attributes (NNP, TSYNC, LOG, SSB, optimize, API_TSKIP,
    /// API_SYSRAWRC, WAITKILL).
    pub attrs: Attributes,
    /// One filter per arch, in the order they were added.
    pub filters: Vec<ArchDb>,
    /// Whether a rule uses `SCMP_ACT_NOTIFY` (load asks for a listener).
    pub notify_used: bool,
    /// `seccomp_syscall_priority` hints (native numbers).
    pub priorities: Vec<(i32, u8)>,
}

/// `-errno`.
pub type Errno = i32;

impl Ctx {
    /// `seccomp_init`: the native arch, no rule.
    pub fn new(default: Action) -> Self {
        Ctx {
            default,
            bad_arch: Action::KillThread,
            attrs: Attributes::default(),
            filters: vec![ArchDb::new(Arch::native())],
            notify_used: false,
            priorities: Vec::new(),
        }
    }

    /// `db_col_valid`: a context needs at least one arch.
    pub fn valid(&self) -> bool {
        !self.filters.is_empty()
    }

    /// Whether `arch` has a filter.
    pub fn has_arch(&self, arch: Arch) -> bool {
        self.filters.iter().any(|f| f.arch == arch)
    }

    /// `seccomp_arch_add`.
    pub fn arch_add(&mut self, arch: Arch) -> Result<(), Errno> {
        if self.has_arch(arch) {
            return Err(-libc::EEXIST);
        }
        if let Some(f) = self.filters.first() {
            if f.arch.byte_order() != arch.byte_order() {
                return Err(-libc::EDOM);
            }
        }
        self.filters.push(ArchDb::new(arch));
        Ok(())
    }

    /// `seccomp_arch_remove`.
    pub fn arch_remove(&mut self, arch: Arch) -> Result<(), Errno> {
        if !self.has_arch(arch) {
            return Err(-libc::EEXIST);
        }
        self.filters.retain(|f| f.arch != arch);
        Ok(())
    }

    /// `seccomp_merge(self, src)`.
    pub fn merge(&mut self, src: Ctx) -> Result<(), Errno> {
        if self.default != src.default
            || self.attrs.no_new_privs != src.attrs.no_new_privs
            || self.attrs.tsync != src.attrs.tsync
        {
            return Err(-libc::EINVAL);
        }
        if let (Some(a), Some(b)) = (self.filters.first(), src.filters.first()) {
            if a.arch.byte_order() != b.arch.byte_order() {
                return Err(-libc::EDOM);
            }
        }
        if src.filters.iter().any(|f| self.has_arch(f.arch)) {
            return Err(-libc::EEXIST);
        }
        self.filters.extend(src.filters);
        self.notify_used |= src.notify_used;
        Ok(())
    }

    /// Checks an action as `db_col_action_valid` does.
    pub fn action(&self, value: u32) -> Result<Action, Errno> {
        action_of(value).ok_or(-libc::EINVAL)
    }

    /// `seccomp_rule_add_array` (`strict`: `_exact_array`).
    pub fn rule_add(
        &mut self,
        action: u32,
        syscall: i32,
        args: &[ScmpArgCmp],
        strict: bool,
    ) -> Result<(), Errno> {
        if args.len() > ARG_COUNT_MAX {
            return Err(-libc::EINVAL);
        }
        if !self.valid()
            || ((-99..=-1).contains(&syscall) && !(syscall == -1 && self.attrs.api_tskip))
        {
            return Err(-libc::EINVAL);
        }
        let action = self.action(action)?;
        if action == self.default {
            return Err(-libc::EACCES);
        }
        if strict && self.filters.len() > 1 {
            return Err(-libc::EOPNOTSUPP);
        }
        let mut conds: Vec<Condition> = Vec::with_capacity(args.len());
        for a in args {
            let op = cmp_of(a.op, a.datum_a, a.datum_b).ok_or(-libc::EINVAL)?;
            if a.arg as usize >= ARG_COUNT_MAX || conds.iter().any(|c| u32::from(c.arg) == a.arg) {
                return Err(-libc::EINVAL);
            }
            conds.push(Condition::new(a.arg as u8, op));
        }
        let which = syscall_of(syscall).ok_or(-libc::EINVAL)?;
        // A transaction, as libseccomp's: all arches or none.
        let saved = self.filters.clone();
        for i in 0..self.filters.len() {
            if let Err(e) = self.add_on(i, &which, &conds, action, strict) {
                self.filters = saved;
                return Err(e);
            }
        }
        if action == Action::UserNotif {
            self.notify_used = true;
        }
        Ok(())
    }

    /// Adds a rule to filter `i`, translating the syscall to its arch and
    /// rewriting multiplexed syscalls on x86 (`abi_rule_add`).
    fn add_on(
        &mut self,
        i: usize,
        which: &ApiSyscall,
        conds: &[Condition],
        action: Action,
        strict: bool,
    ) -> Result<(), Errno> {
        let db = &mut self.filters[i];
        let arch = db.arch;
        let conflict = |_| -libc::EEXIST;
        let name = match which {
            ApiSyscall::Skip => {
                return db
                    .add(u32::MAX, libseccomp_conditions(conds, arch), action)
                    .map_err(conflict);
            }
            ApiSyscall::Number(nr) => {
                if arch != Arch::native() {
                    return Err(-libc::EFAULT);
                }
                return db
                    .add(*nr, libseccomp_conditions(conds, arch), action)
                    .map_err(conflict);
            }
            ApiSyscall::Name(n) => *n,
        };
        let direct = arch.syscall_nr(name);
        let muxed = multiplex::multiplexed_conditions(name, conds)
            .filter(|_| multiplex::multiplexes(arch))
            .and_then(|(m, c)| Some((arch.syscall_nr(m)?, c)));
        if let Some((mux_nr, mux_conds)) = muxed {
            if strict && !conds.is_empty() {
                return Err(-libc::EINVAL);
            }
            db.add(mux_nr, libseccomp_conditions(&mux_conds, arch), action)
                .map_err(conflict)?;
        } else if direct.is_none() {
            // Not on this arch: libseccomp skips it unless asked to be exact.
            return if strict { Err(-libc::EDOM) } else { Ok(()) };
        }
        if let Some(nr) = direct {
            db.add(nr, libseccomp_conditions(conds, arch), action)
                .map_err(conflict)?;
        }
        Ok(())
    }

    /// The policy this context stands for: its arches, actions,
    /// attributes, and each arch's rules restricted to that arch.
    pub fn policy(&self) -> Policy {
        // The actions passed `tokens::action`'s libseccomp checks (errno
        // below 4095) and the arches are distinct, so the builder agrees.
        let mut p = Policy::init(self.default).expect("a checked default action");
        p.set_bad_arch_action(self.bad_arch)
            .expect("a checked bad-arch action")
            .set_arches(self.filters.iter().map(|f| f.arch))
            .expect("one filter per arch")
            .set_attributes(self.attrs)
            .expect("checked attributes");
        for f in &self.filters {
            for (&nr, entry) in &f.rules {
                match entry {
                    crate::db::Entry::Unconditional(a) => {
                        p.rule_add_verbatim(Rule::new(SyscallId::Nr(nr), *a).on_arch(f.arch));
                    }
                    crate::db::Entry::Chains(chains) => {
                        for (conds, a) in chains {
                            let mut r = Rule::new(SyscallId::Nr(nr), *a).on_arch(f.arch);
                            r.conditions = conds.clone();
                            p.rule_add_verbatim(r);
                        }
                    }
                }
            }
        }
        for &(nr, prio) in &self.priorities {
            if let Some(ApiSyscall::Name(n)) = syscall_of(nr) {
                p.syscall_priority(SyscallId::Name(n.to_string()), prio);
            }
        }
        p
    }
}
