//! `agent_stat`: the local manager (or `wazuh-agent-sim`) reports what it saw of agents; the
//! node records it if the agent is in its `client.keys`.

use async_trait::async_trait;
use wazuh_cluster_core::agents::{AgentError, AgentEvent, AgentId};
use wazuh_cluster_core::session::{Handler, HandlerResult, Request};
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

use super::json::{parse, refusal};
use super::protocol::{RefusedReport, ReportEvent, ReportOutcome, StatusReport};
use crate::control::ControlContext;
use crate::control::protocol::json_reply as reply;

/// Most agents one `agent_stat` may name.
pub const MAX_REPORTED_IDS: usize = 100_000;

/// `agent_stat`.
pub(super) struct Report;

fn event(report: &StatusReport) -> AgentEvent {
    match report.event {
        ReportEvent::Keepalive => AgentEvent::Keepalive {
            version: report.version.clone(),
            os: report.os.clone(),
        },
        ReportEvent::Disconnected => AgentEvent::Disconnected,
    }
}

fn refused(id: String, error: &AgentError) -> RefusedReport {
    RefusedReport {
        id,
        code: error.code(),
        message: error.to_string(),
    }
}

#[async_trait]
impl Handler<ControlContext> for Report {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        let report: StatusReport = parse("agent_stat", &request.payload).map_err(|e| *e)?;
        match (&report.id, &report.ids) {
            (Some(id), None) => {
                let id: AgentId = id.parse().map_err(refusal)?;
                ctx.agents()
                    .report(id, event(&report))
                    .await
                    .map_err(refusal)?;
                reply(&ReportOutcome {
                    accepted: 1,
                    refused: Vec::new(),
                })
            }
            (None, Some(ids)) if ids.len() <= MAX_REPORTED_IDS => {
                let mut outcome = ReportOutcome::default();
                let mut parsed = Vec::with_capacity(ids.len());
                for text in ids {
                    match text.parse::<AgentId>() {
                        Ok(id) => parsed.push(id),
                        Err(error) => outcome.refused.push(refused(text.clone(), &error)),
                    }
                }
                match ctx.agents().report_many(&parsed, event(&report)).await {
                    Ok(refusals) => {
                        outcome.accepted = parsed.len() - refusals.len();
                        outcome.refused.extend(
                            refusals
                                .iter()
                                .map(|(id, error)| refused(id.to_string(), error)),
                        );
                    }
                    Err(error) => outcome
                        .refused
                        .extend(parsed.iter().map(|id| refused(id.to_string(), &error))),
                }
                reply(&outcome)
            }
            _ => Err(WazuhException::cluster(error_codes::BAD_JSON).with_extra_message(format!(
                "agent_stat takes either \"id\" or \"ids\" (at most {MAX_REPORTED_IDS}), not both \
                 nor neither"
            ))),
        }
    }
}
