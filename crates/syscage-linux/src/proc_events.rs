//! Which processes a program started: the kernel's process events connector
//! (`NETLINK_CONNECTOR`, `CN_IDX_PROC`, `PROC_CN_MCAST_LISTEN`;
//! `drivers/connector/cn_proc.c`).
//!
//! Audit records name a process only by its pid, and they come from every
//! process on the machine. To count the records of one program and its
//! descendants, [`ForkWatch`] receives the kernel's `PROC_EVENT_FORK`
//! messages while the program runs and [`ForkLog::descendants`] rebuilds its
//! process tree from them. Listening needs `CAP_NET_ADMIN` in the initial
//! user and pid namespaces.

use crate::error::{Error, Result};
use crate::netlink::{self, Datagram};
use std::collections::HashSet;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `CN_IDX_PROC` / `CN_VAL_PROC`: the connector id of process events.
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
/// `PROC_CN_MCAST_LISTEN`.
const MCAST_LISTEN: u32 = 1;
/// `PROC_EVENT_FORK`.
const EVENT_FORK: u32 = 1;
/// How long [`ForkWatch::finish`] may take to read what is queued.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);
/// `sizeof(struct nlmsghdr)` and `sizeof(struct cn_msg)`.
const NLMSG_HDR: usize = 16;
const CN_MSG: usize = 20;

/// One `PROC_EVENT_FORK`: a task of process `child` was created whose
/// parent is process `parent`. That parent is the process that forked,
/// except with `CLONE_PARENT` or `CLONE_THREAD`, where it is the forker's
/// own parent (for a new thread, `child` is the forking process itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fork {
    /// `event_data.fork.parent_tgid`.
    pub parent: u32,
    /// `event_data.fork.child_tgid`.
    pub child: u32,
}

/// The forks seen between [`ForkWatch::start`] and [`ForkWatch::finish`].
#[derive(Clone, Debug, Default)]
pub struct ForkLog {
    /// In the order the kernel sent them (a parent's fork before any of its
    /// child's).
    pub forks: Vec<Fork>,
    /// The socket overflowed, or what was queued could not be read in
    /// time: some forks may be missing.
    pub overflowed: bool,
}

impl ForkLog {
    /// The process ids of `root` and every process it started, directly or
    /// not. A fork whose parent is `adopter` counts too: a process of the
    /// tree that forks with `CLONE_PARENT` gives its child the tree's parent
    /// (pass syscage's own pid, which starts no other process meanwhile).
    pub fn descendants(&self, root: u32, adopter: Option<u32>) -> HashSet<u32> {
        let mut tree = HashSet::from([root]);
        for f in &self.forks {
            if tree.contains(&f.parent) || Some(f.parent) == adopter {
                tree.insert(f.child);
            }
        }
        tree
    }
}

/// A running receiver of fork events.
pub struct ForkWatch {
    stop: Arc<AtomicBool>,
    /// The write end of a pipe whose read end the receiver polls beside
    /// the socket: closing it ends the receiver's wait at once.
    wake: Option<OwnedFd>,
    thread: Option<JoinHandle<ForkLog>>,
}

/// The `u32` at byte `at` of `buf`, if there.
fn word(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// One message of a datagram from the connector's process-events id.
struct Event<'a> {
    /// `cn_msg.ack`.
    ack: u32,
    /// `proc_event.what` (`PROC_EVENT_*`).
    what: u32,
    /// `proc_event.event_data`.
    data: &'a [u8],
}

/// The process-events messages of one datagram; a torn tail ends it.
fn events(buf: &[u8]) -> impl Iterator<Item = Event<'_>> {
    let mut off = 0usize;
    std::iter::from_fn(move || loop {
        let len = word(buf, off)? as usize;
        if len < NLMSG_HDR || off + len > buf.len() {
            return None;
        }
        let msg = &buf[off..off + len];
        off += (len + 3) & !3;
        let (cn, ev) = (NLMSG_HDR, NLMSG_HDR + CN_MSG);
        // struct proc_event: what, cpu, timestamp_ns (u64), event_data.
        if word(msg, cn) == Some(CN_IDX_PROC) {
            if let (Some(ack), Some(what)) = (word(msg, cn + 12), word(msg, ev)) {
                let data = msg.get(ev + 16..).unwrap_or_default();
                return Some(Event { ack, what, data });
            }
        }
    })
}

/// Decodes the fork events of one datagram.
fn parse_forks(buf: &[u8], out: &mut Vec<Fork>) {
    // event_data.fork: parent_pid, parent_tgid, child_pid, child_tgid.
    out.extend(
        events(buf)
            .filter(|e| e.what == EVENT_FORK)
            .filter_map(|e| {
                Some(Fork {
                    parent: word(e.data, 4)?,
                    child: word(e.data, 12)?,
                })
            }),
    );
}

impl ForkWatch {
    /// Subscribes to process events (before the program starts, so that no
    /// fork of it is missed) and receives them in a thread.
    pub fn start() -> Result<ForkWatch> {
        if !in_initial_namespaces() {
            // The kernel ignores the request there: do not wait for an answer.
            return Err(Error::errno(
                "PROC_CN_MCAST_LISTEN (not in the initial user and pid namespaces)",
                libc::EPERM,
            ));
        }
        let fd = netlink::socket(libc::NETLINK_CONNECTOR, "socket(NETLINK_CONNECTOR)")?;
        netlink::enlarge_receive_buffer(&fd);
        netlink::bind_groups(&fd, CN_IDX_PROC, "bind(NETLINK_CONNECTOR)")?;
        let mut early = Vec::new();
        listen(&fd, &mut early)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let (woken, wake) = nix::unistd::pipe().map_err(|e| Error::errno("pipe", e as i32))?;
        let thread = std::thread::spawn(move || {
            let mut log = ForkLog {
                forks: early,
                overflowed: false,
            };
            let mut buf = vec![0u8; 65536];
            let mut stopped_at: Option<Instant> = None;
            loop {
                // Once asked to stop, take what is queued, then end. The
                // rest of the machine may go on forking: reading outpaces
                // it, and a drain that does not end within a second is
                // reported as incomplete rather than waited for.
                let stopping = stop2.load(Ordering::Acquire);
                if stopping && stopped_at.get_or_insert_with(Instant::now).elapsed() > DRAIN_LIMIT {
                    log.overflowed = true;
                    break;
                }
                let wait = Duration::from_millis(if stopping { 0 } else { 50 });
                let received = netlink::receive_or_wake(
                    &fd,
                    Some(woken.as_fd()),
                    &mut buf,
                    wait,
                    "recv(NETLINK_CONNECTOR)",
                );
                match received {
                    Ok(Datagram::Bytes(n)) => parse_forks(&buf[..n], &mut log.forks),
                    Ok(Datagram::Overflow) | Err(_) => log.overflowed = true,
                    Ok(Datagram::Nothing) if stopping => break,
                    Ok(Datagram::Nothing) => {}
                }
            }
            log
        });
        Ok(ForkWatch {
            stop,
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Stops and returns the forks seen. Call it after the program has
    /// ended: its forks were queued before its exit was.
    pub fn finish(mut self) -> ForkLog {
        self.stop.store(true, Ordering::Release);
        drop(self.wake.take());
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or(ForkLog {
                forks: Vec::new(),
                overflowed: true,
            })
    }
}

impl Drop for ForkWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        drop(self.wake.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether `/proc/self/ns/KIND` is the initial namespace, whose inode
/// number the kernel fixes (`PROC_PID_INIT_INO`, `PROC_USER_INIT_INO` in
/// `include/linux/proc_ns.h`). An unreadable link counts as yes.
fn is_initial(kind: &str, init_ino: u32) -> bool {
    match std::fs::read_link(format!("/proc/self/ns/{kind}")) {
        Ok(target) => target.to_string_lossy() == format!("{kind}:[{init_ino}]"),
        Err(_) => true,
    }
}

/// Whether this process is in the initial pid namespace: only there are the
/// pids in audit records and process events the ones this process sees.
pub fn in_initial_pid_namespace() -> bool {
    is_initial("pid", 0xEFFF_FFFC)
}

/// Whether this process is in the initial pid and user namespaces, where
/// the kernel takes listen requests.
fn in_initial_namespaces() -> bool {
    in_initial_pid_namespace() && is_initial("user", 0xEFFF_FFFD)
}

/// Sends `PROC_CN_MCAST_LISTEN` and waits for the kernel's answer (a
/// `PROC_EVENT_NONE` multicast with our `ack + 1`, carrying the error; the
/// kernel numbers its messages itself, so `seq` cannot tell ours apart). The kernel handles the request during the send, so
/// events reach the socket from then on. Without `CAP_NET_ADMIN` the answer
/// is `EPERM`; outside the initial user or pid namespace no answer comes.
/// Forks received meanwhile go to `forks`.
fn listen(fd: &OwnedFd, forks: &mut Vec<Fork>) -> Result<()> {
    let tag = std::process::id();
    let len = NLMSG_HDR + CN_MSG + 4;
    let mut msg = Vec::with_capacity(len);
    msg.extend_from_slice(&(len as u32).to_ne_bytes());
    msg.extend_from_slice(&(libc::NLMSG_DONE as u16).to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes()); // nlmsg_flags
    msg.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_seq
    msg.extend_from_slice(&tag.to_ne_bytes()); // nlmsg_pid
    msg.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    msg.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // cn_msg.seq
    msg.extend_from_slice(&tag.to_ne_bytes()); // cn_msg.ack
    msg.extend_from_slice(&4u16.to_ne_bytes()); // cn_msg.len
    msg.extend_from_slice(&0u16.to_ne_bytes()); // cn_msg.flags
    msg.extend_from_slice(&MCAST_LISTEN.to_ne_bytes());
    // SAFETY: msg is valid for its length during the call; the socket is
    // bound, so send(2) goes to the kernel.
    let r = unsafe { libc::send(fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
    if r < 0 {
        return Err(Error::last("send(PROC_CN_MCAST_LISTEN)"));
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline {
        let n = match netlink::receive(
            fd,
            &mut buf,
            Duration::from_millis(100),
            "recv(NETLINK_CONNECTOR)",
        )? {
            Datagram::Bytes(n) => n,
            Datagram::Nothing | Datagram::Overflow => continue,
        };
        parse_forks(&buf[..n], forks);
        if let Some(err) = find_ack(&buf[..n], tag) {
            return match err {
                0 => Ok(()),
                e => Err(Error::errno("PROC_CN_MCAST_LISTEN", e as i32)),
            };
        }
    }
    Err(Error::errno(
        "PROC_CN_MCAST_LISTEN (no answer: not in the initial namespaces?)",
        libc::ETIMEDOUT,
    ))
}

/// The error of the kernel's answer to the listen request tagged `tag` in
/// `buf`, if there (`PROC_EVENT_NONE`, `event_data.ack.err`).
fn find_ack(buf: &[u8], tag: u32) -> Option<u32> {
    events(buf)
        .find(|e| e.what == 0 && e.ack == tag.wrapping_add(1))
        .and_then(|e| word(e.data, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_follow_the_tree_in_order() {
        let f = |parent, child| Fork { parent, child };
        let log = ForkLog {
            forks: vec![
                f(1, 50),
                f(10, 11),
                f(11, 12),
                f(50, 51),
                f(12, 13),
                f(10, 10),
                f(7, 14),
            ],
            overflowed: false,
        };
        let mut got: Vec<u32> = log.descendants(10, None).into_iter().collect();
        got.sort();
        assert_eq!(got, [10, 11, 12, 13]);
        // CLONE_PARENT from the tree: the child is the adopter's.
        let mut got: Vec<u32> = log.descendants(10, Some(7)).into_iter().collect();
        got.sort();
        assert_eq!(got, [10, 11, 12, 13, 14]);
    }

    #[test]
    fn parses_fork_events_and_skips_others() {
        let event = |what: u32, data: [u32; 4]| {
            let mut m = Vec::new();
            let len = NLMSG_HDR + CN_MSG + 16 + 16;
            m.extend_from_slice(&(len as u32).to_ne_bytes());
            m.extend_from_slice(&[0u8; 12]);
            m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
            m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
            m.extend_from_slice(&[0u8; 12]);
            m.extend_from_slice(&what.to_ne_bytes());
            m.extend_from_slice(&[0u8; 12]);
            for w in data {
                m.extend_from_slice(&w.to_ne_bytes());
            }
            m
        };
        let mut buf = event(EVENT_FORK, [100, 100, 201, 200]);
        buf.extend(event(0x8000_0000, [5, 5, 0, 0]));
        buf.extend(event(EVENT_FORK, [300, 301, 302, 302]));
        buf.extend_from_slice(&[1, 2, 3]); // a torn tail is ignored
        let mut forks = Vec::new();
        parse_forks(&buf, &mut forks);
        assert_eq!(
            forks,
            [
                Fork {
                    parent: 100,
                    child: 200
                },
                Fork {
                    parent: 301,
                    child: 302
                }
            ]
        );
    }
}
