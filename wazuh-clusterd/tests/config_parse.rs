//! `<cluster>` parsing: good files, every kind of bad value, 3.x node lists, warnings.

use std::net::IpAddr;
use std::time::Duration;

use wazuh_clusterd::config::{
    Cluster, ClusterConfig, ConfigError, ConfigWarning, DisabledBy, FieldError, KeyError,
    LoadedConfig, LogRotation, NodeAddress, NodeHost, NodeType, Operations, VersionCheck,
    parse_str,
};

const KEY: &str = "c98b62a9b6169ac5f67dae55ae4a9088";

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Local addresses of a machine that owns nothing the tests list.
const NO_LOCAL: [IpAddr; 0] = [];

fn cluster(body: &str) -> String {
    format!("<ossec_config>\n<cluster>\n{body}\n</cluster>\n</ossec_config>\n")
}

fn enabled(loaded: LoadedConfig) -> ClusterConfig {
    match loaded.cluster {
        Cluster::Enabled(config) => *config,
        other => panic!("expected an enabled cluster, got {other:?}"),
    }
}

fn problems(xml: &str) -> Vec<FieldError> {
    match parse_str(xml, &NO_LOCAL) {
        Err(ConfigError::Invalid { errors, .. }) => errors,
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[test]
fn a_full_manager_file_with_other_blocks_comments_and_two_roots() {
    let xml = format!(
        r#"<!--
  Wazuh - Manager - Default configuration
-->
<ossec_config>
  <global>
    <jsonout_output>yes</jsonout_output>
    <email_to>ops&amp;sec@example.com</email_to>
  </global>
  <!-- <cluster><name>commented out</name></cluster> -->
  <ruleset><rule_dir>ruleset/rules</rule_dir></ruleset>
</ossec_config>

<ossec_config>
  <cluster>
    <name>prod&#45;cluster</name>
    <node_name>master01</node_name>
    <node_type>master</node_type>
    <key>{KEY}</key>
    <port>1517</port>
    <bind_addr>192.168.56.101</bind_addr>
    <nodes>
        <!-- the master -->
        <node>127.0.0.1</node>
    </nodes>
    <hidden>yes</hidden>
    <disabled>no</disabled>
    <version>4.9.0</version>
    <version_check>minor</version_check>
    <intervals>
      <keep_alive>500ms</keep_alive>
      <max_failed_keepalive_attempts>3</max_failed_keepalive_attempts>
    </intervals>
  </cluster>
</ossec_config>
"#
    );
    let loaded = parse_str(&xml, &NO_LOCAL).unwrap();
    assert_eq!(loaded.warnings, vec![]);
    let config = enabled(loaded);
    assert_eq!(config.name, "prod-cluster");
    assert_eq!(config.node_name, "master01");
    assert_eq!(config.node_type, NodeType::Master);
    assert_eq!(config.key.as_str(), KEY);
    assert_eq!(config.port, 1517);
    assert_eq!(config.bind_addr, ip("192.168.56.101"));
    assert_eq!(config.nodes, vec![NodeAddress::ip(ip("127.0.0.1"))]);
    assert_eq!(config.own_node, None);
    assert!(config.hidden);
    assert_eq!(config.version, "4.9.0");
    assert_eq!(config.version_check, VersionCheck::Minor);
    assert_eq!(config.intervals.keep_alive, Duration::from_millis(500));
    assert_eq!(config.intervals.max_failed_keepalive_attempts, 3);
    assert_eq!(config.intervals.sync_integrity, Duration::from_secs(9));
}

#[test]
fn defaults_of_a_minimal_worker() {
    let xml = cluster(&format!(
        "<node_type>worker</node_type><key>{KEY}</key><nodes><node>master.example.com</node></nodes>"
    ));
    let config = enabled(parse_str(&xml, &NO_LOCAL).unwrap());
    assert_eq!(config.name, "wazuh");
    assert_eq!(config.node_name, "node01");
    assert_eq!(config.node_type, NodeType::Worker);
    assert_eq!(config.port, 1516);
    assert_eq!(config.bind_addr, ip("0.0.0.0"));
    assert_eq!(
        config.master_address(),
        &NodeAddress::name("master.example.com")
    );
    assert!(!config.hidden);
    assert_eq!(config.version, "4.9.2");
    assert_eq!(config.version_check, VersionCheck::Exact);
}

#[test]
fn client_is_a_worker_and_the_3x_interval_sets_the_sync_periods() {
    let xml = cluster(&format!(
        "<node_type>client</node_type><key>{KEY}</key><interval>2m</interval>\
         <nodes><node>10.0.0.1</node></nodes>"
    ));
    let config = enabled(parse_str(&xml, &NO_LOCAL).unwrap());
    assert_eq!(config.node_type, NodeType::Worker);
    assert_eq!(config.intervals.sync_integrity, Duration::from_secs(120));
    assert_eq!(config.intervals.sync_agent_info, Duration::from_secs(120));
    assert_eq!(
        config.intervals.recalculate_integrity,
        Duration::from_secs(120)
    );
}

#[test]
fn intervals_override_the_3x_interval() {
    let xml = cluster(&format!(
        "<key>{KEY}</key><interval>30s</interval><nodes><node>10.0.0.1</node></nodes>\
         <intervals><sync_integrity>1s</sync_integrity></intervals>"
    ));
    let config = enabled(parse_str(&xml, &NO_LOCAL).unwrap());
    assert_eq!(config.intervals.sync_integrity, Duration::from_secs(1));
    assert_eq!(config.intervals.sync_agent_info, Duration::from_secs(30));
}

#[test]
fn intervals_set_the_agent_timers() {
    let xml = cluster(&format!(
        "<key>{KEY}</key><nodes><node>10.0.0.1</node></nodes>\
         <intervals><agent_group_start_delay>500ms</agent_group_start_delay>\
         <agents_disconnection_time>2m</agents_disconnection_time>\
         <keys_check_interval>1.5</keys_check_interval></intervals>"
    ));
    let config = enabled(parse_str(&xml, &NO_LOCAL).unwrap());
    assert_eq!(
        config.intervals.agent_group_start_delay,
        Duration::from_millis(500)
    );
    assert_eq!(
        config.intervals.agents_disconnection_time,
        Duration::from_secs(120)
    );
    assert_eq!(
        config.intervals.keys_check_interval,
        Duration::from_millis(1500)
    );
    let defaults = enabled(
        parse_str(
            &cluster(&format!(
                "<key>{KEY}</key><nodes><node>10.0.0.1</node></nodes>"
            )),
            &NO_LOCAL,
        )
        .unwrap(),
    );
    assert_eq!(
        defaults.intervals.agent_group_start_delay,
        Duration::from_secs(30)
    );
    assert_eq!(
        defaults.intervals.agents_disconnection_time,
        Duration::from_secs(600)
    );
    assert_eq!(
        defaults.intervals.keys_check_interval,
        Duration::from_secs(2)
    );
    let bad = problems(&cluster(&format!(
        "<key>{KEY}</key><nodes><node>10.0.0.1</node></nodes>\
         <intervals><agent_group_start_delay>0</agent_group_start_delay></intervals>"
    )));
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].to_string().contains("agent_group_start_delay"),
        "{}",
        bad[0]
    );
}

#[test]
fn no_cluster_block_means_disabled() {
    let loaded = parse_str("<ossec_config><global/></ossec_config>", &NO_LOCAL).unwrap();
    assert_eq!(
        loaded.cluster,
        Cluster::Disabled(DisabledBy::NoClusterBlock)
    );
}

#[test]
fn disabled_yes_needs_neither_key_nor_nodes() {
    let loaded = parse_str(&cluster("<disabled>yes</disabled>"), &NO_LOCAL).unwrap();
    assert_eq!(loaded.cluster, Cluster::Disabled(DisabledBy::DisabledTag));
}

#[test]
fn disabled_still_reports_bad_values() {
    let errors = problems(&cluster("<disabled>yes</disabled><port>80</port>"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        matches!(&errors[0], FieldError::Invalid { field, value, .. } if field == "port" && value == "80")
    );
}

#[test]
fn an_enabled_cluster_needs_key_and_nodes() {
    let errors = problems(&cluster("<name>wazuh</name>"));
    assert_eq!(
        errors,
        vec![
            FieldError::Missing {
                field: "key",
                allowed: "set <key> to 32 letters or digits (`wazuh-clusterd keygen` prints one)",
            },
            FieldError::Missing {
                field: "nodes",
                allowed: "list the master's address: <nodes><node>MASTER_IP</node></nodes>",
            },
        ]
    );
}

/// One bad value of every kind, all reported at once, each naming field, value and what is allowed.
#[test]
fn every_bad_value_is_reported_at_once() {
    let xml = cluster(
        "<name>bad/name</name>
<node_name></node_name>
<node_type>boss</node_type>
<key>tooshort</key>
<interval>5h</interval>
<port>80</port>
<bind_addr>somewhere</bind_addr>
<hidden>maybe</hidden>
<disabled>perhaps</disabled>
<version>v4</version>
<version_check>major</version_check>
<intervals><keep_alive>soon</keep_alive></intervals>
<nodes>
<node>10.0.0.1</node>
<node>localhost</node>
<node>10.0.0.1</node>
<node>bad_host!</node>
</nodes>",
    );
    let errors = problems(&xml);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let expect = [
        r#"name = "bad/name" (line 3): '/' is not allowed"#,
        r#"node_name = "" (line 4): a non-empty name"#,
        r#"node_type = "boss" (line 5): master or worker (3.x: client)"#,
        "key (line 6): the key is 8 characters long; it must be exactly 32 letters or digits",
        r#"interval = "5h" (line 7): a positive whole number followed by s or m"#,
        r#"port = "80" (line 8): a whole number from 1025 to 65535"#,
        r#"bind_addr = "somewhere" (line 9): an IPv4 or IPv6 address"#,
        r#"hidden = "maybe" (line 10): yes or no"#,
        r#"disabled = "perhaps" (line 11): yes or no"#,
        r#"version = "v4" (line 12): a Wazuh version MAJOR.MINOR.PATCH"#,
        r#"version_check = "major" (line 13): exact or minor"#,
        r#"intervals/keep_alive = "soon" (line 14): a positive number with an optional unit"#,
        r#"nodes/node = "localhost" (line 17): reserved placeholder"#,
        r#"nodes/node = "10.0.0.1" (line 18): listed twice (first on line 16)"#,
        r#"nodes/node = "bad_host!" (line 19): an IP address or a host name"#,
    ];
    for wanted in expect {
        assert!(
            text.iter().any(|t| t.starts_with(wanted)),
            "no problem starts with {wanted:?} in {text:#?}"
        );
    }
    assert_eq!(errors.len(), expect.len(), "{text:#?}");
}

#[test]
fn names_take_wazuh_characters_only() {
    let with_name = |name: &str| {
        cluster(&format!(
            "<node_name>{name}</node_name><key>{KEY}</key><nodes><node>10.0.0.1</node></nodes>"
        ))
    };
    let errors = problems(&with_name("node 01"));
    assert!(
        matches!(&errors[..], [FieldError::Invalid { field, value, allowed, .. }]
            if field == "node_name" && value == "node 01" && allowed.starts_with("' ' is not allowed")),
        "{errors:?}"
    );
    let config = enabled(parse_str(&with_name("worker-01_a.b"), &NO_LOCAL).unwrap());
    assert_eq!(config.node_name, "worker-01_a.b");
}

#[test]
fn port_out_of_range_and_not_a_number() {
    for bad in ["1024", "65536", "abc", "-1", ""] {
        let xml = cluster(&format!(
            "<key>{KEY}</key><nodes><node>10.0.0.1</node></nodes><port>{bad}</port>"
        ));
        let errors = problems(&xml);
        assert!(
            matches!(&errors[..], [FieldError::Invalid { field, value, .. }] if field == "port" && value == bad),
            "{bad:?}: {errors:?}"
        );
    }
    for good in ["1025", "65535"] {
        let xml = cluster(&format!(
            "<key>{KEY}</key><nodes><node>10.0.0.1</node></nodes><port>{good}</port>"
        ));
        assert!(parse_str(&xml, &NO_LOCAL).is_ok(), "{good}");
    }
}

#[test]
fn key_errors_give_length_or_bad_character_but_never_the_key() {
    let with_key = |key: &str| {
        cluster(&format!(
            "<key>{key}</key><nodes><node>10.0.0.1</node></nodes>"
        ))
    };
    let errors = problems(&with_key("c98b62a9b6169ac5f67dae55ae4a908-"));
    assert_eq!(
        errors,
        vec![FieldError::Key {
            source: KeyError::Character {
                character: '-',
                position: 32
            },
            line: 3
        }]
    );
    assert!(!errors[0].to_string().contains("c98b62a9"));
    let errors = problems(&with_key(&format!("{KEY}0")));
    assert_eq!(
        errors,
        vec![FieldError::Key {
            source: KeyError::Length { length: 33 },
            line: 3
        }]
    );
    let errors = problems(&with_key(""));
    assert_eq!(
        errors,
        vec![FieldError::Key {
            source: KeyError::Empty,
            line: 3
        }]
    );
}

#[test]
fn reserved_nodes_are_refused_but_127_0_0_1_is_allowed() {
    for reserved in ["localhost", "NODE_IP", "0.0.0.0", "127.0.1.1"] {
        let xml = cluster(&format!(
            "<key>{KEY}</key><nodes><node>{reserved}</node></nodes>"
        ));
        assert!(
            matches!(&problems(&xml)[..], [FieldError::ReservedNode { value, .. }] if value == reserved),
            "{reserved}"
        );
    }
    let xml = cluster(&format!(
        "<key>{KEY}</key><nodes><node>127.0.0.1</node></nodes>"
    ));
    assert!(parse_str(&xml, &NO_LOCAL).is_ok());
}

#[test]
fn duplicate_nodes_compare_addresses_not_spelling() {
    let xml = cluster(&format!(
        "<key>{KEY}</key><nodes>\n<node>::1</node>\n<node>0:0:0:0:0:0:0:1</node>\n</nodes>"
    ));
    assert_eq!(
        problems(&xml),
        vec![FieldError::DuplicateNode {
            value: "0:0:0:0:0:0:0:1".to_string(),
            line: 5,
            first_line: 4
        }]
    );
}

fn three_x(node_type: &str, nodes: &[&str]) -> String {
    let nodes: String = nodes.iter().map(|n| format!("<node>{n}</node>")).collect();
    cluster(&format!(
        "<node_type>{node_type}</node_type><key>{KEY}</key><nodes>{nodes}</nodes>"
    ))
}

#[test]
fn a_3x_worker_finds_itself_through_its_addresses() {
    let xml = three_x(
        "client",
        &["192.168.56.101", "192.168.56.102", "192.168.56.103"],
    );
    let local = [ip("127.0.0.1"), ip("192.168.56.103")];
    let config = enabled(parse_str(&xml, &local).unwrap());
    assert_eq!(config.own_node, Some(2));
    assert_eq!(
        config.master_address(),
        &NodeAddress::ip(ip("192.168.56.101"))
    );
}

#[test]
fn a_3x_master_must_be_the_first_entry() {
    let xml = three_x("master", &["192.168.56.101", "192.168.56.102"]);
    let config = enabled(parse_str(&xml, &[ip("192.168.56.101")]).unwrap());
    assert_eq!(config.own_node, Some(0));
    match parse_str(&xml, &[ip("192.168.56.102")]) {
        Err(ConfigError::Invalid { errors, .. }) => assert_eq!(
            errors,
            vec![FieldError::MasterNotFirst {
                listed: "192.168.56.101, 192.168.56.102".to_string(),
                own: "192.168.56.102".to_string()
            }]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_3x_node_not_in_the_list_is_an_error_and_host_names_never_match() {
    let xml = three_x("worker", &["master.example.com", "192.168.56.102"]);
    match parse_str(&xml, &[ip("10.9.9.9")]) {
        Err(ConfigError::Invalid { errors, .. }) => assert_eq!(
            errors,
            vec![FieldError::SelfNotFound {
                listed: "master.example.com, 192.168.56.102".to_string()
            }]
        ),
        other => panic!("{other:?}"),
    }
    let config = enabled(parse_str(&xml, &[ip("192.168.56.102")]).unwrap());
    assert_eq!(config.own_node, Some(1));
}

#[test]
fn unknown_and_repeated_tags_are_warnings() {
    let xml = format!(
        "<ossec_config><cluster>\n<key>{KEY}</key>\n<socket_timeout>5</socket_timeout>\n\
         <nodes><node>10.0.0.1</node><peer>x</peer></nodes>\n\
         <intervals><nap>1s</nap></intervals>\n<port>1516</port>\n</cluster>\n\
         <cluster>\n<port>1600</port>\n</cluster></ossec_config>"
    );
    let loaded = parse_str(&xml, &NO_LOCAL).unwrap();
    assert_eq!(
        loaded.warnings,
        vec![
            ConfigWarning::UnknownTag {
                tag: "socket_timeout".to_string(),
                parent: "cluster".to_string(),
                line: 3
            },
            ConfigWarning::UnknownTag {
                tag: "peer".to_string(),
                parent: "nodes".to_string(),
                line: 4
            },
            ConfigWarning::UnknownTag {
                tag: "nap".to_string(),
                parent: "intervals".to_string(),
                line: 5
            },
            ConfigWarning::Repeated {
                tag: "port".to_string(),
                line: 9
            },
        ]
    );
    assert_eq!(enabled(loaded).port, 1600);
}

#[test]
fn malformed_xml_names_the_line() {
    let xml = "<ossec_config>\n<cluster>\n<port>1516</prt>\n</cluster>\n</ossec_config>";
    match parse_str(xml, &NO_LOCAL) {
        Err(ConfigError::Xml { line, .. }) => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    match parse_str("<ossec_config><cluster><port>1516", &NO_LOCAL) {
        Err(ConfigError::Xml { message, .. }) => assert!(message.contains("port"), "{message}"),
        other => panic!("{other:?}"),
    }
}

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    fn valid_file() -> String {
        cluster(&format!(
            "<name>wazuh</name><node_type>client</node_type><key>{KEY}</key>\
             <interval>2m</interval><port>1516</port><bind_addr>0.0.0.0</bind_addr>\
             <nodes><node>10.0.0.1</node><node>10.0.0.2</node></nodes><hidden>no</hidden>\
             <intervals><keep_alive>1.5s</keep_alive></intervals>"
        ))
    }

    proptest! {
        #[test]
        fn on_arbitrary_text(text in any::<String>()) {
            let _ = parse_str(&text, &NO_LOCAL);
        }

        #[test]
        fn on_a_valid_file_with_one_splice(at in 0usize..400, cut in 0usize..20, insert in ".{0,12}") {
            let file = valid_file();
            let at = (0..=at.min(file.len())).rev().find(|i| file.is_char_boundary(*i)).unwrap_or(0);
            let end = (at + cut).min(file.len());
            let end = (end..=file.len()).find(|i| file.is_char_boundary(*i)).unwrap_or(file.len());
            let mutated = format!("{}{}{}", &file[..at], insert, &file[end..]);
            let _ = parse_str(&mutated, &[ip("10.0.0.2")]);
        }
    }
}

#[test]
fn an_invalid_file_still_reports_its_unknown_tags() {
    let xml = cluster(&format!(
        "<key>{KEY}</key>\n<nodes><node>10.0.0.1</node></nodes>\n<port>80</port>\n<colour>red</colour>"
    ));
    match parse_str(&xml, &NO_LOCAL) {
        Err(error @ ConfigError::Invalid { .. }) => {
            assert_eq!(error.problems().len(), 1, "{error}");
            assert_eq!(
                error.warnings(),
                [ConfigWarning::UnknownTag {
                    tag: "colour".to_string(),
                    parent: "cluster".to_string(),
                    line: 6
                }]
            );
        }
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[test]
fn nodes_take_an_optional_port() {
    // A 3.x-style worker finds itself by address and port: [::1]:1518 on <port>1518.
    let xml = three_x(
        "worker",
        &["127.0.0.1:1517", "[::1]:1518", "master.example.com:1600"],
    )
    .replace("<key>", "<port>1518</port><key>");
    let config = enabled(parse_str(&xml, &[ip("::1")]).unwrap());
    assert_eq!(config.own_node, Some(1));
    assert_eq!(
        config.nodes,
        vec![
            NodeAddress {
                host: NodeHost::Ip(ip("127.0.0.1")),
                port: Some(1517)
            },
            NodeAddress {
                host: NodeHost::Ip(ip("::1")),
                port: Some(1518)
            },
            NodeAddress {
                host: NodeHost::Name("master.example.com".to_string()),
                port: Some(1600)
            },
        ]
    );
    assert_eq!(config.nodes[1].to_string(), "[::1]:1518");
    assert_eq!(config.master_address().port_or(config.port), 1517);
    assert_eq!(NodeAddress::ip(ip("10.0.0.1")).port_or(1516), 1516);
    assert!(!config.failover);
    for bad in ["127.0.0.1:80", "127.0.0.1:x", "[::1]", "a b:1516", "host:"] {
        let errors = problems(&three_x("worker", &[bad]));
        assert!(
            matches!(&errors[..], [FieldError::Invalid { field, value, .. }]
                if field == "nodes/node" && value == bad),
            "{bad}: {errors:?}"
        );
    }
}

fn failover(node_type: &str, port: u16, nodes: &[&str]) -> String {
    let nodes: String = nodes.iter().map(|n| format!("<node>{n}</node>")).collect();
    cluster(&format!(
        "<node_type>{node_type}</node_type><key>{KEY}</key><port>{port}</port>\
         <failover>yes</failover><nodes>{nodes}</nodes>"
    ))
}

#[test]
fn with_failover_a_master_eligible_node_finds_itself_by_address_and_port() {
    let members = ["127.0.0.1:1516", "127.0.0.1:1517", "127.0.0.1:1518"];
    let local = [ip("127.0.0.1")];
    let config = enabled(parse_str(&failover("master", 1517, &members), &local).unwrap());
    assert!(config.failover);
    assert_eq!(config.own_node, Some(1));

    let worker = enabled(parse_str(&failover("worker", 1600, &members), &local).unwrap());
    assert!(worker.failover);
    assert_eq!(worker.own_node, None);

    match parse_str(&failover("master", 1600, &members), &local) {
        Err(ConfigError::Invalid { errors, .. }) => assert_eq!(
            errors,
            vec![FieldError::FailoverSelfNotFound {
                listed: members.join(", "),
                port: 1600
            }]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        problems(&failover("master", 1516, &members[..2])),
        vec![FieldError::FailoverTooFewNodes {
            listed: "127.0.0.1:1516, 127.0.0.1:1517".to_string()
        }]
    );
    let errors = problems(&cluster(&format!(
        "<key>{KEY}</key><failover>maybe</failover><nodes><node>10.0.0.1</node></nodes>"
    )));
    assert!(
        matches!(&errors[..], [FieldError::Invalid { field, .. }] if field == "failover"),
        "{errors:?}"
    );
}

#[test]
fn max_message_age_defaults_from_the_timeouts_and_takes_a_duration_or_no() {
    let base = format!("<key>{KEY}</key><nodes><node>10.0.0.1</node></nodes>");
    let config = enabled(parse_str(&cluster(&base), &NO_LOCAL).unwrap());
    assert_eq!(config.max_message_age, Some(Duration::from_secs(300)));
    let longer = cluster(&format!(
        "{base}<intervals><timeout_receiving_file>10m</timeout_receiving_file></intervals>"
    ));
    let config = enabled(parse_str(&longer, &NO_LOCAL).unwrap());
    assert_eq!(config.max_message_age, Some(Duration::from_secs(1260)));
    let set = cluster(&format!("{base}<max_message_age>10m</max_message_age>"));
    let config = enabled(parse_str(&set, &NO_LOCAL).unwrap());
    assert_eq!(config.max_message_age, Some(Duration::from_secs(600)));
    let off = cluster(&format!("{base}<max_message_age>no</max_message_age>"));
    assert_eq!(
        enabled(parse_str(&off, &NO_LOCAL).unwrap()).max_message_age,
        None
    );
    let bad = cluster(&format!("{base}\n<max_message_age>0s</max_message_age>"));
    let text: Vec<String> = problems(&bad).iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(
        text[0].starts_with(r#"max_message_age = "0s" (line 4): no, or a duration of at least 1s"#),
        "{text:?}"
    );
}

#[test]
fn tls_takes_three_paths_and_names_what_is_missing() {
    let base = format!("<key>{KEY}</key><nodes><node>10.0.0.1</node></nodes>");
    let config = enabled(parse_str(&cluster(&base), &NO_LOCAL).unwrap());
    assert_eq!(config.tls, None, "off by default");
    let set = cluster(&format!(
        "{base}<tls><ca>etc/tls/ca.pem</ca><cert>/abs/node.pem</cert><key>etc/tls/node.key</key></tls>"
    ));
    let tls = enabled(parse_str(&set, &NO_LOCAL).unwrap()).tls.unwrap();
    let home = std::path::Path::new("/var/ossec");
    let under = tls.under(home);
    assert_eq!(under.ca, home.join("etc/tls/ca.pem"));
    assert_eq!(under.cert, std::path::Path::new("/abs/node.pem"));
    assert_eq!(under.key, home.join("etc/tls/node.key"));
    let missing = cluster(&format!(
        "{base}\n<tls><ca>ca.pem</ca><cert>n.pem</cert></tls>"
    ));
    let text: Vec<String> = problems(&missing).iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(
        text[0].contains("tls/key") && text[0].contains("<tls> needs <ca>, <cert> and <key>"),
        "{text:?}"
    );
}

#[test]
fn operations_are_off_by_default_and_read_when_given() {
    let base = format!("<key>{KEY}</key><nodes><node>10.0.0.1</node></nodes>");
    let config = enabled(parse_str(&cluster(&base), &NO_LOCAL).unwrap());
    assert_eq!(config.operations, Operations::default());
    assert_eq!(config.operations.metrics_listen, None);
    assert_eq!(config.operations.clock_skew_warning, Duration::from_secs(5));
    assert_eq!(config.operations.log_rotation, LogRotation::None);

    let xml = cluster(&format!(
        "{base}<metrics><listen>127.0.0.1:9516</listen></metrics>\
         <clock_skew_warning>2s</clock_skew_warning><log_rotation>daily</log_rotation>"
    ));
    let loaded = parse_str(&xml, &NO_LOCAL).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let config = enabled(loaded);
    assert_eq!(
        config.operations.metrics_listen,
        Some("127.0.0.1:9516".parse().unwrap())
    );
    assert_eq!(config.operations.clock_skew_warning, Duration::from_secs(2));
    assert_eq!(config.operations.log_rotation, LogRotation::Daily);
}

#[test]
fn bad_operations_values_name_the_field_and_what_is_allowed() {
    let xml = cluster(&format!(
        "<key>{KEY}</key><nodes><node>10.0.0.1</node></nodes>\
         <metrics><listen>localhost</listen><other/></metrics>\
         <clock_skew_warning>soon</clock_skew_warning><log_rotation>weekly</log_rotation>"
    ));
    let text: Vec<String> = problems(&xml).iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 3, "{text:?}");
    assert!(
        text[0].starts_with("metrics/listen = \"localhost\" (line 3): an IP address and a port"),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("clock_skew_warning = \"soon\"") && t.contains("5s")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("log_rotation = \"weekly\"") && t.ends_with("none or daily")),
        "{text:?}"
    );
}
