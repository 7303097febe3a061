//! `agent_add`, `agent_del`, `group_add`, `group_join`, `group_leave`, `group_list`: agent
//! management through the node's `AgentApi` (decided on the master, forwarded by a worker).

use async_trait::async_trait;
use wazuh_cluster_core::agents::AgentId;
use wazuh_cluster_core::session::{Handler, HandlerResult, Request};
use wazuh_cluster_proto::payload::WazuhException;

use super::json::{parse, refusal};
use super::protocol::{
    AddAgent, AddedAgent, AgentRef, GroupList, GroupRef, GroupRow, ListGroups as ListGroupsArgs,
    Membership,
};
use crate::control::ControlContext;
use crate::control::protocol::json_reply as reply;

fn agent_id(text: &str) -> Result<AgentId, Box<WazuhException>> {
    text.parse().map_err(|e| Box::new(refusal(e)))
}

/// `agent_add`.
pub(super) struct Add;

#[async_trait]
impl Handler<ControlContext> for Add {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        let args: AddAgent = parse("agent_add", &request.payload).map_err(|e| *e)?;
        let added = ctx
            .agents()
            .register(&args.name, &args.ip, &args.groups)
            .await
            .map_err(refusal)?;
        reply(&AddedAgent {
            id: added.id.to_string(),
            key_line: added.key_line(),
            name: added.name,
            ip: added.ip,
            key: added.key.as_str().to_owned(),
        })
    }
}

/// `agent_del`.
pub(super) struct Delete;

#[async_trait]
impl Handler<ControlContext> for Delete {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        let args: AgentRef = parse("agent_del", &request.payload).map_err(|e| *e)?;
        let id = agent_id(&args.id).map_err(|e| *e)?;
        ctx.agents().delete(id).await.map_err(refusal)?;
        reply(&AgentRef { id: id.to_string() })
    }
}

/// `group_add`.
pub(super) struct CreateGroup;

#[async_trait]
impl Handler<ControlContext> for CreateGroup {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        let args: GroupRef = parse("group_add", &request.payload).map_err(|e| *e)?;
        ctx.agents()
            .create_group(&args.group)
            .await
            .map_err(refusal)?;
        reply(&args)
    }
}

/// `group_join` (`join: true`) and `group_leave`.
pub(super) struct ChangeMembership {
    /// Whether the agent joins the group (or leaves it).
    pub join: bool,
}

#[async_trait]
impl Handler<ControlContext> for ChangeMembership {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        let name = if self.join {
            "group_join"
        } else {
            "group_leave"
        };
        let args: Membership = parse(name, &request.payload).map_err(|e| *e)?;
        let id = agent_id(&args.id).map_err(|e| *e)?;
        let outcome = if self.join {
            ctx.agents().assign_group(id, &args.group).await
        } else {
            ctx.agents().unassign_group(id, &args.group).await
        };
        outcome.map_err(refusal)?;
        reply(&Membership {
            id: id.to_string(),
            group: args.group,
        })
    }
}

/// `group_list`: every group with its agents (with `local`, this node's own assignments).
pub(super) struct ListGroups;

#[async_trait]
impl Handler<ControlContext> for ListGroups {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        let args: ListGroupsArgs = if request.payload.iter().all(u8::is_ascii_whitespace) {
            ListGroupsArgs::default()
        } else {
            parse("group_list", &request.payload).map_err(|e| *e)?
        };
        if args.local {
            return reply(&local_groups(ctx).await?);
        }
        let groups = ctx.agents().list_groups().await.map_err(refusal)?;
        let agents = ctx.agents().list_agents().await.map_err(refusal)?;
        let items = groups
            .into_iter()
            .map(|name| GroupRow {
                agents: agents
                    .iter()
                    .filter(|agent| agent.groups.contains(&name))
                    .map(|agent| agent.id.clone())
                    .collect(),
                name,
            })
            .collect();
        reply(&GroupList { items })
    }
}

/// The group assignments of this node's own store, by group name.
async fn local_groups(ctx: &ControlContext) -> Result<GroupList, WazuhException> {
    let assignments = ctx
        .agent_store
        .agent_groups()
        .await
        .map_err(|e| refusal(e.into()))?;
    let mut groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (id, names) in assignments {
        for name in names {
            groups.entry(name).or_default().push(id.to_string());
        }
    }
    Ok(GroupList {
        items: groups
            .into_iter()
            .map(|(name, agents)| GroupRow { name, agents })
            .collect(),
    })
}
