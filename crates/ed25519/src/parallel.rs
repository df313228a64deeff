//! The thread driver (`std`): verification on one thread per key cache,
//! and one exact batch shared by those threads.

use alloc::vec::Vec;

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::traits::Identity;

use crate::batch::{
    Candidate, batch_randomness, horner_step, key_side, r_side, step_one_piece, verify_singly,
};
use crate::{KeyCache, MIN_BATCH, SignatureItem, VerifyMode, verify_items};

/// Verifies `items` on up to one thread per key cache (each thread keeps
/// its own cache across calls, so keys are parsed once per thread), one
/// thread per 64 items at most. Below [`MIN_BATCH`], or in
/// [`VerifyMode::Strict`], the threads verify singly, pulling pieces of
/// the items until none is left; from [`MIN_BATCH`] up in
/// [`VerifyMode::Batch`] the threads verify one exact batch together (see
/// [`verify_exact_batch_parallel`]), so splitting costs no second batch
/// overhead. `result[i]` is what `verify_strict` says of item `i`.
pub fn verify_parallel(
    items: &[SignatureItem<'_>],
    mode: VerifyMode,
    caches: &mut [KeyCache],
) -> Vec<bool> {
    let threads = (items.len() / 64).clamp(1, caches.len().max(1));
    if threads == 1 {
        let mut fallback = KeyCache::new();
        let cache = caches.first_mut().unwrap_or(&mut fallback);
        return verify_items(items, mode, cache);
    }
    if mode == VerifyMode::Batch && items.len() >= MIN_BATCH {
        return verify_exact_batch_parallel(items, &mut caches[..threads]);
    }
    // Singly, in pieces the threads pull (four or more per thread).
    let piece = items.len().div_ceil(4 * threads).max(16);
    let pieces: Vec<&[SignatureItem<'_>]> = items.chunks(piece).collect();
    pull_on_threads(pieces.len(), &mut caches[..threads], |p, cache| {
        verify_items(pieces[p], VerifyMode::Strict, cache)
    })
    .into_iter()
    .flatten()
    .collect()
}

/// One exact batch (the crate documentation's steps 1–3) verified by one
/// thread per key cache. The work is cut into items that the threads pull
/// one at a time (see `pull_on_threads`): step 1 in pieces of 128
/// signatures; then, once the batch's coefficients are derived from all
/// of them, the key side of step 3 over each thread's span of the
/// candidates and each of the 16 torsion rows over every R (which also
/// gives that row's part of `Σ z_i R_i`). The equation is checked once on
/// the sums, so the fixed cost (128 torsion checks) is paid once and
/// divided among the threads. If anything fails, every candidate is
/// verified singly. `result[i]` is what `verify_strict` says of item `i`.
pub fn verify_exact_batch_parallel(
    items: &[SignatureItem<'_>],
    caches: &mut [KeyCache],
) -> Vec<bool> {
    shared_batch(items, caches).0
}

/// True if the shared batch of [`verify_exact_batch_parallel`] held: the
/// items that passed the cheap checks were accepted together, without
/// falling back to single verification. For tests and benchmarks.
#[doc(hidden)]
pub fn shared_batch_holds(items: &[SignatureItem<'_>], caches: &mut [KeyCache]) -> bool {
    shared_batch(items, caches).1
}

/// [`verify_exact_batch_parallel`], and whether the batch held (false if
/// it fell back to single verification or had no candidates).
fn shared_batch(items: &[SignatureItem<'_>], caches: &mut [KeyCache]) -> (Vec<bool>, bool) {
    let mut own = [KeyCache::new()];
    let caches = if caches.is_empty() {
        &mut own[..]
    } else {
        caches
    };
    let threads = caches.len().clamp(1, items.len().max(1));
    let caches = &mut caches[..threads];
    // Step 1, in pieces of 128 signatures.
    const PIECE: usize = 128;
    let pieces: Vec<&[SignatureItem<'_>]> = items.chunks(PIECE).collect();
    type Share = (Vec<Candidate>, Vec<(usize, bool)>);
    let shares: Vec<Share> = pull_on_threads(pieces.len(), caches, |p, cache| {
        step_one_piece(pieces[p], p * PIECE, cache)
    });
    let mut out = alloc::vec![false; items.len()];
    let mut cs: Vec<Candidate> = Vec::with_capacity(items.len());
    for (share, singles) in shares {
        for (i, ok) in singles {
            out[i] = ok;
        }
        cs.extend(share);
    }
    if cs.is_empty() {
        return (out, false);
    }
    let (z, z_bytes) = batch_randomness(&cs);
    // Steps 2 and 3 as work items: the key side of each of `threads`
    // spans of the candidates, then the 16 torsion rows (each over every
    // R, giving its part of `Σ z_i R_i`). The equation is checked once on
    // the sums.
    let span = cs.len().div_ceil(threads);
    let key_items = cs.len().div_ceil(span);
    let sides: Vec<Option<EdwardsPoint>> = pull_on_threads(key_items + 16, caches, |w, cache| {
        if w < key_items {
            let r = w * span..((w + 1) * span).min(cs.len());
            Some(key_side(&cs[r.clone()], &z[r], cache))
        } else {
            let row = w - key_items;
            r_side(&cs, &z_bytes, row..row + 1)
        }
    });
    let holds = sides.iter().all(Option::is_some) && {
        let key_sum = sides[..key_items]
            .iter()
            .flatten()
            .fold(EdwardsPoint::identity(), |acc, p| acc + p);
        // Row p's sum is to be scaled by 2^(8p): Horner's rule, top row first.
        let r_sum = sides[key_items..]
            .iter()
            .rev()
            .flatten()
            .fold(EdwardsPoint::identity(), horner_step);
        key_sum == r_sum
    };
    if holds {
        for c in &cs {
            out[c.index] = true;
        }
        return (out, true);
    }
    // Fall back: every candidate singly.
    let pieces: Vec<&[Candidate]> = cs.chunks(PIECE).collect();
    let verdicts: Vec<Vec<(usize, bool)>> = pull_on_threads(pieces.len(), caches, |p, cache| {
        pieces[p]
            .iter()
            .map(|c| (c.index, verify_singly(c, items, cache)))
            .collect()
    });
    for (i, ok) in verdicts.into_iter().flatten() {
        out[i] = ok;
    }
    (out, false)
}

/// Runs `f(i, cache)` for every `i` in `0..n` on one thread per cache (the
/// calling thread being one), each thread taking the next `i` when it has
/// finished its last. A thread that shares its core with other work (the
/// commit thread, say) thus takes fewer items instead of holding the
/// others up at the end, as an even split would. Results in order of `i`.
/// `caches` must not be empty.
fn pull_on_threads<R: Send>(
    n: usize,
    caches: &mut [KeyCache],
    f: impl Fn(usize, &mut KeyCache) -> R + Sync,
) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let work = |cache: &mut KeyCache| {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return mine;
            }
            mine.push((i, f(i, cache)));
        }
    };
    let threads = caches.len().min(n).max(1);
    // The calling thread works too instead of waiting: one thread fewer to
    // start and one wake-up fewer per call.
    let (first, others) = caches[..threads]
        .split_first_mut()
        .expect("one cache at least");
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = others.iter_mut().map(|c| s.spawn(|| work(c))).collect();
        let mut all = work(first);
        for h in handles {
            all.extend(h.join().expect("verification thread panicked"));
        }
        all
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}
