//! Stopping and starting the local RabbitMQ node's applications, for resilience tests.

use std::process::Command;

fn rabbitmqctl(arg: &str) {
    let out = Command::new("rabbitmqctl")
        .arg(arg)
        .output()
        .unwrap_or_else(|e| {
            panic!("rabbitmqctl not runnable ({e}): resilience tests need the local broker")
        });
    assert!(
        out.status.success(),
        "rabbitmqctl {arg}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `rabbitmqctl stop_app`: every connection drops, the node stays up.
pub fn stop_app() {
    rabbitmqctl("stop_app");
}

/// `rabbitmqctl start_app`, then waits until the node accepts connections.
pub fn start_app() {
    rabbitmqctl("start_app");
    rabbitmqctl("await_startup");
}

/// Starts the broker's applications again if a test panicked while they were stopped.
pub struct RestartGuard;

impl Drop for RestartGuard {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl").arg("start_app").output();
    }
}
