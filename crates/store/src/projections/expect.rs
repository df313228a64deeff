//! The projections a full replay implies, for `check` ([`compare`]) and
//! `rebuild` ([`rewrite`]).

use super::*;

/// One prefix's expected values (payloads, before sealing), in ascending
/// key order.
pub(crate) type Values<'a> = &'a mut dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>>;

/// Every keyed value (payload, before sealing) a full state implies:
/// what the projections of a log must be, for `check` and `rebuild`,
/// handed to `visit` one prefix at a time, each in ascending key order
/// (the order of sled's scan), and made as they are taken: no map of
/// every value is built. Returns the payload of `m:hot`, which depends on
/// every case. `facts` are the records' facts in order and `ranges` the
/// compact ranges at every multiple of 256 below the size. The state's
/// cases, notices, embargoes, sealed fields, late records, findings and
/// duplicate and citation entries are moved out of it (drained, not
/// copied); its parties, keys and chain position stay.
pub(crate) fn each_expected(
    state: &mut AuditState,
    facts: &[RecordFacts],
    ranges: &[Vec<u8>],
    visit: &mut dyn FnMut(u8, Values<'_>) -> Result<(), StoreError>,
) -> Result<Vec<u8>, StoreError> {
    let mut packer = Packer::new()?;
    let size = state.size;
    let mut ws = WorkingSet::drain(state, 0);
    let mut counts = Counts::default();
    let mut loose = Vec::new();
    let mut cases = std::mem::take(&mut ws.cases);
    for f in std::mem::take(&mut ws.loose_findings) {
        match f.case.and_then(|c| cases.get_mut(&c)) {
            Some(e) => e.findings.push(f),
            None => loose.push(f),
        }
    }
    visit(
        b'p',
        &mut state
            .parties
            .iter()
            .map(|(id, p)| Ok((party_key(*id), encode_versioned(p)))),
    )?;
    visit(
        b'k',
        &mut state
            .keys
            .iter()
            .map(|(key, k)| Ok((key_key(key), encode_versioned(&without_uses(k))))),
    )?;
    // The cases in id order (the order of their keys); the party index
    // entries each implies are gathered for `q`.
    let mut index: Vec<(PartyId, RecordRef, CaseId)> = Vec::new();
    {
        let mut values = cases.into_iter().map(|(id, entry)| {
            counts = counts.changed(Counts::of(&entry), Counts::default());
            for p in entry.parties() {
                index.push((p, entry.case.opened, id));
            }
            Ok((case_key(&id), packer.pack(&entry.to_bytes())?))
        });
        visit(b'x', &mut values)?;
        // Whatever `visit` left untaken still counts for `m:hot`.
        for rest in values {
            rest?;
        }
    }
    visit(
        b'c',
        &mut facts.chunks(BUNDLE as usize).enumerate().map(|(b, chunk)| {
            let mut block = Vec::with_capacity(chunk.len() * RecordFacts::LEN);
            for f in chunk {
                f.encode(&mut block);
            }
            Ok((facts_key(b as u64), block))
        }),
    )?;
    // Sorted by key (as they are drained from ordered maps, in linear
    // time), so that the order holds whatever `drain` does.
    ws.statements.sort_by_key(|(k, _)| *k);
    visit(
        b's',
        &mut ws
            .statements
            .iter()
            .map(|(k, r)| Ok((statement_key(*k), r.0.to_be_bytes().to_vec()))),
    )?;
    ws.loose_sealed.sort_by_key(|(k, _)| *k);
    visit(
        b'z',
        &mut ws
            .loose_sealed
            .iter()
            .map(|((r, field), s)| Ok((sealed_key(*r, *field), encode_versioned(s)))),
    )?;
    ws.loose_late.sort_by_key(|l| l.record);
    visit(
        b'l',
        &mut ws
            .loose_late
            .iter()
            .map(|l| Ok((late_key(l.record), encode_versioned(l)))),
    )?;
    let n = loose.len() as u64;
    visit(
        b'f',
        &mut loose
            .iter()
            .enumerate()
            .map(|(i, f)| Ok((finding_key(i as u64), encode_versioned(f)))),
    )?;
    // One entry per (party, opening record): a record opens one case.
    index.sort();
    index.dedup_by_key(|(p, r, _)| (*p, *r));
    visit(
        b'q',
        &mut index
            .iter()
            .map(|(p, r, id)| Ok((party_case_key(*p, *r), id.0.to_vec()))),
    )?;
    visit(
        b'r',
        &mut ranges
            .iter()
            .enumerate()
            .map(|(i, r)| Ok((range_key(i as u64 * SNAPSHOT_EVERY), r.clone()))),
    )?;
    debug_assert_eq!(state.size, size);
    Ok(HotState::of(state, counts, n, parties_digest(state)).to_bytes())
}

/// [`each_expected`] collected into one map (with `m:hot`): what
/// `rebuild` writes in one batch.
pub(crate) fn expected_values(
    state: &mut AuditState,
    facts: &[RecordFacts],
    ranges: &[Vec<u8>],
) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StoreError> {
    let mut out = BTreeMap::new();
    let hot = each_expected(state, facts, ranges, &mut |_, values| {
        for value in values {
            let (k, v) = value?;
            out.insert(k, v);
        }
        Ok(())
    })?;
    out.insert(HOT.to_vec(), hot);
    Ok(out)
}

/// The first difference between the stored projections and what the
/// replayed `state` implies ([`each_expected`]): a value missing, extra,
/// altered or badly tagged. Each prefix's stored values are read in key
/// order beside its expected values, made in the same order, so nothing
/// but the replayed state is held.
pub(crate) fn compare(
    db: &sled::Db,
    sealer: &Sealer,
    state: &mut AuditState,
    facts: &[RecordFacts],
    ranges: &[Vec<u8>],
) -> Result<(), StoreError> {
    let differs = |k: &[u8]| StoreError::corrupt(Corruption::ProjectionDiffers, place_of(k));
    let missing = |k: &[u8]| StoreError::corrupt(Corruption::Missing, place_of(k));
    let mut visited = Vec::new();
    let hot = each_expected(state, facts, ranges, &mut |prefix, values| {
        visited.push(prefix);
        let mut stored = db.scan_prefix([prefix]);
        let mut previous: Option<Vec<u8>> = None;
        let mut next_stored = stored.next().transpose()?;
        for value in values {
            let (key, want) = value?;
            // The merge needs ascending keys; an expected stream out of
            // order is a bug here, never damage, and must not pass.
            if previous.as_deref().is_some_and(|p| p >= key.as_slice()) {
                return Err(StoreError::corrupt(
                    Corruption::ProjectionDiffers,
                    place_of(&key),
                ));
            }
            // A stored key before this one is not expected: left over
            // (or, with a tag that is not the log key's, forged).
            if let Some((k, v)) = &next_stored
                && k.as_ref() < key.as_slice()
            {
                sealer.open(k, v)?;
                return Err(differs(k));
            }
            match &next_stored {
                Some((k, v)) if k.as_ref() == key.as_slice() => {
                    if sealer.open(k, v)? != want.as_slice() {
                        return Err(differs(k));
                    }
                    next_stored = stored.next().transpose()?;
                }
                _ => return Err(missing(&key)),
            }
            previous = Some(key);
        }
        match next_stored {
            Some((k, v)) => {
                sealer.open(&k, &v)?;
                Err(differs(&k))
            }
            None => Ok(()),
        }
    })?;
    // Every kind compared once: a kind left out here would never be
    // checked, so it is an error in release builds too.
    if let Some(p) = PREFIXES
        .iter()
        .find(|p| visited.iter().filter(|v| v == p).count() != 1)
    {
        return Err(StoreError::corrupt(
            Corruption::ProjectionDiffers,
            place_of(&[*p]),
        ));
    }
    let stored = db
        .get(HOT)?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(HOT)))?;
    if sealer.open(HOT, &stored)? != hot.as_slice() {
        return Err(differs(HOT));
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
