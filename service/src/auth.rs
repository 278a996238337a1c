//! Tokens: 256 random bits shown once, stored as their sha256, revocable. A caller is a
//! token's row; its scope decides what it may read (ADR-0012).

use crate::db::{Db, TokenRow};
use crate::error::ServiceError;
use sha2::{Digest, Sha256};

/// The prefix of every secret, so a leaked one is recognisable in logs and scanners.
pub const SECRET_PREFIX: &str = "kbt_";

/// `prefix_` and 128 random bits in hex: ids that reveal nothing and never collide.
pub fn random_id(prefix: &str) -> String {
    format!("{prefix}_{}", hex::encode(random_bytes::<16>()))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    // The OS generator failing is not a state the service can run in.
    if let Err(e) = getrandom::fill(&mut bytes) {
        panic!("the operating system's random number generator failed: {e}");
    }
    bytes
}

/// The sha256 of a secret, as stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new token: its row and the secret (returned to the caller once, never stored).
pub async fn create_token(
    db: &Db,
    name: &str,
    admin: bool,
) -> Result<(TokenRow, String), ServiceError> {
    check_name(name)?;
    let secret = format!("{SECRET_PREFIX}{}", hex::encode(random_bytes::<32>()));
    let row = db
        .insert_token(&random_id("tok"), name, &hash_secret(&secret), admin)
        .await?;
    Ok((row, secret))
}

/// The longest token name accepted.
pub const MAX_NAME_BYTES: usize = 200;

fn check_name(name: &str) -> Result<(), ServiceError> {
    if name.trim().is_empty() {
        return Err(ServiceError::bad("name", "must not be empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(ServiceError::bad(
            "name",
            format!("longer than {MAX_NAME_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Who is calling: a live token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's row.
    pub token: TokenRow,
}

impl Caller {
    /// The owner filter for reads: `None` lets an admin see everything.
    pub fn scope(&self) -> Option<&str> {
        if self.token.admin {
            None
        } else {
            Some(&self.token.id)
        }
    }

    /// Fail unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), ServiceError> {
        if self.token.admin {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }
}

/// The caller a secret belongs to.
pub async fn authenticate(db: &Db, secret: &str) -> Result<Caller, ServiceError> {
    if !secret.starts_with(SECRET_PREFIX) {
        return Err(ServiceError::Unauthorized);
    }
    match db.token_by_hash(&hash_secret(secret)).await? {
        Some(token) => Ok(Caller { token }),
        None => Err(ServiceError::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_carry_128_bits() {
        let a = random_id("sub");
        let b = random_id("sub");
        assert_ne!(a, b);
        assert_eq!(a.len(), "sub_".len() + 32);
    }

    #[test]
    fn the_stored_hash_is_not_the_secret() {
        let h = hash_secret("kbt_abc");
        assert_eq!(h.len(), 64);
        assert!(!h.contains("abc"));
    }
}
