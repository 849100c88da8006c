//! Kernel overhead per syscall of a loaded filter, against no filter, for
//! Docker's default profile compiled by syscage and by libseccomp as runc
//! builds it (`SCMP_FLTATR_CTL_OPTIMIZE` 1: linear, 2: binary tree), side
//! by side in one run: a cacheable syscall (`getppid`), a denied one
//! (`acct`, EPERM by the default action) and an argument-dependent one
//! (`personality(0xffffffff)`).
//!
//! The kernel charges every filter a fixed cost whatever its code (the
//! syscall's slow path, `seccomp_data`, the call into the JIT-compiled
//! program), so the same run measures *floors*: the cheapest filter with
//! each outcome (`return ALLOW`, which the action cache answers;
//! `return ERRNO(1)`; `A = args[0]; return ALLOW`, which the cache cannot
//! answer). A filter's overhead is its floor plus what its own code adds.
//! That own cost is a few nanoseconds, so it is also measured amplified:
//! each filter stacked `K` times (every syscall then runs all `K` copies),
//! own cost per filter = (T(K copies) − T(K floors)) / K.
//!
//! Each configuration runs in its own child (filters cannot be removed),
//! pinned to one CPU; the child times `batch` raw syscalls `batches` times
//! and keeps the best ns per call; configurations are interleaved over
//! rounds (one child each per round), and the best and the median of the
//! children are kept: a child's placement in memory moves all its times
//! by a few ns, so differences of 1–3 ns need the median of many
//! children. Results come back through
//! shared memory, since a denying floor leaves the child no syscall to
//! report or even exit with (it ends with a fault).
//!
//! ```text
//! cargo bench -p syscage-linux --bench kernel_overhead
//! ```
//!
//! Environment: `SYSCAGE_BENCH_ROUNDS` (children per configuration,
//! default 200), `SYSCAGE_BENCH_BATCH` (calls per batch, 2000),
//! `SYSCAGE_BENCH_BATCHES` (batches per child, 6),
//! `SYSCAGE_BENCH_STACK` (K, 16), `SYSCAGE_BENCH_CPU` (default: the last
//! CPU this process may use).

#[path = "../../syscage/tests/runc_bridge/mod.rs"]
mod runc_bridge;

use std::sync::atomic::{AtomicU32, Ordering};
use syscage::arch::Arch;
use syscage::asm;
use syscage::bpf::data::SeccompData;
use syscage::bpf::{ByteOrder, Program};
use syscage::compile::{compile, CompileOptions};
use syscage::profile::{self, ResolveOptions};
use syscage_linux::install::{self, InstallOptions};
use syscage_linux::shared_memory::SharedMemory;

const DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/docker-default-seccomp.json"
);

/// A measured syscall.
struct Case {
    label: &'static str,
    nr: libc::c_long,
    arg0: u64,
}

const GETPPID: usize = 0;
const ACCT: usize = 1;
const PERSONALITY: usize = 2;

/// getppid, acct with an invalid pointer (EFAULT, or EPERM when denied)
/// and personality's query change nothing.
const CASES: [Case; 3] = [
    Case {
        label: "getppid (cached)",
        nr: libc::SYS_getppid,
        arg0: 0,
    },
    Case {
        label: "acct (denied)",
        nr: libc::SYS_acct,
        arg0: 1,
    },
    Case {
        label: "personality (args)",
        nr: libc::SYS_personality,
        arg0: 0xffff_ffff,
    },
];

/// The cheapest filter allowing everything: the action cache answers it.
const FLOOR_CACHED: &str = "return ALLOW\n";
/// The cheapest filter denying `acct` (it denies everything).
const FLOOR_DENIED: &str = "return ERRNO(1)\n";
/// The cheapest denying filter that can be stacked: it lets `seccomp(2)`
/// through for the next copy (3 instructions for `acct`).
const FLOOR_DENIED_STACKABLE: &str =
    "A = sys_number\nif (A != seccomp) goto deny\nreturn ALLOW\ndeny:\nreturn ERRNO(1)\n";
/// The cheapest filter allowing everything that the cache cannot answer:
/// it reads an argument.
const FLOOR_ARGS: &str = "A = args[0]\nreturn ALLOW\n";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn resolve_options() -> ResolveOptions {
    runc_bridge::docker_x86_64_options()
}

/// The programs compared: syscage's and libseccomp's (linear, tree).
fn docker_programs() -> (Program, Program, Program) {
    let text = std::fs::read_to_string(DOCKER).expect("testdata/docker-default-seccomp.json");
    let p = profile::parse(&text).expect("parse");
    let (policy, _) = p.to_policy(&resolve_options()).expect("resolve");
    let ours = compile(&policy, &CompileOptions::default()).expect("compile");
    let oci = p.resolve_oci(Arch::X86_64, &resolve_options());
    let scmp = |level| {
        runc_bridge::export(
            &runc_bridge::runc_context(&oci, Arch::X86_64, Some(level))
                .expect("runc would build it"),
        )
    };
    (ours, scmp(1), scmp(2))
}

fn floor(src: &str) -> Program {
    asm::parse::assemble(src, Arch::X86_64).expect("floor filter assembles")
}

/// One configuration: a filter loaded `stack` times (none: no filter).
struct Config {
    name: String,
    prog: Option<Program>,
    stack: usize,
}

/// What a child leaves in the shared page.
#[repr(C)]
struct Shared {
    ns: [f64; CASES.len()],
    /// 0: running, 1: done, 2: the filter could not be loaded.
    state: AtomicU32,
}

/// Best ns per call of `batches` batches of `batch` calls.
fn time_calls(case: &Case, batch: u32, batches: u32) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..batches {
        let t = std::time::Instant::now();
        for _ in 0..batch {
            // SAFETY: see CASES: none of the calls changes anything.
            unsafe { libc::syscall(case.nr, case.arg0) };
        }
        best = best.min(t.elapsed().as_nanos() as f64 / f64::from(batch));
    }
    best
}

/// Runs one configuration in a child pinned to `cpu`; ns per call per case.
fn measure(config: &Config, cpu: usize, batch: u32, batches: u32) -> [f64; CASES.len()] {
    let raw = config.prog.as_ref().map(install::raw_filter);
    let page = SharedMemory::<Shared>::new().expect("mmap");
    let shared = page.as_ptr();
    // SAFETY: the child only loads filters, times syscalls and ends.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        child(shared, raw.as_deref(), config.stack, cpu, batch, batches);
    }
    let mut status = 0;
    // SAFETY: waits for our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    // SAFETY: the page is ours, zeroed, and the child that wrote it has ended.
    let (state, ns) = unsafe { ((*shared).state.load(Ordering::SeqCst), (*shared).ns) };
    drop(page);
    assert_eq!(
        state, 1,
        "{}: the child did not finish (state {state})",
        config.name
    );
    ns
}

/// The child: no core dumps, pinned, filters loaded, calls timed, results
/// stored, then the quickest exit the filter leaves (a fault when even
/// `exit_group` is denied).
fn child(
    shared: *mut Shared,
    raw: Option<&[libc::sock_filter]>,
    stack: usize,
    cpu: usize,
    batch: u32,
    batches: u32,
) -> ! {
    let nocore = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain setrlimit/sched_setaffinity on ourselves with valid arguments.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &nocore);
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
    if let Some(raw) = raw {
        for i in 0..stack {
            let opts = InstallOptions {
                no_new_privs: i == 0,
                ..InstallOptions::default()
            };
            if install::install_raw(raw, &opts).is_err() {
                // SAFETY: `shared` points at the zeroed shared page.
                unsafe { (*shared).state.store(2, Ordering::SeqCst) };
                // SAFETY: ends the child.
                unsafe { libc::_exit(1) };
            }
        }
    }
    let ns = CASES.each_ref().map(|c| time_calls(c, batch, batches));
    // SAFETY: `shared` points at the shared page; the parent reads it only
    // after this process has ended.
    unsafe {
        (*shared).ns = ns;
        (*shared).state.store(1, Ordering::SeqCst);
    }
    // SAFETY: exit_group, then (when the filter denies it) abort, whose
    // last resort is a faulting instruction.
    unsafe { libc::syscall(libc::SYS_exit_group, 0) };
    std::process::abort()
}

/// The last CPU this process may run on.
fn last_cpu() -> usize {
    // SAFETY: sched_getaffinity fills a zeroed cpu_set_t.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set);
        (0..libc::CPU_SETSIZE as usize)
            .rev()
            .find(|&c| libc::CPU_ISSET(c, &set))
            .unwrap_or(0)
    }
}

/// Filter instructions a program runs for `case` (emulated).
fn steps(prog: &Program, case: &Case) -> usize {
    let d = SeccompData {
        nr: case.nr as u32,
        arch: Arch::X86_64.audit(),
        args: [case.arg0, 0, 0, 0, 0, 0],
        ..Default::default()
    };
    syscage::emu::run(prog, &d, ByteOrder::Little)
        .expect("runs")
        .steps
}

/// Per configuration and case, over interleaved rounds (one child per
/// configuration per round): the best ns per call, and the median of the
/// rounds' bests (a child's placement in memory moves its times by a few
/// ns either way; the median of children is the steadier estimate of a
/// difference, the best the cost without that noise).
fn run_all(
    configs: &[Config],
    rounds: u32,
    cpu: usize,
    batch: u32,
    batches: u32,
) -> (Vec<[f64; 3]>, Vec<[f64; 3]>) {
    let mut all = vec![[const { Vec::new() }; CASES.len()]; configs.len()];
    for _ in 0..rounds {
        for (a, c) in all.iter_mut().zip(configs) {
            for (v, t) in a.iter_mut().zip(measure(c, cpu, batch, batches)) {
                v.push(t);
            }
        }
    }
    let pick = |f: fn(&mut Vec<f64>) -> f64| -> Vec<[f64; 3]> {
        all.iter()
            .map(|a| {
                a.clone().map(|mut v| {
                    v.sort_by(f64::total_cmp);
                    f(&mut v)
                })
            })
            .collect()
    };
    (pick(|v| v[0]), pick(|v| v[v.len() / 2]))
}

/// The "floor + own cost" table for the denied and argument-dependent
/// calls, from times `t` of the single-filter configurations.
fn own_table(t: &[[f64; 3]], floor_of: [usize; 3], estimate: &str) {
    let overhead = |i: usize, j: usize| {
        let base = if j == ACCT { t[0][GETPPID] } else { t[0][j] };
        t[i][j] - base
    };
    println!("Overhead = floor + own cost (ns), {estimate}:");
    println!();
    println!("| call | floor | syscage own | tree own | linear own | syscage / tree, own | syscage / tree, whole | best any filter can do (floor / tree), whole |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for j in [ACCT, PERSONALITY] {
        let f = overhead(floor_of[j], j);
        let own = |i: usize| overhead(i, j) - f;
        // A ratio of overheads means something only when both are costs.
        let ratio = |a: f64, b: f64| {
            if a > 0.0 && b > 0.0 {
                format!("{:.2}", a / b)
            } else {
                "n/a (not both > 0)".to_string()
            }
        };
        println!(
            "| {} | {f:+.1} | {:+.1} | {:+.1} | {:+.1} | {} | {} | {} |",
            CASES[j].label,
            own(4),
            own(5),
            own(6),
            ratio(own(4), own(5)),
            ratio(overhead(4, j), overhead(5, j)),
            ratio(f, overhead(5, j)),
        );
    }
    println!();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds: u32 = env_or("SYSCAGE_BENCH_ROUNDS", 200);
    let batch: u32 = env_or("SYSCAGE_BENCH_BATCH", 2000);
    let batches: u32 = env_or("SYSCAGE_BENCH_BATCHES", 6);
    let k: usize = env_or("SYSCAGE_BENCH_STACK", 16);
    let cpu: usize = env_or("SYSCAGE_BENCH_CPU", last_cpu());
    let (ours, lin, tree) = docker_programs();
    let cfg = |name: &str, prog: Option<&Program>, stack| Config {
        name: name.to_string(),
        prog: prog.cloned(),
        stack,
    };

    // One filter each, as a program loads it.
    let single = [
        cfg("no filter", None, 1),
        cfg(
            "floor: `return ALLOW` (cached)",
            Some(&floor(FLOOR_CACHED)),
            1,
        ),
        cfg("floor: `return ERRNO(1)`", Some(&floor(FLOOR_DENIED)), 1),
        cfg(
            "floor: `A = args[0]; return ALLOW`",
            Some(&floor(FLOOR_ARGS)),
            1,
        ),
        cfg("syscage", Some(&ours), 1),
        cfg("libseccomp, optimize 2 (binary tree)", Some(&tree), 1),
        cfg("libseccomp, optimize 1 (linear)", Some(&lin), 1),
    ];
    // Which floor each case is measured against (index into `single`).
    let floor_of = [1, 2, 3];
    println!(
        "Docker default profile (x86_64 host: x86_64, x86, x32), CPU {cpu}, best of {rounds} rounds x {batches} batches x {batch} calls, ns/call"
    );
    println!("(overhead: against no filter; for the denied acct, against unfiltered getppid, since a denied call does no work)");
    println!();
    let (t, t_median) = run_all(&single, rounds, cpu, batch, batches);
    let overhead = |i: usize, j: usize| {
        let base = if j == ACCT { t[0][GETPPID] } else { t[0][j] };
        t[i][j] - base
    };
    print!("| filter | length |");
    for c in &CASES {
        print!(" {} |", c.label);
    }
    println!();
    println!("|---|---:|{}", "---:|".repeat(CASES.len()));
    for (i, c) in single.iter().enumerate() {
        let len = c.prog.as_ref().map_or("-".into(), |p| p.len().to_string());
        print!("| {} | {len} |", c.name);
        for j in 0..CASES.len() {
            // A floor is shown for the cases it is the floor of (and no filter for all).
            if i == 0 {
                print!(" {:.1} |", t[i][j]);
            } else if (1..=3).contains(&i) && floor_of[j] != i {
                print!(" |");
            } else {
                print!(" {:.1} ({:+.1}) |", t[i][j], overhead(i, j));
            }
        }
        println!();
    }
    println!();
    println!("(own cost = overhead - the floor's overhead)");
    println!();
    own_table(&t, floor_of, "best of the rounds");
    own_table(&t_median, floor_of, "median of the rounds' bests");

    // Stacked: own cost amplified K times.
    let stacked = [
        cfg(
            "floor: denied (stackable)",
            Some(&floor(FLOOR_DENIED_STACKABLE)),
            k,
        ),
        cfg(
            "floor: `A = args[0]; return ALLOW`",
            Some(&floor(FLOOR_ARGS)),
            k,
        ),
        cfg("syscage", Some(&ours), k),
        cfg("libseccomp, optimize 2 (binary tree)", Some(&tree), k),
        cfg("libseccomp, optimize 1 (linear)", Some(&lin), k),
    ];
    let (s, s_median) = run_all(&stacked, rounds, cpu, batch, batches);
    let sfloor = [None, Some(0), Some(1)];
    println!();
    println!("Stacked {k} times: ns/call, and own cost per filter = (T - T(floor)) / {k}:");
    println!();
    println!(
        "| filter x {k} | acct (denied) | own per filter | personality (args) | own per filter |"
    );
    println!("|---|---:|---:|---:|---:|");
    let own_k = |i: usize, j: usize| (s[i][j] - s[sfloor[j].unwrap()][j]) / k as f64;
    for (i, c) in stacked.iter().enumerate() {
        print!("| {} |", c.name);
        for j in [ACCT, PERSONALITY] {
            if i < 2 {
                if sfloor[j] == Some(i) {
                    print!(" {:.1} | floor |", s[i][j]);
                } else {
                    print!(" | |");
                }
            } else {
                print!(" {:.1} | {:+.2} |", s[i][j], own_k(i, j));
            }
        }
        println!();
    }
    println!();
    let own_median =
        |i: usize, j: usize| (s_median[i][j] - s_median[sfloor[j].unwrap()][j]) / k as f64;
    for j in [ACCT, PERSONALITY] {
        println!(
            "{}: syscage's own cost / the tree's = {:.2} (best of the rounds), {:.2} (median)",
            CASES[j].label,
            own_k(2, j) / own_k(3, j),
            own_median(2, j) / own_median(3, j)
        );
    }

    println!();
    println!("Filter instructions run per call (emulator; the kernel's action cache skips the filter for cacheable calls):");
    println!();
    print!("| filter |");
    for c in &CASES {
        print!(" {} |", c.label);
    }
    println!();
    println!("|---|{}", "---:|".repeat(CASES.len()));
    for c in single.iter().skip(1) {
        let p = c.prog.as_ref().expect("a filter");
        print!("| {} |", c.name);
        for case in &CASES {
            print!(" {} |", steps(p, case));
        }
        println!();
    }
}
