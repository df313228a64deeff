//! The exact batch (steps 1–3 of the crate documentation) on one thread,
//! and the pieces of it that the thread driver shares out.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::ops::Range;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest, Sha512};

use crate::SignatureItem;
use crate::strict::{CachedKey, KeyCache, small_order_y, y_canonical};

/// A signature that passed the cheap strictness checks of step 1.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    /// Its index in the batch.
    pub(crate) index: usize,
    /// `R` as signed: canonical (checked), so it names the point exactly.
    pub(crate) r_bytes: [u8; 32],
    pub(crate) r: EdwardsPoint,
    pub(crate) s: Scalar,
    /// `k = SHA-512(R ‖ A ‖ M)` reduced mod ℓ (RFC 8032 §5.1.7 step 2).
    pub(crate) k: Scalar,
    pub(crate) key: [u8; 32],
}

/// The exact batch of the crate documentation, whatever the number of
/// items (below [`crate::MIN_BATCH`] items [`crate::verify_items`]
/// verifies singly, which is faster). `result[i]` is what `verify_strict`
/// says of item `i`.
pub fn verify_exact_batch(items: &[SignatureItem<'_>], cache: &mut KeyCache) -> Vec<bool> {
    let mut out = alloc::vec![false; items.len()];
    let (candidates, singles) = step_one_piece(items, 0, cache);
    for (i, ok) in singles {
        out[i] = ok;
    }
    if candidates.is_empty() {
        return out;
    }
    let held = batch_holds(&candidates, cache);
    for c in &candidates {
        out[c.index] = held || verify_singly(c, items, cache);
    }
    out
}

/// True if every item passes the cheap checks and the exact batch (steps
/// 1–3) accepts them together, without falling back to single
/// verification. For tests and benchmarks: [`crate::verify_items`] is the
/// API.
#[doc(hidden)]
pub fn batch_accepts_all(items: &[SignatureItem<'_>], cache: &mut KeyCache) -> bool {
    let (candidates, singles) = step_one_piece(items, 0, cache);
    singles.is_empty() && batch_holds(&candidates, cache)
}

/// Step 1 over `piece`, whose first item is item `first` of the batch:
/// the batch candidates with their R's decompressed, and, for the items
/// whose key or signature fails the cheap checks or whose R does not
/// decompress, `verify_strict`'s verdict found singly (by batch index).
pub(crate) fn step_one_piece(
    piece: &[SignatureItem<'_>],
    first: usize,
    cache: &mut KeyCache,
) -> (Vec<Candidate>, Vec<(usize, bool)>) {
    let mut cs = Vec::with_capacity(piece.len());
    let mut singles = Vec::new();
    for (j, it) in piece.iter().enumerate() {
        // A key that does not decode or is of small order: every signature
        // under it fails.
        let Some(key) = cache.get(&it.key) else {
            singles.push((first + j, false));
            continue;
        };
        match candidate(first + j, key, it) {
            Some(c) => cs.push(c),
            None => singles.push((first + j, key.verify_strict(it))),
        }
    }
    (cs, singles)
}

/// Step 1 for one signature: the cheap checks, and `k = SHA-512(R ‖ A ‖
/// M)` as `verify_strict` computes it (RFC 8032 §5.1.7). `None` sends the
/// signature to single verification.
fn candidate(index: usize, key: &CachedKey, it: &SignatureItem<'_>) -> Option<Candidate> {
    if !key.batchable {
        return None;
    }
    let r_bytes: [u8; 32] = it.signature[..32].try_into().expect("32 bytes");
    let s_bytes: [u8; 32] = it.signature[32..].try_into().expect("32 bytes");
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    if !y_canonical(&r_bytes) || small_order_y(&r_bytes) {
        return None;
    }
    let r = CompressedEdwardsY(r_bytes).decompress()?;
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(r_bytes)
            .chain_update(key.key.as_bytes())
            .chain_update(it.prefix)
            .chain_update(it.body),
    );
    Some(Candidate {
        index,
        r_bytes,
        r,
        s,
        k,
        key: it.key,
    })
}

/// `verify_strict` on a candidate (after a batch that did not hold).
pub(crate) fn verify_singly(
    c: &Candidate,
    items: &[SignatureItem<'_>],
    cache: &mut KeyCache,
) -> bool {
    cache.verify_strict(&items[c.index])
}

/// Steps 2 and 3 over candidates whose keys are batchable.
fn batch_holds(cs: &[Candidate], cache: &mut KeyCache) -> bool {
    let (z, z_bytes) = batch_randomness(cs);
    match r_side(cs, &z_bytes, 0..16) {
        Some(r_sum) => key_side(cs, &z, cache) == r_sum,
        None => false,
    }
}

/// The batch's coefficients, derived deterministically from a SHA-512
/// hash of every candidate's R, A, S and k (k binds M). Per candidate a
/// 128-bit `z`, as a scalar for the batch equation and as the 16 bytes
/// whose bits place its R in the 128 torsion subsets (step 2).
pub(crate) fn batch_randomness(cs: &[Candidate]) -> (Vec<Scalar>, Vec<[u8; 16]>) {
    // R is hashed as signed; its encoding is canonical (step 1), so this
    // is the point's own encoding without the inversion `compress` costs.
    // A is hashed too, as ed25519-dalek's batch transcript does: k already
    // depends on A, but only through SHA-512 reduced mod ℓ, so without A
    // two batches that differ in a key alone would share coefficients
    // whenever their k's collide mod ℓ. Every input of the batch equation
    // is then bound directly.
    let mut t = Sha512::new();
    t.update(b"forewarn/batch-verify/v3\n");
    t.update((cs.len() as u64).to_le_bytes());
    for c in cs {
        t.update(c.r_bytes);
        t.update(c.key);
        t.update(c.s.as_bytes());
        t.update(c.k.as_bytes());
    }
    let seed = t.finalize();
    let mut z = Vec::with_capacity(cs.len());
    let mut z_bytes = Vec::with_capacity(cs.len());
    // One SHA-512 block gives four coefficients.
    for i in 0..cs.len().div_ceil(4) {
        let block: [u8; 64] = Sha512::new()
            .chain_update(seed)
            .chain_update((i as u64).to_le_bytes())
            .finalize()
            .into();
        for chunk in block.chunks_exact(16).take(cs.len() - 4 * i) {
            let zi: [u8; 16] = chunk.try_into().expect("16 bytes");
            let mut wide = [0u8; 32];
            wide[..16].copy_from_slice(&zi);
            // Below 2^128 < ℓ: the scalar is z itself.
            z.push(Scalar::from_bytes_mod_order(wide));
            z_bytes.push(zi);
        }
    }
    (z, z_bytes)
}

/// Step 2, and the R half of step 3, over the bytes `rows` of the `z`s:
/// the subset sums `S_j = Σ_{i: bit j of z_i set} R_i` (`j = 8p + b` for
/// bit `b` of byte `p`), each checked to satisfy `[ℓ]S_j = 0`; returns
/// `Σ_j 2^(j − 8·rows.start) S_j` over these rows (so over all 16 rows it
/// is `Σ_i z_i R_i`, and `Σ_p 2^(8p) r_side(p..p+1)` is too), or `None` if
/// a subset sum has a torsion component.
///
/// Bucket `v` of row `p` holds the sum of the R's whose byte `p` is `v`;
/// the row yields its 8 subset sums by halving: the sum over the upper
/// half is the subset of the top bit, then each upper bucket folds into
/// its lower twin and the next bit is read off the 2^b remaining buckets
/// (about 2·256 additions a row instead of 8·128). The subset sums come
/// out top bit first, the order Horner's rule takes them in. Only the
/// bytes in `rows` are handled here, so threads can share the 16 rows of
/// one batch.
pub(crate) fn r_side(
    cs: &[Candidate],
    z_bytes: &[[u8; 16]],
    rows: Range<usize>,
) -> Option<EdwardsPoint> {
    let add = |a: Option<EdwardsPoint>, b: Option<EdwardsPoint>| match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    };
    let mut sum = EdwardsPoint::identity();
    // One row at a time: 256 buckets (43 KB) stay in cache and on the heap
    // the allocator reuses.
    let mut row: Vec<Option<EdwardsPoint>> = alloc::vec![None; 256];
    for p in rows.rev() {
        row.iter_mut().for_each(|b| *b = None);
        for (c, zi) in cs.iter().zip(z_bytes) {
            let slot = &mut row[zi[p] as usize];
            *slot = Some(match slot {
                Some(acc) => *acc + c.r,
                None => c.r,
            });
        }
        let mut width = 256;
        while width > 1 {
            let half = width / 2;
            let subset = row[half..width].iter().fold(None, |acc, b| add(acc, *b));
            sum = sum + sum;
            if let Some(s) = subset {
                if !torsion_free(&s) {
                    return None;
                }
                sum += s;
            }
            for v in 0..half {
                row[v] = add(row[v], row[v + half]);
            }
            width = half;
        }
    }
    Some(sum)
}

/// One step of Horner's rule over the byte rows: `2^8·acc + row`, for row
/// sums computed one row at a time (the shared batch).
#[cfg(any(feature = "std", test))]
pub(crate) fn horner_step(acc: EdwardsPoint, row: &EdwardsPoint) -> EdwardsPoint {
    (0..8).fold(acc, |a, _| a + a) + row
}

/// `[ℓ]P = 0`, computed as `[ℓ−1]P + P` in variable time (inputs are public).
fn torsion_free(p: &EdwardsPoint) -> bool {
    let q = EdwardsPoint::vartime_multiscalar_mul([-Scalar::ONE], [*p]);
    (q + p).is_identity()
}

/// The rest of step 3: `[Σ z_i S_i]B − Σ_keys (Σ_{i signed by the key}
/// z_i k_i) A`, one variable-time multiscalar multiplication in which each
/// distinct key appears once. The batch equation holds when this equals
/// [`r_side`]'s `Σ z_i R_i`.
pub(crate) fn key_side(cs: &[Candidate], z: &[Scalar], cache: &mut KeyCache) -> EdwardsPoint {
    let mut b_coefficient = Scalar::ZERO;
    let mut per_key: BTreeMap<[u8; 32], Scalar> = BTreeMap::new();
    for (c, zi) in cs.iter().zip(z) {
        b_coefficient += zi * c.s;
        *per_key.entry(c.key).or_insert(Scalar::ZERO) -= zi * c.k;
    }
    let mut scalars = Vec::with_capacity(per_key.len() + 1);
    let mut points = Vec::with_capacity(per_key.len() + 1);
    scalars.push(b_coefficient);
    points.push(ED25519_BASEPOINT_POINT);
    for (key, coefficient) in per_key {
        scalars.push(coefficient);
        // Parsed again if this cache does not hold it (another thread's
        // cache parsed it in step 1, or a full cache was emptied): a
        // candidate's key is batchable, so it parses.
        points.push(cache.get(&key).expect("a candidate's key parses").point);
    }
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;

    /// Candidates with the given R's (S, k and the key do not matter to
    /// the R side).
    fn r_candidates(rs: &[EdwardsPoint]) -> Vec<Candidate> {
        rs.iter()
            .enumerate()
            .map(|(index, r)| Candidate {
                index,
                r_bytes: r.compress().to_bytes(),
                r: *r,
                s: Scalar::ZERO,
                k: Scalar::ZERO,
                key: [0; 32],
            })
            .collect()
    }

    #[test]
    fn the_torsion_sums_give_the_batch_equations_r_part() {
        // Σ_j 2^j S_j over the 128 subset sums is Σ z_i R_i, whether the
        // rows are taken together or one by one and combined by Horner's
        // rule as the shared batch does.
        let rs: Vec<EdwardsPoint> = (1..=300u64)
            .map(|i| ED25519_BASEPOINT_POINT * Scalar::from(i * 1_000_003 + 17))
            .collect();
        let cs = r_candidates(&rs);
        let (z, z_bytes) = batch_randomness(&cs);
        let direct = EdwardsPoint::vartime_multiscalar_mul(&z, &rs);
        assert_eq!(r_side(&cs, &z_bytes, 0..16), Some(direct));
        let by_rows = (0..16).rev().fold(EdwardsPoint::identity(), |acc, p| {
            let row = r_side(&cs, &z_bytes, p..p + 1).expect("torsion-free");
            horner_step(acc, &row)
        });
        assert_eq!(by_rows, direct);
        // A different z would not do: the sum really depends on them.
        let mut other = z_bytes.clone();
        other[0][0] ^= 1;
        assert_ne!(r_side(&cs, &other, 0..16), Some(direct));
        // An R with a torsion component (order 2, 4 or 8) is caught.
        for t in [1usize, 2, 4] {
            let mut bad = rs.clone();
            bad[123] += EIGHT_TORSION[t];
            let cs = r_candidates(&bad);
            let (_, z_bytes) = batch_randomness(&cs);
            assert_eq!(r_side(&cs, &z_bytes, 0..16), None, "torsion point {t}");
        }
    }

    #[test]
    fn the_coefficients_depend_on_every_candidate() {
        let rs: Vec<EdwardsPoint> = (1..=9u64)
            .map(|i| ED25519_BASEPOINT_POINT * Scalar::from(i))
            .collect();
        let cs = r_candidates(&rs);
        let (z, z_bytes) = batch_randomness(&cs);
        assert_eq!(z.len(), 9);
        assert_eq!(z_bytes.len(), 9);
        // Each z is its 16 bytes, below 2^128.
        for (zi, bytes) in z.iter().zip(&z_bytes) {
            assert_eq!(&zi.as_bytes()[..16], bytes);
            assert_eq!(zi.as_bytes()[16..], [0; 16]);
        }
        // Deterministic, and changed by a change to any one input.
        assert_eq!(batch_randomness(&cs).1, z_bytes);
        for i in 0..cs.len() {
            let mut changed = cs.clone();
            changed[i].k += Scalar::ONE;
            assert_ne!(batch_randomness(&changed).1, z_bytes, "k of {i}");
            let mut changed = cs.clone();
            changed[i].r_bytes[0] ^= 1;
            assert_ne!(batch_randomness(&changed).1, z_bytes, "R of {i}");
            let mut changed = cs.clone();
            changed[i].s += Scalar::ONE;
            assert_ne!(batch_randomness(&changed).1, z_bytes, "S of {i}");
            // The key alone, k held fixed (as if SHA-512 mod ℓ collided):
            // the key is bound directly, not only through k.
            let mut changed = cs.clone();
            changed[i].key[0] ^= 1;
            assert_ne!(batch_randomness(&changed).1, z_bytes, "A of {i}");
        }
        assert_ne!(batch_randomness(&cs[..8]).1[..], z_bytes[..8]);
    }

    /// Keys, messages and signatures of a batch.
    type Signed = (Vec<[u8; 32]>, Vec<Vec<u8>>, Vec<[u8; 64]>);

    /// Real signatures through step 1: `n` items by `n` keys over
    /// "message i".
    fn signed(n: usize) -> Signed {
        use ed25519_dalek::{Signer, SigningKey};
        let keys: Vec<SigningKey> = (0..n)
            .map(|i| SigningKey::from_bytes(&[i as u8 + 1; 32]))
            .collect();
        let msgs: Vec<Vec<u8>> = (0..n)
            .map(|i| alloc::format!("message {i}").into())
            .collect();
        let sigs = keys
            .iter()
            .zip(&msgs)
            .map(|(k, m)| k.sign(m).to_bytes())
            .collect();
        let keys = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
        (keys, msgs, sigs)
    }

    fn coefficients(keys: &[[u8; 32]], msgs: &[Vec<u8>], sigs: &[[u8; 64]]) -> Vec<[u8; 16]> {
        let items: Vec<SignatureItem<'_>> = (0..keys.len())
            .map(|i| SignatureItem::new(keys[i], b"", &msgs[i], sigs[i]))
            .collect();
        let (cs, singles) = step_one_piece(&items, 0, &mut KeyCache::new());
        // Every item stays a candidate (a wrong key or message is not a
        // cheap-check failure), so the batches compared have equal length.
        assert!(singles.is_empty());
        batch_randomness(&cs).1
    }

    #[test]
    fn batches_differing_in_one_key_or_message_share_no_coefficient() {
        let (keys, msgs, sigs) = signed(6);
        let base = coefficients(&keys, &msgs, &sigs);
        for i in 0..keys.len() {
            // Item i's message changed (its signature no longer verifies).
            let mut m = msgs.clone();
            m[i].push(b'!');
            let z = coefficients(&keys, &m, &sigs);
            // Item i's key replaced by another batchable key.
            let mut k = keys.clone();
            k[i] = keys[(i + 1) % keys.len()];
            let y = coefficients(&k, &msgs, &sigs);
            for (j, ((zj, yj), bj)) in z.iter().zip(&y).zip(&base).enumerate() {
                assert_ne!(zj, bj, "message of {i}: coefficient {j}");
                assert_ne!(yj, bj, "key of {i}: coefficient {j}");
            }
        }
        // The same batch gives the same coefficients.
        assert_eq!(coefficients(&keys, &msgs, &sigs), base);
    }
}
