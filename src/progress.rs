//! Progress on standard error for runs over many roots or repositories: `checking 12/40
//! roots · 3.1/s · ETA 9s`. On a terminal ([`Show::Redrawn`]) the line is redrawn in place
//! with `\r` while work is done and erased at the end, and only when the run is long (more
//! than one item, or longer than a delay). Elsewhere it is either nothing ([`Show::Nothing`],
//! `check`: tests and logs never see it) or a plain line every so many items and at the end
//! ([`Show::Lines`], `fleet`: a CI log shows how far a long audit is).

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long a run of one root goes without a progress line.
pub const DELAY: Duration = Duration::from_secs(1);

/// How often the line is redrawn while nothing finishes.
const TICK: Duration = Duration::from_millis(100);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Not at all.
    Nothing,
    /// One line redrawn in place (a terminal).
    Redrawn,
    /// A plain line every this many items, and one when the last is done.
    Lines(usize),
}

/// The progress line: `checking DONE/TOTAL NOUN`, with the rate and the time left once
/// something is done.
fn line(done: usize, total: usize, noun: &str, start: Instant) -> String {
    let mut text = format!("checking {done}/{total} {noun}");
    if done > 0 {
        let rate = done as f64 / start.elapsed().as_secs_f64().max(1e-3);
        let left = (total.saturating_sub(done) as f64 / rate).round() as u64;
        let eta = if left >= 60 {
            format!("{}m{:02}s", left / 60, left % 60)
        } else {
            format!("{left}s")
        };
        text.push_str(&format!(" · {rate:.1}/s · ETA {eta}"));
    }
    text
}

/// Runs `work`, which calls the function it is given once for each of the `total` items
/// (`noun`: roots, repositories) it finishes, from any thread, and returns its result.
///
/// [`Show::Redrawn`]: the line is drawn on `out` from the start when there are several
/// items, else once `delay` has passed, redrawn in place as items finish, and erased
/// (overwritten with spaces) before returning. [`Show::Lines`]: a line is written as every
/// n-th item and the last finish. [`Show::Nothing`]: nothing is written and no thread is
/// started.
pub fn with_progress<W, T>(
    out: W,
    show: Show,
    noun: &str,
    total: usize,
    delay: Duration,
    work: impl FnOnce(&(dyn Fn() + Sync)) -> T,
) -> T
where
    W: Write + Send,
{
    let done = AtomicUsize::new(0);
    let start = Instant::now();
    match show {
        Show::Nothing => work(&|| {}),
        Show::Lines(every) => {
            let out = Mutex::new(out);
            let every = every.max(1);
            work(&|| {
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                if (n.is_multiple_of(every) || n == total)
                    && let Ok(mut out) = out.lock()
                {
                    // Progress is best effort: a write error is not the run's.
                    let _ = writeln!(out, "{}", line(n, total, noun, start));
                }
            })
        }
        Show::Redrawn => {
            let (tx, rx) = mpsc::channel::<()>();
            std::thread::scope(|scope| {
                let done = &done;
                scope.spawn(move || draw(out, &rx, done, total, noun, start, delay));
                let finished = move || {
                    done.fetch_add(1, Ordering::SeqCst);
                    // The drawing thread only stops once every sender is gone: it cannot be
                    // gone.
                    let _ = tx.send(());
                };
                work(&finished)
                // `finished` (and with it the sender) is dropped here, which ends the
                // drawing thread; the scope waits for it to erase the line.
            })
        }
    }
}

/// The drawing thread: redraws on every finished item and every [`TICK`], until the sender
/// is dropped, then erases what it drew. Write errors are ignored (progress is best effort).
fn draw<W: Write>(
    mut out: W,
    rx: &mpsc::Receiver<()>,
    done: &AtomicUsize,
    total: usize,
    noun: &str,
    start: Instant,
    delay: Duration,
) {
    let mut shown = String::new();
    loop {
        if let Err(mpsc::RecvTimeoutError::Disconnected) = rx.recv_timeout(TICK) {
            break;
        }
        if total <= 1 && start.elapsed() < delay {
            continue;
        }
        let text = line(done.load(Ordering::SeqCst), total, noun, start);
        if text != shown {
            // Padded over what was there: the rate makes the line shorter at times.
            let pad = shown.chars().count().saturating_sub(text.chars().count());
            let _ = write!(out, "\r{text}{}", " ".repeat(pad));
            let _ = out.flush();
            shown = text;
        }
    }
    if !shown.is_empty() {
        let _ = write!(out, "\r{}\r", " ".repeat(shown.chars().count()));
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `roots` pieces of work that each report being finished.
    fn run(enabled: bool, roots: usize, delay: Duration) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let show = if enabled {
            Show::Redrawn
        } else {
            Show::Nothing
        };
        let n = with_progress(&mut out, show, "roots", roots, delay, |finished| {
            for _ in 0..roots {
                finished();
            }
            roots * 10
        });
        (out, n)
    }

    #[test]
    fn silent_when_not_a_terminal() {
        for roots in [0, 1, 2, 40] {
            let (out, n) = run(false, roots, Duration::ZERO);
            assert!(out.is_empty(), "{out:?}");
            assert_eq!(n, roots * 10);
        }
    }

    #[test]
    fn one_quick_root_draws_nothing() {
        let (out, n) = run(true, 1, Duration::from_secs(3600));
        assert!(out.is_empty(), "{:?}", String::from_utf8_lossy(&out));
        assert_eq!(n, 10);
    }

    #[test]
    fn several_roots_are_counted_and_the_line_erased() {
        let (out, n) = run(true, 2, Duration::from_secs(3600));
        assert_eq!(n, 20);
        let text = String::from_utf8_lossy(&out);
        // The last finished root always reads 2 of 2 (with the rate and the time left);
        // earlier lines may or may not appear.
        let last = text
            .rsplit('\r')
            .find(|l| l.starts_with("checking 2/2 roots · "))
            .unwrap_or_else(|| panic!("no final line in {text:?}"));
        assert!(last.trim_end().ends_with(" · ETA 0s"), "{text:?}");
        let blank = format!("\r{}\r", " ".repeat(last.chars().count()));
        assert!(text.ends_with(&blank), "{text:?}");
    }

    #[test]
    fn a_long_single_root_is_shown_after_the_delay() {
        let mut out = Vec::new();
        with_progress(
            &mut out,
            Show::Redrawn,
            "roots",
            1,
            Duration::ZERO,
            |finished| {
                // Longer than a tick: the line is drawn before the root finishes.
                std::thread::sleep(TICK * 3);
                finished();
            },
        );
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("\rchecking 0/1 roots"), "{text:?}");
        // Erased over the whole of the last line drawn: `0/1` alone (18 characters), or
        // `1/1` with its rate when the finish was drawn before the end.
        let last = text
            .trim_end_matches([' ', '\r'])
            .rsplit('\r')
            .next()
            .unwrap_or_default();
        assert!(
            last == "checking 0/1 roots" || last.starts_with("checking 1/1 roots · "),
            "{text:?}"
        );
        assert!(
            text.ends_with(&format!("\r{}\r", " ".repeat(last.chars().count()))),
            "{text:?}"
        );
    }

    #[test]
    fn plain_lines_every_n_items_and_at_the_end() {
        let mut out = Vec::new();
        with_progress(
            &mut out,
            Show::Lines(2),
            "repositories",
            5,
            Duration::ZERO,
            |finished| {
                for _ in 0..5 {
                    finished();
                }
            },
        );
        let text = String::from_utf8_lossy(&out);
        let counts: Vec<&str> = text
            .lines()
            .map(|l| l.split(" · ").next().unwrap_or(""))
            .collect();
        assert_eq!(
            counts,
            [
                "checking 2/5 repositories",
                "checking 4/5 repositories",
                "checking 5/5 repositories"
            ]
        );
        assert!(text.ends_with(" · ETA 0s\n"), "{text:?}");
        assert!(!text.contains('\r'));
    }
}
