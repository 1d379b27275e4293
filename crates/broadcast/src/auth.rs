//! Access tokens and roles.
//!
//! Tokens come from the configuration, stored only as SHA-256 hashes (hex),
//! each with a name (for audit: who acknowledged an alert) and a role:
//! `viewer` reads, `operator` also acknowledges alerts and edits zones and
//! contacts, `admin` may do everything. A presented token is hashed and
//! compared with every stored hash in constant time; the token itself is
//! never stored or logged. An invalid token is refused — never treated as
//! anonymous. Authentication may be off only when the server listens on
//! loopback ([`Auth::check_listen`]).

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// One configured token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it (shown in audit records).
    pub name: String,
    pub role: Role,
    /// SHA-256 of the token, 64 hex digits (`lookout token hash` prints it).
    pub sha256: String,
}

/// Authentication settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Require a token for every request (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Web origins (`https://dashboard.example.org`) whose pages may call
    /// the API from a browser (CORS); `"*"` allows any origin. Empty (the
    /// default): no cross-origin calls. Tokens still apply: CORS only lets
    /// the browser send the request.
    #[serde(default)]
    pub cors_origins: Vec<String>,
}

fn yes() -> bool {
    true
}

/// The caller, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

/// Why a caller was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No token, and one is required.
    Missing,
    /// A token that matches none configured.
    Invalid,
    /// Authenticated, but the role is too low.
    Forbidden,
}

struct Entry {
    name: String,
    role: Role,
    hash: [u8; 32],
}

/// Checks tokens.
pub struct Auth {
    enabled: bool,
    entries: Vec<Entry>,
    cors_origins: Vec<String>,
}

/// SHA-256 of a token, hex (for the configuration file).
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Auth {
    /// Build from configuration; a malformed hash is an error naming the
    /// token (never its value).
    pub fn new(cfg: &AuthConfig) -> Result<Auth, String> {
        let entries = cfg
            .tokens
            .iter()
            .map(|t| {
                parse_hex32(&t.sha256)
                    .map(|hash| Entry {
                        name: t.name.clone(),
                        role: t.role,
                        hash,
                    })
                    .ok_or_else(|| format!("token {:?}: sha256 must be 64 hex digits", t.name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for o in &cfg.cors_origins {
            let ok = o == "*"
                || ((o.starts_with("http://") || o.starts_with("https://"))
                    && !o.ends_with('/')
                    && axum::http::HeaderValue::from_str(o).is_ok());
            if !ok {
                return Err(format!(
                    "cors_origins: {o:?} is not an origin (scheme://host[:port], no path) or \"*\""
                ));
            }
        }
        Ok(Auth {
            enabled: cfg.enabled,
            entries,
            cors_origins: cfg.cors_origins.clone(),
        })
    }

    /// The origins allowed to call the API from a browser (`[auth]
    /// cors_origins`).
    pub fn cors_origins(&self) -> &[String] {
        &self.cors_origins
    }

    /// Authentication off (loopback development and tests).
    pub fn disabled() -> Auth {
        Auth {
            enabled: false,
            entries: Vec::new(),
            cors_origins: Vec::new(),
        }
    }

    /// Is a token required?
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Refuse to run without authentication on a non-loopback address.
    pub fn check_listen(&self, addr: &std::net::SocketAddr) -> Result<(), String> {
        if !self.enabled && !addr.ip().is_loopback() {
            return Err(format!(
                "authentication is off but the server would listen on {addr}: \
                 turn [auth] on with tokens, or listen on 127.0.0.1"
            ));
        }
        if self.enabled && self.entries.is_empty() {
            return Err("authentication is on but no [[auth.tokens]] are configured".into());
        }
        Ok(())
    }

    /// Who is calling, given the presented token (if any), requiring at
    /// least `need`.
    pub fn authorize(&self, token: Option<&str>, need: Role) -> Result<Principal, AuthError> {
        let principal = match token {
            Some(t) => {
                let h: [u8; 32] = Sha256::digest(t.as_bytes()).into();
                // Compare with every entry (no early exit), in constant time.
                let mut found: Option<&Entry> = None;
                for e in &self.entries {
                    if bool::from(e.hash.ct_eq(&h)) {
                        found = Some(e);
                    }
                }
                let e = found.ok_or(AuthError::Invalid)?;
                Principal {
                    name: e.name.clone(),
                    role: e.role,
                }
            }
            None if !self.enabled => Principal {
                name: "anonymous (auth off, loopback)".into(),
                role: Role::Admin,
            },
            None => return Err(AuthError::Missing),
        };
        if principal.role < need {
            return Err(AuthError::Forbidden);
        }
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new(&AuthConfig {
            cors_origins: Vec::new(),
            enabled: true,
            tokens: vec![
                TokenConfig {
                    name: "watch".into(),
                    role: Role::Viewer,
                    sha256: hash_token("v-secret"),
                },
                TokenConfig {
                    name: "duty officer".into(),
                    role: Role::Operator,
                    sha256: hash_token("o-secret"),
                },
            ],
        })
        .unwrap()
    }

    #[test]
    fn roles_are_ordered_and_enforced() {
        let a = auth();
        assert_eq!(
            a.authorize(Some("v-secret"), Role::Viewer).unwrap().name,
            "watch"
        );
        assert_eq!(
            a.authorize(Some("v-secret"), Role::Operator),
            Err(AuthError::Forbidden)
        );
        assert_eq!(
            a.authorize(Some("o-secret"), Role::Operator).unwrap().role,
            Role::Operator
        );
        assert_eq!(
            a.authorize(Some("o-secret"), Role::Admin),
            Err(AuthError::Forbidden)
        );
        assert_eq!(
            a.authorize(Some("wrong"), Role::Viewer),
            Err(AuthError::Invalid)
        );
        assert_eq!(a.authorize(None, Role::Viewer), Err(AuthError::Missing));
    }

    #[test]
    fn auth_off_only_on_loopback_and_invalid_tokens_still_refused() {
        let off = Auth::disabled();
        assert!(off.check_listen(&"127.0.0.1:8080".parse().unwrap()).is_ok());
        assert!(off.check_listen(&"0.0.0.0:8080".parse().unwrap()).is_err());
        assert_eq!(off.authorize(None, Role::Admin).unwrap().role, Role::Admin);
        assert_eq!(
            off.authorize(Some("anything"), Role::Viewer),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn malformed_hash_is_an_error_without_the_secret() {
        let e = Auth::new(&AuthConfig {
            cors_origins: Vec::new(),
            enabled: true,
            tokens: vec![TokenConfig {
                name: "x".into(),
                role: Role::Admin,
                sha256: "abc".into(),
            }],
        })
        .err()
        .unwrap();
        assert!(e.contains("\"x\""));
    }
}
