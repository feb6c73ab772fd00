//! The `gpc-gateway` binary as a child process with a generated configuration.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::bus::TestBus;

/// Path of the built binary (`scripts/test.sh` builds it before the tests run).
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("GPC_GATEWAY_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test binary> → target/<profile>/gpc-gateway
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("gpc-gateway");
    assert!(
        bin.exists(),
        "{} not built: run scripts/test.sh (it builds the binary first)",
        bin.display()
    );
    bin
}

/// A gateway configuration for the sandbox and a test's bus.
pub fn config(data_dir: &Path, bus: &TestBus) -> String {
    config_with(data_dir, bus, "", "")
}

/// [`config`] with extra keys in the `[mesh]` table and extra TOML tables (e.g. mailboxes).
pub fn config_with(data_dir: &Path, bus: &TestBus, mesh_keys: &str, tables: &str) -> String {
    format!(
        r#"data_dir = "{data}"
[mesh]
url = "{mesh}"
shared_key = "TestKey"
poll_interval_secs = 0.5
{mesh_keys}
[mesh.mailboxes.PHARM001]
password = "pharm001-pass"
ods_codes = ["FA001"]
{tables}
[bus]
url = "{amqp}"
exchange = "{exchange}"
[inputs.amqp]
queue = "{queue}"
dead_letter_queue = "{dead}"
[admin]
enabled = false
[retry]
initial_ms = 200
max_ms = 2000
"#,
        data = data_dir.display(),
        mesh = crate::sandbox_url(),
        amqp = crate::amqp_url(),
        exchange = bus.cfg.exchange,
        queue = bus.cfg.queue,
        dead = bus.cfg.dead_letter_queue,
    )
}

/// A gateway configuration for a MESH URL (e.g. the in-process simulator), with the test's bus
/// or, with `None`, the embedded bus writing events to `<data_dir>/events.jsonl`.
pub fn config_sim(data_dir: &Path, mesh_url: &str, bus: Option<&TestBus>, tables: &str) -> String {
    let bus_section = match bus {
        Some(b) => format!(
            "[bus]\nurl = \"{}\"\nexchange = \"{}\"\n[inputs.amqp]\nqueue = \"{}\"\ndead_letter_queue = \"{}\"\n",
            crate::amqp_url(),
            b.cfg.exchange,
            b.cfg.queue,
            b.cfg.dead_letter_queue
        ),
        None => "[bus]\nevents_file = \"events.jsonl\"\n".to_string(),
    };
    format!(
        r#"data_dir = "{data}"
[mesh]
url = "{mesh_url}"
shared_key = "TestKey"
poll_interval_secs = 0.2
[mesh.mailboxes.PHARM001]
password = "pharm001-pass"
ods_codes = ["FA001"]
{bus_section}
[admin]
enabled = false
[retry]
initial_ms = 200
max_ms = 2000
{tables}
"#,
        data = data_dir.display(),
    )
}

/// A running gateway process.
pub struct GatewayProcess {
    child: Child,
    log: PathBuf,
}

impl GatewayProcess {
    /// Starts `gpc-gateway run` with `config_text` (written into `dir`).
    pub fn start(dir: &Path, config_text: &str) -> Self {
        let cfg = dir.join("gateway.toml");
        std::fs::write(&cfg, config_text).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("gateway.log"))
            .unwrap();
        let child = Command::new(binary())
            .args(["run", "--config"])
            .arg(&cfg)
            // IT_GATEWAY_LOG widens the log filter when investigating a failure.
            .env(
                "RUST_LOG",
                std::env::var("IT_GATEWAY_LOG")
                    .unwrap_or_else(|_| "info,gpc_gateway::pipeline=debug".to_owned()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self {
            child,
            log: dir.join("gateway.log"),
        }
    }

    /// The gateway's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to drain or flush anything.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM and wait (graceful drain).
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The gateway's own account of what happened, for the failing test's output.
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("---- gateway log ({}) ----\n{log}", self.log.display());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
