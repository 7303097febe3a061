//! The node's replay protection (`wazuh_cluster_proto::replay`), shared by its connections:
//! one memory of the tokens received, and a guard per connection.

use std::sync::Arc;
use std::time::Duration;

use wazuh_cluster_proto::{ReplayGuard, SeenTokens};

use crate::config::ClusterConfig;

/// Replay protection for the connections of one node: off, or a maximum token age and the
/// node's memory of the tokens it accepted.
#[derive(Debug, Clone, Default)]
pub struct ReplayProtection(Option<(Duration, Arc<SeenTokens>)>);

impl ReplayProtection {
    /// Tokens older than `max_age` refused, tokens seen before and repeated request counters
    /// refused.
    pub fn max_age(max_age: Duration) -> Self {
        Self(Some((max_age, SeenTokens::new())))
    }

    /// As `<max_message_age>` says (`no`: off, as Wazuh).
    pub fn from_config(config: &ClusterConfig) -> Self {
        config
            .max_message_age
            .map(Self::max_age)
            .unwrap_or_default()
    }

    /// The guard of one new connection.
    pub(crate) fn guard(&self) -> Option<ReplayGuard> {
        self.0
            .as_ref()
            .map(|(max_age, seen)| ReplayGuard::new(*max_age, seen.clone()))
    }
}
