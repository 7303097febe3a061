//! Master failover, the worker's side: a node that is not the master refuses `hello` with 3070
//! naming the master ([`serve_redirects`]), and the worker connects there at once; while no
//! master is elected, the worker keeps retrying.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use wazuh_cluster_core::redirect::serve_redirects;
use wazuh_cluster_core::session::Router;
use wazuh_cluster_core::testing::SimNet;
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimCluster};
use wazuh_cluster_core::{Connection, Connector, TransportError, WorkerBuilder, WorkerConfig};
use wazuh_cluster_proto::payload::MasterLocation;

/// A connector that starts at `first` and goes where it is told to follow.
struct Following {
    net: SimNet,
    from: IpAddr,
    target: Mutex<SocketAddr>,
}

#[async_trait]
impl Connector for Following {
    async fn connect(&self) -> Result<Connection, TransportError> {
        let to = *self.target.lock().unwrap();
        self.net
            .connect(self.from, to)
            .await
            .map_err(|e| TransportError::new(to, e))
    }

    fn follow(&self, master: &MasterLocation) {
        *self.target.lock().unwrap() = master.address.parse().expect("an address");
    }
}

const STANDBY: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 50)), 1516);

#[tokio::test(start_paused = true)]
async fn a_worker_sent_to_a_standby_node_follows_it_to_the_master() {
    let sim = SimCluster::builder(SimCluster::seed_from_env(95))
        .workers(0)
        .build();
    let (leader, master) = watch::channel(None::<MasterLocation>);
    let standby = sim.net().listen(STANDBY);
    tokio::spawn(serve_redirects(
        standby,
        master,
        sim.clock().clone(),
        "Standby",
        Router::new(),
    ));
    let connector = Arc::new(Following {
        net: sim.net().clone(),
        from: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 60)),
        target: Mutex::new(STANDBY),
    });
    let worker = WorkerBuilder::new(
        WorkerConfig::new("worker09", "wazuh", "4.9.2"),
        sim.clock().clone(),
        connector.clone(),
    )
    .seed(1)
    .build();
    let handle = worker.handle();
    tokio::spawn(worker.run());

    // No master elected: refused with 3070 and no location, the worker stays where it is.
    sim.run_for(Duration::from_secs(5)).await;
    let refused = handle.status().last_handshake_error.expect("refused");
    sim.check(refused.code == 3070, format!("refusal: {refused}"));
    sim.check(
        *connector.target.lock().unwrap() == STANDBY,
        "no master to follow yet",
    );

    // A master is elected: the next hello is redirected and the worker joins it at once.
    leader.send_replace(Some(MasterLocation {
        name: MASTER_NAME.to_owned(),
        address: sim.master_addr().to_string(),
    }));
    let joined = sim
        .run_until(Duration::from_secs(30), |s| {
            s.master().worker_names() == ["worker09"]
        })
        .await;
    sim.check(joined, "the worker followed the redirection to the master");
    sim.check(
        *connector.target.lock().unwrap() == sim.master_addr(),
        "the connector follows the master",
    );
    sim.check(handle.status().connected, "connected");
}
