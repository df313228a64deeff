//! Reads for reports and steps: a state holding some cases, the cases of a
//! party, a record's sealed fields, the record holding a statement.

use super::*;
use crate::scan::scan_prefix;

/// A state holding parties, keys, the chain counters and the listed cases
/// (with their late records and findings), plus, with `loose`, every
/// sealed field, late record and finding that names no case: what report
/// building needs for those cases.
pub(crate) fn state_with(
    db: &sled::Db,
    sealer: &Sealer,
    hot_state: &AuditState,
    cases: &[CaseId],
    loose: bool,
) -> Result<AuditState, StoreError> {
    let mut state = AuditState {
        parties: hot_state.parties.clone(),
        keys: hot_state.keys.clone(),
        size: hot_state.size,
        prev_leaf: hot_state.prev_leaf,
        last_logged_at: hot_state.last_logged_at,
        first_logged_at: hot_state.first_logged_at,
        origin: hot_state.origin.clone(),
        checkpoint: hot_state.checkpoint,
        kind_counts: hot_state.kind_counts.clone(),
        citable: CitationTable::on_disk(hot_state.size),
        ..AuditState::default()
    };
    for id in cases {
        if let Some(e) = read_case(db, sealer, id)? {
            let (late, findings) = e.move_into(&mut state);
            state.late.extend(late);
            state.findings.extend(findings);
        }
    }
    if !loose {
        return Ok(state);
    }
    for item in scan_prefix(db, [b'z']) {
        let (k, v) = item?;
        let s = decode_versioned(&k, sealer.open(&k, &v)?)?;
        let r = RecordRef(u64::from_be_bytes(k[1..9].try_into().expect("8 bytes")));
        state.sealed.insert((r, k[9]), s);
    }
    for item in scan_prefix(db, [b'l']) {
        let (k, v) = item?;
        state.late.push(decode_versioned(&k, sealer.open(&k, &v)?)?);
    }
    // Findings without a case are numbered from 0 and never removed: one
    // missing from the count `m:hot` holds was deleted (a deletion carries
    // no tag to check).
    let stored = read_hot(db, sealer)?.loose_findings;
    let mut next = 0u64;
    for item in scan_prefix(db, [b'f']) {
        let (k, v) = item?;
        if next < stored && k != finding_key(next) {
            break;
        }
        state
            .findings
            .push(decode_versioned(&k, sealer.open(&k, &v)?)?);
        next += 1;
    }
    if next < stored {
        return Err(StoreError::corrupt(
            Corruption::Missing,
            place_of(&finding_key(next)),
        ));
    }
    state.late.sort_by_key(|l| l.record);
    Ok(state)
}

/// Replaces the case held by `state` (a state from [`state_with`] without
/// loose values) with case `id`: its entry, late records and findings.
pub(crate) fn load_case_part(
    db: &sled::Db,
    sealer: &Sealer,
    state: &mut AuditState,
    id: &CaseId,
) -> Result<(), StoreError> {
    state.cases.clear();
    state.notices.clear();
    state.embargoes.clear();
    state.sealed.clear();
    state.late.clear();
    state.findings.clear();
    if let Some(e) = read_case(db, sealer, id)? {
        let (late, findings) = e.move_into(state);
        state.late = late;
        state.findings = findings;
    }
    Ok(())
}

/// Every case with a stored entry, in key order: as many as `m:hot`
/// counts (entries are never removed, so one fewer was deleted).
pub(crate) fn all_cases(db: &sled::Db, sealer: &Sealer) -> Result<Vec<CaseId>, StoreError> {
    let mut out = Vec::new();
    for item in scan_prefix(db, [b'x']) {
        let (k, _) = item?;
        let id: [u8; 16] = k[1..]
            .try_into()
            .map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(&k)))?;
        out.push(CaseId(id));
    }
    if out.len() as u64 != read_hot(db, sealer)?.counts.cases {
        return Err(StoreError::corrupt(Corruption::Missing, place_of(b"x")));
    }
    Ok(out)
}

/// The cases whose reports name `party`, in the order of their
/// `CaseOpened` records.
pub(crate) fn cases_of_party(
    db: &sled::Db,
    sealer: &Sealer,
    party: PartyId,
) -> Result<Vec<CaseId>, StoreError> {
    let mut chunks = Vec::new();
    for item in scan_prefix(db, key1(b'q', &party.0.to_be_bytes())) {
        let (k, v) = item?;
        let payload = sealer.open(&k, &v)?.to_vec();
        chunks.push((k.to_vec(), payload));
    }
    let mut links = party_links(&chunks)?;
    links.sort_unstable();
    links.dedup();
    Ok(links.into_iter().map(|(_, c)| c).collect())
}

/// The record holding exactly these statement bytes, by the duplicate
/// index (a 128-bit prefix of their SHA-256, as the auditor keys it), in
/// a log of `size` records.
pub(crate) fn find_statement(
    db: &sled::Db,
    sealer: &Sealer,
    size: u64,
    statement: &[u8],
) -> Result<Option<u64>, StoreError> {
    let hash: [u8; 32] = Sha256::digest(statement).into();
    let k = duplicate_key(&hash);
    Ok(find_duplicate(db, sealer, size, k, sealer.bucket_of(k), |_, _| ())?.map(|r| r.0))
}

/// The sealed fields of `record` (from its case's entry, or loose).
pub(crate) fn sealed_of(
    db: &sled::Db,
    sealer: &Sealer,
    size: u64,
    record: u64,
) -> Result<BTreeMap<u8, forewarn_ledger::auditor::SealedState>, StoreError> {
    let mut out = BTreeMap::new();
    if record >= size {
        return Ok(out);
    }
    let facts = read_facts(db, sealer, record)?;
    match facts.case {
        Some(c) => {
            // A record naming a case left its entry behind (see `page_in`).
            let e = read_case(db, sealer, &c)?
                .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(&case_key(&c))))?;
            for ((r, f), s) in e.sealed {
                if r.0 == record {
                    out.insert(f, s);
                }
            }
        }
        None => {
            for item in scan_prefix(db, key1(b'z', &record.to_be_bytes())) {
                let (k, v) = item?;
                out.insert(k[9], decode_versioned(&k, sealer.open(&k, &v)?)?);
            }
        }
    }
    Ok(out)
}
