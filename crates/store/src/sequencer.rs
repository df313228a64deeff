//! Group commit: many threads submit, one thread commits.
//!
//! Submissions queue on a channel. The commit thread takes the first
//! waiting submission, then every other one already queued (up to
//! `max_batch` statements), commits them with one [`Store::append`] (one
//! atomic write, one fsync, one checkpoint), and answers each submitter with
//! its own receipts. Under load, batches grow and the fsync cost is shared;
//! when idle, a lone submission is committed at once.

use std::sync::mpsc;
use std::thread::JoinHandle;

use forewarn_ledger::statement::SignedStatement;

use crate::{Receipt, Rejection, Store, StoreError};

type Answer = Result<Vec<Result<Receipt, Rejection>>, String>;

struct Request {
    statements: Vec<SignedStatement>,
    reply: mpsc::Sender<Answer>,
}

/// Handle for submitting statements; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Submitter {
    tx: mpsc::Sender<Request>,
}

impl Submitter {
    /// Submits statements and waits until they are durable (or rejected).
    /// Errors are store failures (the message of the [`StoreError`]).
    pub fn submit(&self, statements: Vec<SignedStatement>) -> Answer {
        let (reply, rx) = mpsc::channel();
        self.tx
            .send(Request { statements, reply })
            .map_err(|_| "the sequencer has stopped".to_string())?;
        rx.recv()
            .map_err(|_| "the sequencer has stopped".to_string())?
    }
}

/// The commit thread and its queue.
pub struct Sequencer {
    submitter: Submitter,
    handle: JoinHandle<Result<Store, StoreError>>,
}

impl Sequencer {
    /// Starts the commit thread, taking ownership of the store.
    pub fn start(mut store: Store, max_batch: usize) -> Sequencer {
        let (tx, rx) = mpsc::channel::<Request>();
        let handle = std::thread::spawn(move || {
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
                let all: Vec<SignedStatement> = requests
                    .iter()
                    .flat_map(|r| r.statements.iter().cloned())
                    .collect();
                match store.append(&all) {
                    Ok(results) => {
                        let mut results = results.into_iter();
                        for r in requests {
                            let mine: Vec<_> = results.by_ref().take(r.statements.len()).collect();
                            let _ = r.reply.send(Ok(mine));
                        }
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        for r in requests {
                            let _ = r.reply.send(Err(msg.clone()));
                        }
                        return Err(e);
                    }
                }
            }
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
