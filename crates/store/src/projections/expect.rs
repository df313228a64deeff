//! The projections a full replay implies, for `check` ([`compare`]) and
//! `rebuild` ([`rewrite`]).

use super::*;

/// Every keyed value (payload, before sealing) a full state implies:
/// what the projections of a log must be, for `check` and `rebuild`.
/// `facts` are the records' facts in order and `ranges` the compact ranges
/// at every multiple of 256 below the size. The state's cases, notices,
/// embargoes, sealed fields, late records, findings and duplicate and
/// citation entries are moved out of it (drained, not copied); its
/// parties, keys and chain position stay.
pub(crate) fn expected_values(
    state: &mut AuditState,
    facts: &[RecordFacts],
    ranges: &[Vec<u8>],
) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StoreError> {
    let mut packer = Packer::new()?;
    let size = state.size;
    let ws = WorkingSet::drain(state, 0);
    let mut out = BTreeMap::new();
    let mut counts = Counts::default();
    let mut loose = Vec::new();
    let mut cases = ws.cases;
    for f in ws.loose_findings {
        match f.case.and_then(|c| cases.get_mut(&c)) {
            Some(e) => e.findings.push(f),
            None => loose.push(f),
        }
    }
    for (id, entry) in cases {
        counts = counts.changed(Counts::of(&entry), Counts::default());
        for p in entry.parties() {
            out.insert(party_case_key(p, entry.case.opened), id.0.to_vec());
        }
        out.insert(case_key(&id), packer.pack(&entry.to_bytes())?);
    }
    for ((r, field), s) in ws.loose_sealed {
        out.insert(sealed_key(r, field), encode_versioned(&s));
    }
    for l in ws.loose_late {
        out.insert(late_key(l.record), encode_versioned(&l));
    }
    let n = loose.len() as u64;
    for (i, f) in loose.into_iter().enumerate() {
        out.insert(finding_key(i as u64), encode_versioned(&f));
    }
    for (k, r) in ws.statements {
        out.insert(statement_key(k), r.0.to_be_bytes().to_vec());
    }
    for (b, chunk) in facts.chunks(BUNDLE as usize).enumerate() {
        let mut block = Vec::with_capacity(chunk.len() * RecordFacts::LEN);
        for f in chunk {
            f.encode(&mut block);
        }
        out.insert(facts_key(b as u64), block);
    }
    for (i, r) in ranges.iter().enumerate() {
        out.insert(range_key(i as u64 * SNAPSHOT_EVERY), r.clone());
    }
    for (id, p) in &state.parties {
        out.insert(party_key(*id), encode_versioned(p));
    }
    for (key, k) in &state.keys {
        out.insert(key_key(key), encode_versioned(&without_uses(k)));
    }
    debug_assert_eq!(state.size, size);
    let hot = HotState::of(state, counts, n, parties_digest(state));
    out.insert(HOT.to_vec(), hot.to_bytes());
    Ok(out)
}

/// The first difference between the stored projections and `expected`:
/// a value missing, extra, altered or badly tagged.
pub(crate) fn compare(
    db: &sled::Db,
    sealer: &Sealer,
    expected: &BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<(), StoreError> {
    let differs = |k: &[u8]| StoreError::corrupt(Corruption::ProjectionDiffers, place_of(k));
    let mut seen = 0usize;
    for prefix in PREFIXES {
        for item in db.scan_prefix([prefix]) {
            let (k, v) = item?;
            let payload = sealer.open(&k, &v)?;
            match expected.get(k.as_ref()) {
                Some(want) if want.as_slice() == payload => seen += 1,
                _ => return Err(differs(&k)),
            }
        }
    }
    let hot = db
        .get(HOT)?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(HOT)))?;
    if expected.get(HOT).map(Vec::as_slice) != Some(sealer.open(HOT, &hot)?) {
        return Err(differs(HOT));
    }
    seen += 1;
    if seen != expected.len() {
        // Something expected is not stored: name the first one.
        let missing = expected
            .keys()
            .find(|k| db.get(k).ok().flatten().is_none())
            .cloned()
            .unwrap_or_default();
        return Err(StoreError::corrupt(Corruption::Missing, place_of(&missing)));
    }
    Ok(())
}

/// Replaces every stored projection with `expected`, in one batch.
pub(crate) fn rewrite(
    db: &sled::Db,
    sealer: &Sealer,
    expected: BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<(), StoreError> {
    let mut b = sled::Batch::default();
    for prefix in PREFIXES {
        for item in db.scan_prefix([prefix]) {
            b.remove(item?.0);
        }
    }
    for (k, v) in expected {
        let sealed = sealer.seal(&k, v);
        b.insert(k, sealed);
    }
    db.apply_batch(b)?;
    db.flush()?;
    Ok(())
}
