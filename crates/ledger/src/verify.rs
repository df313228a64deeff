//! Statement signatures, verified with `verify_strict`'s verdicts one at a
//! time or in exact batches by [`forewarn_ed25519`] (whose crate
//! documentation gives the batch construction and why it agrees with
//! `verify_strict`). This module re-exports what the ledger's callers use
//! and adds the ledger's one piece of glue: items over a statement, signed
//! with [`STATEMENT_SIGNING_PREFIX`] before the statement bytes
//! (docs/FORMAT.md §12).

pub use forewarn_ed25519::{
    CachedKey, KeyCache, MIN_BATCH, SignatureItem, VerifyMode, verify_exact_batch, verify_items,
};
#[cfg(feature = "std")]
pub use forewarn_ed25519::{verify_exact_batch_parallel, verify_parallel};

use crate::statement::STATEMENT_SIGNING_PREFIX;

/// Signature items over a ledger statement:
/// `SignatureItem::statement(key, statement_bytes, signature)`.
pub trait StatementItem<'a> {
    /// An item for `signature` by `key` over [`STATEMENT_SIGNING_PREFIX`]
    /// followed by `statement` (the statement's canonical bytes).
    fn statement(key: [u8; 32], statement: &'a [u8], signature: [u8; 64]) -> Self;
}

impl<'a> StatementItem<'a> for SignatureItem<'a> {
    fn statement(key: [u8; 32], statement: &'a [u8], signature: [u8; 64]) -> SignatureItem<'a> {
        SignatureItem::new(key, STATEMENT_SIGNING_PREFIX, statement, signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn statement_items_verify_under_the_signing_prefix() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let statement = b"a statement's canonical bytes";
        let signed = crate::statement::signing_message(statement);
        let signature = key.sign(&signed).to_bytes();
        let public = key.verifying_key().to_bytes();
        let item = SignatureItem::statement(public, statement, signature);
        assert_eq!(item.message(), signed);
        assert_eq!(
            verify_items(&[item], VerifyMode::Strict, &mut KeyCache::new()),
            [true]
        );
        // The same signature over the bare statement does not verify.
        let bare = SignatureItem::new(public, b"", statement, signature);
        assert_eq!(
            verify_items(&[bare], VerifyMode::Strict, &mut KeyCache::new()),
            [false]
        );
    }
}
