//! Runs a command and measures it the way the benchmark reports it: wall time from spawn to
//! exit, and the peak resident set size the kernel reports for the child when it is reaped
//! (`wait4`'s `ru_maxrss`).
//!
//! `ru_maxrss` is the largest resident set of the child or of any descendant it waited for,
//! not their sum: for a tool that forks workers (checkov does) it is the largest single
//! process. Linux only.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How one run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Signalled(i32),
    /// Killed by the watchdog after the timeout.
    TimedOut,
}

/// One run of a command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub wall: Duration,
    pub peak_rss_kb: u64,
    pub ending: Ending,
}

impl Run {
    /// True when the command exited with one of `codes`.
    pub fn exited_with(&self, codes: &[i32]) -> bool {
        matches!(self.ending, Ending::Exited(code) if codes.contains(&code))
    }
}

/// Runs `command` once with stdout and stderr thrown away, killing it after `timeout`.
pub fn run_once(command: &mut Command, timeout: Duration) -> std::io::Result<Run> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let child = command.spawn()?;
    let (wall, status, usage, timed_out) = wait_with_watchdog(child, timeout, started)?;

    let ending = if timed_out {
        Ending::TimedOut
    } else if libc::WIFEXITED(status) {
        Ending::Exited(libc::WEXITSTATUS(status))
    } else {
        Ending::Signalled(libc::WTERMSIG(status))
    };
    Ok(Run {
        wall,
        // Linux reports ru_maxrss in kilobytes.
        peak_rss_kb: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        ending,
    })
}

/// Reaps `child` with `wait4`, so that its resource usage comes back with its status. A
/// watchdog thread kills it if it outlives `timeout`.
fn wait_with_watchdog(
    child: Child,
    timeout: Duration,
    started: Instant,
) -> std::io::Result<(Duration, libc::c_int, libc::rusage, bool)> {
    let pid = child.id() as libc::pid_t;
    let (finished, finished_signal) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        // A disconnect (the run finished) and a message mean the same: no kill.
        if finished_signal.recv_timeout(timeout) == Err(mpsc::RecvTimeoutError::Timeout) {
            // The child is at worst a zombie not yet reaped: the pid is still its own.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return true;
        }
        false
    });

    // Wait for the exit without reaping: a zombie keeps its pid, so the watchdog can never
    // signal a process that took the pid over.
    let exited = retry_interrupted(|| unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        )
    });
    let wall = started.elapsed();
    let _ = finished.send(());
    let timed_out = watchdog.join().unwrap_or(false);

    let mut status: libc::c_int = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = retry_interrupted(|| unsafe { libc::wait4(pid, &mut status, 0, &mut usage) });
    // The child is reaped here; std's handle must not wait for it again.
    std::mem::forget(child);
    if exited == -1 || reaped == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((wall, status, usage, timed_out))
}

/// Calls `call` again while it fails with EINTR.
fn retry_interrupted(mut call: impl FnMut() -> libc::c_int) -> libc::c_int {
    loop {
        let result = call();
        let interrupted = result == -1
            && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted;
        if !interrupted {
            return result;
        }
    }
}

/// Several runs of one command, summarised by their median.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub runs: Vec<Run>,
}

impl Summary {
    /// The median wall time (the lower middle for an even count).
    pub fn median_wall(&self) -> Option<Duration> {
        let mut walls: Vec<Duration> = self.runs.iter().map(|run| run.wall).collect();
        walls.sort();
        walls.get(walls.len().saturating_sub(1) / 2).copied()
    }

    /// The median peak resident set, in kilobytes.
    pub fn median_peak_kb(&self) -> Option<u64> {
        let mut peaks: Vec<u64> = self.runs.iter().map(|run| run.peak_rss_kb).collect();
        peaks.sort_unstable();
        peaks.get(peaks.len().saturating_sub(1) / 2).copied()
    }

    pub fn timed_out(&self) -> bool {
        self.runs.iter().any(|run| run.ending == Ending::TimedOut)
    }
}

/// The median of durations (the lower middle for an even count).
pub fn median(mut values: Vec<Duration>) -> Option<Duration> {
    values.sort();
    values.get(values.len().saturating_sub(1) / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_reports_its_exit_code_and_a_resident_set() {
        let run = run_once(
            Command::new("sh").args(["-c", "exit 3"]),
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(run.ending, Ending::Exited(3));
        assert!(run.exited_with(&[0, 3]));
        assert!(run.peak_rss_kb > 0);
    }

    #[test]
    fn a_run_past_its_timeout_is_killed() {
        let run = run_once(Command::new("sleep").arg("30"), Duration::from_millis(200)).unwrap();
        assert_eq!(run.ending, Ending::TimedOut);
        assert!(run.wall < Duration::from_secs(30));
    }

    #[test]
    fn medians_take_the_lower_middle() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(5), ms(1), ms(3)]), Some(ms(3)));
        assert_eq!(median(vec![ms(4), ms(1), ms(3), ms(2)]), Some(ms(2)));
        assert_eq!(median(Vec::new()), None);
        let run = |wall, peak_rss_kb| Run {
            wall,
            peak_rss_kb,
            ending: Ending::Exited(0),
        };
        let summary = Summary {
            runs: vec![run(ms(9), 100), run(ms(7), 300), run(ms(8), 200)],
        };
        assert_eq!(summary.median_wall(), Some(ms(8)));
        assert_eq!(summary.median_peak_kb(), Some(200));
        assert!(!summary.timed_out());
    }
}
