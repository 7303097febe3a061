//! The Wazuh manager cluster: master and worker state machines (handshake, keepalive, integrity
//! sync, agent-info, agent-groups, agent registry) behind the `Storage`, `FileSource`, `Clock` and
//! transport traits. In-memory implementations and a deterministic multi-node harness come with
//! the `testing` feature.
