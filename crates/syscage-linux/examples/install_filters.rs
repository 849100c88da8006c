//! Test program for `syscage dump`: installs known seccomp filters.
//!
//! `install_filters MODE`, where MODE is one of:
//!
//! - `stacked N`: N filters via seccomp(2), tags 1..=N
//! - `prctl`: one filter via prctl(PR_SET_SECCOMP)
//! - `log`: one filter via seccomp(2) with SECCOMP_FILTER_FLAG_LOG
//! - `tsync`: three threads, then one filter with TSYNC from the main one
//! - `fork`: one filter in the parent, then one in a forked child
//! - `exec`: one filter, then exec itself in `prctl` mode
//! - `strict` / `strict-seccomp`: strict mode via prctl / seccomp(2)
//! - `rejected`: an install the kernel rejects (EINVAL), then a good one
//! - `stdin`: read stdin to end of file, then one filter
//! - `none`: no filter, exit code 3
//! - `int80`: one filter via `int 0x80` (i386 seccomp(2)), 32-bit pointers
//! - `write-i386 PATH`: write a static i386 ELF program to PATH and print
//!   the hex bytes of its filter; that program, when run, installs the
//!   filter with i386 seccomp(2), prints `ready`, reads stdin to end of
//!   file and exits 0
//! - `wrap CMD ARG…`: one filter (tag 9, not logged), then exec CMD: runs
//!   CMD under seccomp
//! - `serve`: filters (tag 1; tag 2 with LOG; tag 3 via prctl; tag 4 with
//!   SPEC_ALLOW), print `ready`, then echo stdin lines back until end of
//!   file
//! - `hang`: the filters of `serve`, then sleep forever
//! - `strict-wait`: strict mode, then block reading stdin, then exit
//!
//! Every installed filter is logged, after it is installed, as a line
//! `PID HEX-BYTES` appended to the file named by `$SYSCAGE_TESTPROG_LOG`
//! (if set): the tests compare what `dump` finds with these lines.
//!
//! The filters allow everything: `A = arch; A = nr;` then, for i in
//! 0..tag, `if (A == tag+i) goto last` (syscall numbers, named differently
//! on x86_64 and i386), `return ALLOW`, and `last: return ALLOW`; so each
//! tag has its own bytes and `tag + 4` instructions.

use std::io::{BufRead, Write};

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JEQ_K: u16 = 0x15;
const BPF_RET_K: u16 = 0x06;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;

#[repr(C)]
#[derive(Clone, Copy)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

fn filter(tag: u32) -> Vec<SockFilter> {
    let mut f = vec![
        SockFilter {
            code: BPF_LD_W_ABS,
            jt: 0,
            jf: 0,
            k: 4,
        },
        SockFilter {
            code: BPF_LD_W_ABS,
            jt: 0,
            jf: 0,
            k: 0,
        },
    ];
    for i in 0..tag {
        f.push(SockFilter {
            code: BPF_JEQ_K,
            jt: (tag - i) as u8,
            jf: 0,
            k: tag + i,
        });
    }
    for _ in 0..2 {
        f.push(SockFilter {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        });
    }
    f
}

fn bytes(f: &[SockFilter]) -> Vec<u8> {
    let mut out = Vec::new();
    for i in f {
        out.extend_from_slice(&i.code.to_ne_bytes());
        out.push(i.jt);
        out.push(i.jf);
        out.extend_from_slice(&i.k.to_ne_bytes());
    }
    out
}

fn log(f: &[SockFilter]) {
    let Some(path) = std::env::var_os("SYSCAGE_TESTPROG_LOG") else {
        return;
    };
    let hex: String = bytes(f).iter().map(|b| format!("{b:02x}")).collect();
    let line = format!("{} {hex}\n", std::process::id());
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .expect("open log");
    file.write_all(line.as_bytes()).expect("write log");
}

fn no_new_privs() {
    // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1) takes no pointers.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(r, 0, "PR_SET_NO_NEW_PRIVS");
}

fn install_seccomp(f: &[SockFilter], flags: u32) -> i64 {
    let prog = SockFprog {
        len: f.len() as u16,
        filter: f.as_ptr(),
    };
    // SAFETY: `prog` and the filter it points to live across the call.
    unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            1u32, // SECCOMP_SET_MODE_FILTER
            flags,
            &prog as *const SockFprog,
        ) as i64
    }
}

fn seccomp_tag(tag: u32, flags: u32) {
    let f = filter(tag);
    let r = install_seccomp(&f, flags);
    assert_eq!(
        r,
        0,
        "seccomp(SET_MODE_FILTER, {flags:#x}): {}",
        std::io::Error::last_os_error()
    );
    log(&f);
}

fn prctl_tag(tag: u32) {
    let f = filter(tag);
    let prog = SockFprog {
        len: f.len() as u16,
        filter: f.as_ptr(),
    };
    // SAFETY: `prog` and the filter it points to live across the call.
    let r = unsafe { libc::prctl(libc::PR_SET_SECCOMP, 2, &prog as *const SockFprog, 0, 0) };
    assert_eq!(
        r,
        0,
        "prctl(PR_SET_SECCOMP): {}",
        std::io::Error::last_os_error()
    );
    log(&f);
}

fn strict(via_seccomp: bool) -> ! {
    let msg = b"strict\n";
    // SAFETY: raw syscalls without pointers except `msg`, which is live;
    // after strict mode only read, write, exit and sigreturn are allowed,
    // so the thread leaves with exit(2), not exit_group(2).
    unsafe {
        let r = if via_seccomp {
            libc::syscall(libc::SYS_seccomp, 0u32, 0u32, 0usize)
        } else {
            libc::prctl(libc::PR_SET_SECCOMP, 1, 0, 0, 0) as libc::c_long
        };
        if r != 0 {
            libc::_exit(5);
        }
        libc::syscall(libc::SYS_write, 1, msg.as_ptr(), msg.len());
        libc::syscall(libc::SYS_exit, 0);
    }
    unreachable!()
}

fn strict_wait() -> ! {
    let msg = b"ready\n";
    let mut buf = [0u8; 64];
    // SAFETY: raw syscalls on live buffers; strict mode allows only read,
    // write and exit afterwards.
    unsafe {
        if libc::prctl(libc::PR_SET_SECCOMP, 1, 0, 0, 0) != 0 {
            libc::_exit(5);
        }
        libc::syscall(libc::SYS_write, 1, msg.as_ptr(), msg.len());
        while libc::syscall(libc::SYS_read, 0, buf.as_mut_ptr(), buf.len()) > 0 {}
        libc::syscall(libc::SYS_exit, 0);
    }
    unreachable!()
}

#[cfg(target_arch = "x86_64")]
fn int80() {
    let f = filter(7);
    // SAFETY: an anonymous private mapping below 4 GiB (MAP_32BIT) for the
    // i386 `struct sock_fprog` and filter, which hold 32-bit pointers.
    let mem = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
            -1,
            0,
        )
    };
    assert_ne!(mem, libc::MAP_FAILED);
    let base = mem as usize;
    let filter_addr = base + 16;
    // SAFETY: the mapping is 4096 writable bytes; fprog at 0, filter at 16.
    unsafe {
        let p = mem as *mut u8;
        std::ptr::write_unaligned(p as *mut u16, f.len() as u16);
        std::ptr::write_unaligned(p.add(4) as *mut u32, filter_addr as u32);
        std::ptr::copy_nonoverlapping(f.as_ptr() as *const u8, p.add(16), f.len() * 8);
    }
    let ret: i64;
    // SAFETY: i386 seccomp(2) is syscall 354: ebx = op, ecx = flags,
    // edx = fprog (below 4 GiB). `int 0x80` clobbers nothing but eax.
    unsafe {
        std::arch::asm!(
            "xchg rbx, {op}",
            "int 0x80",
            "xchg rbx, {op}",
            op = inout(reg) 1u64 => _,
            inout("rax") 354i64 => ret,
            in("rcx") 0u64,
            in("rdx") base as u64,
        );
    }
    assert_eq!(ret as i32, 0, "int 0x80 seccomp");
    log(&f);
}

#[cfg(not(target_arch = "x86_64"))]
fn int80() {
    panic!("int80 needs x86_64");
}

/// A static i386 ELF executable (hand-assembled) that installs `filter(8)`
/// with i386 seccomp(2) (syscall 354, 32-bit `struct sock_fprog`), writes
/// `ready`, reads stdin until end of file and exits 0. Returns the file
/// and the filter's bytes.
fn i386_program() -> (Vec<u8>, Vec<u8>) {
    const BASE: u32 = 0x0804_8000;
    const CODE: u32 = 84; // after the ELF header (52) and one program header (32)
    const FPROG: u32 = 256;
    const MSG: u32 = 264;
    const FILTER: u32 = 272;
    const BUF: u32 = 512;
    const SIZE: usize = 576;
    let f = filter(8);
    let fbytes = bytes(&f);
    let mut code: Vec<u8> = Vec::new();
    let mov = |code: &mut Vec<u8>, op: u8, v: u32| {
        code.push(op);
        code.extend_from_slice(&v.to_le_bytes());
    };
    let int80 = |code: &mut Vec<u8>| code.extend_from_slice(&[0xcd, 0x80]);
    // prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    mov(&mut code, 0xb8, 172); // mov eax, 172
    mov(&mut code, 0xbb, 38); // mov ebx, 38
    mov(&mut code, 0xb9, 1); // mov ecx, 1
    code.extend_from_slice(&[0x31, 0xd2, 0x31, 0xf6, 0x31, 0xff]); // xor edx,esi,edi
    int80(&mut code);
    // seccomp(SECCOMP_SET_MODE_FILTER, 0, &fprog)
    mov(&mut code, 0xb8, 354);
    mov(&mut code, 0xbb, 1);
    code.extend_from_slice(&[0x31, 0xc9]); // xor ecx, ecx
    mov(&mut code, 0xba, BASE + FPROG); // mov edx, fprog
    int80(&mut code);
    // write(1, "ready\n", 6)
    mov(&mut code, 0xb8, 4);
    mov(&mut code, 0xbb, 1);
    mov(&mut code, 0xb9, BASE + MSG);
    mov(&mut code, 0xba, 6);
    int80(&mut code);
    // do { eax = read(0, buf, 64) } while (eax > 0)
    let top = code.len();
    mov(&mut code, 0xb8, 3);
    code.extend_from_slice(&[0x31, 0xdb]); // xor ebx, ebx
    mov(&mut code, 0xb9, BASE + BUF);
    mov(&mut code, 0xba, 64);
    int80(&mut code);
    code.extend_from_slice(&[0x85, 0xc0]); // test eax, eax
    let rel = top as i64 - (code.len() as i64 + 2);
    code.extend_from_slice(&[0x7f, rel as i8 as u8]); // jg top
                                                      // exit(0)
    mov(&mut code, 0xb8, 1);
    code.extend_from_slice(&[0x31, 0xdb]);
    int80(&mut code);
    assert!(CODE as usize + code.len() <= FPROG as usize);
    assert!(FILTER as usize + fbytes.len() <= BUF as usize);

    let mut elf = vec![0u8; SIZE];
    let put = |elf: &mut Vec<u8>, at: usize, b: &[u8]| elf[at..at + b.len()].copy_from_slice(b);
    put(&mut elf, 0, &[0x7f, b'E', b'L', b'F', 1, 1, 1, 0]); // ELFCLASS32, LSB, v1, SYSV
    put(&mut elf, 16, &2u16.to_le_bytes()); // ET_EXEC
    put(&mut elf, 18, &3u16.to_le_bytes()); // EM_386
    put(&mut elf, 20, &1u32.to_le_bytes()); // EV_CURRENT
    put(&mut elf, 24, &(BASE + CODE).to_le_bytes()); // e_entry
    put(&mut elf, 28, &52u32.to_le_bytes()); // e_phoff
    put(&mut elf, 40, &52u16.to_le_bytes()); // e_ehsize
    put(&mut elf, 42, &32u16.to_le_bytes()); // e_phentsize
    put(&mut elf, 44, &1u16.to_le_bytes()); // e_phnum
    let ph = 52;
    put(&mut elf, ph, &1u32.to_le_bytes()); // PT_LOAD
    put(&mut elf, ph + 4, &0u32.to_le_bytes()); // p_offset
    put(&mut elf, ph + 8, &BASE.to_le_bytes()); // p_vaddr
    put(&mut elf, ph + 12, &BASE.to_le_bytes()); // p_paddr
    put(&mut elf, ph + 16, &(SIZE as u32).to_le_bytes()); // p_filesz
    put(&mut elf, ph + 20, &(SIZE as u32).to_le_bytes()); // p_memsz
    put(&mut elf, ph + 24, &7u32.to_le_bytes()); // PF_R | PF_W | PF_X
    put(&mut elf, ph + 28, &0x1000u32.to_le_bytes()); // p_align
    put(&mut elf, CODE as usize, &code);
    // struct sock_fprog (i386): u16 len, 2 bytes padding, u32 filter
    put(&mut elf, FPROG as usize, &(f.len() as u16).to_le_bytes());
    put(&mut elf, FPROG as usize + 4, &(BASE + FILTER).to_le_bytes());
    put(&mut elf, MSG as usize, b"ready\n");
    put(&mut elf, FILTER as usize, &fbytes);
    (elf, fbytes)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    if mode != "write-i386" {
        no_new_privs();
    }
    match mode {
        "stacked" => {
            let n: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3);
            for tag in 1..=n {
                seccomp_tag(tag, 0);
            }
        }
        "prctl" => prctl_tag(5),
        "log" => seccomp_tag(4, 2),
        "tsync" => {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
            let threads: Vec<_> = (0..3)
                .map(|_| {
                    let rx = rx.clone();
                    std::thread::spawn(move || {
                        let _ = rx.lock().unwrap().recv();
                    })
                })
                .collect();
            seccomp_tag(6, 1); // SECCOMP_FILTER_FLAG_TSYNC
            for _ in &threads {
                tx.send(()).unwrap();
            }
            for t in threads {
                t.join().unwrap();
            }
        }
        "fork" => {
            seccomp_tag(1, 0);
            // SAFETY: fork in a single-threaded program; the child only
            // installs a filter and exits.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                seccomp_tag(2, 0);
                // SAFETY: leaving the child without running atexit handlers.
                unsafe { libc::_exit(0) };
            }
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            assert_eq!(status, 0);
        }
        "exec" => {
            seccomp_tag(3, 0);
            let exe = std::env::current_exe().unwrap();
            let err = std::os::unix::process::CommandExt::exec(
                std::process::Command::new(exe).arg("prctl"),
            );
            panic!("exec: {err}");
        }
        "strict" => strict(false),
        "strict-seccomp" => strict(true),
        "strict-wait" => strict_wait(),
        "rejected" => {
            let bad = [SockFilter {
                code: 0xffff,
                jt: 0,
                jf: 0,
                k: 0,
            }];
            let r = install_seccomp(&bad, 0);
            assert_eq!(r, -1, "the kernel accepted an invalid filter");
            seccomp_tag(2, 0);
        }
        "stdin" => {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut s);
            seccomp_tag(1, 0);
        }
        "none" => std::process::exit(3),
        "int80" => int80(),
        "wrap" => {
            let f = filter(9);
            assert_eq!(install_seccomp(&f, 0), 0);
            let err = std::os::unix::process::CommandExt::exec(
                std::process::Command::new(&args[1]).args(&args[2..]),
            );
            panic!("exec {}: {err}", args[1]);
        }
        "write-i386" => {
            let path = args.get(1).expect("write-i386 PATH");
            let (elf, filter_bytes) = i386_program();
            std::fs::write(path, elf).expect("write ELF");
            let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
            std::fs::set_permissions(path, mode).expect("chmod");
            let hex: String = filter_bytes.iter().map(|b| format!("{b:02x}")).collect();
            println!("{hex}");
        }
        "serve" | "hang" => {
            seccomp_tag(1, 0);
            seccomp_tag(2, 2); // SECCOMP_FILTER_FLAG_LOG
            prctl_tag(3);
            seccomp_tag(4, 4); // SECCOMP_FILTER_FLAG_SPEC_ALLOW
            if mode == "hang" {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                }
            }
            let mut out = std::io::stdout();
            writeln!(out, "ready").unwrap();
            out.flush().unwrap();
            for line in std::io::stdin().lock().lines() {
                let line = line.unwrap();
                writeln!(out, "echo {line}").unwrap();
                out.flush().unwrap();
            }
        }
        other => {
            eprintln!("install_filters: unknown mode '{other}'");
            std::process::exit(2);
        }
    }
}
