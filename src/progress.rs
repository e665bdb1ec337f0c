//! The progress indicator of `check`: `checking 12/40 roots` on standard error, redrawn in
//! place with `\r` while roots are checked and erased when they are done. It is shown only
//! when standard error is a terminal and the run is long (more than one root, or longer than
//! a delay); it never writes to a pipe or a file, so tests and logs never see it.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a run of one root goes without a progress line.
pub const DELAY: Duration = Duration::from_secs(1);

/// How often the line is redrawn while no root finishes.
const TICK: Duration = Duration::from_millis(100);

/// Runs `work`, which calls the function it is given once for each of the `total` roots it
/// finishes (from any thread), and returns its result.
///
/// When `enabled` (standard error is a terminal), a line `checking DONE/TOTAL roots` is drawn
/// on `out` from the start when there are several roots, else once `delay` has passed, and
/// redrawn in place as roots finish; it is erased (overwritten with spaces) before returning.
/// When not `enabled`, nothing is written to `out` and no thread is started.
pub fn with_progress<W, T>(
    out: W,
    enabled: bool,
    total: usize,
    delay: Duration,
    work: impl FnOnce(&(dyn Fn() + Sync)) -> T,
) -> T
where
    W: Write + Send,
{
    if !enabled {
        return work(&|| {});
    }
    let done = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<()>();
    let start = Instant::now();
    std::thread::scope(|scope| {
        let done = &done;
        scope.spawn(move || draw(out, &rx, done, total, start, delay));
        let finished = move || {
            done.fetch_add(1, Ordering::SeqCst);
            // The drawing thread only stops once every sender is gone: it cannot be gone.
            let _ = tx.send(());
        };
        work(&finished)
        // `finished` (and with it the sender) is dropped here, which ends the drawing thread;
        // the scope waits for it to erase the line.
    })
}

/// The drawing thread: redraws on every finished root and every [`TICK`], until the sender
/// is dropped, then erases what it drew. Write errors are ignored (progress is best effort).
fn draw<W: Write>(
    mut out: W,
    rx: &mpsc::Receiver<()>,
    done: &AtomicUsize,
    total: usize,
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
        let text = format!("checking {}/{total} roots", done.load(Ordering::SeqCst));
        if text != shown {
            let _ = write!(out, "\r{text}");
            let _ = out.flush();
            shown = text;
        }
    }
    if !shown.is_empty() {
        let _ = write!(out, "\r{}\r", " ".repeat(shown.len()));
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `roots` pieces of work that each report being finished.
    fn run(enabled: bool, roots: usize, delay: Duration) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let n = with_progress(&mut out, enabled, roots, delay, |finished| {
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
        // The last finished root always reads 2 of 2; earlier lines may or may not appear.
        assert!(text.contains("\rchecking 2/2 roots"), "{text:?}");
        let blank = format!("\r{}\r", " ".repeat("checking 2/2 roots".len()));
        assert!(text.ends_with(&blank), "{text:?}");
    }

    #[test]
    fn a_long_single_root_is_shown_after_the_delay() {
        let mut out = Vec::new();
        with_progress(&mut out, true, 1, Duration::ZERO, |finished| {
            // Longer than a tick: the line is drawn before the root finishes.
            std::thread::sleep(TICK * 3);
            finished();
        });
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("\rchecking 0/1 roots"), "{text:?}");
        assert!(
            text.ends_with(&format!("\r{}\r", " ".repeat(18))),
            "{text:?}"
        );
    }
}
