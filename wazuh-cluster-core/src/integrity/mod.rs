//! File integrity synchronization, master to workers (Wazuh 4.x, protocol section 6): the
//! synchronized items, each node's incremental metadata table, the master's comparison into
//! missing / shared / extra, the bounded sync container with its adaptive size limit, and the
//! worker's atomic apply. The network flow (`syn_i_w_m_p`, `syn_m_c`, ...) calls these.

pub mod hash;
pub mod items;
pub mod schedule;
pub mod table;
