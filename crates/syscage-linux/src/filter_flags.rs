//! The flags of `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`
//! (`SECCOMP_FILTER_FLAG_*`, `include/uapi/linux/seccomp.h`), in one typed
//! shape for installing, probing, dumping and the C API.

bitflags::bitflags! {
    /// `SECCOMP_FILTER_FLAG_*`: the flags word of
    /// `seccomp(SECCOMP_SET_MODE_FILTER)`. Bits the kernel may add later are
    /// kept as they are ([`FilterFlags::from_bits_retain`]) when read back
    /// from a process.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct FilterFlags: u32 {
        /// `SECCOMP_FILTER_FLAG_TSYNC`: install on every thread of the process.
        const TSYNC = 1 << 0;
        /// `SECCOMP_FILTER_FLAG_LOG`: log every action but ALLOW.
        const LOG = 1 << 1;
        /// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`: keep speculative store bypass
        /// mitigation off.
        const SPEC_ALLOW = 1 << 2;
        /// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: return a user-notification
        /// listener fd.
        const NEW_LISTENER = 1 << 3;
        /// `SECCOMP_FILTER_FLAG_TSYNC_ESRCH`: a TSYNC failure is `ESRCH`,
        /// not a thread id.
        const TSYNC_ESRCH = 1 << 4;
        /// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`: notified tasks wait
        /// killably once received.
        const WAIT_KILLABLE_RECV = 1 << 5;
    }
}

impl FilterFlags {
    /// The flags word as `seccomp(2)` takes it (`unsigned int`, passed as
    /// a syscall argument).
    pub fn word(self) -> libc::c_ulong {
        libc::c_ulong::from(self.bits())
    }

    /// Each known flag that is set, with its kernel name
    /// (`SECCOMP_FILTER_FLAG_TSYNC`, ...), lowest bit first.
    pub fn kernel_names(self) -> impl Iterator<Item = (&'static str, FilterFlags)> {
        KERNEL_NAMES
            .iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|&(flag, name)| (name, flag))
    }

    /// The names of the set flags as `syscage dump` prints them (`TSYNC`,
    /// ...), lowest bit first, then unknown bits as one hex number.
    pub fn short_names(self) -> Vec<String> {
        let mut names: Vec<String> = self.iter_names().map(|(n, _)| n.to_string()).collect();
        let rest = self.bits() & !FilterFlags::all().bits();
        if rest != 0 {
            names.push(format!("{rest:#x}"));
        }
        names
    }
}

/// The kernel's name of each flag, lowest bit first.
const KERNEL_NAMES: [(FilterFlags, &str); 6] = [
    (FilterFlags::TSYNC, "SECCOMP_FILTER_FLAG_TSYNC"),
    (FilterFlags::LOG, "SECCOMP_FILTER_FLAG_LOG"),
    (FilterFlags::SPEC_ALLOW, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
    (
        FilterFlags::NEW_LISTENER,
        "SECCOMP_FILTER_FLAG_NEW_LISTENER",
    ),
    (FilterFlags::TSYNC_ESRCH, "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"),
    (
        FilterFlags::WAIT_KILLABLE_RECV,
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The bits are the uapi header's (as libc spells them).
    #[test]
    fn bits_are_the_kernels() {
        let pairs = [
            (FilterFlags::TSYNC, libc::SECCOMP_FILTER_FLAG_TSYNC),
            (FilterFlags::LOG, libc::SECCOMP_FILTER_FLAG_LOG),
            (
                FilterFlags::SPEC_ALLOW,
                libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            ),
            (
                FilterFlags::NEW_LISTENER,
                libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            ),
            (
                FilterFlags::TSYNC_ESRCH,
                libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
            ),
            (
                FilterFlags::WAIT_KILLABLE_RECV,
                libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
            ),
        ];
        for (flag, bit) in pairs {
            assert_eq!(flag.word(), bit);
        }
    }

    /// Every flag has its kernel name, which is the short one prefixed.
    #[test]
    fn every_flag_has_its_kernel_name() {
        let named = KERNEL_NAMES
            .iter()
            .fold(FilterFlags::empty(), |all, (flag, _)| all | *flag);
        assert_eq!(named, FilterFlags::all());
        for (short, flag) in FilterFlags::all().iter_names() {
            let long: Vec<_> = flag.kernel_names().map(|(n, _)| n).collect();
            assert_eq!(long, [format!("SECCOMP_FILTER_FLAG_{short}")]);
        }
    }

    #[test]
    fn names_in_both_spellings() {
        let f = FilterFlags::from_bits_retain(1 | 8 | 0x100);
        assert_eq!(f.short_names(), ["TSYNC", "NEW_LISTENER", "0x100"]);
        let long: Vec<_> = f.kernel_names().map(|(n, _)| n).collect();
        assert_eq!(
            long,
            [
                "SECCOMP_FILTER_FLAG_TSYNC",
                "SECCOMP_FILTER_FLAG_NEW_LISTENER"
            ]
        );
    }
}
