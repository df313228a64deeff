//! Group commit: many threads (or tasks) submit, one thread commits.
//!
//! Submissions queue on a channel. A checking thread takes the first
//! waiting submission, then every other one already queued (up to
//! `max_batch` statements), and verifies their signatures; the commit thread
//! commits the checked batch with one [`Store::commit_checked`] (one atomic
//! write, one fsync, one checkpoint, published to readers after the fsync)
//! and answers each submitter with its own receipts. The next batch is
//! checked while this one is written. Under load, batches grow and the
//! fsync cost is shared; when idle, a lone submission is committed at once.
//!
//! [`Submitter::submit`] never blocks on the commit: it returns a
//! [`Submission`], which a thread waits for with [`Submission::wait`] and
//! async code `.await`s (it is a `Future`; no runtime thread is blocked).
//! Readers of the log while the sequencer runs come from
//! [`Sequencer::reader`] (or [`Store::reader`] before starting).
//!
//! A failed commit is fatal to the sequencer (the store is poisoned): every
//! waiting and later submission fails with [`StoreError::Stopped`] carrying
//! the cause, and [`Sequencer::stop`] returns it.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use forewarn_ledger::statement::SignedStatement;
use forewarn_ledger::verify::KeyCache;

use crate::commit::{CheckedStatement, check_signatures, prepare_statements};
use crate::error::{Rejection, StoreError};
use crate::open::Store;
use crate::reader::{LogReader, Receipt, ReceiptParts};

/// What a submission resolves to: per statement its receipt or why it was
/// refused, or the store failure that stopped the sequencer.
pub type Answer = Result<Vec<Result<Receipt, Rejection>>, StoreError>;

/// What the commit thread answers: receipts not yet encoded (each
/// submitter encodes its own, off the serial commit path).
type Reply = Result<Vec<Result<ReceiptParts, Rejection>>, Arc<StoreError>>;

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
    reply: ReplySender,
    /// When it was queued (for `FOREWARN_TRACE`).
    queued: std::time::Instant,
}

/// A one-shot slot shared by a [`Submission`] and the commit thread.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    ready: Condvar,
}

#[derive(Default)]
struct SlotState {
    reply: Option<Reply>,
    /// The sender is gone without answering (the pipeline stopped).
    closed: bool,
    waker: Option<Waker>,
}

/// The commit thread's end of a [`Slot`]; dropping it unanswered closes
/// the slot, so no submission waits forever.
struct ReplySender(Arc<Slot>);

impl ReplySender {
    fn send(self, reply: Reply) {
        let mut s = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        s.reply = Some(reply);
        wake(&mut s, &self.0.ready);
    }
}

impl Drop for ReplySender {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.reply.is_none() {
            s.closed = true;
            wake(&mut s, &self.0.ready);
        }
    }
}

fn wake(s: &mut SlotState, ready: &Condvar) {
    ready.notify_all();
    if let Some(w) = s.waker.take() {
        w.wake();
    }
}

/// A submission in flight: wait for it on a thread ([`Submission::wait`])
/// or `.await` it. It resolves once every accepted statement is durable
/// (or the submission failed); the receipts' tlog-proof texts are encoded
/// by whoever resolves it.
#[must_use = "a submission does nothing unless waited for or awaited"]
pub struct Submission {
    slot: Arc<Slot>,
    stopped: Arc<OnceLock<Arc<StoreError>>>,
}

impl Submission {
    /// Blocks the calling thread until the submission is answered.
    pub fn wait(self) -> Answer {
        let mut s = self.slot.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(answer) = self.take(&mut s) {
                return answer;
            }
            s = self.slot.ready.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn take(&self, s: &mut SlotState) -> Option<Answer> {
        if let Some(reply) = s.reply.take() {
            return Some(match reply {
                Ok(parts) => Ok(parts
                    .into_iter()
                    .map(|r| r.map(ReceiptParts::encode))
                    .collect()),
                Err(cause) => Err(StoreError::Stopped { cause: Some(cause) }),
            });
        }
        s.closed.then(|| {
            Err(StoreError::Stopped {
                cause: self.stopped.get().cloned(),
            })
        })
    }
}

impl Future for Submission {
    type Output = Answer;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        let mut s = self.slot.state.lock().unwrap_or_else(|p| p.into_inner());
        match self.take(&mut s) {
            Some(answer) => Poll::Ready(answer),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Handle for submitting statements; cheap to clone, usable from any
/// thread or task.
#[derive(Clone)]
pub struct Submitter {
    tx: mpsc::Sender<Request>,
    stopped: Arc<OnceLock<Arc<StoreError>>>,
}

impl Submitter {
    /// Queues statements for the next commit and returns at once. The
    /// statements are decoded and hashed here, on the calling thread (a
    /// few microseconds each), so many submitters share that work.
    pub fn submit(&self, statements: Vec<SignedStatement>) -> Submission {
        let slot = Arc::new(Slot::default());
        let submission = Submission {
            slot: slot.clone(),
            stopped: self.stopped.clone(),
        };
        // If the pipeline has stopped, the request (and its sender) comes
        // back and is dropped, which closes the slot.
        let _ = self.tx.send(Request {
            prepared: prepare_statements(&statements),
            statements,
            reply: ReplySender(slot),
            queued: std::time::Instant::now(),
        });
        submission
    }
}

/// The commit pipeline, owning the store (its one writer).
pub struct Sequencer {
    submitter: Submitter,
    reader: LogReader,
    handle: JoinHandle<Result<Store, Arc<StoreError>>>,
}

impl Sequencer {
    /// Starts the pipeline, taking the store as its writer: a checking
    /// thread drains the queue and verifies a batch's signatures (on the
    /// store's verification threads) while the commit thread writes the
    /// previous batch. One batch is checked ahead at most. The checking
    /// threads run at a lower priority than the commit thread
    /// (`crate::schedule`).
    pub fn start(mut store: Store, max_batch: usize) -> Sequencer {
        let reader = store.reader();
        let stopped: Arc<OnceLock<Arc<StoreError>>> = Arc::default();
        let (tx, rx) = mpsc::channel::<Request>();
        let (mode, threads) = store.signature_checker();
        let (checked_tx, checked_rx) = mpsc::sync_channel::<Checked>(1);
        let trace = std::env::var_os("FOREWARN_TRACE").is_some();
        let epoch = std::time::Instant::now();
        let checker = std::thread::spawn(move || {
            // The commit thread, which writes in log order, goes first.
            crate::schedule::behind_the_serial_thread();
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
        let failed = stopped.clone();
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
                            r.reply.send(Ok(mine));
                        }
                    }
                    Err(e) => {
                        // Fatal: record the cause before answering, so a
                        // submission closed later still names it.
                        let e = Arc::new(e);
                        let _ = failed.set(e.clone());
                        for (_, r) in requests {
                            r.reply.send(Err(e.clone()));
                        }
                        return Err(e);
                    }
                }
            }
            let _ = checker.join();
            Ok(store)
        });
        Sequencer {
            submitter: Submitter { tx, stopped },
            reader,
            handle,
        }
    }

    /// A handle for submitting.
    pub fn submitter(&self) -> Submitter {
        self.submitter.clone()
    }

    /// A reader of the durable, signed state, valid while the sequencer
    /// commits (each commit is published after its fsync).
    pub fn reader(&self) -> LogReader {
        self.reader.clone()
    }

    /// Stops accepting work once every submitter handle is dropped, waits
    /// for the queued work, and returns the store.
    pub fn stop(self) -> Result<Store, StoreError> {
        drop(self.submitter);
        match self.handle.join() {
            Ok(Ok(store)) => Ok(store),
            Ok(Err(e)) => {
                Err(Arc::try_unwrap(e).unwrap_or_else(|e| StoreError::Stopped { cause: Some(e) }))
            }
            Err(_) => Err(StoreError::ThreadPanicked { thread: "commit" }),
        }
    }
}
