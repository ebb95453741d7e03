//! `rolestack instance exec` the unprivileged way (through the instance's loopback proxy): the
//! command runs on the host, where the server cannot tell its processes from the host's own, so
//! this process stays as their parent and ends them when the instance powers off
//! (docs/instances.md "Stopping an instance").
//!
//! - It becomes a child subreaper, so every process the command starts stays its descendant,
//!   daemons that double-fork included; those are the instance's programs, and nothing else is
//!   ever signalled.
//! - A thread keeps a connection open to the instance's proxy. The server closes it when the
//!   instance stops (its listeners go down) or when the connection has sent nothing for the
//!   server's header timeout; the thread then connects again, and a refused connection means the
//!   instance is off: the programs get `SIGTERM`, and `SIGKILL` after 5 seconds, as on a normal
//!   stop (this side cannot tell a forced one).
//! - `SIGTERM`, `SIGHUP` and `SIGQUIT` sent to this process go on to the command; `SIGINT` is
//!   ignored here (a terminal sends it to the command too).
//!
//! The exit status is the command's (`128 + signal` when a signal ended it).

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rolestack_core::network::PowerOff;
use rolestack_server::power_off::end_processes;

/// The command's pid, for the signal handler.
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, signal) };
    }
}

/// Runs `cmd` until it exits or the instance behind `proxy` powers off; exits with its status.
pub fn run(mut cmd: Command, proxy: &str) -> anyhow::Result<()> {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes one integer argument.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let mut child = cmd.spawn().with_context(|| format!("running {:?}", cmd.get_program()))?;
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: `forward` only loads an atomic and calls kill.
        unsafe { libc::signal(signal, forward as extern "C" fn(libc::c_int) as libc::sighandler_t) };
    }
    // SAFETY: ignoring a signal has no handler to be unsafe in.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    let powered_off = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (proxy, powered_off) = (proxy.to_string(), powered_off.clone());
        std::thread::spawn(move || {
            watch(&proxy);
            powered_off.store(true, Ordering::SeqCst);
            end_descendants();
        })
    };
    let status = child.wait().context("waiting for the command")?;
    CHILD.store(0, Ordering::SeqCst);
    if powered_off.load(Ordering::SeqCst) {
        // Its descendants are being ended too: let that finish.
        let _ = watcher.join();
    }
    std::process::exit(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// Returns once the proxy refuses connections (the instance powered off).
fn watch(proxy: &str) {
    loop {
        let opened = Instant::now();
        match TcpStream::connect(proxy) {
            Ok(mut stream) => {
                // Nothing is ever sent: the read ends when the server closes the connection.
                let _ = stream.read(&mut [0u8; 1]);
            }
            Err(_) => return,
        }
        // A connection closed at once (e.g. the server at its connection limit): do not spin.
        if opened.elapsed() < Duration::from_secs(1) {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// `SIGTERM` to every descendant of this process, then `SIGKILL` to those left after the grace of
/// a normal stop (`power_off::end_processes`, as the server ends an instance's programs).
fn end_descendants() {
    end_processes(PowerOff::Graceful, signal_all, || !descendants().is_empty());
}

fn signal_all(signal: libc::c_int) -> usize {
    descendants()
        .into_iter()
        // SAFETY: kill with a pid and a signal.
        .filter(|&pid| unsafe { libc::kill(pid, signal) } == 0)
        .count()
}

/// The live (not zombie) processes below this one.
fn descendants() -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let procs: Vec<(i32, i32, bool)> = entries
        .filter_map(|e| {
            let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The fields after the command name, which is in parentheses and may hold anything.
            let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
            let state = rest.next()?;
            let ppid: i32 = rest.next()?.parse().ok()?;
            Some((pid, ppid, state == "Z"))
        })
        .collect();
    let mut below = vec![me];
    let mut i = 0;
    while i < below.len() {
        let parent = below[i];
        below.extend(procs.iter().filter(|(_, ppid, _)| *ppid == parent).map(|(pid, _, _)| *pid));
        i += 1;
    }
    below.into_iter().filter(|&pid| pid != me && procs.iter().any(|(p, _, zombie)| *p == pid && !zombie)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_are_this_processes_children_and_theirs() {
        // A shell that starts a grandchild: both are below this process, nothing else is.
        let mut child = Command::new("sh").args(["-c", "sleep 30 & wait"]).spawn().expect("sh runs");
        let pid = child.id() as i32;
        let deadline = Instant::now() + Duration::from_secs(10);
        let below = loop {
            let below = descendants();
            if below.len() >= 2 || Instant::now() > deadline {
                break below;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(below.contains(&pid), "{below:?}");
        assert!(below.len() >= 2, "the grandchild is below too: {below:?}");
        assert!(!below.contains(&(std::process::id() as i32)));
        assert!(!below.contains(&1));
        // Only the shell's own tree (other tests of this binary may have children too).
        let parent_of = |p: i32| -> Option<i32> {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
        };
        for &p in below.iter().filter(|&&p| p == pid || parent_of(p) == Some(pid)) {
            // SAFETY: kill with a pid and a signal.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
        child.wait().expect("sh is reaped");
    }
}
