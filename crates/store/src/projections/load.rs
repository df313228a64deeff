//! What opening a store loads: the hot value, parties and keys, and the
//! recent window of the tree rebuilt from the level-0 tiles and the kept
//! compact ranges ([`load_hot`]).

use super::*;
use crate::scan::scan_prefix;

/// Loads the hot part of the state at open: `m:hot`, every party and key
/// (checked against the digest in `m:hot`), the recent leaves from the
/// level-0 hash tiles and the compact ranges kept every 256 records, from
/// which the tree is rebuilt. The caller compares its root with the
/// signed checkpoint's.
pub(crate) fn load_hot(
    db: &sled::Db,
    sealer: &Sealer,
    size: u64,
    config: &AuditConfig,
) -> Result<(Auditor, Pager), StoreError> {
    let hot_payload = get_open(db, sealer, HOT)?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(HOT)))?;
    let hot = HotState::from_bytes(&hot_payload)
        .map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(HOT)))?;
    if hot.size != size {
        return Err(StoreError::corrupt(
            Corruption::SizeMismatch {
                checkpoint: size,
                stored: hot.size,
            },
            place_of(HOT),
        ));
    }
    let mut state = AuditState {
        version: STATE_VERSION,
        size,
        prev_leaf: hot.prev_leaf,
        last_logged_at: hot.last_logged_at,
        first_logged_at: hot.first_logged_at,
        origin: hot.origin.clone(),
        checkpoint: hot.checkpoint,
        kind_counts: hot.kind_counts.clone(),
        citable: CitationTable::on_disk(size),
        ..AuditState::default()
    };
    for item in scan_prefix(db, [b'p']) {
        let (k, v) = item?;
        let payload = sealer.open(&k, &v)?;
        let id = k
            .get(1..9)
            .filter(|_| k.len() == 9)
            .map(|b| PartyId(u64::from_be_bytes(b.try_into().expect("8 bytes"))))
            .ok_or_else(|| StoreError::corrupt(Corruption::Malformed, place_of(&k)))?;
        state
            .parties
            .insert(id, decode_versioned::<PartyState>(&k, payload)?);
    }
    for item in scan_prefix(db, [b'k']) {
        let (k, v) = item?;
        let payload = sealer.open(&k, &v)?;
        let key = k
            .get(1..33)
            .filter(|_| k.len() == 33)
            .map(|b| forewarn_ledger::PublicKey(b.try_into().expect("32 bytes")))
            .ok_or_else(|| StoreError::corrupt(Corruption::Malformed, place_of(&k)))?;
        state
            .keys
            .insert(key, decode_versioned::<KeyState>(&k, payload)?);
    }
    if parties_digest(&state) != hot.parties_digest {
        return Err(StoreError::corrupt(
            Corruption::PartiesDigest,
            place_of(HOT),
        ));
    }
    // The window of recent leaves, and the tree from its last kept range.
    let first = RecentTree::window_start(size);
    let leaves = leaves_in(db, first, size)?;
    let mut snapshots = Vec::new();
    let mut at = first;
    while at < size {
        let key = range_key(at);
        snapshots.push(
            get_open(db, sealer, &key)?
                .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(&key)))?,
        );
        at += SNAPSHOT_EVERY;
    }
    // Tiles carry no tag, and the root checked against the signed
    // checkpoint covers only the leaves after the last kept range: the
    // leaves before it must lead from each kept range to the next, or the
    // recent roots (`seen` checks, docs/FORMAT.md §16) would come from
    // edited leaves.
    for (i, pair) in snapshots.windows(2).enumerate() {
        let from = first + i as u64 * SNAPSHOT_EVERY;
        let mut t = CompactRange::from_bytes(&pair[0])
            .ok()
            .filter(|t| t.size() == from)
            .ok_or_else(|| {
                StoreError::corrupt(Corruption::Malformed, place_of(&range_key(from)))
            })?;
        let at = (from - first) as usize;
        for l in &leaves[at..at + SNAPSHOT_EVERY as usize] {
            t.push(*l);
        }
        if t.to_bytes() != pair[1] {
            return Err(StoreError::corrupt(
                Corruption::TileDiffers,
                Place::Tile {
                    level: 0,
                    index: from / BUNDLE,
                },
            ));
        }
    }
    let tree = match snapshots.last() {
        None => CompactRange::new(),
        Some(last) => {
            let from = first + (snapshots.len() as u64 - 1) * SNAPSHOT_EVERY;
            let mut t = CompactRange::from_bytes(last).map_err(|_| {
                StoreError::corrupt(Corruption::Malformed, place_of(&range_key(from)))
            })?;
            if t.size() != from {
                return Err(StoreError::corrupt(
                    Corruption::Malformed,
                    place_of(&range_key(from)),
                ));
            }
            for l in &leaves[(from - first) as usize..] {
                t.push(*l);
            }
            t
        }
    };
    state.tree = tree.to_bytes();
    state.recent = RecentTree::rebuild(size, leaves, snapshots)
        .ok_or_else(|| StoreError::corrupt(Corruption::Malformed, Place::Tiles))?;
    let auditor = Auditor::from_state(config.clone(), state)
        .map_err(|e| StoreError::corrupt(Corruption::Hot(e.to_string()), place_of(HOT)))?;
    Ok((auditor, Pager::new(&hot)))
}

/// Leaf hashes `from..to` from the level-0 hash tiles.
fn leaves_in(db: &sled::Db, from: u64, to: u64) -> Result<Vec<Hash>, StoreError> {
    let mut out = Vec::with_capacity((to - from) as usize);
    let mut i = from;
    while i < to {
        let n = i / BUNDLE;
        let at = Place::Tile { level: 0, index: n };
        let tile = db
            .get(tile_key(0, n))?
            .ok_or_else(|| StoreError::corrupt(Corruption::Missing, at.clone()))?;
        let end = to.min((n + 1) * BUNDLE);
        for j in i..end {
            let o = (j % BUNDLE) as usize * 32;
            let h = tile.get(o..o + 32).ok_or_else(|| {
                StoreError::corrupt(
                    Corruption::ShortTile {
                        got: tile.len(),
                        want: o + 32,
                    },
                    at.clone(),
                )
            })?;
            out.push(Hash(h.try_into().expect("32 bytes")));
        }
        i = end;
    }
    Ok(out)
}
