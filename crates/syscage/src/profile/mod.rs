//! Docker / OCI seccomp JSON profiles: parse, resolve, write.
