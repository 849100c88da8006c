//! The optimizing compiler: [`crate::policy::Policy`] to [`crate::bpf::Program`].
