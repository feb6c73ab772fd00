//! Capped exponential backoff that gives way to shutdown.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Doubling delays from `initial`, capped at `max`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            next: initial,
            attempt: 0,
        }
    }

    /// The failed attempts so far.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Returns the next delay and doubles the one after it.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Starts again from `initial` after a success.
    pub(crate) fn reset(&mut self) {
        self.next = self.initial;
        self.attempt = 0;
    }

    /// Sleeps for the next delay; returns `false` when shutdown came first.
    pub(crate) async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let delay = self.next_delay();
        tokio::select! {
            biased;
            () = shutdown.cancelled() => false,
            () = tokio::time::sleep(delay) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        let delays: Vec<_> = (0..4).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, [100, 200, 350, 350]);
        assert_eq!(b.attempt(), 4);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(100));
    }

    #[tokio::test]
    async fn shutdown_interrupts_the_wait() {
        let token = CancellationToken::new();
        token.cancel();
        let mut b = Backoff::new(Duration::from_secs(60), Duration::from_secs(60));
        assert!(!b.wait(&token).await);
    }
}
