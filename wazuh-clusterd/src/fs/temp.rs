//! Names of the temporary files that atomic writes rename over their target:
//! `.<name>.<16 hex digits>.tmp`, in the target's folder. The `.tmp` ending is one of Wazuh's
//! exclusions, so they are never listed or synchronized.

/// A fresh temporary name for a file named `file_name`.
pub(crate) fn name(file_name: &str) -> String {
    staged_name(file_name, rand::random::<u64>())
}

/// The temporary name of a file named `file_name` staged with `token`.
pub(crate) fn staged_name(file_name: &str, token: u64) -> String {
    format!(".{file_name}.{token:016x}.tmp")
}

/// Whether `name` is one of ours ([`name`]'s shape), so that a leftover can be removed without
/// touching anyone else's `.tmp` file.
pub(crate) fn is_ours(name: &str) -> bool {
    let Some(stem) = name
        .strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".tmp"))
    else {
        return false;
    };
    let Some((file_name, random)) = stem.rsplit_once('.') else {
        return false;
    };
    !file_name.is_empty() && random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_its_own_names() {
        assert!(is_ours(&name("agent.conf")));
        assert!(is_ours(&name("client.keys")));
        assert!(is_ours(".a.0123456789abcdef.tmp"));
        assert!(!is_ours("agent.conf"));
        assert!(!is_ours(".agent.conf.tmp"));
        assert!(!is_ours("x.0123456789abcdef.tmp"));
        assert!(!is_ours("..0123456789abcdef.tmp"));
        assert!(!is_ours(".a.0123456789abcdeg.tmp"));
        assert!(!is_ours(".a.0123456789abcde.tmp"));
    }
}
