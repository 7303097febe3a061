//! The replicated registry's rules, and the properties every replica relies on: applying the
//! same commands gives the same registry, a refused command changes nothing, and a snapshot
//! read back is the registry it was written from.

use proptest::prelude::*;
use wazuh_cluster_core::agents::{AgentId, AgentIp, AgentKey};
use wazuh_cluster_core::replicated::{
    Applied, CommandRefused, ManifestEntry, Registry, RegistryCommand,
};

fn register(id: Option<u32>, name: &str, ip: &str, groups: &[&str]) -> RegistryCommand {
    RegistryCommand::RegisterAgent {
        id: id.map(AgentId),
        name: name.into(),
        ip: ip.parse().expect("test IP"),
        key: AgentKey::from_bytes([7; 32]),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        registered_at: 1_700_000_000,
    }
}

fn group(name: &str) -> RegistryCommand {
    RegistryCommand::CreateGroup { name: name.into() }
}

#[test]
fn registrations_follow_the_registry_rules() {
    let mut r = Registry::default();
    assert_eq!(
        r.apply(&register(None, "web-01", "10.0.0.1", &[])),
        Ok(Applied::Registered { id: AgentId(1) })
    );
    assert_eq!(r.agent(AgentId(1)).expect("agent").groups, ["default"]);
    assert_eq!(
        r.apply(&register(None, "web-01", "10.0.0.2", &[])),
        Err(CommandRefused::DuplicateName {
            name: "web-01".into(),
            id: AgentId(1)
        })
    );
    assert_eq!(
        r.apply(&register(None, "web-02", "10.0.0.1", &[])),
        Err(CommandRefused::DuplicateIp {
            ip: "10.0.0.1".into(),
            id: AgentId(1)
        })
    );
    // `any` is never a duplicate.
    assert!(r.apply(&register(None, "any-1", "any", &[])).is_ok());
    assert!(r.apply(&register(None, "any-2", "ANY", &[])).is_ok());
    assert_eq!(
        r.apply(&register(None, "x", "any", &[])),
        Err(CommandRefused::InvalidName { name: "x".into() })
    );
    assert_eq!(
        r.apply(&register(None, "db-01", "any", &["db"])),
        Err(CommandRefused::GroupNotFound { group: "db".into() })
    );
    // Ids only increase: a deleted agent's id is not given again, nor may it be asked for.
    assert_eq!(
        r.apply(&RegistryCommand::DeleteAgent { id: AgentId(3) }),
        Ok(Applied::Deleted { id: AgentId(3) })
    );
    assert_eq!(
        r.apply(&register(None, "web-03", "any", &[])),
        Ok(Applied::Registered { id: AgentId(4) })
    );
    assert_eq!(
        r.apply(&register(Some(2), "web-04", "any", &[])),
        Err(CommandRefused::IdNotIncreasing {
            id: AgentId(2),
            next: AgentId(5)
        })
    );
    assert_eq!(
        r.apply(&register(Some(100), "web-05", "any", &[])),
        Ok(Applied::Registered { id: AgentId(100) })
    );
    assert_eq!(
        r.apply(&register(None, "web-06", "any", &[])),
        Ok(Applied::Registered { id: AgentId(101) })
    );
    assert_eq!(
        r.apply(&register(Some(0), "web-07", "any", &[])),
        Err(CommandRefused::IdOutOfRange { id: AgentId(0) })
    );
    assert_eq!(
        r.apply(&RegistryCommand::DeleteAgent { id: AgentId(3) }),
        Err(CommandRefused::NotFound { id: AgentId(3) })
    );
    // A deleted agent's name and IP are free again.
    assert!(
        r.apply(&RegistryCommand::DeleteAgent { id: AgentId(1) })
            .is_ok()
    );
    assert!(r.apply(&register(None, "web-01", "10.0.0.1", &[])).is_ok());
}

#[test]
fn groups_are_created_assigned_and_unassigned() {
    let mut r = Registry::default();
    r.apply(&register(None, "web-01", "any", &[]))
        .expect("registered");
    assert_eq!(
        r.apply(&group("default")),
        Err(CommandRefused::GroupExists {
            group: "default".into()
        })
    );
    assert_eq!(
        r.apply(&group("..")),
        Err(CommandRefused::InvalidGroupName { name: "..".into() })
    );
    assert_eq!(
        r.apply(&group("web")),
        Ok(Applied::GroupCreated { name: "web".into() })
    );
    let assign = RegistryCommand::AssignGroup {
        id: AgentId(1),
        group: "web".into(),
    };
    assert_eq!(
        r.apply(&assign),
        Ok(Applied::GroupsChanged {
            id: AgentId(1),
            groups: vec!["default".into(), "web".into()]
        })
    );
    assert_eq!(
        r.apply(&assign),
        Err(CommandRefused::AlreadyInGroup {
            id: AgentId(1),
            group: "web".into()
        })
    );
    let unassign = |g: &str| RegistryCommand::UnassignGroup {
        id: AgentId(1),
        group: g.into(),
    };
    assert!(r.apply(&unassign("default")).is_ok());
    // An agent left without groups is back in `default`.
    assert_eq!(
        r.apply(&unassign("web")),
        Ok(Applied::GroupsChanged {
            id: AgentId(1),
            groups: vec!["default".into()]
        })
    );
    assert_eq!(
        r.apply(&unassign("web")),
        Err(CommandRefused::NotInGroup {
            id: AgentId(1),
            group: "web".into()
        })
    );
    assert_eq!(
        r.apply(&RegistryCommand::AssignGroup {
            id: AgentId(9),
            group: "web".into()
        }),
        Err(CommandRefused::NotFound { id: AgentId(9) })
    );
    assert_eq!(
        r.apply(&RegistryCommand::AssignGroup {
            id: AgentId(1),
            group: "nope".into()
        }),
        Err(CommandRefused::GroupNotFound {
            group: "nope".into()
        })
    );
    assert_eq!(
        r.apply(&register(None, "web-02", "any", &["web", "default"])),
        Ok(Applied::Registered { id: AgentId(2) })
    );
    assert_eq!(
        r.agent(AgentId(2)).expect("agent").groups,
        ["web", "default"]
    );
}

#[test]
fn manifest_entries_are_set_all_or_none_and_removed() {
    let mut r = Registry::default();
    let entry = |path: &str, hash: &str| ManifestEntry {
        path: path.into(),
        hash: hash.into(),
        mode: 0o660,
    };
    let good = "0a".repeat(64);
    let set = RegistryCommand::SetManifestEntries {
        entries: vec![
            entry("etc/client.keys", &good),
            entry("etc/shared/default/agent.conf", &good),
        ],
    };
    assert!(r.apply(&set).is_ok());
    assert_eq!(r.data().manifest.len(), 2);
    let half_bad = RegistryCommand::SetManifestEntries {
        entries: vec![entry("etc/other", &good), entry("../escape", &good)],
    };
    assert_eq!(
        r.apply(&half_bad),
        Err(CommandRefused::InvalidManifestPath {
            path: "../escape".into()
        })
    );
    assert!(!r.data().manifest.contains_key("etc/other"), "all or none");
    assert_eq!(
        r.apply(&RegistryCommand::RemoveManifestEntries {
            paths: vec!["etc/client.keys".into(), "etc/never".into()]
        }),
        Ok(Applied::ManifestRemoved {
            paths: vec!["etc/client.keys".into()]
        })
    );
    assert_eq!(r.data().manifest.len(), 1);
}

#[test]
fn refusals_carry_the_agent_api_codes() {
    let refused = CommandRefused::DuplicateName {
        name: "a".into(),
        id: AgentId(1),
    };
    assert_eq!(refused.code(), 1705);
    assert_eq!(
        CommandRefused::GroupNotFound { group: "g".into() }.code(),
        1710
    );
    let error: wazuh_cluster_core::agents::AgentError = refused.clone().into();
    assert_eq!(error.code(), 1705);
    assert!(error.to_string().contains("already an agent named \"a\""));
}

#[test]
fn commands_decode_strictly() {
    let command = register(Some(5), "web-01", "10.0.0.1", &["default"]);
    let json = serde_json::to_string(&command).expect("encodes");
    assert_eq!(
        serde_json::from_str::<RegistryCommand>(&json).expect("decodes"),
        command
    );
    let bad_key = json.replace(&"07".repeat(32), "zz");
    assert!(serde_json::from_str::<RegistryCommand>(&bad_key).is_err());
    let bad_ip = json.replace("10.0.0.1", "10.0.0.300");
    assert!(serde_json::from_str::<RegistryCommand>(&bad_ip).is_err());
    let extra = json.replacen('{', "{\"extra\":1,", 1);
    assert!(serde_json::from_str::<RegistryCommand>(&extra).is_err());
}

fn arb_command() -> impl Strategy<Value = RegistryCommand> {
    let name = prop_oneof![
        Just("a"),
        Just("web-1"),
        Just("web-2"),
        Just("db-1"),
        Just("db-2")
    ];
    let ip = prop_oneof![Just("any"), Just("10.0.0.1"), Just("10.0.0.2")];
    let grp = prop_oneof![Just("default"), Just("web"), Just("db"), Just("..")];
    prop_oneof![
        (
            proptest::option::of(0u32..8),
            name,
            ip,
            proptest::collection::vec(grp.clone(), 0..3)
        )
            .prop_map(|(id, n, ip, g)| register(id, n, ip, &g)),
        (0u32..8).prop_map(|id| RegistryCommand::DeleteAgent { id: AgentId(id) }),
        grp.clone().prop_map(group),
        (0u32..8, grp.clone()).prop_map(|(id, g)| RegistryCommand::AssignGroup {
            id: AgentId(id),
            group: g.into()
        }),
        (0u32..8, grp).prop_map(|(id, g)| RegistryCommand::UnassignGroup {
            id: AgentId(id),
            group: g.into()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Two replicas that apply the same commands agree on every answer and end equal; a
    /// refused command leaves the registry as it was; the snapshot form reads back equal
    /// (with its name and IP indexes rebuilt: later commands answer the same on both).
    #[test]
    fn replicas_agree_and_refusals_change_nothing(
        commands in proptest::collection::vec(arb_command(), 1..60)
    ) {
        let mut left = Registry::default();
        let mut right = Registry::default();
        for command in &commands {
            let before = left.clone();
            let answer = left.apply(command);
            prop_assert_eq!(&answer, &right.apply(command));
            if answer.is_err() {
                prop_assert_eq!(&left, &before);
            }
            let names: std::collections::BTreeSet<_> =
                left.data().agents.values().map(|a| &a.name).collect();
            prop_assert_eq!(names.len(), left.data().agents.len(), "names stay unique");
            let ips: Vec<_> = left.data().agents.values().filter(|a| a.ip != AgentIp::Any).map(|a| a.ip).collect();
            let distinct: std::collections::HashSet<_> = ips.iter().collect();
            prop_assert_eq!(distinct.len(), ips.len(), "IPs other than any stay unique");
        }
        let mut restored: Registry =
            serde_json::from_slice(&serde_json::to_vec(&left).expect("encodes")).expect("decodes");
        prop_assert_eq!(&restored, &left);
        for command in &commands {
            prop_assert_eq!(restored.apply(command), left.apply(command));
        }
        prop_assert_eq!(restored, left);
    }
}
