//! The working set: what a statement's rules read is loaded before it is
//! applied ([`page_in`]), and what a commit touched is written back into
//! the commit's own batch ([`page_out`]) or dropped ([`discard`]).

use super::*;

/// What was loaded of one case entry, kept beside the working set until
/// the entry is written back.
#[derive(Clone, Debug, Default)]
struct Loaded {
    late: Vec<forewarn_ledger::auditor::LateRecord>,
    findings: Vec<Finding>,
    counts: Counts,
    parties: BTreeSet<PartyId>,
}

/// The store's side of the working set: what is on disk, what was loaded,
/// and the facts of the records appended since the last write-back.
#[derive(Clone, Debug)]
pub(crate) struct Pager {
    /// Records whose projections are on disk.
    pub(crate) base: u64,
    /// The case and notice counts of the records on disk.
    pub(crate) counts: Counts,
    loose_findings: u64,
    digest: [u8; 32],
    loaded: BTreeMap<CaseId, Loaded>,
    absent: BTreeSet<CaseId>,
    uses_from: BTreeMap<PartyId, Millis>,
    /// Parties whose party or key values a statement of the batch changed.
    touched: BTreeSet<PartyId>,
    /// Facts of records `base..`.
    facts: Vec<RecordFacts>,
    /// Full facts blocks already read and verified (they never change):
    /// citations cluster on a few records, such as party registrations.
    blocks: crate::HashMap<u64, std::sync::Arc<[u8]>>,
    /// Duplicate buckets of the current generation read since the last
    /// write-back (payloads, as on disk), which it appends to.
    dup_buckets: crate::HashMap<Vec<u8>, Vec<u8>>,
    /// The bucket of each duplicate key looked up since the last
    /// write-back (a MAC each: the write-back need not compute it again).
    bucket_of: crate::HashMap<u128, u16>,
    /// Whether the duplicate index (`s` values) is read and written here:
    /// a store's pager does; a paged replay keeps its own
    /// ([`crate::seen`]).
    pub(crate) duplicate_index: bool,
}

/// Full facts blocks a [`Pager`] keeps (about 25 KiB each).
const CACHED_BLOCKS: usize = 256;

impl Pager {
    /// The facts of record `i` (below `base`), from the cache for a full
    /// block.
    fn facts_of(
        &mut self,
        db: &sled::Db,
        sealer: &Sealer,
        i: u64,
    ) -> Result<RecordFacts, StoreError> {
        let b = i / BUNDLE;
        let bad = || StoreError::corrupt(Corruption::Malformed, place_of(&facts_key(b)));
        let at = (i % BUNDLE) as usize * RecordFacts::LEN;
        let block: std::sync::Arc<[u8]> = if b >= self.base / BUNDLE {
            // The last block grows in place: read it each time.
            read_block_exact(db, sealer, b, self.base)?.into()
        } else if let Some(block) = self.blocks.get(&b) {
            block.clone()
        } else {
            let block: std::sync::Arc<[u8]> = read_block_exact(db, sealer, b, self.base)?.into();
            if self.blocks.len() >= CACHED_BLOCKS {
                self.blocks.clear();
            }
            self.blocks.insert(b, block.clone());
            block
        };
        block
            .get(at..at + RecordFacts::LEN)
            .and_then(RecordFacts::decode)
            .ok_or_else(bad)
    }
}

impl Pager {
    pub(super) fn new(hot: &HotState) -> Pager {
        Pager {
            base: hot.size,
            counts: hot.counts,
            loose_findings: hot.loose_findings,
            digest: hot.parties_digest,
            loaded: BTreeMap::new(),
            absent: BTreeSet::new(),
            uses_from: BTreeMap::new(),
            touched: BTreeSet::new(),
            facts: Vec::new(),
            blocks: Default::default(),
            dup_buckets: Default::default(),
            bucket_of: Default::default(),
            duplicate_index: true,
        }
    }

    /// The pager of an empty log.
    pub(crate) fn empty() -> Pager {
        Pager::new(&empty_hot(&AuditState::default()))
    }
}

fn empty_hot(state: &AuditState) -> HotState {
    HotState::of(state, Counts::default(), 0, parties_digest(state))
}

/// `m:hot` of a new, empty log.
pub(crate) fn initial_hot(sealer: &Sealer) -> Vec<u8> {
    sealer.seal(HOT, empty_hot(&AuditState::default()).to_bytes())
}

/// Loads into the working set everything the rules read for `statement`
/// (see [`Auditor::working_set`]): its duplicate entry, the facts of the
/// records it cites, the entries of the cases it names or reaches through
/// them, a sealed field without a case it opens, and for a revocation the
/// uses of the party's keys.
///
/// A statement whose signature did not verify is refused before any rule
/// reads the state (§16 step 8 comes before step 9), so for it only the
/// duplicate entry is loaded; nor are a revocation's uses loaded unless its
/// signing key belongs to the revoked key's party (else it is refused
/// before they are read). Anyone can send such statements, and each would
/// otherwise read every record logged since its `effective_at`.
pub(crate) fn page_in(
    db: &sled::Db,
    sealer: &Sealer,
    pager: &mut Pager,
    auditor: &mut Auditor,
    statement: &Statement,
    hash: &[u8; 32],
    signature_ok: bool,
) -> Result<(), StoreError> {
    let size = auditor.size();
    let base = pager.base;
    let state = auditor.working_set();
    let dk = duplicate_key(hash);
    if !pager.duplicate_index {
        // The caller looks the statement up in its own index.
    } else if let std::collections::btree_map::Entry::Vacant(slot) = state.statements.entry(dk) {
        // The buckets of the generation new records go to are kept for
        // the write-back, which appends to them.
        let current = dup_generation(base);
        let bucket = sealer.bucket_of(dk);
        pager.bucket_of.insert(dk, bucket);
        let kept = &mut pager.dup_buckets;
        let found = find_duplicate(db, sealer, base, dk, bucket, |key, payload| {
            if key[1..9] == current.to_be_bytes() {
                kept.insert(key, payload);
            }
        })?;
        if let Some(r) = found {
            slot.insert(r);
        }
    }
    if !signature_ok {
        return Ok(());
    }
    let mut cases: BTreeSet<CaseId> = statement.event.case().into_iter().collect();
    // Cases named by the facts of cited records: every accepted record
    // that names a case left that case's entry behind (CaseOpened made it,
    // every other event needed it), so a missing one was removed.
    let mut cited: BTreeSet<CaseId> = BTreeSet::new();
    let mut held = Vec::new();
    for c in statement.event.cites() {
        let i = c.record.0;
        if i >= size {
            continue;
        }
        let facts = if i >= base {
            pager.facts[(i - base) as usize]
        } else {
            let f = pager.facts_of(db, sealer, i)?;
            state.citable.paged.entry(i).or_insert_with(|| f.citable());
            f
        };
        match facts.case {
            Some(case) => {
                cases.insert(case);
                cited.insert(case);
                held.push((case, facts.event, c.record));
            }
            None => {
                if let Event::Opening { field, .. } = &statement.event
                    && i < base
                    && !state.sealed.contains_key(&(c.record, *field))
                {
                    let key = sealed_key(c.record, *field);
                    if let Some(p) = get_open(db, sealer, &key)? {
                        state
                            .sealed
                            .insert((c.record, *field), decode_versioned(&key, &p)?);
                    }
                }
            }
        }
    }
    let removed = |id: &CaseId| StoreError::corrupt(Corruption::Missing, place_of(&case_key(id)));
    for id in cases {
        if state.cases.contains_key(&id) {
            continue;
        }
        if pager.absent.contains(&id) {
            if cited.contains(&id) {
                return Err(removed(&id));
            }
            continue;
        }
        match read_case(db, sealer, &id)? {
            None if cited.contains(&id) => return Err(removed(&id)),
            None => {
                pager.absent.insert(id);
            }
            Some(entry) => {
                let (counts, parties) = (Counts::of(&entry), entry.parties());
                let (late, findings) = entry.move_into(state);
                pager.loaded.insert(
                    id,
                    Loaded {
                        counts,
                        parties,
                        late,
                        findings,
                    },
                );
            }
        }
    }
    // A cited `Notified` (tag 6) or `EmbargoProposed` (tag 8) left its
    // notice or embargo in its case's entry; one missing there means the
    // entry was put back from before it (a genuine older value).
    for (case, event, r) in held {
        let missing = match event {
            6 => !state.notices.contains_key(&r),
            8 => !state.embargoes.contains_key(&r),
            _ => false,
        };
        if missing {
            return Err(StoreError::corrupt(
                Corruption::Missing,
                place_of(&case_key(&case)),
            ));
        }
    }
    if let Event::KeyRevoked { key, effective_at } = &statement.event
        && let Some(party) = state.keys.get(key).map(|k| k.party)
        && state.keys.get(&statement.signer).map(|k| k.party) == Some(party)
    {
        load_uses(db, sealer, pager, state, party, *effective_at)?;
    }
    match &statement.event {
        Event::PartyRegistered { .. } => {
            pager.touched.insert(PartyId(size));
        }
        Event::KeyAdded { party, .. } => {
            pager.touched.insert(party.party());
        }
        Event::KeyRevoked { key, .. } => {
            if let Some(k) = state.keys.get(key) {
                pager.touched.insert(k.party);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The uses of every key of `party` logged from `from` on, from the facts
/// on disk (log times only grow, so they are a suffix of the log), ahead of
/// those the working set already holds; and the facts of those records
/// (a revocation looks at what each one was).
fn load_uses(
    db: &sled::Db,
    sealer: &Sealer,
    pager: &mut Pager,
    state: &mut AuditState,
    party: PartyId,
    from: Millis,
) -> Result<(), StoreError> {
    if pager.uses_from.get(&party).is_some_and(|t| *t <= from) {
        return Ok(());
    }
    let base = pager.base;
    // First block holding a record logged at or after `from`.
    let blocks = base.div_ceil(BUNDLE);
    let (mut lo, mut hi) = (0u64, blocks);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let block = read_block_exact(db, sealer, mid, base)?;
        let last = RecordFacts::decode(&block[block.len() - RecordFacts::LEN..])
            .ok_or_else(|| StoreError::corrupt(Corruption::Malformed, place_of(&facts_key(mid))))?;
        if last.logged_at < from {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let mut found: BTreeMap<forewarn_ledger::PublicKey, Vec<(RecordRef, Millis)>> = BTreeMap::new();
    for b in lo..blocks {
        let block = read_block_exact(db, sealer, b, base)?;
        for (j, raw) in block.chunks(RecordFacts::LEN).enumerate() {
            let i = b * BUNDLE + j as u64;
            if i >= base {
                break;
            }
            let f = RecordFacts::decode(raw).ok_or_else(|| {
                StoreError::corrupt(Corruption::Malformed, place_of(&facts_key(b)))
            })?;
            if f.party == party && f.logged_at >= from {
                found
                    .entry(f.key)
                    .or_default()
                    .push((RecordRef(i), f.logged_at));
                state.citable.paged.entry(i).or_insert_with(|| f.citable());
            }
        }
    }
    let keys: Vec<forewarn_ledger::PublicKey> = state
        .parties
        .get(&party)
        .map(|p| p.keys.clone())
        .unwrap_or_default();
    for key in keys {
        if let Some(k) = state.keys.get_mut(&key) {
            let newer: Vec<(RecordRef, Millis)> = k
                .uses
                .iter()
                .filter(|(r, _)| r.0 >= base)
                .copied()
                .collect();
            let mut uses = found.remove(&key).unwrap_or_default();
            uses.extend(newer);
            k.uses = uses;
        }
    }
    pager.uses_from.insert(party, from);
    Ok(())
}

/// Notes the facts of the record just appended (index `pager.base +
/// pager.facts.len()`), signed by `key`, about `case` (the case its event
/// names directly).
pub(crate) fn note_appended(
    pager: &mut Pager,
    auditor: &Auditor,
    key: forewarn_ledger::PublicKey,
    case: Option<CaseId>,
    logged_at: Millis,
) {
    let i = pager.base + pager.facts.len() as u64;
    let c = *auditor
        .state()
        .citable
        .get(i as usize)
        .expect("the record was just appended");
    pager.facts.push(RecordFacts {
        leaf: c.leaf,
        key,
        logged_at,
        party: c.signer,
        event: c.event,
        case,
    });
}

/// The keyed values of a drained working set: `(key, payload)` pairs,
/// before sealing. `old` holds what was loaded of each case entry; `pager`
/// carries the counters and the facts of the new records.
struct Values {
    out: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Values {
    fn put(&mut self, key: Vec<u8>, payload: Vec<u8>) {
        self.out.push((key, payload));
    }
}

/// Writes the working set back into `batch`, sealed, and empties it:
/// called once per commit, after validation, so the projections land in
/// the same atomic batch as the records.
pub(crate) fn page_out(
    db: &sled::Db,
    sealer: &Sealer,
    pager: &mut Pager,
    auditor: &mut Auditor,
    packer: &mut Packer,
    batch: &mut sled::Batch,
) -> Result<(), StoreError> {
    let base = pager.base;
    let size = auditor.size();
    let ws = WorkingSet::drain(auditor.working_set(), base);
    let mut values = Values { out: Vec::new() };
    // Findings about a case the set does not hold go to that case's entry.
    let mut orphans: BTreeMap<CaseId, Vec<Finding>> = BTreeMap::new();
    let mut loose = Vec::new();
    for f in ws.loose_findings {
        match f.case {
            Some(c) => orphans.entry(c).or_default().push(f),
            None => loose.push(f),
        }
    }
    let mut cases = ws.cases;
    let mut links: BTreeMap<PartyId, Vec<(RecordRef, CaseId)>> = BTreeMap::new();
    for (id, found) in orphans {
        if let Some(e) = cases.get_mut(&id) {
            e.findings.extend(found);
            continue;
        }
        match read_case(db, sealer, &id)? {
            Some(mut e) => {
                pager.loaded.insert(
                    id,
                    Loaded {
                        counts: Counts::of(&e),
                        parties: e.parties(),
                        late: core::mem::take(&mut e.late),
                        findings: core::mem::take(&mut e.findings),
                    },
                );
                e.findings = found;
                cases.insert(id, e);
            }
            // A finding about a case that was never opened: kept loose.
            None => loose.extend(found),
        }
    }
    for (id, mut entry) in cases {
        let old = pager.loaded.remove(&id).unwrap_or_default();
        let mut late = old.late;
        late.append(&mut entry.late);
        entry.late = late;
        let mut findings = old.findings;
        findings.append(&mut entry.findings);
        entry.findings = findings;
        pager.counts = pager.counts.changed(Counts::of(&entry), old.counts);
        for p in entry.parties().difference(&old.parties) {
            links.entry(*p).or_default().push((entry.case.opened, id));
        }
        values.put(case_key(&id), packer.pack(&entry.to_bytes())?);
    }
    for ((r, field), s) in ws.loose_sealed {
        values.put(sealed_key(r, field), encode_versioned(&s));
    }
    for l in ws.loose_late {
        values.put(late_key(l.record), encode_versioned(&l));
    }
    for f in loose {
        values.put(finding_key(pager.loose_findings), encode_versioned(&f));
        pager.loose_findings += 1;
    }
    for (party, new) in links {
        append_links(db, sealer, &mut values, party, new)?;
    }
    if pager.duplicate_index {
        append_duplicates(db, sealer, pager, &mut values, ws.statements)?;
    }
    // Facts: the blocks from the one holding `base` on.
    debug_assert_eq!(pager.facts.len() as u64, size - base);
    debug_assert_eq!(ws.citable.len() as u64, size - base);
    if size > base {
        let first = base / BUNDLE;
        let mut block = if base.is_multiple_of(BUNDLE) {
            Vec::new()
        } else {
            read_block_exact(db, sealer, first, base)?
        };
        block.truncate((base % BUNDLE) as usize * RecordFacts::LEN);
        let mut n = first;
        for f in &pager.facts {
            f.encode(&mut block);
            if block.len() == BUNDLE as usize * RecordFacts::LEN {
                values.put(facts_key(n), core::mem::take(&mut block));
                n += 1;
            }
        }
        if !block.is_empty() {
            values.put(facts_key(n), block);
        }
    }
    // Compact ranges at every multiple of 256 the batch passed.
    let state = auditor.state();
    let mut m = base.div_ceil(SNAPSHOT_EVERY) * SNAPSHOT_EVERY;
    while m < size {
        let i = ((m - state.recent.first) / SNAPSHOT_EVERY) as usize;
        let range =
            state.recent.snapshots.get(i).cloned().ok_or_else(|| {
                StoreError::corrupt(Corruption::Malformed, place_of(&range_key(m)))
            })?;
        values.put(range_key(m), range);
        m += SNAPSHOT_EVERY;
    }
    if !pager.touched.is_empty() {
        for p in &pager.touched {
            if let Some(party) = state.parties.get(p) {
                values.put(party_key(*p), encode_versioned(party));
                for key in &party.keys {
                    if let Some(k) = state.keys.get(key) {
                        values.put(key_key(key), encode_versioned(&without_uses(k)));
                    }
                }
            }
        }
        pager.digest = parties_digest(state);
    }
    let hot = HotState::of(state, pager.counts, pager.loose_findings, pager.digest);
    values.put(HOT.to_vec(), hot.to_bytes());
    for (k, v) in values.out {
        let sealed = sealer.seal(&k, v);
        batch.insert(k, sealed);
    }
    pager.base = size;
    pager.facts.clear();
    pager.dup_buckets.clear();
    pager.bucket_of.clear();
    pager.loaded.clear();
    pager.absent.clear();
    pager.uses_from.clear();
    pager.touched.clear();
    Ok(())
}

/// Appends the new duplicate entries (of records from `pager.base` on) to
/// their buckets, in record order.
fn append_duplicates(
    db: &sled::Db,
    sealer: &Sealer,
    pager: &mut Pager,
    values: &mut Values,
    entries: Vec<(u128, RecordRef)>,
) -> Result<(), StoreError> {
    let mut buckets: BTreeMap<Vec<u8>, Vec<(u128, u64)>> = BTreeMap::new();
    for (k, r) in entries {
        buckets
            .entry(dup_bucket_key(
                dup_generation(r.0),
                pager
                    .bucket_of
                    .get(&k)
                    .copied()
                    .unwrap_or_else(|| sealer.bucket_of(k)),
            ))
            .or_default()
            .push((k, r.0));
    }
    for (key, mut new) in buckets {
        new.sort_unstable_by_key(|(_, r)| *r);
        let mut payload = match pager.dup_buckets.remove(&key) {
            Some(p) => p,
            None => get_open(db, sealer, &key)?.unwrap_or_default(),
        };
        // What is stored must be well formed and all before the new
        // records (a bucket wider than the stored size is damage here).
        if !payload.is_empty()
            && dup_entries(&key, &payload)?
                .last()
                .is_some_and(|(_, r)| *r >= pager.base)
        {
            return Err(StoreError::corrupt(Corruption::Malformed, place_of(&key)));
        }
        for (k, r) in new {
            push_dup_entry(&mut payload, k, r);
        }
        values.put(key, payload);
    }
    Ok(())
}

/// Appends `new` links to the end of `party`'s case list: to its last
/// chunk until that holds [`LINKS_PER_CHUNK`], then to new chunks.
fn append_links(
    db: &sled::Db,
    sealer: &Sealer,
    values: &mut Values,
    party: PartyId,
    mut new: Vec<(RecordRef, CaseId)>,
) -> Result<(), StoreError> {
    new.sort_unstable_by_key(|(r, _)| *r);
    let last = db
        .scan_prefix(key1(b'q', &party.0.to_be_bytes()))
        .next_back()
        .transpose()?;
    let (mut chunk, mut payload) = match last {
        Some((k, v)) => {
            let (_, n) = party_cases_of_key(&k)?;
            let payload = sealer.open(&k, &v)?.to_vec();
            links_of(&k, &payload)?;
            (n, payload)
        }
        None => (0, Vec::new()),
    };
    // Whether `payload` holds a link of this batch (a full chunk from
    // disk is not written again).
    let mut changed = false;
    for (opened, case) in new {
        if payload.len() == LINKS_PER_CHUNK * LINK {
            let full = core::mem::take(&mut payload);
            if changed {
                values.put(party_cases_key(party, chunk), full);
            }
            chunk = chunk.checked_add(1).ok_or_else(|| {
                StoreError::corrupt(
                    Corruption::Malformed,
                    place_of(&party_cases_key(party, chunk)),
                )
            })?;
        }
        push_link(&mut payload, opened, &case);
        changed = true;
    }
    values.put(party_cases_key(party, chunk), payload);
    Ok(())
}

/// Empties the working set without writing anything back: for a commit
/// that accepted no statement (the rules change nothing before they
/// accept, so what was loaded is unchanged).
pub(crate) fn discard(pager: &mut Pager, auditor: &mut Auditor) {
    debug_assert!(pager.facts.is_empty(), "nothing was appended");
    WorkingSet::drain(auditor.working_set(), pager.base);
    pager.dup_buckets.clear();
    pager.bucket_of.clear();
    pager.loaded.clear();
    pager.absent.clear();
    pager.uses_from.clear();
    pager.touched.clear();
}
