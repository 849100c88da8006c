//! Compiles the Docker default profile (x86_64 host, kernel 6.18, no ENOSYS
//! stub: the compile benchmark's policy) `N` times, for instruction-count
//! profiling of "JSON text to filter bytes" under callgrind:
//!
//! ```text
//! cargo build --release -p syscage --example compile_docker
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//!     target/release/examples/compile_docker 10
//! callgrind_annotate --inclusive=yes /tmp/cg.out | head -40
//! ```

use syscage::arch::Arch;
use syscage::bpf::ByteOrder;
use syscage::compile::{compile, CompileOptions};
use syscage::profile::{self, KernelVersion, ResolveOptions};

const DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/docker-default-seccomp.json"
);

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let text = std::fs::read_to_string(DOCKER).expect("docker-default-seccomp.json");
    let mut opts = ResolveOptions::docker(
        vec![Arch::X86_64],
        KernelVersion {
            major: 6,
            minor: 18,
        },
    );
    opts.enosys_unknown = false;
    let mut total = 0;
    for _ in 0..n {
        let p = profile::parse(&text).expect("parses");
        let (policy, _) = p.to_policy(&opts).expect("translates");
        let prog = compile(&policy, &CompileOptions::default()).expect("compiles");
        total += prog.to_bytes(ByteOrder::Little).len();
    }
    println!("{total} bytes");
}
