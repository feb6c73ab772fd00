//! Opening channels, with errors that say what the channel was for.

use lapin::{Channel, Connection, options::ConfirmSelectOptions};

use crate::error::AmqpError;

/// Opens a plain channel.
pub(crate) async fn open(conn: &Connection, purpose: &'static str) -> Result<Channel, AmqpError> {
    conn.create_channel()
        .await
        .map_err(|source| AmqpError::Channel { purpose, source })
}

/// Opens a channel in publisher-confirm mode (lapin re-enables it after recovery).
pub(crate) async fn open_confirming(
    conn: &Connection,
    purpose: &'static str,
) -> Result<Channel, AmqpError> {
    let channel = open(conn, purpose).await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|source| AmqpError::Channel { purpose, source })?;
    Ok(channel)
}
