//! Holds a program on the raw tracepoint `sys_enter` while a benchmark
//! runs (`tools/sys-enter-cost.sh`): `empty` (a program that returns at
//! once: what the tracepoint itself costs) or `counter` (syscage's
//! syscall counter). Prints `ready` once attached, then sleeps SECONDS.
//!
//! `cargo run --release -p syscage-linux --example sys_enter_hold -- empty|counter SECONDS`
//! (as root).

use syscage_linux::syscall_counter::insn::{Program, Reg};
use syscage_linux::syscall_counter::{bpf_sys, SyscallCounter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(secs)) = (args.next(), args.next()) else {
        eprintln!("usage: sys_enter_hold empty|counter SECONDS");
        std::process::exit(2);
    };
    let secs: u64 = secs.parse()?;
    let hold = || {
        println!("ready");
        std::thread::sleep(std::time::Duration::from_secs(secs));
    };
    match mode.as_str() {
        "empty" => {
            let mut p = Program::new();
            p.mov_imm(Reg::R0, 0).exit();
            let insns = p.finish().map_err(|l| format!("unplaced label {}", l.0))?;
            let prog = bpf_sys::prog_load(bpf_sys::PROG_TYPE_RAW_TRACEPOINT, &insns, "GPL")?;
            let _link = bpf_sys::raw_tracepoint_open("sys_enter", &prog)?;
            hold();
        }
        "counter" => {
            let _counter = SyscallCounter::start()?;
            hold();
        }
        other => {
            eprintln!("sys_enter_hold: {other}: expected empty or counter");
            std::process::exit(2);
        }
    }
    Ok(())
}
