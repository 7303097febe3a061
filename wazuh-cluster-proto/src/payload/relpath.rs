//! Relative paths as they travel in containers, metadata tables and `*_e` commands.
//!
//! A valid relative path is non-empty UTF-8 made of `/`-separated components, none of them empty,
//! `.` or `..`, without NUL or backslash, and not starting with `/`. Refusing `.` and empty
//! components (not only `..`) means one file has exactly one spelling, so duplicates are
//! detectable and nothing can step outside the folder it is joined to.

/// Why a relative path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelPathError {
    /// The path is empty.
    #[error("path is empty; expected a relative path such as etc/client.keys")]
    Empty,
    /// The path starts with `/`.
    #[error("path {path:?} is absolute; expected a path relative to the Wazuh home")]
    Absolute {
        /// The refused path.
        path: String,
    },
    /// The path holds a NUL byte or a backslash.
    #[error("path {path:?} contains the forbidden character {bad:?}")]
    ForbiddenChar {
        /// The refused path.
        path: String,
        /// The forbidden character.
        bad: char,
    },
    /// The path has an empty, `.` or `..` component.
    #[error(
        "path {path:?} has the component {component:?}; use a plain path without '.', '..' or '//'"
    )]
    BadComponent {
        /// The refused path.
        path: String,
        /// The refused component.
        component: String,
    },
}

/// Checks `path` against the rules above.
pub fn validate_relpath(path: &str) -> Result<(), RelPathError> {
    if path.is_empty() {
        return Err(RelPathError::Empty);
    }
    if path.starts_with('/') {
        return Err(RelPathError::Absolute {
            path: path.to_owned(),
        });
    }
    if let Some(bad) = path.chars().find(|c| *c == '\0' || *c == '\\') {
        return Err(RelPathError::ForbiddenChar {
            path: path.to_owned(),
            bad,
        });
    }
    if let Some(component) = path
        .split('/')
        .find(|c| c.is_empty() || *c == "." || *c == "..")
    {
        return Err(RelPathError::BadComponent {
            path: path.to_owned(),
            component: component.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_and_aliases() {
        assert!(validate_relpath("etc/shared/default/agent.conf").is_ok());
        assert_eq!(validate_relpath(""), Err(RelPathError::Empty));
        assert!(matches!(
            validate_relpath("/etc/passwd"),
            Err(RelPathError::Absolute { .. })
        ));
        for bad in ["../x", "a/../b", "a/./b", "a//b", "a/", "."] {
            assert!(
                matches!(
                    validate_relpath(bad),
                    Err(RelPathError::BadComponent { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            validate_relpath("a\\b"),
            Err(RelPathError::ForbiddenChar { bad: '\\', .. })
        ));
        assert!(matches!(
            validate_relpath("a\0b"),
            Err(RelPathError::ForbiddenChar { bad: '\0', .. })
        ));
    }
}
