//! `wazuh-clusterd`: the reference daemon of the Wazuh manager cluster.

fn main() {
    println!("wazuh-clusterd {}", env!("CARGO_PKG_VERSION"));
}
