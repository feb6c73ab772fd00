//! The one place mapping plugins are registered. Adding a mapping crate = one line here (and a
//! dependency in Cargo.toml).

use std::collections::HashMap;
use std::sync::Arc;

use gateway_core::MappingPlugin;
use gateway_plugin_gp_connect::{
    OutputFormat, SendDocumentOptions, SendDocumentPlugin, UpdateRecordOptions, UpdateRecordPlugin,
};

use crate::config::GatewayConfig;

/// Mapping plugins by the CloudEvent type they handle.
#[derive(Clone)]
pub struct Registry {
    by_type: HashMap<&'static str, Arc<dyn MappingPlugin>>,
    by_route: HashMap<&'static str, Arc<dyn MappingPlugin>>,
}

impl Registry {
    /// Every built-in plugin with default settings.
    pub fn builtin() -> Self {
        Self::from_config(&GatewayConfig::default())
    }

    /// Every built-in plugin, configured per route.
    pub fn from_config(cfg: &GatewayConfig) -> Self {
        Self::with_format(cfg, None)
    }

    /// As [`Registry::from_config`], forcing one output format (`map --format`).
    pub fn with_format(cfg: &GatewayConfig, format: Option<OutputFormat>) -> Self {
        let r = &cfg.routes;
        let update = UpdateRecordOptions::with_format(format.unwrap_or(r.update_record.format));
        let mut send = SendDocumentOptions::default()
            .with_legacy_workflow(r.send_document.legacy_workflow)
            .with_format(format.unwrap_or(r.send_document.format))
            .with_max_pdf_bytes(r.send_document.max_pdf_bytes);
        if let Some(root) = &r.send_document.document_root {
            send = send.with_document_root(cfg.resolve(root));
        }
        let plugins: Vec<Arc<dyn MappingPlugin>> = vec![
            Arc::new(UpdateRecordPlugin::new(update)),
            Arc::new(SendDocumentPlugin::new(send)),
        ];
        Self::from_plugins(plugins)
    }

    /// A registry of the given plugins.
    pub fn from_plugins(plugins: Vec<Arc<dyn MappingPlugin>>) -> Self {
        let mut by_type = HashMap::new();
        let mut by_route = HashMap::new();
        for p in plugins {
            for t in p.event_types() {
                by_type.insert(*t, p.clone());
            }
            by_route.insert(p.id(), p);
        }
        Self { by_type, by_route }
    }

    /// Plugin for an event type.
    pub fn for_type(&self, event_type: &str) -> Option<&Arc<dyn MappingPlugin>> {
        self.by_type.get(event_type)
    }

    /// Plugin by route name.
    pub fn for_route(&self, route: &str) -> Option<&Arc<dyn MappingPlugin>> {
        self.by_route.get(route)
    }

    /// Supported event types, sorted (for error messages).
    pub fn event_types(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.by_type.keys().copied().collect();
        v.sort_unstable();
        v
    }
}
