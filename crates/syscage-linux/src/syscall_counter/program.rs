//! The counting program, attached to the raw tracepoint `sys_enter` (its
//! context: `args[0]` the caller's `struct pt_regs *`, `args[1]` the
//! syscall number).
//!
//! For a calling task whose `seccomp.mode` is `SECCOMP_MODE_FILTER` (2),
//! it counts one call at the key [`KEY_SIZE`] bytes long:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..8 | cgroup id (the cgroup v2 directory's inode, as `bpf_get_current_cgroup_id`) |
//! | 8..12 | thread group id (the process, as audit's `pid=`) |
//! | 12..16 | `task_struct.self_exec_id`, low 32 bits (one more after each `execve`) |
//! | 16..20 | syscall number as the kernel got it (x32's with bit 30) |
//! | 20..24 | non-zero for an i386 compat call (`thread_info.status & TS_COMPAT`) |
//!
//! # The slots: a per-CPU cache in front of the counts map
//!
//! A hash map lookup on every call (hashing the 24-byte key) was half
//! the counter's cost. So each CPU has [`SLOTS`] slots (a
//! `BPF_MAP_TYPE_PERCPU_ARRAY`), one per syscall number modulo 256 and
//! compat bit. A slot holds a key, the calls counted there since it took
//! the key ("pending"), and when it took it:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..24 | the key |
//! | 24..32 | pending calls |
//! | 32..40 | when the slot took the key (`bpf_ktime_get_ns`) |
//!
//! A call whose key is the slot's adds one to the pending calls: no
//! hashing, no atomic operation (a program runs with preemption off and
//! never twice at once on one CPU: the kernel skips a nested run). A call
//! with another key flushes the slot into the counts map (adds its
//! pending calls; inserts them, with when the slot took the key, if the
//! key is new there; keeps the earlier of the two times) and takes the
//! key. The reader adds what the slots still hold
//! ([`super::merge_pending`]).
//!
//! The counts map's value: the number of calls (8 bytes), and when the
//! key was first counted (8 bytes), which orders the processes.
//!
//! Calls that cannot be inserted (the map is full) are added to the lost
//! map instead, so a reader knows the counts are incomplete.

use super::insn::{Cmp, Insn, Label, Program, Reg, Size};
use super::CounterError;

/// The counts map's key size.
pub const KEY_SIZE: usize = 24;
/// The counts map's value size: calls, first counted (ns since boot).
pub const VALUE_SIZE: usize = 16;
/// A slot's size: a key, then a value as in the counts map.
pub const SLOT_SIZE: usize = KEY_SIZE + VALUE_SIZE;
/// Slots per CPU: syscall numbers modulo 256, twice (native, compat).
pub const SLOTS: u32 = 512;

/// How the program reads the calling task's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskAccess {
    /// Direct loads from `bpf_get_current_task_btf()`'s pointer, which the
    /// verifier checks against the kernel's BTF (a load each; the cgroup
    /// id through `task->cgroups->dfl_cgrp->kn->id`).
    Btf,
    /// `bpf_probe_read_kernel` from `bpf_get_current_task()`, and the
    /// helpers for the cgroup id and the thread group id (a helper call
    /// each): where the verifier refuses the first.
    ProbeRead,
}

/// Where the program reads the calling task's fields: byte offsets, from
/// the kernel's BTF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskOffsets {
    /// `task_struct.seccomp.mode`.
    pub seccomp_mode: u32,
    /// `task_struct.self_exec_id` (its low 32 bits are read: little-endian
    /// hosts only).
    pub self_exec_id: u32,
    /// `task_struct.thread_info.status` (x86: `TS_COMPAT` marks an i386
    /// syscall).
    pub thread_status: u32,
    /// `task_struct.tgid`.
    pub tgid: u32,
    /// `task_struct.cgroups` (a `struct css_set *`).
    pub cgroups: u32,
    /// `css_set.dfl_cgrp` (the task's cgroup v2 `struct cgroup *`).
    pub dfl_cgrp: u32,
    /// `cgroup.kn` (its `struct kernfs_node *`).
    pub cgroup_kn: u32,
    /// `kernfs_node.id` (the cgroup id).
    pub kn_id: u32,
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
const SCRATCH: i16 = -40;
const INDEX: i16 = -44;
const LOST_KEY: i16 = -48;

// Fields of a slot.
const PENDING: i16 = KEY_SIZE as i16;
const TAKEN_NS: i16 = PENDING + 8;

fn offset(v: u32) -> Result<i16, CounterError> {
    i16::try_from(v).map_err(|_| CounterError::Btf(format!("offset {v} out of range")))
}

/// `size` bytes of the task (`r7`) at `src` to `dst` (`r1` is clobbered;
/// with [`TaskAccess::ProbeRead`] also `r2`..`r5` and `r0`).
fn read_task(p: &mut Program, access: TaskAccess, size: Size, dst: i16, src: i16) {
    match access {
        TaskAccess::ProbeRead => {
            p.mov_reg(Reg::R1, Reg::FP)
                .add_imm(Reg::R1, i32::from(dst))
                .mov_imm(
                    Reg::R2,
                    match size {
                        Size::Word => 4,
                        Size::Double => 8,
                    },
                )
                .mov_reg(Reg::R3, Reg::R7)
                .add_imm(Reg::R3, i32::from(src))
                .call(PROBE_READ_KERNEL);
        }
        TaskAccess::Btf => {
            p.load(size, Reg::R1, Reg::R7, src)
                .store(size, Reg::FP, dst, Reg::R1);
        }
    }
}

/// The key of the call to the stack at [`KEY`], the task in `r7`.
fn build_key(p: &mut Program, at: &TaskOffsets, access: TaskAccess) -> Result<(), CounterError> {
    p.store_imm(Size::Double, Reg::FP, KEY, 0)
        .store_imm(Size::Double, Reg::FP, KEY + 8, 0)
        .store_imm(Size::Double, Reg::FP, KEY + 16, 0)
        .load(Size::Double, Reg::R1, Reg::R6, 8)
        .store(Size::Word, Reg::FP, KEY + 16, Reg::R1);
    match access {
        TaskAccess::Btf => {
            // task->cgroups->dfl_cgrp->kn->id, and task->tgid.
            p.load(Size::Double, Reg::R1, Reg::R7, offset(at.cgroups)?)
                .load(Size::Double, Reg::R1, Reg::R1, offset(at.dfl_cgrp)?)
                .load(Size::Double, Reg::R1, Reg::R1, offset(at.cgroup_kn)?)
                .load(Size::Double, Reg::R1, Reg::R1, offset(at.kn_id)?)
                .store(Size::Double, Reg::FP, KEY, Reg::R1)
                .load(Size::Word, Reg::R1, Reg::R7, offset(at.tgid)?)
                .store(Size::Word, Reg::FP, KEY + 8, Reg::R1);
        }
        TaskAccess::ProbeRead => {
            p.call(GET_CURRENT_CGROUP_ID)
                .store(Size::Double, Reg::FP, KEY, Reg::R0)
                .call(GET_CURRENT_PID_TGID)
                .rsh_imm(Reg::R0, 32)
                .store(Size::Word, Reg::FP, KEY + 8, Reg::R0);
        }
    }
    read_task(p, access, Size::Word, KEY + 12, offset(at.self_exec_id)?);
    read_task(p, access, Size::Word, KEY + 20, offset(at.thread_status)?);
    p.load(Size::Word, Reg::R1, Reg::FP, KEY + 20)
        .and_imm(Reg::R1, TS_COMPAT)
        .store(Size::Word, Reg::FP, KEY + 20, Reg::R1);
    Ok(())
}

/// `r0 = lookup(map, key_reg + key_off)`, `r0` null: goto `absent`.
fn lookup(p: &mut Program, map_fd: i32, key_reg: Reg, key_off: i16, absent: Label) {
    p.ld_map_fd(Reg::R1, map_fd)
        .mov_reg(Reg::R2, key_reg)
        .add_imm(Reg::R2, i32::from(key_off))
        .call(MAP_LOOKUP_ELEM)
        .jump_imm(Cmp::Eq, Reg::R0, 0, absent);
}

/// The slot in `r8` into the counts map: its pending calls added (its
/// time kept if earlier), or inserted; into the lost map if neither.
fn flush_slot(p: &mut Program, counts_fd: i32, lost_fd: i32, done: Label) {
    let insert = p.new_label();
    let raced = p.new_label();
    let lost = p.new_label();
    let add = p.new_label();
    lookup(p, counts_fd, Reg::R8, 0, insert);
    p.label(add);
    p.load(Size::Double, Reg::R1, Reg::R8, PENDING)
        .atomic_add64(Reg::R0, 0, Reg::R1)
        .load(Size::Double, Reg::R1, Reg::R8, TAKEN_NS)
        .load(Size::Double, Reg::R2, Reg::R0, 8)
        .jump_reg(Cmp::Ge, Reg::R1, Reg::R2, done)
        .store(Size::Double, Reg::R0, 8, Reg::R1)
        .jump(done);
    p.label(insert);
    p.ld_map_fd(Reg::R1, counts_fd)
        .mov_reg(Reg::R2, Reg::R8)
        .mov_reg(Reg::R3, Reg::R8)
        .add_imm(Reg::R3, i32::from(PENDING))
        .mov_imm(Reg::R4, BPF_NOEXIST)
        .call(MAP_UPDATE_ELEM)
        .jump_imm(Cmp::Eq, Reg::R0, 0, done);
    // Another CPU inserted it meanwhile, or the map is full.
    p.label(raced);
    lookup(p, counts_fd, Reg::R8, 0, lost);
    p.jump(add);
    p.label(lost);
    p.store_imm(Size::Word, Reg::FP, LOST_KEY, 0);
    lookup(p, lost_fd, Reg::FP, LOST_KEY, done);
    p.load(Size::Double, Reg::R1, Reg::R8, PENDING)
        .atomic_add64(Reg::R0, 0, Reg::R1);
}

/// The maps the program uses, by fd.
#[derive(Clone, Copy, Debug)]
pub struct MapFds {
    /// The counts (hash: key → calls, first counted).
    pub counts: i32,
    /// The per-CPU slots.
    pub slots: i32,
    /// The lost calls (an array of one `u64`).
    pub lost: i32,
}

/// The program, with the maps' fds and the task's field offsets.
pub fn counting_program(
    maps: MapFds,
    at: TaskOffsets,
    access: TaskAccess,
) -> Result<Vec<Insn>, CounterError> {
    let mut p = Program::new();
    let out = p.new_label();
    let miss = p.new_label();
    let take = p.new_label();
    p.mov_reg(Reg::R6, Reg::R1)
        .call(match access {
            TaskAccess::Btf => GET_CURRENT_TASK_BTF,
            TaskAccess::ProbeRead => GET_CURRENT_TASK,
        })
        .mov_reg(Reg::R7, Reg::R0)
        .store_imm(Size::Double, Reg::FP, SCRATCH, 0);
    read_task(
        &mut p,
        access,
        Size::Word,
        SCRATCH,
        offset(at.seccomp_mode)?,
    );
    p.load(Size::Word, Reg::R1, Reg::FP, SCRATCH).jump_imm(
        Cmp::Ne,
        Reg::R1,
        SECCOMP_MODE_FILTER,
        out,
    );
    build_key(&mut p, &at, access)?;
    // The slot: (nr mod 256) | compat << 7 (TS_COMPAT is 2: 256).
    p.load(Size::Word, Reg::R1, Reg::FP, KEY + 16)
        .and_imm(Reg::R1, 0xff)
        .load(Size::Word, Reg::R2, Reg::FP, KEY + 20)
        .lsh_imm(Reg::R2, 7)
        .or_reg(Reg::R1, Reg::R2)
        .store(Size::Word, Reg::FP, INDEX, Reg::R1);
    lookup(&mut p, maps.slots, Reg::FP, INDEX, out);
    p.mov_reg(Reg::R8, Reg::R0);
    for word in [0, 8, 16] {
        p.load(Size::Double, Reg::R1, Reg::R8, word)
            .load(Size::Double, Reg::R2, Reg::FP, KEY + word)
            .jump_reg(Cmp::Ne, Reg::R1, Reg::R2, miss);
    }
    // The slot's key: one more pending call.
    p.load(Size::Double, Reg::R1, Reg::R8, PENDING)
        .add_imm(Reg::R1, 1)
        .store(Size::Double, Reg::R8, PENDING, Reg::R1)
        .jump(out);
    // Another key: flush the slot if it holds calls, then take the key.
    p.label(miss);
    p.load(Size::Double, Reg::R1, Reg::R8, PENDING)
        .jump_imm(Cmp::Eq, Reg::R1, 0, take);
    flush_slot(&mut p, maps.counts, maps.lost, take);
    p.label(take);
    for word in [0, 8, 16] {
        p.load(Size::Double, Reg::R1, Reg::FP, KEY + word).store(
            Size::Double,
            Reg::R8,
            word,
            Reg::R1,
        );
    }
    p.store_imm(Size::Double, Reg::R8, PENDING, 1)
        .call(KTIME_GET_NS)
        .store(Size::Double, Reg::R8, TAKEN_NS, Reg::R0);
    p.label(out);
    p.mov_imm(Reg::R0, 0).exit();
    Ok(p.finish()?)
}
