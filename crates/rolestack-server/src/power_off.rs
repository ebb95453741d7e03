//! Ending the programs that run inside an instance when it powers off (StopInstance,
//! RebootInstance, DeleteInstance; docs/instances.md "Stopping an instance").
//!
//! An instance's programs are exactly the processes in its network namespace: `rolestack
//! instance exec` joins it before it runs the command, and whatever that command starts stays in
//! it (a daemon that double-forks too) unless it makes a namespace of its own. So the processes
//! to end are found by namespace, not by name or parentage: every `/proc/<pid>` whose
//! `ns/net` is the instance's namespace — the same device and inode as the namespace file the
//! instance had, opened before the file is removed and held open until the programs are ended,
//! so the namespace (and its inode) stays its own: a namespace made later, for the same instance
//! (StartInstance, then `instance exec`) or another one, never gets that inode meanwhile. The host's
//! processes are in other namespaces and are never touched, and this server's own process is
//! skipped (its helper threads enter namespaces for a moment to bind or connect).
//!
//! Each signal goes through a pidfd opened before the process's namespace is checked, so a pid
//! reused between the check and the signal cannot receive it (the pidfd names the process that
//! was checked, or one that is gone).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::libc;
use rolestack_core::network::PowerOff;

/// How long a normal stop waits for the programs to end after `SIGTERM` before killing them.
pub const GRACE: Duration = Duration::from_secs(5);
/// How often the processes left are looked for while the grace runs.
const POLL: Duration = Duration::from_millis(50);

/// A network namespace, by the identity of its nsfs file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespaceId {
    dev: u64,
    ino: u64,
}

impl NamespaceId {
    /// The namespace a file names (`/run/netns/<name>`, `/proc/<pid>/ns/net`), if it exists.
    fn of(path: &Path) -> Option<NamespaceId> {
        std::fs::metadata(path).ok().map(|m| NamespaceId { dev: m.dev(), ino: m.ino() })
    }
}

/// A network namespace held open. An identity alone is not enough: once the last process and
/// file of a namespace are gone the kernel frees it, and a namespace made next (another
/// instance's) may get the same inode. Holding the namespace keeps its inode its own until the
/// programs in it are ended.
pub struct HeldNamespace {
    _file: std::fs::File,
    id: NamespaceId,
}

impl HeldNamespace {
    /// Holds the namespace a file names (`/run/netns/<name>`), if it exists.
    pub fn open(path: &Path) -> Option<HeldNamespace> {
        let file = std::fs::File::open(path).ok()?;
        let m = file.metadata().ok()?;
        Some(HeldNamespace { _file: file, id: NamespaceId { dev: m.dev(), ino: m.ino() } })
    }
}

/// Ends every process in namespace `held` (see the module docs): `Forced` kills them at once,
/// `Graceful` sends `SIGTERM` and kills what is left after [`GRACE`]. Blocks until none is left
/// (or a process cannot be signalled); run it on a thread of its own. Returns how many processes
/// were signalled.
pub fn end_programs(held: &HeldNamespace, how: PowerOff) -> usize {
    let ns = held.id;
    end_processes(how, |signal| signal_all(ns, signal), || !members(ns).is_empty())
}

/// The way programs end at a power-off, over any way of finding them: `signal_all(signal)` sends
/// `signal` to every one there is and says how many it reached, `any_left()` whether one is left.
/// `Graceful`: `SIGTERM`, then up to [`GRACE`] for them to end; then (and at once for `Forced`)
/// `SIGKILL` until none is left. The namespace way above and `rolestack instance exec`'s
/// supervisor (which ends its own descendants) share it. Returns how many were signalled.
pub fn end_processes(how: PowerOff, signal_all: impl Fn(i32) -> usize, any_left: impl Fn() -> bool) -> usize {
    let mut signalled = 0;
    if how == PowerOff::Graceful {
        signalled += signal_all(libc::SIGTERM);
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline && any_left() {
            std::thread::sleep(POLL);
        }
    }
    // A process may fork while it is being killed: kill until none is left (bounded, in case one
    // cannot be killed at all, e.g. in uninterruptible sleep; it dies when it wakes).
    for _ in 0..50 {
        let killed = signal_all(libc::SIGKILL);
        if killed == 0 {
            break;
        }
        signalled += killed;
        std::thread::sleep(Duration::from_millis(10));
    }
    signalled
}

/// Waits until `done()` holds, at most two seconds (the runtime dropping aborted listeners).
pub fn wait_until(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The pids of the processes in `ns`, this one excepted.
fn members(ns: NamespaceId) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()).filter(|&pid| pid != me && in_namespace(pid, ns)).collect()
}

fn in_namespace(pid: i32, ns: NamespaceId) -> bool {
    NamespaceId::of(Path::new(&format!("/proc/{pid}/ns/net"))) == Some(ns)
}

/// Sends `signal` to every process in `ns`; how many were signalled.
fn signal_all(ns: NamespaceId, signal: i32) -> usize {
    members(ns).into_iter().filter(|&pid| signal_if_member(pid, ns, signal)).count()
}

/// Signals `pid` if it is (still) in `ns`, through a pidfd opened before the check.
fn signal_if_member(pid: i32, ns: NamespaceId, signal: i32) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return false;
    }
    // SAFETY: `fd` is a descriptor pidfd_open just returned to us alone.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    if !in_namespace(pid, ns) {
        return false;
    }
    // SAFETY: pidfd_send_signal takes a pidfd, a signal, a null siginfo and flags.
    let sent = unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), signal, std::ptr::null::<libc::siginfo_t>(), 0) };
    sent == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_never_a_member() {
        let mine = NamespaceId::of(Path::new("/proc/self/ns/net")).expect("this process has a network namespace");
        assert!(!members(mine).contains(&(std::process::id() as i32)));
    }

    #[test]
    fn a_namespace_nobody_is_in_has_no_members() {
        // An identity no nsfs file has: nothing is signalled.
        let none = NamespaceId { dev: u64::MAX, ino: u64::MAX };
        assert!(members(none).is_empty());
    }

    #[test]
    fn a_held_namespace_is_the_one_its_file_names() {
        let held = HeldNamespace::open(Path::new("/proc/self/ns/net")).expect("this process has a network namespace");
        assert_eq!(Some(held.id), NamespaceId::of(Path::new("/proc/self/ns/net")));
        assert!(HeldNamespace::open(Path::new("/nonexistent/ns")).is_none());
    }
}
