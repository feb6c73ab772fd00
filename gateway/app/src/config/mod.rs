//! Configuration: defaults < TOML file < `GATEWAY_*` environment (double underscore = nesting).
//! Every problem is reported at once by [`GatewayConfig::validate`], before anything starts.

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use gateway_core::Secret;
use serde::{Deserialize, Serialize};

mod sections;

pub use sections::*;

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Root of the store and of relative paths (default `./data`).
    pub data_dir: PathBuf,
    /// Name of this gateway instance, used in output event `source` (default `gpc-gateway`).
    pub instance: String,
    /// Durable store.
    pub store: StoreConfig,
    /// MESH mailboxes and polling.
    pub mesh: MeshConfig,
    /// Output bus.
    pub bus: BusConfig,
    /// Inputs.
    pub inputs: InputsConfig,
    /// Admin HTTP server.
    pub admin: AdminConfig,
    /// Telemetry export.
    pub telemetry: TelemetryConfig,
    /// Acknowledgement timeouts.
    pub acks: AckConfig,
    /// Send retry policy.
    pub retry: RetryConfig,
    /// Per-route mapping settings.
    pub routes: RoutesConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            instance: "gpc-gateway".into(),
            store: StoreConfig::default(),
            mesh: MeshConfig::default(),
            bus: BusConfig::default(),
            inputs: InputsConfig::default(),
            admin: AdminConfig::default(),
            telemetry: TelemetryConfig::default(),
            acks: AckConfig::default(),
            retry: RetryConfig::default(),
            routes: RoutesConfig::default(),
        }
    }
}

impl GatewayConfig {
    /// Defaults < `file` (or `gateway.toml` if present) < `GATEWAY_*` env.
    pub fn figment(file: Option<&Path>) -> Figment {
        // Defaults come from `#[serde(default)]` at extraction, not from a serialised provider:
        // serialising the defaults would turn every unset secret into the redaction marker.
        let mut f = Figment::new();
        match file {
            Some(p) => f = f.merge(Toml::file_exact(p)),
            None => f = f.merge(Toml::file("gateway.toml")),
        }
        f.merge(Env::prefixed("GATEWAY_").split("__"))
    }

    /// Loads and validates.
    ///
    /// # Errors
    /// Every problem found, one per line.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let cfg: GatewayConfig = Self::figment(file)
            .extract()
            .context("configuration could not be read")?;
        let problems = cfg.validate();
        if !problems.is_empty() {
            anyhow::bail!("configuration is invalid:\n  - {}", problems.join("\n  - "));
        }
        Ok(cfg)
    }

    /// Every problem, not just the first.
    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.mesh.mailboxes.is_empty() {
            p.push("mesh.mailboxes: at least one sending mailbox is required".into());
        }
        if self.mesh.shared_key.is_empty() {
            p.push("mesh.shared_key: the MESH environment shared secret is required".into());
        }
        for (id, mb) in &self.mesh.mailboxes {
            if mb.password.is_empty() {
                p.push(format!("mesh.mailboxes.{id}.password: required"));
            }
            if mb.url.is_none() && self.mesh.url.is_none() {
                p.push(format!(
                    "mesh.mailboxes.{id}: no url and no mesh.url default"
                ));
            }
            if mb.client_cert.is_some() != mb.client_key.is_some() {
                p.push(format!(
                    "mesh.mailboxes.{id}: client_cert and client_key go together"
                ));
            }
        }
        let defaults = self
            .mesh
            .mailboxes
            .values()
            .filter(|m| m.ods_codes.is_empty())
            .count();
        if defaults > 1 {
            p.push("mesh.mailboxes: at most one mailbox may omit ods_codes (the default)".into());
        }
        if !(0.05..=86_400.0).contains(&self.mesh.poll_interval_secs) {
            p.push("mesh.poll_interval_secs: must be between 0.05 and 86400".into());
        }
        if self.mesh.max_in_flight == 0 {
            p.push("mesh.max_in_flight: must be at least 1".into());
        }
        for (i, d) in self.inputs.drops.iter().enumerate() {
            if !matches!(d.format.as_str(), "json" | "hl7v2" | "csv") {
                p.push(format!(
                    "inputs.drops[{i}].format: {:?} is not one of json, hl7v2, csv",
                    d.format
                ));
            }
            if let Some(h) = &d.hl7v2 {
                p.extend(
                    h.problems()
                        .into_iter()
                        .map(|x| format!("inputs.drops[{i}].hl7v2: {x}")),
                );
            }
            if let Some(c) = &d.csv {
                p.extend(
                    c.problems()
                        .into_iter()
                        .map(|x| format!("inputs.drops[{i}].csv: {x}")),
                );
            }
        }
        if self.admin.enabled && self.admin.listen.parse::<std::net::SocketAddr>().is_err() {
            p.push(format!(
                "admin.listen: {:?} is not an address:port",
                self.admin.listen
            ));
        }
        if self.store.kind == StoreKind::Postgres && self.store.url.is_none() {
            p.push("store.url: required when store.kind = \"postgres\"".into());
        }
        if self.inputs.amqp.prefetch == 0 {
            p.push("inputs.amqp.prefetch: must be at least 1".into());
        }
        for (key, ca, id, pw) in [
            (
                "bus",
                &self.bus.tls_ca_bundle,
                &self.bus.tls_client_identity,
                &self.bus.tls_client_identity_password,
            ),
            (
                "inputs.amqp",
                &self.inputs.amqp.tls_ca_bundle,
                &self.inputs.amqp.tls_client_identity,
                &self.inputs.amqp.tls_client_identity_password,
            ),
        ] {
            for (name, file) in [("tls_ca_bundle", ca), ("tls_client_identity", id)] {
                if let Some(f) = file.as_ref().filter(|f| !f.is_file()) {
                    p.push(format!("{key}.{name}: {} is not a file", f.display()));
                }
            }
            if pw.is_some() && id.is_none() {
                p.push(format!(
                    "{key}.tls_client_identity_password: set without tls_client_identity"
                ));
            }
        }
        p
    }

    /// The AMQP TLS settings (CA bundle, identity, identity password): `inputs.amqp`'s where
    /// set, else `bus`'s; the identity and its password are taken together.
    pub fn amqp_tls(&self) -> (Option<&PathBuf>, Option<&PathBuf>, Option<&Secret>) {
        let (i, b) = (&self.inputs.amqp, &self.bus);
        let ca = i.tls_ca_bundle.as_ref().or(b.tls_ca_bundle.as_ref());
        match &i.tls_client_identity {
            Some(id) => (ca, Some(id), i.tls_client_identity_password.as_ref()),
            None => (
                ca,
                b.tls_client_identity.as_ref(),
                b.tls_client_identity_password.as_ref(),
            ),
        }
    }

    /// A path relative to `data_dir` (absolute paths are kept).
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.data_dir.join(p)
        }
    }

    /// The AMQP URL of the input, if any.
    pub fn amqp_input_url(&self) -> Option<&Secret> {
        if !self.inputs.amqp.enabled {
            return None;
        }
        self.inputs.amqp.url.as_ref().or(self.bus.url.as_ref())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn sandbox_example_parses_and_env_overrides_win() {
        figment::Jail::expect_with(|jail| {
            let example = include_str!("../../../../examples/sandbox.toml");
            jail.create_file("sandbox.toml", example)?;
            jail.set_env("GATEWAY_DATA_DIR", "/tmp/x");
            jail.set_env("GATEWAY_ADMIN__LISTEN", "127.0.0.1:9999");
            let cfg: GatewayConfig =
                GatewayConfig::figment(Some(Path::new("sandbox.toml"))).extract()?;
            assert!(cfg.validate().is_empty(), "{:?}", cfg.validate());
            assert_eq!(cfg.data_dir, PathBuf::from("/tmp/x"));
            assert_eq!(cfg.admin.listen, "127.0.0.1:9999");
            assert_eq!(cfg.mesh.url.as_deref(), Some("http://127.0.0.1:8700"));
            assert_eq!(
                cfg.mesh.mailboxes["PHARM001"].password.expose(),
                "pharm001-pass"
            );
            assert_eq!(cfg.inputs.amqp.queue, "gpc.events");
            Ok(())
        });
    }

    #[test]
    fn unset_secrets_stay_empty_rather_than_becoming_the_redaction_marker() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("g.toml", "[mesh]\nurl = \"http://x\"\n")?;
            let cfg: GatewayConfig = GatewayConfig::figment(Some(Path::new("g.toml"))).extract()?;
            assert!(cfg.mesh.shared_key.is_empty());
            assert!(
                cfg.validate()
                    .iter()
                    .any(|p| p.starts_with("mesh.shared_key"))
            );
            Ok(())
        });
    }

    #[test]
    fn defaults_report_every_problem_at_once() {
        let problems = GatewayConfig::default().validate();
        assert!(problems.iter().any(|p| p.starts_with("mesh.mailboxes")));
        assert!(problems.iter().any(|p| p.starts_with("mesh.shared_key")));
    }

    #[test]
    fn amqp_tls_keys_fall_back_to_bus_and_identity_files_must_exist() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("ca.pem", "x")?;
            jail.create_file("bus.p12", "x")?;
            jail.create_file(
                "g.toml",
                "[bus]\ntls_ca_bundle = \"ca.pem\"\ntls_client_identity = \"bus.p12\"\n\
                 tls_client_identity_password = \"pw\"\n\
                 [inputs.amqp]\ntls_client_identity = \"missing.p12\"\n",
            )?;
            let cfg: GatewayConfig = GatewayConfig::figment(Some(Path::new("g.toml"))).extract()?;
            let (ca, id, pw) = cfg.amqp_tls();
            assert_eq!(ca, Some(&PathBuf::from("ca.pem")));
            assert_eq!(id, Some(&PathBuf::from("missing.p12")));
            assert!(pw.is_none());
            let problems = cfg.validate();
            assert!(
                problems
                    .iter()
                    .any(|p| p.starts_with("inputs.amqp.tls_client_identity: missing.p12")),
                "{problems:?}"
            );
            assert!(
                !problems.iter().any(|p| p.starts_with("bus.tls")),
                "{problems:?}"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("g.toml", "data_dirr = \"x\"")?;
            let r: Result<GatewayConfig, _> =
                GatewayConfig::figment(Some(Path::new("g.toml"))).extract();
            assert!(r.is_err());
            Ok(())
        });
    }
}
