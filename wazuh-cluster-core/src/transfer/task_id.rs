//! Task ids as Wazuh makes them (`str(uuid4())`), from the node's seeded generator so simulated
//! runs replay.

use rand::Rng;

/// A random version-4 UUID in its hyphenated text form.
pub fn new_task_id(rng: &mut impl Rng) -> String {
    let mut bytes: [u8; 16] = rng.random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use wazuh_cluster_proto::payload::TaskId;

    use super::*;

    #[test]
    fn ids_are_uuid4_that_the_wire_accepts() {
        let mut rng = StdRng::seed_from_u64(1);
        let id = new_task_id(&mut rng);
        assert_eq!(TaskId::parse(&id).unwrap(), TaskId::Uuid(id.clone()));
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, new_task_id(&mut rng));
    }
}
