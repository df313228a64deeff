//! The projections a full replay implies, for `check` ([`compare`]) and
//! `rebuild` ([`rewrite`]).

use super::*;
use crate::scan::scan_prefix;

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
    sealer: &Sealer,
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
    // In bucket order (generation, then bucket), each bucket's entries in
    // record order: sorted by (generation ‖ bucket ‖ record within the
    // generation) packed in a u64, in place (the pairs keep their size).
    const LOW: u64 = (1 << DUP_GENERATION_BITS) - 1;
    // (Records from 2^48 on do not fit; no log gets near.)
    if ws.statements.iter().any(|(_, r)| r.0 >> 48 != 0) {
        return Err(StoreError::corrupt(Corruption::Malformed, place_of(b"s")));
    }
    let mut dups: Vec<(u64, u128)> = std::mem::take(&mut ws.statements)
        .into_iter()
        .map(|(k, r)| {
            let bucket = u64::from(sealer.bucket_of(k));
            let order = (dup_generation(r.0) << (16 + DUP_GENERATION_BITS))
                | (bucket << DUP_GENERATION_BITS)
                | (r.0 & LOW);
            (order, k)
        })
        .collect();
    dups.sort_unstable_by_key(|(order, _)| *order);
    let mut at = 0;
    visit(
        b's',
        &mut std::iter::from_fn(|| {
            let (order, _) = *dups.get(at)?;
            let generation = order >> (16 + DUP_GENERATION_BITS);
            let bucket = order >> DUP_GENERATION_BITS;
            let key = dup_bucket_key(generation, bucket as u16);
            let mut payload = Vec::new();
            while let Some((o, k)) = dups.get(at).copied()
                && o >> DUP_GENERATION_BITS == bucket
            {
                push_dup_entry(
                    &mut payload,
                    k,
                    (generation << DUP_GENERATION_BITS) | (o & LOW),
                );
                at += 1;
            }
            Some(Ok((key, payload)))
        }),
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
    // One link per (party, opening record): a record opens one case. Each
    // party's links in log order, 64 to a chunk (the order `rebuild`
    // writes; steps append in the order parties join cases, and `check`
    // compares each party's links as a set).
    index.sort();
    index.dedup_by_key(|(p, r, _)| (*p, *r));
    let mut at = 0;
    let mut chunk = 0u32;
    visit(
        b'q',
        &mut std::iter::from_fn(|| {
            let (party, _, _) = *index.get(at)?;
            if at > 0 && index[at - 1].0 != party {
                chunk = 0;
            }
            let key = party_cases_key(party, chunk);
            let mut payload = Vec::new();
            while let Some((p, r, id)) = index.get(at)
                && *p == party
                && payload.len() < LINKS_PER_CHUNK * LINK
            {
                push_link(&mut payload, *r, id);
                at += 1;
            }
            chunk += 1;
            Some(Ok((key, payload)))
        }),
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
    sealer: &Sealer,
    state: &mut AuditState,
    facts: &[RecordFacts],
    ranges: &[Vec<u8>],
) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StoreError> {
    let mut out = BTreeMap::new();
    let hot = each_expected(sealer, state, facts, ranges, &mut |_, values| {
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
///
/// Without `duplicates`, the duplicate index (`s`) is not compared (a
/// paged replay that checks duplicates its own way keeps none). The test
/// of the paged replay against a full one; `check` compares with a paged
/// replay ([`compare_replayed`]).
#[cfg(test)]
pub(crate) fn compare(
    db: &sled::Db,
    sealer: &Sealer,
    state: &mut AuditState,
    facts: &[RecordFacts],
    ranges: &[Vec<u8>],
    duplicates: bool,
) -> Result<(), StoreError> {
    let mut visited = Vec::new();
    let hot = each_expected(sealer, state, facts, ranges, &mut |prefix, values| {
        visited.push(prefix);
        if prefix == b's' && !duplicates {
            return Ok(());
        }
        compare_prefix(db, sealer, prefix, values)
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
        return Err(StoreError::corrupt(
            Corruption::ProjectionDiffers,
            place_of(HOT),
        ));
    }
    Ok(())
}

/// Compares the stored values of one prefix with `values`, the expected
/// ones in ascending key order: the first value missing, extra, altered
/// or badly tagged is the error.
fn compare_prefix(
    db: &sled::Db,
    sealer: &Sealer,
    prefix: u8,
    values: Values<'_>,
) -> Result<(), StoreError> {
    if prefix == b'q' {
        return compare_links(db, sealer, values);
    }
    let mut merge = Merge::new(db, sealer, prefix)?;
    for value in values {
        let (key, want) = value?;
        merge.expect(key, &want)?;
    }
    merge.finish()
}

/// The stored values of one prefix, read in key order beside the
/// expected ones as they are made ([`Merge::expect`]).
struct Merge<'a> {
    sealer: &'a Sealer,
    stored: crate::scan::Scan<'a>,
    next_stored: Option<(sled::IVec, sled::IVec)>,
    previous: Option<Vec<u8>>,
}

impl<'a> Merge<'a> {
    fn new(db: &'a sled::Db, sealer: &'a Sealer, prefix: u8) -> Result<Merge<'a>, StoreError> {
        let mut stored = scan_prefix(db, [prefix]);
        let next_stored = stored.next().transpose()?;
        Ok(Merge {
            sealer,
            stored,
            next_stored,
            previous: None,
        })
    }

    /// The next expected value: `want` under `key`, above the last one.
    fn expect(&mut self, key: Vec<u8>, want: &[u8]) -> Result<(), StoreError> {
        let differs = |k: &[u8]| StoreError::corrupt(Corruption::ProjectionDiffers, place_of(k));
        // The merge needs ascending keys; an expected stream out of
        // order is a bug here, never damage, and must not pass.
        if self
            .previous
            .as_deref()
            .is_some_and(|p| p >= key.as_slice())
        {
            return Err(differs(&key));
        }
        // A stored key before this one is not expected: left over
        // (or, with a tag that is not the log key's, forged).
        if let Some((k, v)) = &self.next_stored
            && k.as_ref() < key.as_slice()
        {
            self.sealer.open(k, v)?;
            return Err(differs(k));
        }
        match &self.next_stored {
            Some((k, v)) if k.as_ref() == key.as_slice() => {
                if self.sealer.open(k, v)? != want {
                    return Err(differs(k));
                }
                self.next_stored = self.stored.next().transpose()?;
            }
            _ => return Err(StoreError::corrupt(Corruption::Missing, place_of(&key))),
        }
        self.previous = Some(key);
        Ok(())
    }

    /// No stored value is left beyond the expected ones.
    fn finish(self) -> Result<(), StoreError> {
        match self.next_stored {
            Some((k, v)) => {
                self.sealer.open(&k, &v)?;
                Err(StoreError::corrupt(
                    Corruption::ProjectionDiffers,
                    place_of(&k),
                ))
            }
            None => Ok(()),
        }
    }
}

/// The duplicate index (`s`) compared with the statements of a replay,
/// given in record order ([`DuplicateIndexCheck::push`]): each generation
/// is sorted into its buckets once it is complete, and compared with the
/// stored buckets of that generation. Memory: one generation's entries
/// (2^22, 24 bytes each), whatever the size of the log.
pub(crate) struct DuplicateIndexCheck<'a> {
    sealer: &'a Sealer,
    merge: Merge<'a>,
    generation: u64,
    /// (bucket ‖ record within the generation, key) of the generation
    /// being gathered.
    entries: Vec<(u64, [u8; 16])>,
}

impl<'a> DuplicateIndexCheck<'a> {
    pub(crate) fn new(
        db: &'a sled::Db,
        sealer: &'a Sealer,
    ) -> Result<DuplicateIndexCheck<'a>, StoreError> {
        Ok(DuplicateIndexCheck {
            sealer,
            merge: Merge::new(db, sealer, b's')?,
            generation: 0,
            entries: Vec::new(),
        })
    }

    /// Record `record` holds the statement of duplicate key `key`;
    /// records come in ascending order.
    pub(crate) fn push(&mut self, key: u128, record: u64) -> Result<(), StoreError> {
        // (Records from 2^48 on do not fit the packing; no log gets near.)
        if record >> 48 != 0 || dup_generation(record) < self.generation {
            return Err(StoreError::corrupt(Corruption::Malformed, place_of(b"s")));
        }
        if dup_generation(record) != self.generation {
            self.compare_generation()?;
            self.generation = dup_generation(record);
        }
        const LOW: u64 = (1 << DUP_GENERATION_BITS) - 1;
        let bucket = u64::from(self.sealer.bucket_of(key));
        self.entries.push((
            (bucket << DUP_GENERATION_BITS) | (record & LOW),
            key.to_be_bytes(),
        ));
        Ok(())
    }

    /// The gathered generation's buckets, in key order, against the
    /// stored ones.
    fn compare_generation(&mut self) -> Result<(), StoreError> {
        const LOW: u64 = (1 << DUP_GENERATION_BITS) - 1;
        self.entries.sort_unstable_by_key(|(order, _)| *order);
        let generation = self.generation;
        let mut at = 0;
        while let Some(&(order, _)) = self.entries.get(at) {
            let bucket = order >> DUP_GENERATION_BITS;
            let mut payload = Vec::new();
            while let Some(&(o, k)) = self.entries.get(at)
                && o >> DUP_GENERATION_BITS == bucket
            {
                push_dup_entry(
                    &mut payload,
                    u128::from_be_bytes(k),
                    (generation << DUP_GENERATION_BITS) | (o & LOW),
                );
                at += 1;
            }
            self.merge
                .expect(dup_bucket_key(generation, bucket as u16), &payload)?;
        }
        self.entries.clear();
        Ok(())
    }

    /// The last generation, and nothing stored beyond it.
    pub(crate) fn finish(mut self) -> Result<(), StoreError> {
        self.compare_generation()?;
        self.merge.finish()
    }
}

/// [`compare`] with the values a paged replay wrote to `replayed` (under
/// the same seal) as the expected ones: every prefix but the duplicate
/// index (which a replay checks its own way, and `check` compares with
/// [`DuplicateIndexCheck`]), then `m:hot`.
pub(crate) fn compare_replayed(
    db: &sled::Db,
    sealer: &Sealer,
    replayed: &sled::Db,
) -> Result<(), StoreError> {
    // A failure reading the replay's values is the scratch database's,
    // not the store's.
    let scratch = |e: StoreError| StoreError::Scratch(Box::new(e));
    for prefix in PREFIXES.into_iter().filter(|p| *p != b's') {
        let mut values = scan_prefix(replayed, [prefix]).map(|item| {
            let (k, v) = item.map_err(|e| scratch(e.into()))?;
            let payload = sealer.open(&k, &v).map_err(scratch)?.to_vec();
            Ok((k.to_vec(), payload))
        });
        compare_prefix(db, sealer, prefix, &mut values)?;
    }
    let want = get_open(replayed, sealer, HOT)
        .map_err(scratch)?
        .ok_or_else(|| scratch(StoreError::corrupt(Corruption::Missing, place_of(HOT))))?;
    let stored = db
        .get(HOT)?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(HOT)))?;
    if sealer.open(HOT, &stored)? != want.as_slice() {
        return Err(StoreError::corrupt(
            Corruption::ProjectionDiffers,
            place_of(HOT),
        ));
    }
    Ok(())
}

/// The parties' case lists (`q`), compared party by party as sets of
/// links: steps append links in the order parties join cases, which a
/// replay does not see, so only the links and the shape of the chunks
/// (numbered from 0, all full but the last) must match.
fn compare_links(db: &sled::Db, sealer: &Sealer, expected: Values<'_>) -> Result<(), StoreError> {
    type Chunks = Vec<(Vec<u8>, Vec<u8>)>;
    /// The next party's chunks from a stream of `q` values in key order.
    fn next_party(
        values: &mut dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>>,
        pending: &mut Option<(Vec<u8>, Vec<u8>)>,
    ) -> Result<Option<(PartyId, Chunks)>, StoreError> {
        let Some(first) = pending
            .take()
            .map(Ok)
            .or_else(|| values.next())
            .transpose()?
        else {
            return Ok(None);
        };
        let (party, _) = party_cases_of_key(&first.0)?;
        let mut chunks = vec![first];
        for value in &mut *values {
            let value = value?;
            if party_cases_of_key(&value.0)?.0 != party {
                *pending = Some(value);
                break;
            }
            chunks.push(value);
        }
        Ok(Some((party, chunks)))
    }
    let mut stored = scan_prefix(db, [b'q']).map(|item| {
        let (k, v) = item?;
        let payload = sealer.open(&k, &v)?.to_vec();
        Ok((k.to_vec(), payload))
    });
    let (mut stored_next, mut expected_next) = (None, None);
    let mut s = next_party(&mut stored, &mut stored_next)?;
    let mut e = next_party(expected, &mut expected_next)?;
    loop {
        match (&s, &e) {
            (None, None) => return Ok(()),
            (Some((ps, cs)), Some((pe, ce))) if ps == pe => {
                let mut have = party_links(cs)?;
                let mut want = party_links(ce)?;
                have.sort_unstable();
                want.sort_unstable();
                if have != want || cs.len() != ce.len() {
                    return Err(StoreError::corrupt(
                        Corruption::ProjectionDiffers,
                        place_of(&cs[0].0),
                    ));
                }
            }
            // A party's list that a replay does not imply.
            (Some((ps, cs)), Some((pe, _))) if ps < pe => {
                return Err(StoreError::corrupt(
                    Corruption::ProjectionDiffers,
                    place_of(&cs[0].0),
                ));
            }
            (Some((_, cs)), None) => {
                return Err(StoreError::corrupt(
                    Corruption::ProjectionDiffers,
                    place_of(&cs[0].0),
                ));
            }
            (_, Some((_, ce))) => {
                return Err(StoreError::corrupt(Corruption::Missing, place_of(&ce[0].0)));
            }
        }
        s = next_party(&mut stored, &mut stored_next)?;
        e = next_party(expected, &mut expected_next)?;
    }
}

/// Replaces every stored projection with `expected`, in one batch.
pub(crate) fn rewrite(
    db: &sled::Db,
    sealer: &Sealer,
    expected: BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<(), StoreError> {
    let mut b = sled::Batch::default();
    for prefix in PREFIXES {
        for item in scan_prefix(db, [prefix]) {
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
