//! The counting program, attached to the raw tracepoint `sys_enter` (its
//! context: `args[0]` the caller's `struct pt_regs *`, `args[1]` the
//! syscall number).
//!
//! For a calling task whose `seccomp.mode` is `SECCOMP_MODE_FILTER` (2),
//! it adds one to the counts map at the key [`KEY_SIZE`] bytes long:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..8 | cgroup id (`bpf_get_current_cgroup_id`, the cgroup v2 directory's inode) |
//! | 8..12 | thread group id (the process, as audit's `pid=`) |
//! | 12..16 | `task_struct.self_exec_id`, low 32 bits (one more after each `execve`) |
//! | 16..20 | syscall number as the kernel got it (x32's with bit 30) |
//! | 20..24 | non-zero for an i386 compat call (`thread_info.status & TS_COMPAT`) |
//!
//! The value: the number of calls (8 bytes), and when the key was first
//! counted (`bpf_ktime_get_ns`, 8 bytes), which orders the processes.
//!
//! A key that cannot be inserted (the map is full) adds one to the lost
//! map instead, so a reader knows the counts are incomplete.

use super::insn::{Cmp, Insn, Label, Program, Reg, Size};
use super::CounterError;

/// The counts map's key size.
pub const KEY_SIZE: usize = 24;
/// The counts map's value size: calls, first counted (ns since boot).
pub const VALUE_SIZE: usize = 16;

/// How the program reads the calling task's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskAccess {
    /// Direct loads from `bpf_get_current_task_btf()`'s pointer, which the
    /// verifier checks against the kernel's BTF (a load each).
    Btf,
    /// `bpf_probe_read_kernel` from `bpf_get_current_task()` (a helper
    /// call each, about 0.1 µs here): where the verifier refuses the first.
    ProbeRead,
}

/// Where the program reads the calling task's fields: byte offsets in
/// `struct task_struct`, from the kernel's BTF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskOffsets {
    /// `seccomp.mode`.
    pub seccomp_mode: u32,
    /// `self_exec_id` (its low 32 bits are read: little-endian hosts only).
    pub self_exec_id: u32,
    /// `thread_info.status` (x86: `TS_COMPAT` marks an i386 syscall).
    pub thread_status: u32,
}

// Kernel helpers (uapi linux/bpf.h, `enum bpf_func_id`).
const MAP_LOOKUP_ELEM: i32 = 1;
const MAP_UPDATE_ELEM: i32 = 2;
const KTIME_GET_NS: i32 = 5;
const GET_CURRENT_PID_TGID: i32 = 14;
const GET_CURRENT_TASK: i32 = 35;
const GET_CURRENT_CGROUP_ID: i32 = 80;
const GET_CURRENT_TASK_BTF: i32 = 158;
const PROBE_READ_KERNEL: i32 = 113;

const SECCOMP_MODE_FILTER: i32 = 2;
const TS_COMPAT: i32 = 0x0002;
const BPF_NOEXIST: i32 = 1;

// Stack slots (below the frame pointer).
const KEY: i16 = -32;
const VALUE: i16 = -48;
const SCRATCH: i16 = -56;
const LOST_KEY: i16 = -60;

fn offset(v: u32) -> Result<i32, CounterError> {
    i32::try_from(v).map_err(|_| CounterError::Btf(format!("offset {v} out of range")))
}

/// 4 bytes of the task (`r7`) at `src` to the stack at `fp + dst`.
fn read_task_word(
    p: &mut Program,
    access: TaskAccess,
    dst: i16,
    src: i32,
) -> Result<(), CounterError> {
    match access {
        TaskAccess::ProbeRead => {
            p.mov_reg(Reg::R1, Reg::FP)
                .add_imm(Reg::R1, i32::from(dst))
                .mov_imm(Reg::R2, 4)
                .mov_reg(Reg::R3, Reg::R7)
                .add_imm(Reg::R3, src)
                .call(PROBE_READ_KERNEL);
        }
        TaskAccess::Btf => {
            let src = i16::try_from(src)
                .map_err(|_| CounterError::Btf(format!("offset {src} out of range")))?;
            p.load(Size::Word, Reg::R1, Reg::R7, src)
                .store(Size::Word, Reg::FP, dst, Reg::R1);
        }
    }
    Ok(())
}

/// `r0 = lookup(map, fp + key); if !r0 goto absent; *(u64 *)r0 += 1`.
fn add_one_at(p: &mut Program, map_fd: i32, key: i16, absent: Label) {
    p.ld_map_fd(Reg::R1, map_fd)
        .mov_reg(Reg::R2, Reg::FP)
        .add_imm(Reg::R2, i32::from(key))
        .call(MAP_LOOKUP_ELEM)
        .jump_imm(Cmp::Eq, Reg::R0, 0, absent)
        .mov_imm(Reg::R1, 1)
        .atomic_add64(Reg::R0, 0, Reg::R1);
}

/// The program, with the maps' fds and the task's field offsets.
pub fn counting_program(
    counts_fd: i32,
    lost_fd: i32,
    at: TaskOffsets,
    access: TaskAccess,
) -> Result<Vec<Insn>, CounterError> {
    let (mode, exec_id, status) = (
        offset(at.seccomp_mode)?,
        offset(at.self_exec_id)?,
        offset(at.thread_status)?,
    );
    let mut p = Program::new();
    let out = p.new_label();
    let insert = p.new_label();
    let lost = p.new_label();
    p.mov_reg(Reg::R6, Reg::R1)
        .call(match access {
            TaskAccess::Btf => GET_CURRENT_TASK_BTF,
            TaskAccess::ProbeRead => GET_CURRENT_TASK,
        })
        .mov_reg(Reg::R7, Reg::R0)
        .store_imm(Size::Double, Reg::FP, SCRATCH, 0);
    read_task_word(&mut p, access, SCRATCH, mode)?;
    p.load(Size::Word, Reg::R1, Reg::FP, SCRATCH).jump_imm(
        Cmp::Ne,
        Reg::R1,
        SECCOMP_MODE_FILTER,
        out,
    );
    // The key.
    p.store_imm(Size::Double, Reg::FP, KEY, 0)
        .store_imm(Size::Double, Reg::FP, KEY + 8, 0)
        .store_imm(Size::Double, Reg::FP, KEY + 16, 0)
        .load(Size::Double, Reg::R1, Reg::R6, 8)
        .store(Size::Word, Reg::FP, KEY + 16, Reg::R1)
        .call(GET_CURRENT_CGROUP_ID)
        .store(Size::Double, Reg::FP, KEY, Reg::R0)
        .call(GET_CURRENT_PID_TGID)
        .rsh_imm(Reg::R0, 32)
        .store(Size::Word, Reg::FP, KEY + 8, Reg::R0);
    read_task_word(&mut p, access, KEY + 12, exec_id)?;
    read_task_word(&mut p, access, KEY + 20, status)?;
    p.load(Size::Word, Reg::R1, Reg::FP, KEY + 20)
        .and_imm(Reg::R1, TS_COMPAT)
        .store(Size::Word, Reg::FP, KEY + 20, Reg::R1);
    // counts[key] += 1, inserting 1 if absent.
    add_one_at(&mut p, counts_fd, KEY, insert);
    p.jump(out);
    p.label(insert);
    p.store_imm(Size::Double, Reg::FP, VALUE, 1)
        .call(KTIME_GET_NS)
        .store(Size::Double, Reg::FP, VALUE + 8, Reg::R0)
        .ld_map_fd(Reg::R1, counts_fd)
        .mov_reg(Reg::R2, Reg::FP)
        .add_imm(Reg::R2, i32::from(KEY))
        .mov_reg(Reg::R3, Reg::FP)
        .add_imm(Reg::R3, i32::from(VALUE))
        .mov_imm(Reg::R4, BPF_NOEXIST)
        .call(MAP_UPDATE_ELEM)
        .jump_imm(Cmp::Eq, Reg::R0, 0, out);
    // Another CPU inserted it meanwhile, or the map is full.
    add_one_at(&mut p, counts_fd, KEY, lost);
    p.jump(out);
    p.label(lost);
    p.store_imm(Size::Word, Reg::FP, LOST_KEY, 0);
    add_one_at(&mut p, lost_fd, LOST_KEY, out);
    p.label(out);
    p.mov_imm(Reg::R0, 0).exit();
    Ok(p.finish()?)
}
