//! Group commit: many threads submit, one thread commits.
//!
//! Submissions queue on a channel. A checking thread takes the first
//! waiting submission, then every other one already queued (up to
//! `max_batch` statements), and verifies their signatures; the commit thread
//! commits the checked batch with one [`Store::append_checked`] (one atomic
//! write, one fsync, one checkpoint) and answers each submitter with its own
//! receipts. The next batch is checked while this one is written. Under
//! load, batches grow and the fsync cost is shared; when idle, a lone
//! submission is committed at once.

use std::sync::mpsc;
use std::thread::JoinHandle;

use forewarn_ledger::statement::SignedStatement;
use forewarn_ledger::verify::KeyCache;

use crate::{
    CheckedStatement, Receipt, ReceiptParts, Rejection, Store, StoreError, check_signatures,
    prepare_statements,
};

type Answer = Result<Vec<Result<Receipt, Rejection>>, String>;
/// What the commit thread answers: receipts not yet encoded (each
/// submitter encodes its own, off the serial commit path).
type Reply = Result<Vec<Result<ReceiptParts, Rejection>>, String>;

/// A checked batch: each request with its statement count, the statements
/// taken out of the requests, and what checking them found.
type Checked = (
    Vec<(usize, Request)>,
    Vec<SignedStatement>,
    Vec<CheckedStatement>,
);

struct Request {
    statements: Vec<SignedStatement>,
    /// Decoded and hashed on the submitting thread.
    prepared: Vec<CheckedStatement>,
    reply: mpsc::Sender<Reply>,
    /// When it was queued (for `FOREWARN_TRACE`).
    queued: std::time::Instant,
}

/// Handle for submitting statements; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Submitter {
    tx: mpsc::Sender<Request>,
}

impl Submitter {
    /// Submits statements and waits until they are durable (or rejected).
    /// Errors are store failures (the message of the [`StoreError`]). The
    /// receipts' tlog-proof texts are encoded here, on the submitting
    /// thread, so the commit thread can go on to the next batch.
    pub fn submit(&self, statements: Vec<SignedStatement>) -> Answer {
        let (reply, rx) = mpsc::channel();
        self.tx
            .send(Request {
                prepared: prepare_statements(&statements),
                statements,
                reply,
                queued: std::time::Instant::now(),
            })
            .map_err(|_| "the sequencer has stopped".to_string())?;
        let parts = rx
            .recv()
            .map_err(|_| "the sequencer has stopped".to_string())??;
        Ok(parts
            .into_iter()
            .map(|r| r.map(ReceiptParts::encode))
            .collect())
    }
}

/// The commit thread and its queue.
pub struct Sequencer {
    submitter: Submitter,
    handle: JoinHandle<Result<Store, StoreError>>,
}

impl Sequencer {
    /// Starts the pipeline, taking ownership of the store: a checking
    /// thread drains the queue and verifies a batch's signatures (on the
    /// store's verification threads) while the commit thread writes the
    /// previous batch. One batch is checked ahead at most.
    pub fn start(mut store: Store, max_batch: usize) -> Sequencer {
        let (tx, rx) = mpsc::channel::<Request>();
        let (mode, threads) = store.signature_checker();
        let (checked_tx, checked_rx) = mpsc::sync_channel::<Checked>(1);
        let trace = std::env::var_os("FOREWARN_TRACE").is_some();
        let epoch = std::time::Instant::now();
        let checker = std::thread::spawn(move || {
            let mut caches: Vec<KeyCache> = (0..threads).map(|_| KeyCache::new()).collect();
            while let Ok(first) = rx.recv() {
                let mut requests = vec![first];
                let mut n = requests[0].statements.len();
                while n < max_batch {
                    match rx.try_recv() {
                        Ok(r) => {
                            n += r.statements.len();
                            requests.push(r);
                        }
                        Err(_) => break,
                    }
                }
                let mut all: Vec<SignedStatement> = Vec::with_capacity(n);
                let mut checked: Vec<CheckedStatement> = Vec::with_capacity(n);
                let mut sizes = Vec::with_capacity(requests.len());
                for r in &mut requests {
                    sizes.push(r.statements.len());
                    all.append(&mut r.statements);
                    checked.append(&mut r.prepared);
                }
                let t = std::time::Instant::now();
                check_signatures(&all, &mut checked, mode, &mut caches);
                if trace {
                    eprintln!(
                        "check {} statements: {:?} (oldest queued {:?} before) at {:?}",
                        all.len(),
                        t.elapsed(),
                        t - requests[0].queued,
                        t - epoch
                    );
                }
                let batch: Vec<(usize, Request)> = sizes.into_iter().zip(requests).collect();
                if checked_tx.send((batch, all, checked)).is_err() {
                    return;
                }
            }
        });
        let handle = std::thread::spawn(move || {
            for (requests, all, checked) in checked_rx {
                if trace {
                    eprintln!("commit start at {:?}", epoch.elapsed());
                }
                match store.commit_checked(&all, checked) {
                    Ok(results) => {
                        if trace && let Some((_, first)) = requests.first() {
                            eprintln!(
                                "reply: oldest waited {:?} at {:?}",
                                first.queued.elapsed(),
                                epoch.elapsed()
                            );
                        }
                        let mut results = results.into_iter();
                        for (n, r) in requests {
                            let mine: Vec<_> = results.by_ref().take(n).collect();
                            let _ = r.reply.send(Ok(mine));
                        }
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        for (_, r) in requests {
                            let _ = r.reply.send(Err(msg.clone()));
                        }
                        return Err(e);
                    }
                }
            }
            let _ = checker.join();
            Ok(store)
        });
        Sequencer {
            submitter: Submitter { tx },
            handle,
        }
    }

    /// A handle for submitting.
    pub fn submitter(&self) -> Submitter {
        self.submitter.clone()
    }

    /// Stops accepting work once every submitter handle is dropped, and
    /// returns the store.
    pub fn stop(self) -> Result<Store, StoreError> {
        drop(self.submitter);
        self.handle
            .join()
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the commit thread panicked".into())))
    }
}
