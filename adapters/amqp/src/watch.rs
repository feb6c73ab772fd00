//! Watchdogs for a consuming session: lapin's recovery can leave a consumer on a dead channel
//! that neither yields nor fails, so the session also watches the connection and the channel.

use std::time::Duration;

use lapin::{Channel, ConnectionStatus};

/// Resolves once the connection is closed or failed for good (lapin gave up recovering), or has
/// not been connected for [`crate::RECOVERY_STALL_LIMIT`] (recovery stalled).
pub(crate) async fn connection_gone(status: &ConnectionStatus) {
    let mut down_since: Option<tokio::time::Instant> = None;
    while !(status.closed() || status.errored()) {
        if status.connected() {
            down_since = None;
        } else if down_since
            .get_or_insert_with(tokio::time::Instant::now)
            .elapsed()
            >= crate::RECOVERY_STALL_LIMIT
        {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Resolves once `channel` has not been connected for [`crate::RECOVERY_STALL_LIMIT`].
pub(crate) async fn channel_stalled(channel: &Channel) {
    let mut down_since: Option<tokio::time::Instant> = None;
    loop {
        if channel.status().connected() {
            down_since = None;
        } else if down_since
            .get_or_insert_with(tokio::time::Instant::now)
            .elapsed()
            >= crate::RECOVERY_STALL_LIMIT
        {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
