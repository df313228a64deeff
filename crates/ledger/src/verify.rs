//! Statement signature verification with `verify_strict` semantics.
//!
//! The auditor must give the same verdict whatever path verifies a
//! signature. The reference is ed25519-dalek's `verify_strict`: RFC 8032
//! cofactorless equation `[S]B = R + [k]A`, canonical `S`, `A` and `R` not
//! of small order, and `R` compared by its encoding (so a non-canonical
//! `R` fails).
//!
//! Batch verification (`verify_batch`, random linear combination) is only
//! equivalent to that for signatures whose `R` and `A` have no torsion
//! component: if `R = R₀ + T` with `T` of order 2, `[z]T = 0` for every even
//! coefficient `z`, so a batch accepts such a signature half the time while
//! `verify_strict` always rejects it. Checking "not of small order" (what is
//! usually said to be enough) does not exclude this; `tests/batch_parity.rs`
//! builds the counterexample. So a signature is batched only if `S` is
//! canonical, `R` is canonically encoded and torsion-free, and `A` is
//! canonically encoded and torsion-free (cached per key); everything else is
//! verified singly, and a failed batch falls back to single verification.
//! The torsion check on `R` costs about as much as a verification, which is
//! why the auditor's default is [`VerifyMode::Strict`] on several threads
//! (docs/PERFORMANCE.md has the measurements).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, VerifyingKey};

/// How the auditor verifies signatures. Both give identical verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VerifyMode {
    /// `verify_strict` on every signature (on several threads with `std`).
    #[default]
    Strict,
    /// Batches of torsion-checked signatures, single verification otherwise.
    Batch,
}

/// A parsed public key with what batching needs to know about it.
#[derive(Clone, Debug)]
pub struct CachedKey {
    key: VerifyingKey,
    /// Canonically encoded and torsion-free: safe to batch.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    batchable: bool,
}

/// Parses keys once. Keys that do not decode or are of small order are
/// remembered as `None` and every signature under them fails.
#[derive(Default, Debug, Clone)]
pub struct KeyCache {
    keys: BTreeMap<[u8; 32], Option<CachedKey>>,
}

impl KeyCache {
    /// An empty cache.
    pub fn new() -> KeyCache {
        KeyCache::default()
    }

    /// The key, parsed.
    pub fn get(&mut self, bytes: &[u8; 32]) -> Option<&CachedKey> {
        self.keys
            .entry(*bytes)
            .or_insert_with(|| parse_key(bytes))
            .as_ref()
    }
}

fn parse_key(bytes: &[u8; 32]) -> Option<CachedKey> {
    let key = VerifyingKey::from_bytes(bytes).ok()?;
    if key.is_weak() {
        return None;
    }
    let point = CompressedEdwardsY(*bytes).decompress()?;
    let batchable = point.compress().to_bytes() == *bytes && point.is_torsion_free();
    Some(CachedKey { key, batchable })
}

/// `verify_strict` over `prefix || body`.
fn verify_one(key: &CachedKey, item: &SignatureItem<'_>) -> bool {
    let sig = Signature::from_bytes(&item.signature);
    key.key.verify_strict(&item.message(), &sig).is_ok()
}

/// True if the signature may join a batch without changing the verdict.
fn batchable_signature(signature: &[u8; 64]) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&signature[..32]);
    let mut s = [0u8; 32];
    s.copy_from_slice(&signature[32..]);
    if Option::<Scalar>::from(Scalar::from_canonical_bytes(s)).is_none() {
        return false;
    }
    let Some(point) = CompressedEdwardsY(r).decompress() else {
        return false;
    };
    point.compress().to_bytes() == r && !point.is_small_order() && torsion_free(&point)
}

/// `[ℓ]P = 0`, computed as `[ℓ-1]P + P` with a variable-time
/// multiplication (all inputs are public).
fn torsion_free(p: &EdwardsPoint) -> bool {
    use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
    let minus_one = -Scalar::ONE;
    let q = EdwardsPoint::vartime_multiscalar_mul([minus_one], [*p]);
    (q + p).is_identity()
}

/// One signature to check: over `prefix || body` (for statements the
/// prefix is [`crate::statement::STATEMENT_SIGNING_PREFIX`]).
#[derive(Clone, Copy, Debug)]
pub struct SignatureItem<'a> {
    /// Signer key bytes.
    pub key: [u8; 32],
    /// Domain-separation prefix of the signed message.
    pub prefix: &'a [u8],
    /// The rest of the signed message.
    pub body: &'a [u8],
    /// The signature.
    pub signature: [u8; 64],
}

impl SignatureItem<'_> {
    /// A statement signature item.
    pub fn statement<'a>(
        key: [u8; 32],
        statement: &'a [u8],
        signature: [u8; 64],
    ) -> SignatureItem<'a> {
        SignatureItem {
            key,
            prefix: crate::statement::STATEMENT_SIGNING_PREFIX,
            body: statement,
            signature,
        }
    }

    /// The signed message.
    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(self.prefix.len() + self.body.len());
        m.extend_from_slice(self.prefix);
        m.extend_from_slice(self.body);
        m
    }
}

/// Verifies every item; `result[i]` is what `verify_strict` says of item `i`.
pub fn verify_items(
    items: &[SignatureItem<'_>],
    mode: VerifyMode,
    cache: &mut KeyCache,
) -> Vec<bool> {
    match mode {
        VerifyMode::Strict => items
            .iter()
            .map(|it| cache.get(&it.key).is_some_and(|k| verify_one(k, it)))
            .collect(),
        VerifyMode::Batch => verify_batched(items, cache),
    }
}

#[cfg(feature = "std")]
fn verify_batched(items: &[SignatureItem<'_>], cache: &mut KeyCache) -> Vec<bool> {
    let mut out = alloc::vec![false; items.len()];
    let mut batch_idx = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let Some(k) = cache.get(&it.key) else {
            continue;
        };
        if k.batchable && batchable_signature(&it.signature) {
            batch_idx.push(i);
        } else {
            out[i] = verify_one(k, it);
        }
    }
    if batch_idx.is_empty() {
        return out;
    }
    let messages: Vec<Vec<u8>> = batch_idx.iter().map(|&i| items[i].message()).collect();
    let message_refs: Vec<&[u8]> = messages.iter().map(|m| m.as_slice()).collect();
    let signatures: Vec<Signature> = batch_idx
        .iter()
        .map(|&i| Signature::from_bytes(&items[i].signature))
        .collect();
    let keys: Vec<VerifyingKey> = batch_idx
        .iter()
        .map(|&i| cache.get(&items[i].key).expect("checked above").key)
        .collect();
    if ed25519_dalek::verify_batch(&message_refs, &signatures, &keys).is_ok() {
        for &i in &batch_idx {
            out[i] = true;
        }
    } else {
        // Find the bad ones one by one: same verdicts as verify_strict.
        for (j, &i) in batch_idx.iter().enumerate() {
            out[i] = keys[j].verify_strict(&messages[j], &signatures[j]).is_ok();
        }
    }
    out
}

#[cfg(not(feature = "std"))]
fn verify_batched(items: &[SignatureItem<'_>], cache: &mut KeyCache) -> Vec<bool> {
    // Without std there is no batch verifier; the verdicts are the same.
    let _ = batchable_signature;
    verify_items(items, VerifyMode::Strict, cache)
}

/// Splits `items` over one thread per key cache (each thread keeps its own
/// cache across calls, so keys are parsed once per thread).
#[cfg(feature = "std")]
pub fn verify_parallel(
    items: &[SignatureItem<'_>],
    mode: VerifyMode,
    caches: &mut [KeyCache],
) -> Vec<bool> {
    if caches.len() <= 1 || items.len() < 64 {
        let mut fallback = KeyCache::new();
        let cache = caches.first_mut().unwrap_or(&mut fallback);
        return verify_items(items, mode, cache);
    }
    let chunk = items.len().div_ceil(caches.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .zip(caches.iter_mut())
            .map(|(c, cache)| s.spawn(move || verify_items(c, mode, cache)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("verification thread panicked"))
            .collect()
    })
}
