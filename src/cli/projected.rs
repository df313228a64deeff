//! The report of everything, read from keyed projections one case at a
//! time (a store's, for `report summary --findings`, or a paged replay's,
//! for `audit`), so that memory holds a few cases per thread, never the
//! whole state.
//!
//! [`summed`] is the first pass: every case, then what names no case,
//! folded into the summary; it hands each part's findings to the caller,
//! which keeps what it shows. A full report (`audit --json`) then walks
//! the cases again in the order they were opened, writing each case's
//! report as it goes ([`cases`]). Both passes read and report the cases
//! on up to [`CASE_READERS`] threads, in blocks handed back in order
//! ([`blocks_ahead`]), while this thread writes; the document is the one a
//! single thread writes. The full report spills what must come out in
//! another order (findings by record, each party's cases by time) to the
//! replay's scratch database ([`Spill`]), read back in order as the
//! document is written.

use std::cell::RefCell;
use std::collections::BTreeMap;

use forewarn_ledger::auditor::all_findings;
use forewarn_ledger::report::{self, CaseReport, PartyCase, PartyReport, Summary};
use forewarn_ledger::*;
use forewarn_store::{Projections, Spill, StoreError};

/// Calls `f` with each case of `p` in turn (in key order), in one state
/// that holds that case alone (parties and keys copied once).
pub fn each_case(
    p: &Projections<'_>,
    ids: &[CaseId],
    f: impl FnMut(&AuditState, &CaseId) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    each_case_in(p, &mut None, ids, f)
}

/// [`each_case`] in `held`, a state kept from an earlier call (so the
/// parties and keys are copied once per thread, not once per call).
fn each_case_in(
    p: &Projections<'_>,
    held: &mut Option<AuditState>,
    ids: &[CaseId],
    mut f: impl FnMut(&AuditState, &CaseId) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for id in ids {
        let part = match held {
            None => held.insert(p.case_part(id)?),
            Some(held) => {
                p.load_case_part(held, id)?;
                held
            }
        };
        f(part, id)?;
    }
    Ok(())
}

/// What one block of cases gives [`summed`].
#[derive(Default)]
struct SummedBlock {
    builder: report::SummaryBuilder,
    order: Vec<(RecordRef, CaseId)>,
    /// The block's findings, case after case.
    findings: Vec<Finding>,
}

/// The pass over every case, then what names no case: the summary under
/// `policy` at `as_of`. The cases are read, reported and summed as
/// `reading` says ([`blocks_ahead`]); `each` is given, in the order one
/// thread would give them, each block's cases (by opening record) and
/// findings, then the findings of what names no case (with no cases).
fn summed(
    p: &Projections<'_>,
    root: &forewarn_tlog::hash::Hash,
    policy: &AuditPolicy,
    as_of: Millis,
    reading: Reading,
    mut each: impl FnMut(&[(RecordRef, CaseId)], &[Finding]) -> Result<(), StoreError>,
) -> Result<Summary, StoreError> {
    let mut builder = report::SummaryBuilder::default();
    let ids = p.case_ids()?;
    let work = |held: &mut Option<AuditState>, run: &[CaseId]| {
        let mut done = SummedBlock::default();
        each_case_in(p, held, run, |part, id| {
            let findings = all_findings(part, policy, as_of);
            let case = report::case_report(part, id, &findings);
            if let Some(c) = &case {
                done.order.push((c.opened_record, *id));
            }
            done.builder.add(part, case.as_slice(), &findings);
            done.findings.extend(findings);
            Ok(())
        })?;
        Ok::<_, StoreError>(done)
    };
    std::thread::scope(|s| {
        for done in blocks_ahead(s, &ids, reading.threads, reading.block, &work) {
            let done = done?;
            builder.merge(done.builder);
            each(&done.order, &done.findings)?;
        }
        Ok::<_, StoreError>(())
    })?;
    let loose = p.loose_part()?;
    let findings = all_findings(&loose, policy, as_of);
    builder.add(&loose, &[], &findings);
    each(&[], &findings)?;
    Ok(builder.finish(p.hot(), policy, as_of, root))
}

/// How the passes over every case of [`write_audit_document`] read them:
/// on `threads` threads, in blocks of `block` cases ([`blocks_ahead`]).
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    /// Threads reading and reporting cases (at least one is used).
    pub threads: usize,
    /// Cases per block (at least one).
    pub block: usize,
}

impl Default for Reading {
    /// The machine's cores, up to [`CASE_READERS`], and [`BLOCK`].
    fn default() -> Reading {
        Reading {
            threads: readers(CASE_READERS),
            block: BLOCK,
        }
    }
}

/// Cases per block of [`blocks_ahead`]: the reports held ahead are at
/// most `2 × threads` blocks (64 cases a thread), against one case on one
/// thread; few, since a hostile log may hold large cases, and enough that
/// handing a block over costs little beside reading 32 cases.
const BLOCK: usize = 32;

/// The results of `work` over `ids` in blocks of `block` contiguous cases,
/// in the blocks' order, computed on `threads` threads started in `s`,
/// each with a state of its own (`S`, from its default, kept across its
/// blocks: the case part whose parties and keys are copied once):
/// block i on thread i mod `threads`, each thread at most two blocks
/// ahead of the one taken (one waiting, one in hand), so memory holds
/// about `2 × threads` blocks' results whatever the number of cases.
/// Dropping the iterator stops the threads after the block in hand; a
/// thread's panic ends the iterator and is passed on when `s` ends.
///
/// Why: the reports of all cases (`audit --json`, its summary pass) were
/// read and built on one thread while the other core idled; reading a
/// case is a random sled read, decoding and building its report.
fn blocks_ahead<'scope, 'env, S: Default, T: Send + 'scope>(
    s: &'scope std::thread::Scope<'scope, 'env>,
    ids: &'env [CaseId],
    threads: usize,
    block: usize,
    work: &'env (impl Fn(&mut S, &[CaseId]) -> T + Sync),
) -> impl Iterator<Item = T> + 'scope {
    let (threads, block) = (threads.max(1), block.max(1));
    let receivers: Vec<std::sync::mpsc::Receiver<T>> = (0..threads)
        .map(|k| {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            s.spawn(move || {
                let mut held = S::default();
                for run in ids.chunks(block).skip(k).step_by(threads) {
                    if tx.send(work(&mut held, run)).is_err() {
                        return;
                    }
                }
            });
            rx
        })
        .collect();
    (0..ids.len().div_ceil(block)).map_while(move |i| receivers[i % threads].recv().ok())
}

/// [`summed`], keeping the first `max` findings in record order and
/// counting them all: what a text report prints. The cases are read on up
/// to [`CASE_READERS`] threads (the pass reads and evaluates every case,
/// most of a report's time), in blocks handed back in order, so the
/// result is the same on any number of threads.
pub fn summary_and_first(
    p: &Projections<'_>,
    root: &forewarn_tlog::hash::Hash,
    policy: &AuditPolicy,
    as_of: Millis,
    max: usize,
) -> Result<(Summary, Vec<Finding>, usize), StoreError> {
    summary_and_first_on(p, root, policy, as_of, max, readers(CASE_READERS))
}

/// The machine's cores, from 1 to `most`: threads for reading cases.
fn readers(most: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, most)
}

/// `work` over `ids` split in contiguous runs, one per thread on up to
/// `threads` threads (at least one), the results in the runs' order; a
/// thread's panic is passed on.
fn in_runs<T: Send>(
    ids: &[CaseId],
    threads: usize,
    work: impl Fn(&[CaseId]) -> T + Sync,
) -> Vec<T> {
    let run = ids.len().div_ceil(threads.max(1)).max(1);
    let work = &work;
    std::thread::scope(|s| {
        let running: Vec<_> = ids.chunks(run).map(|r| s.spawn(move || work(r))).collect();
        running
            .into_iter()
            .map(|r| {
                r.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Threads that read cases for one report at most.
pub const CASE_READERS: usize = 4;

/// [`summary_and_first`] on `threads` threads (at least one).
fn summary_and_first_on(
    p: &Projections<'_>,
    root: &forewarn_tlog::hash::Hash,
    policy: &AuditPolicy,
    as_of: Millis,
    max: usize,
    threads: usize,
) -> Result<(Summary, Vec<Finding>, usize), StoreError> {
    let (mut first, mut total) = (Vec::new(), 0);
    let reading = Reading {
        threads,
        block: BLOCK,
    };
    let summary = summed(p, root, policy, as_of, reading, |_, found| {
        // The first `max` in record order (equal ones in the order they
        // came: the sort is stable).
        total += found.len();
        first.extend_from_slice(found);
        first.sort_by_key(|f: &Finding| (f.record, f.kind));
        first.truncate(max);
        Ok(())
    })?;
    Ok((summary, first, total))
}

/// A read failure met while a document was being written, kept so that
/// the command can report it (serde can only say that writing stopped).
#[derive(Default)]
pub struct Stopped(RefCell<Option<StoreError>>);

impl Stopped {
    fn stop(&self, e: StoreError) {
        self.0.borrow_mut().get_or_insert(e);
    }

    /// The failure, if one stopped the document.
    pub fn take(&self) -> Option<StoreError> {
        self.0.borrow_mut().take()
    }
}

/// A JSON array written element by element from `items`, which fails
/// the document (instead of ending the array early) if a read stopped
/// the items.
pub struct Checked<'a, I> {
    items: std::cell::Cell<Option<I>>,
    stopped: &'a Stopped,
}

/// The [`Checked`] array of `items`.
pub fn checked<I: Iterator>(items: I, stopped: &Stopped) -> Checked<'_, I> {
    Checked {
        items: std::cell::Cell::new(Some(items)),
        stopped,
    }
}

impl<I> serde::Serialize for Checked<'_, I>
where
    I: Iterator,
    I::Item: serde::Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq as _};
        let items = self
            .items
            .take()
            .ok_or_else(|| S::Error::custom("a streamed array is written only once"))?;
        let mut seq = s.serialize_seq(None)?;
        for item in items {
            seq.serialize_element(&item)?;
        }
        if self.stopped.0.borrow().is_some() {
            return Err(S::Error::custom("a read stopped the report"));
        }
        seq.end()
    }
}

/// Why a full report could not be written.
pub enum Unwritten {
    /// A read of the projections or the spill failed.
    Read(StoreError),
    /// The writer failed (standard output closed, say).
    Write(std::io::Error),
}

/// Writes the `audit --json` document of `replay` (read from `source`)
/// to `out`, in `layout`, streamed: the summary (a first pass over the
/// cases, spilling the findings), each case's report as it is written
/// (spilling the parties' histories), then the parties and the findings
/// read back in order. The cases are read as `reading` says; the
/// document is the same whatever it says. Returns the number of findings.
pub fn write_audit_document<W: std::io::Write>(
    out: W,
    layout: crate::cli::json::Layout,
    source: &str,
    replay: &forewarn_store::PagedReplay,
    policy: &AuditPolicy,
    as_of: Millis,
    reading: Reading,
) -> Result<usize, Unwritten> {
    use crate::cli::json;
    let root = replay.auditor().root();
    let p = replay.projections();
    let spill = replay.spill().map_err(Unwritten::Read)?;
    // The first pass: the summary, every case by its opening record (the
    // report's order), the findings about each party, and the findings
    // spilled.
    let mut order: Vec<(RecordRef, CaseId)> = Vec::new();
    let mut findings_of: BTreeMap<PartyId, usize> = BTreeMap::new();
    let summary = summed(&p, &root, policy, as_of, reading, |cases, found| {
        order.extend_from_slice(cases);
        for party in found.iter().filter_map(|f| f.party) {
            *findings_of.entry(party).or_insert(0) += 1;
        }
        spill.keep_findings(found)
    })
    .map_err(Unwritten::Read)?;
    order.sort_unstable();
    let stopped = Stopped::default();
    let ids: Vec<CaseId> = order.iter().map(|(_, id)| *id).collect();
    let work =
        |held: &mut Option<AuditState>, run: &[CaseId]| case_reports(&p, held, run, policy, as_of);
    let written = std::thread::scope(|s| {
        let document = json::AuditDocument {
            integrity: "ok",
            source,
            report: json::ReportDocument {
                summary: &summary,
                cases: checked(
                    cases(
                        blocks_ahead(s, &ids, reading.threads, reading.block, &work),
                        &spill,
                        &stopped,
                    ),
                    &stopped,
                ),
                parties: checked(parties(&p, &findings_of, &spill, &stopped), &stopped),
                findings: checked(findings(&spill, &stopped), &stopped),
            },
        };
        json::write_document(out, &document, layout)
    });
    if let Err(e) = written {
        return Err(match stopped.take() {
            Some(read) => Unwritten::Read(read),
            None => Unwritten::Write(e),
        });
    }
    Ok(summary.protocol_findings + summary.policy_findings)
}

/// The reports of the cases `ids`, in order, and the failure that ended
/// them early, if one did.
fn case_reports(
    p: &Projections<'_>,
    held: &mut Option<AuditState>,
    ids: &[CaseId],
    policy: &AuditPolicy,
    as_of: Millis,
) -> (Vec<CaseReport>, Option<StoreError>) {
    let mut reports = Vec::with_capacity(ids.len());
    let done = each_case_in(p, held, ids, |part, id| {
        let findings = all_findings(part, policy, as_of);
        let c = report::case_report(part, id, &findings)
            .ok_or_else(|| Projections::missing_case(id))?;
        reports.push(c);
        Ok(())
    });
    (reports, done.err())
}

/// Each case's report, from `blocks` of them in the report's order (see
/// [`case_reports`]); the who-knew rows of registered parties are spilled
/// as they pass. A failure in a block ends the reports after those
/// before it, and is kept in `stopped`.
fn cases<'a>(
    mut blocks: impl Iterator<Item = (Vec<CaseReport>, Option<StoreError>)> + 'a,
    spill: &'a Spill,
    stopped: &'a Stopped,
) -> impl Iterator<Item = CaseReport> + 'a {
    let mut pending = Vec::<CaseReport>::new().into_iter();
    let mut failed: Option<StoreError> = None;
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            if let Some(c) = pending.next() {
                for w in &c.who_knew {
                    if let Some(party) = w.party
                        && let Err(e) = spill.keep_party_case(party, &PartyCase::of(c.case, w))
                    {
                        stopped.stop(e);
                        done = true;
                        return None;
                    }
                }
                return Some(c);
            }
            if let Some(e) = failed.take() {
                stopped.stop(e);
                done = true;
            } else if let Some((reports, e)) = blocks.next() {
                pending = reports.into_iter();
                failed = e;
            } else {
                done = true;
            }
        }
        None
    })
}

/// Each registered party's report, its cases read back from the spill
/// (complete once [`cases`] has been written).
pub fn parties<'a>(
    p: &'a Projections<'a>,
    findings_of: &'a BTreeMap<PartyId, usize>,
    spill: &'a Spill,
    stopped: &'a Stopped,
) -> impl Iterator<Item = PartyReport> + 'a {
    let hot = p.hot();
    hot.parties
        .iter()
        .map_while(move |(id, party)| match spill.party_cases(*id) {
            Ok(cases) => Some(party_row(
                hot,
                *id,
                party,
                cases,
                findings_of.get(id).copied().unwrap_or(0),
            )),
            Err(e) => {
                stopped.stop(e);
                None
            }
        })
}

/// One party's report (`report party`): the cases its index lists
/// ([`Projections::cases_of_party`]), each read, reported and dropped in
/// turn, then what names no case for the findings concerning it. The
/// cases are shared out in contiguous runs among up to
/// [`PARTY_READERS`] threads (they are random reads of the database,
/// most of the command's time), whose rows are joined in the index's
/// order, so the report is the same on any number of threads. Memory
/// holds, per thread, one case and a copy of the parties and keys, and
/// the party's rows; time grows with the
/// party's cases, not with the log. `None`: no party `party`.
pub fn party_report(
    p: &Projections<'_>,
    party: PartyId,
    policy: &AuditPolicy,
    as_of: Millis,
) -> Result<Option<PartyReport>, StoreError> {
    party_report_on(p, party, policy, as_of, readers(PARTY_READERS))
}

/// [`party_report`] on `threads` threads (at least one).
fn party_report_on(
    p: &Projections<'_>,
    party: PartyId,
    policy: &AuditPolicy,
    as_of: Millis,
    threads: usize,
) -> Result<Option<PartyReport>, StoreError> {
    let hot = p.hot();
    let Some(info) = hot.parties.get(&party) else {
        return Ok(None);
    };
    // The index lists the cases in the order they were opened: the order
    // of the whole report's rows before their (stable) sort by time.
    let ids = p.cases_of_party(party)?;
    let random = p.for_random_reads();
    let shares = in_runs(&ids, threads, |run| {
        party_rows_of(&random, run, party, policy, as_of)
    });
    let mut rows = Vec::new();
    let mut findings = 0;
    for share in shares {
        let (r, f) = share?;
        rows.extend(r);
        findings += f;
    }
    findings += concerning(&all_findings(&p.loose_part()?, policy, as_of), party);
    rows.sort_by_key(|c| c.first_known_at);
    Ok(Some(party_row(hot, party, info, rows, findings)))
}

/// Threads that read one party's cases at most.
pub const PARTY_READERS: usize = 4;

/// The findings among `found` that concern `party`.
fn concerning(found: &[Finding], party: PartyId) -> usize {
    found.iter().filter(|f| f.party == Some(party)).count()
}

/// The rows of `party` in cases `ids` (in that order) and the number of
/// findings of those cases concerning it.
fn party_rows_of(
    p: &Projections<'_>,
    ids: &[CaseId],
    party: PartyId,
    policy: &AuditPolicy,
    as_of: Millis,
) -> Result<(Vec<PartyCase>, usize), StoreError> {
    let mut rows = Vec::new();
    let mut findings = 0;
    each_case(p, ids, |part, id| {
        let found = all_findings(part, policy, as_of);
        findings += concerning(&found, party);
        let c =
            report::case_report(part, id, &found).ok_or_else(|| Projections::missing_case(id))?;
        rows.extend(
            c.who_knew
                .iter()
                .filter(|w| w.party == Some(party))
                .map(|w| PartyCase::of(c.case, w)),
        );
        Ok(())
    })?;
    Ok((rows, findings))
}

/// The report of party `id` (`party` in `hot`) with its cases and the
/// number of findings concerning it.
fn party_row(
    hot: &AuditState,
    id: PartyId,
    party: &forewarn_ledger::auditor::PartyState,
    cases: Vec<PartyCase>,
    findings: usize,
) -> PartyReport {
    PartyReport {
        party: id,
        name: party.name.clone(),
        class: party.class,
        registered_at: party.registered_at,
        keys: party.keys.len(),
        revoked_keys: party
            .keys
            .iter()
            .filter(|k| hot.keys.get(*k).is_some_and(|s| s.revoked.is_some()))
            .count(),
        cases,
        findings,
    }
}

/// Every spilled finding, in record order.
pub fn findings<'a>(spill: &'a Spill, stopped: &'a Stopped) -> impl Iterator<Item = Finding> + 'a {
    spill.findings().map_while(move |item| match item {
        Ok(f) => Some(f),
        Err(e) => {
            stopped.stop(e);
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use forewarn_ledger::auditor::AuditConfig;
    use forewarn_ledger::testkit::RealisticLog;

    use super::*;
    use crate::cli::json::{Layout, audit_document, write_document};

    /// A generated log's whole report under `policy` (30 days after its
    /// last record), and the log replayed into a `PagedReplay` in batches
    /// of `batch`.
    fn replayed(
        seed: u64,
        records: u64,
        policy: &str,
        batch: usize,
    ) -> (
        report::Report,
        forewarn_store::PagedReplay,
        AuditPolicy,
        Millis,
    ) {
        let mut log = RealisticLog::new(seed, 12, false);
        log.grow_to(records);
        let full = log.scenario.audit(AuditConfig::default()).unwrap();
        let policy = AuditPolicy::preset(policy).unwrap();
        let as_of = log.scenario.now + 30 * 86_400_000;
        let whole = report::build(full.state(), &policy, as_of, &full.root());
        let mut paged =
            forewarn_store::PagedReplay::new(AuditConfig::default(), None, log.scenario.size())
                .unwrap();
        for chunk in log.scenario.records().chunks(batch) {
            let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            paged.push_batch(&refs).unwrap();
        }
        (whole, paged, policy, as_of)
    }

    /// The document written from a paged replay, each case read from the
    /// scratch database as it is written, is byte for byte the document
    /// of the whole report built from a full replay; and the same on any
    /// number of threads and blocks of any size (more threads than
    /// blocks, blocks of one case, one block for everything).
    #[test]
    fn the_paged_document_is_the_document_of_the_whole_report() {
        for (seed, records, policy) in
            [(5, 5_000, "cert-cc"), (6, 0, "baseline"), (7, 60, "eu-cra")]
        {
            let (whole, paged, policy, as_of) = replayed(seed, records, policy, 1_000);
            for layout in [Layout::Pretty, Layout::Line] {
                let mut want = Vec::new();
                write_document(&mut want, &audit_document("D", &whole), layout).unwrap();
                let mut got = Vec::new();
                let reading = Reading::default();
                let n =
                    write_audit_document(&mut got, layout, "D", &paged, &policy, as_of, reading)
                        .unwrap_or_else(|_| panic!("seed {seed}: not written"));
                assert_eq!(n, whole.findings.len(), "seed {seed}");
                assert!(got == want, "seed {seed}: the documents differ");
                for (threads, block) in [(1, 1), (1, 512), (2, 1), (2, BLOCK), (3, 7), (64, 2)] {
                    let mut got = Vec::new();
                    let at = format!("seed {seed}, {threads} threads, blocks of {block}");
                    let reading = Reading { threads, block };
                    let n = write_audit_document(
                        &mut got, layout, "D", &paged, &policy, as_of, reading,
                    )
                    .unwrap_or_else(|_| panic!("{at}: not written"));
                    assert_eq!(n, whole.findings.len(), "{at}");
                    assert!(got == want, "{at}: the documents differ");
                }
            }
        }
    }

    /// A reader that stops early (the document's writer failed) stops the
    /// threads: the iterator gives the blocks in order, and dropping it
    /// part way returns.
    #[test]
    fn blocks_come_in_order_and_stop_when_dropped() {
        let ids: Vec<CaseId> = (0..1_000u32)
            .map(|i| {
                let mut b = [0; 16];
                b[..4].copy_from_slice(&i.to_be_bytes());
                CaseId(b)
            })
            .collect();
        let work = |_: &mut (), run: &[CaseId]| run.to_vec();
        for (threads, block) in [(1, 1), (2, 3), (3, 1_000), (8, 10), (64, 7)] {
            let got: Vec<CaseId> = std::thread::scope(|s| {
                blocks_ahead(s, &ids, threads, block, &work)
                    .flatten()
                    .collect()
            });
            assert_eq!(got, ids, "{threads} threads, blocks of {block}");
            let first: Vec<Vec<CaseId>> = std::thread::scope(|s| {
                blocks_ahead(s, &ids, threads, block, &work)
                    .take(2)
                    .collect()
            });
            assert_eq!(
                first.concat(),
                ids[..(2 * block).min(ids.len())],
                "{threads} threads"
            );
        }
    }

    /// The text report's summary and first findings are the whole
    /// report's, and the same on any number of threads (more than there
    /// are cases included), for any number of findings shown.
    #[test]
    fn the_summary_and_first_findings_are_the_same_on_any_number_of_threads() {
        for (seed, records, policy) in [
            (5, 5_000, "cert-cc"),
            (6, 0, "baseline"),
            (7, 600, "eu-cra"),
        ] {
            let (whole, paged, policy, as_of) = replayed(seed, records, policy, 700);
            let p = paged.projections();
            let root = paged.auditor().root();
            assert!(records == 0 || whole.findings.len() > 3, "seed {seed}");
            for max in [0, 3, 10_000] {
                let mut want = whole.findings.clone();
                want.sort_by_key(|f| (f.record, f.kind));
                want.truncate(max);
                for threads in [1, 2, 3, CASE_READERS, 64] {
                    let (summary, first, total) =
                        summary_and_first_on(&p, &root, &policy, as_of, max, threads).unwrap();
                    let at = format!("seed {seed}, max {max}, {threads} threads");
                    assert_eq!(
                        serde_json::to_string(&summary).unwrap(),
                        serde_json::to_string(&whole.summary).unwrap(),
                        "{at}"
                    );
                    assert_eq!(total, whole.findings.len(), "{at}");
                    assert_eq!(first, want, "{at}");
                }
            }
        }
    }

    /// Each party's report, read case by case from the projections, is
    /// the whole report's report of that party.
    #[test]
    fn a_party_report_read_case_by_case_is_the_whole_reports() {
        for (seed, records, policy) in [(5, 5_000, "cert-cc"), (7, 600, "eu-cra")] {
            let (whole, paged, policy, as_of) = replayed(seed, records, policy, 700);
            let p = paged.projections();
            assert!(
                whole.parties.iter().any(|w| w.cases.len() > 1),
                "seed {seed}"
            );
            for want in &whole.parties {
                let got = party_report(&p, want.party, &policy, as_of).unwrap();
                assert_eq!(
                    got.as_ref(),
                    Some(want),
                    "seed {seed}, party {}",
                    want.party
                );
                // The same on any number of threads, including more than
                // the party has cases.
                for threads in [1, 2, 3, PARTY_READERS, 64] {
                    let got = party_report_on(&p, want.party, &policy, as_of, threads).unwrap();
                    assert_eq!(
                        got.as_ref(),
                        Some(want),
                        "seed {seed}, party {}, {threads} threads",
                        want.party
                    );
                }
            }
            assert_eq!(
                party_report(&p, PartyId(u64::MAX), &policy, as_of).unwrap(),
                None
            );
        }
    }
}
