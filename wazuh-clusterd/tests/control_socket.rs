//! The local control socket in process: framing, commands, errors, file mode.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wazuh_cluster_core::agents::{AgentsConfig, MasterAgents, MemoryAgentStore, WorkerAgents};
use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::memory::MemoryFileSource;
use wazuh_cluster_core::integrity::{MasterIntegrity, WorkerIntegrity};
use wazuh_cluster_core::testing::{MemoryStorage, MemorySyncStates};
use wazuh_cluster_core::{
    Connector, IntegrityConfig, MasterBuilder, MasterConfig, WorkerBuilder, WorkerConfig,
};
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;
use wazuh_clusterd::clock::SystemClock;
use wazuh_clusterd::control::client::{ClientError, execute};
use wazuh_clusterd::control::server::ControlServer;
use wazuh_clusterd::control::{
    ControlContext, ControlNode, MasterView, WorkerView, commands, socket_path,
};
use wazuh_clusterd::net::TcpConnector;

const TIMEOUT: Duration = Duration::from_secs(10);

fn files() -> Arc<MemoryFileSource> {
    Arc::new(MemoryFileSource::new(ClusterItems::wazuh_default()))
}

fn master_context() -> ControlContext {
    let config = MasterConfig::new("master01", "wazuh", "4.9.2");
    let mut master = MasterBuilder::new(
        config,
        Arc::new(SystemClock::new()),
        Arc::new(MemoryStorage::new()),
    );
    let store = Arc::new(MemoryAgentStore::new());
    let integrity = master
        .module(|ctx| {
            MasterIntegrity::new(
                ctx,
                files(),
                Arc::new(MemorySyncStates::new()),
                IntegrityConfig::default(),
            )
        })
        .unwrap();
    let agents = master
        .module(|ctx| {
            MasterAgents::new(
                ctx,
                store.clone(),
                files(),
                AgentsConfig::default(),
                Some(1),
            )
        })
        .unwrap();
    ControlContext {
        node: ControlNode::Master(MasterView {
            handle: master.handle(),
            agents,
            integrity,
        }),
        agent_store: store,
    }
}

fn serve(home: &Path, ctx: ControlContext) -> tokio::task::JoinHandle<()> {
    let server = ControlServer::bind(&socket_path(home)).expect("bind");
    let (_, contexts) = tokio::sync::watch::channel(ctx);
    tokio::spawn(server.serve(commands::router(), contexts, SystemClock::new()))
}

async fn ask(home: &Path, command: Command, payload: &str) -> Result<String, ClientError> {
    execute(home, command, payload.to_owned(), TIMEOUT)
        .await
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
}

#[tokio::test]
async fn master_answers_nodes_health_and_echo_on_a_0660_socket() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), master_context());
    let mode = std::fs::metadata(socket_path(home.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);

    let nodes: serde_json::Value =
        serde_json::from_str(&ask(home.path(), names::GET_NODES, "{}").await.unwrap()).unwrap();
    assert_eq!(nodes["totalItems"], 1);
    assert_eq!(nodes["items"][0]["name"], "master01");
    assert_eq!(nodes["items"][0]["type"], "master");

    let health: serde_json::Value =
        serde_json::from_str(&ask(home.path(), names::GET_HEALTH, "null").await.unwrap()).unwrap();
    assert_eq!(health["n_connected_nodes"], 0);
    assert_eq!(health["nodes"]["master01"]["info"]["type"], "master");

    assert_eq!(
        ask(home.path(), names::ECHO_C, "keepalive").await.unwrap(),
        "keepalive"
    );

    server.abort();
    let _ = server.await;
    assert!(
        !socket_path(home.path()).exists(),
        "the socket file outlived the server"
    );
}

#[tokio::test]
async fn unknown_command_gets_wazuhs_plain_text_err() {
    let home = tempfile::tempdir().unwrap();
    let _server = serve(home.path(), master_context());
    let error = ask(home.path(), Command::new(b"get_config").unwrap(), "")
        .await
        .unwrap_err();
    let ClientError::Daemon(error) = error else {
        panic!("expected an err reply, got {error:?}")
    };
    assert_eq!(error.code, 3000);
    assert_eq!(
        error.extra_message.as_deref(),
        Some("unknown command 'b'get_config''")
    );
}

#[tokio::test]
async fn bad_arguments_get_wazuh_error_codes() {
    let home = tempfile::tempdir().unwrap();
    let _server = serve(home.path(), master_context());
    let error = ask(
        home.path(),
        names::GET_NODES,
        r#"{"filter_node": ["nobody"]}"#,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ClientError::Daemon(e) if e.code == 1730),
        "{error:?}"
    );
    let error = ask(home.path(), names::GET_HEALTH, "{broken")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ClientError::Daemon(e) if e.code == 3036),
        "{error:?}"
    );
}

#[tokio::test]
async fn worker_without_master_answers_3023() {
    let home = tempfile::tempdir().unwrap();
    let fernet =
        wazuh_cluster_proto::Fernet::from_cluster_key("abcdefghijklmnopqrstuvwxyz012345").unwrap();
    let port = wazuh_clusterd::demo::free_port().unwrap();
    let connector: Arc<dyn Connector> = Arc::new(TcpConnector::new(
        "127.0.0.1",
        port,
        fernet,
        SystemClock::new(),
        "Worker w1",
    ));
    let mut worker = WorkerBuilder::new(
        WorkerConfig::new("w1", "wazuh", "4.9.2"),
        Arc::new(SystemClock::new()),
        connector,
    );
    let store = Arc::new(MemoryAgentStore::new());
    let integrity = worker
        .module(|ctx| WorkerIntegrity::new(ctx, files(), IntegrityConfig::default()))
        .unwrap();
    let agents = worker
        .module(|ctx| {
            WorkerAgents::new(
                ctx,
                store.clone(),
                files(),
                AgentsConfig::default(),
                Some(1),
            )
        })
        .unwrap();
    let ctx = ControlContext {
        node: ControlNode::Worker(WorkerView {
            handle: worker.handle(),
            agents,
            integrity,
        }),
        agent_store: store,
    };
    let _server = serve(home.path(), ctx);
    let error = ask(home.path(), names::GET_NODES, "{}").await.unwrap_err();
    assert!(
        matches!(&error, ClientError::Daemon(e) if e.code == 3023),
        "{error:?}"
    );
}

#[tokio::test]
async fn missing_socket_means_not_running() {
    let home = tempfile::tempdir().unwrap();
    let error = ask(home.path(), names::GET_NODES, "{}").await.unwrap_err();
    assert!(matches!(error, ClientError::NotRunning { .. }), "{error:?}");
    assert_eq!(error.to_string(), "Cluster is not running.");
}
